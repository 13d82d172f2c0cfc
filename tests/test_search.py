"""Search by meaning: the archive-fitted tf-idf, the vector index on disk (paperradar index), the fusion
with FTS5, and the three front ends (CLI, web UI, MCP payload). Real SQLite on the bundled real sample
(167 cs.IR papers); the endpoint embedder against the loopback OpenAI-compatible server."""

from __future__ import annotations

import dataclasses
import gzip
import importlib
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.feature_extraction.text import TfidfVectorizer
from starlette.testclient import TestClient

from paperradar.cli import cli
from paperradar.config import load_config
from paperradar.mcp_server.payloads import search_papers
from paperradar.models import Paper
from paperradar.rank.personal.config import OpenAIEmbeddingConfig, PersonalConfig
from paperradar.rank.search import IndexCache, build_index, load_index, search_archive
from paperradar.rank.search.hybrid import FUSION_TFIDF, Fusion, fuse
from paperradar.rank.search.tfidf import ArchiveTfidf
from paperradar.serve.app import create_app
from paperradar.sources.intake import import_file, sample_path
from paperradar.store import Store
from paperradar.store.vectors import vectors_folder
from paperradar.text.extractive import split_sentences
from tests.fake_llm import FakeLLM, fake_llm  # noqa: F401 - pytest fixture

TFIDF = PersonalConfig()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    db = tmp_path / "radar.db"
    with Store(db) as store:
        import_file(store, sample_path())
    return db


# -- the tf-idf fitted on the archive -------------------------------------------------------------------
def test_tfidf_weights_equal_scikit_learns() -> None:
    corpus = [f"{p.title}. {p.abstract}" for p in _sample_papers()] + [
        "Café naïve résumé: ÉCOLE façade café"
    ] * 2
    ours = ArchiveTfidf.fit(corpus, max_features=10**6)
    ref = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2, strip_accents="unicode")
    matrix = ref.fit_transform(corpus)
    assert ours.terms == list(ref.get_feature_names_out())
    assert np.allclose(ours.idf, ref.idf_, atol=1e-6)
    rows = ours.transform(corpus)
    dense = np.zeros(matrix.shape, dtype=np.float64)
    for i in range(len(corpus)):
        span = slice(rows.indptr[i], rows.indptr[i + 1])
        dense[i, rows.indices[span]] = rows.data[span]
    assert np.allclose(dense, matrix.toarray(), atol=1e-6)


def test_tfidf_fit_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    corpus = [f"{p.title}. {p.abstract}" for p in _sample_papers()]
    shuffled = corpus[:]
    random.Random(7).shuffle(shuffled)
    a, b = ArchiveTfidf.fit(corpus, max_features=500), ArchiveTfidf.fit(shuffled, max_features=500)
    assert a.name == b.name and a.terms == b.terms and len(a.terms) == 500
    a.save(tmp_path)
    again = ArchiveTfidf.load(tmp_path, a.name)
    q = "generative retrieval with semantic identifiers"
    assert np.array_equal(again.query(q)[0], a.query(q)[0]) and np.array_equal(
        again.query(q)[1], a.query(q)[1]
    )
    bad = tmp_path / f"{a.name}.json"
    raw = json.loads(bad.read_text(encoding="utf-8"))
    raw["idf"][0] += 1.0  # a damaged vocabulary would give query vectors that do not match the papers'
    bad.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="does not hash"):
        ArchiveTfidf.load(tmp_path, a.name)


def _sample_papers() -> list[Paper]:
    with gzip.open(sample_path(), "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return [Paper(r["id"], r["title"], r["authors"], r["abstract"]) for r in rows]


# -- fusion ---------------------------------------------------------------------------------------------
def test_fusion_keeps_the_exact_order_on_top_and_fills_in_by_meaning() -> None:
    exact = ["a", "b", "c"]
    nearest = ["x", "c", "y", "a"]
    fused = fuse(exact, nearest, FUSION_TFIDF, 10)
    assert [f[0] for f in fused] == ["a", "c", "b", "x", "y"]
    assert fused[0][2:] == (1, 4) and fused[3][2:] == (None, 1)
    equal = fuse(exact, nearest, Fusion(k=60, vector_weight=1.0), 10)
    assert [f[0] for f in equal][:2] == ["a", "c"] and set(f[0] for f in equal) == {"a", "b", "c", "x", "y"}
    assert fuse([], ["x"], FUSION_TFIDF, 10)[0][:1] == ("x",)
    assert fuse(exact, nearest, FUSION_TFIDF, 2) == fused[:2]


# -- the index: built once, incrementally after -------------------------------------------------------
def test_index_then_hybrid_finds_a_paper_by_a_description_exact_words_miss(archive: Path) -> None:
    with Store(archive) as store:
        assert search_archive(store, "retrieval", 5, index=load_index(archive, TFIDF)).notes  # no index yet
        report = build_index(store, TFIDF)
        assert report.papers == store.count_papers() == 167 and report.embedded == 167 and report.refitted
        index = load_index(archive, TFIDF)
        assert index is not None and index.size == 167
        # The query: a paper's first sentence with one word that appears nowhere in the archive.
        target = next(p for p in _sample_papers() if len(split_sentences(p.abstract)) >= 3)
        query = split_sentences(target.abstract)[0] + " zyxwvutsrq"
        assert search_archive(store, query, 10, exact=True).hits == []
        hybrid = search_archive(store, query, 10, index=index)
        assert hybrid.mode == "hybrid" and hybrid.notes == [] and hybrid.model == index.model
        assert hybrid.hits[0].paper.arxiv_id == target.arxiv_id
        assert hybrid.hits[0].exact_rank is None and hybrid.hits[0].vector_rank == 1
        assert 0 < (hybrid.hits[0].similarity or 0) <= 1.0001
        # Words every matching paper holds: the exact order leads, meaning breaks in after it.
        words = search_archive(store, "generative recommendation", 5, index=index)
        exact = search_archive(store, "generative recommendation", 5, exact=True)
        assert words.hits[0].paper.arxiv_id == exact.hits[0].paper.arxiv_id and words.hits[0].exact_rank == 1
        assert search_archive(store, "zyxwvutsrq", 5, index=index).notes[0].startswith("no word")


def test_index_is_incremental_by_paper_version(archive: Path) -> None:
    with Store(archive) as store:
        first = build_index(store, TFIDF)
        again = build_index(store, TFIDF)
        assert (again.embedded, again.kept, again.refitted, again.model) == (0, 167, False, first.model)
        old = next(iter(store.get_papers([p.arxiv_id for p in _sample_papers()[:1]]).values()))
        store.save_papers(
            [
                dataclasses.replace(
                    old, version=old.version + 1, abstract="A wholly new abstract on tomography."
                ),
                Paper(
                    "2699.00001", "Quantum tomography of pulsars", ["A. B"], "Pulsar tomography, quantum.", 1
                ),
            ]
        )
        index = load_index(archive, TFIDF)
        assert index is not None
        late = search_archive(store, "pulsar tomography", 5, index=index)
        assert late.hits[0].paper.arxiv_id == "2699.00001" and late.hits[0].vector_rank is None
        assert any(n.startswith("1 papers added since the vector index was built") for n in late.notes)
        third = build_index(store, TFIDF)
        assert (third.papers, third.embedded, third.kept, third.model) == (168, 2, 166, first.model)
        index = load_index(archive, TFIDF)
        assert index is not None
        rows = {index.arxiv_id(r): int(index.generation.arrays["versions"][r]) for r in range(index.size)}
        assert rows["2699.00001"] == 1 and rows[old.arxiv_id] == old.version + 1
        # The vocabulary stays as fitted ("tomography" was in no paper then) until a refit.
        assert not any(
            n.startswith("1 papers") for n in search_archive(store, "tomography", 5, index=index).notes
        )
        assert index.top("tomography", 5) == []
        refit = build_index(store, TFIDF, refit=True)
        assert refit.refitted and refit.embedded == 168 and refit.model != first.model
        index = load_index(archive, TFIDF)
        assert index is not None
        nearest = {index.arxiv_id(r) for r, _ in index.top("tomography", 5)}
        assert nearest == {"2699.00001", old.arxiv_id}
        vocabularies = sorted(p.name for p in (vectors_folder(archive) / "tfidf").glob("tfidf-search-*.json"))
        assert vocabularies == [f"{refit.model}.json"]  # the earlier fit is gone with its vectors


def test_a_reader_keeps_its_generation_while_a_new_one_is_written(archive: Path) -> None:
    with Store(archive) as store:
        build_index(store, TFIDF)
        cache = IndexCache(archive, TFIDF)
        before = cache.get()
        assert before is not None and cache.get() is before  # loaded once
        build_index(store, TFIDF, refit=True)
        assert before.top("generative recommendation", 3)  # its unlinked files still answer
        after = cache.get()
        assert after is not None and after is not before
        folder = vectors_folder(archive) / "tfidf"
        assert len([d for d in folder.iterdir() if d.is_dir()]) == 1  # the old generation is gone


def test_endpoint_embedder_builds_a_dense_index_through_the_shared_cache(
    archive: Path,
    fake_llm: FakeLLM,  # noqa: F811
) -> None:
    personal = PersonalConfig(
        embedder="openai", openai=OpenAIEmbeddingConfig(base_url=fake_llm.url, model="e")
    )
    with Store(archive) as store:
        report = build_index(store, personal)
        assert report.papers == 167 and report.model == "openai:e"
        assert store.embeddings.count("openai:e") == 167  # stored per version: ranking reuses them
        calls = len(fake_llm.calls)
        assert build_index(store, personal).embedded == 0 and len(fake_llm.calls) == calls
        index = load_index(archive, personal)
        assert index is not None and index.kind == "dense" and index.size == 167
        target = _sample_papers()[3]
        # The fake endpoint's vectors are hashes of the text: the paper's own text is its nearest.
        hits = search_archive(store, f"{target.title}. {target.abstract}", 5, index=index).hits
        assert hits[0].paper.arxiv_id == target.arxiv_id and hits[0].similarity == pytest.approx(
            1.0, abs=1e-3
        )
    assert (vectors_folder(archive) / "openai-e").is_dir() and load_index(archive, TFIDF) is None


# -- front ends -----------------------------------------------------------------------------------------
def test_cli_index_and_search_modes(tmp_path: Path, write_config) -> None:  # type: ignore[no-untyped-def]
    config = write_config()
    runner = CliRunner()
    assert runner.invoke(cli, ["-q", "--config", str(config), "import", str(sample_path())]).exit_code == 0
    before = runner.invoke(cli, ["--config", str(config), "search", "generative", "recommendation"])
    assert before.exit_code == 0 and "paperradar index" in before.stderr
    built = runner.invoke(cli, ["-q", "--config", str(config), "index"])
    assert built.exit_code == 0 and "167 papers" in built.stderr, built.output
    hybrid = runner.invoke(
        cli, ["--config", str(config), "search", "--limit", "3", "generative", "recommendation"]
    )
    assert hybrid.exit_code == 0 and "meaning" in hybrid.stdout and hybrid.stderr == ""
    exact = runner.invoke(cli, ["--config", str(config), "search", "--exact", "generative", "recommendation"])
    assert exact.exit_code == 0 and "meaning" not in exact.stdout


def test_web_ui_and_mcp_search_by_meaning(tmp_path: Path, write_config) -> None:  # type: ignore[no-untyped-def]
    config = write_config()
    cfg = load_config(config)
    with Store(cfg.db_path) as store:
        import_file(store, sample_path())
        client = TestClient(create_app(cfg.db_path, cfg), base_url="http://127.0.0.1")
        page = client.get("/search", params={"q": "generative recommendation"}).text
        assert "paperradar index" in page  # no index yet: said, and answered by words
        build_index(store, cfg.personal)
        hybrid = client.get("/search", params={"q": "generative recommendation"}).text
        assert "meaning #" in hybrid and "fused with similarity by meaning" in hybrid
        exact = client.get("/search", params={"q": "generative recommendation", "exact": "1"}).text
        assert "meaning #" not in exact and "score" in exact and 'name="exact" value="1" checked' in exact
        answer = search_papers(
            store, "generative recommendation", 5, "hybrid", load_index(cfg.db_path, cfg.personal)
        )
        assert answer["mode"] == "hybrid" and answer["results"][0]["exact_words_rank"] == 1
        assert {"meaning_rank", "similarity"} <= set(answer["results"][0]) and answer["notes"] == []
        assert search_papers(store, "generative recommendation", 5, "exact")["mode"] == "exact"
        fallback = search_papers(store, "generative recommendation", 5, "hybrid", None)
        assert fallback["mode"] == "exact" and fallback["requested_mode"] == "hybrid" and fallback["notes"]


def test_index_verb_never_runs_inside_run() -> None:
    """The daily run must not pay for a backfill: nothing under pipeline imports the index builder."""
    source = Path(importlib.import_module("paperradar.pipeline").__file__ or "").read_text(encoding="utf-8")
    assert "build_index" not in source and "rank.search" not in source
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import paperradar.pipeline, sys; print('paperradar.rank.search' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"
