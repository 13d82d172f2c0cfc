"""The static site's search by meaning (publish/site_search.py): the shipped tf-idf weights are the CLI's
(scikit-learn's), the index stays small, its ranking and fusion are the CLI's; and a site folder an older
paperradar built (no manifest) is adopted, while a folder that is no paperradar site is still refused.
The browser side (search.js running these indexes) is tests/test_site_search_browser.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from paperradar.publish.owned_files import OwnershipError
from paperradar.publish.site import SITE_MANIFEST, build_site
from paperradar.publish.site_legacy import is_legacy_site
from paperradar.publish.site_search import (
    FORMAT,
    MIN_DF,
    TOP_TERMS,
    WEIGHT_SCALE,
    build_meaning_index,
    paper_text,
    rank_by_meaning,
    tokens,
)
from paperradar.rank.search.hybrid import DEPTH, FUSION_TFIDF, fuse
from paperradar.rank.search.tfidf import ArchiveTfidf
from paperradar.sources import read_jsonl
from paperradar.sources.intake import sample_path
from paperradar.store import Store
from tests.cli_runner import run_cli
from tests.site_fixtures import LANGS, built_store

TRICKY = [
    "Naïve Bayes für Empfehlungen: café-style RÉSUMÉ ranking, x2 and a_b tokens",
    "推荐系统 with 中文 and ﬁne-tuning (ligature), Ｆｕｌｌｗｉｄｔｈ letters, Ⅻ numerals, 1 a I",
    "The the THE of and: only stop words here — would would",
]


@pytest.fixture(scope="module")
def sample_texts() -> list[tuple[str, str]]:
    """The bundled sample (167 real cs.IR papers of February 2026): ids and title-plus-abstract."""
    return [(p.arxiv_id, paper_text(p.title, p.abstract)) for p, *_ in read_jsonl(sample_path())]


def test_tokens_are_the_cli_search_tokens() -> None:
    cli = ArchiveTfidf.fit(["graph retrieval"], min_df=1)  # its tokens() do not depend on what it was fit on
    for text in TRICKY:
        assert tokens(text) == cli.tokens(text), text
    assert "naive" in tokens(TRICKY[0]) and "fine" in tokens(TRICKY[1]) and "推荐系统" in tokens(TRICKY[1])


def test_weights_equal_scikit_learn(sample_texts: list[tuple[str, str]]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [t for _, t in sample_texts]
    vectorizer = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, strip_accents="unicode", min_df=MIN_DF
    )
    matrix = vectorizer.fit_transform(texts)
    vocab = vectorizer.get_feature_names_out()
    index = build_meaning_index(sample_texts)
    assert index.ids == [a for a, _ in sample_texts]
    for row_number, row in enumerate(index.rows):
        sk = matrix.getrow(row_number)
        expected = {vocab[c]: v for c, v in zip(sk.indices, sk.data, strict=True)}
        heaviest = sorted(expected.items(), key=lambda tw: (-tw[1], tw[0]))[:TOP_TERMS]
        got = [(index.terms[t], w) for t, w in zip(row[::2], row[1::2], strict=True)]
        assert [t for t, _ in got] == [t for t, w in heaviest if round(w * WEIGHT_SCALE) > 0]
        for (_, w), (_, v) in zip(got, heaviest, strict=False):
            assert abs(w - v * WEIGHT_SCALE) <= 0.5 + 1e-9
    idf = dict(zip(vocab, vectorizer.idf_, strict=True))
    assert all(abs(index.idf[i] - idf[t]) < 1e-4 for i, t in enumerate(index.terms))


def test_index_is_small_and_says_how_it_was_made(sample_texts: list[tuple[str, str]]) -> None:
    index = build_meaning_index(sample_texts)
    body = json.loads(index.to_json())
    assert (
        body["format"] == FORMAT and "sublinear tf" in body["how"] and f"{TOP_TERMS} heaviest" in body["how"]
    )
    assert body["fusion"] == {"k": FUSION_TFIDF.k, "w": FUSION_TFIDF.vector_weight, "depth": DEPTH}
    assert all(0 < len(row) <= 2 * TOP_TERMS for row in index.rows)
    # Common words get the small numbers; every shipped word is in some paper's row.
    used = {t for row in index.rows for t in row[::2]}
    assert used == set(range(len(index.terms)))
    # Bounded: on 167 papers (a small vocabulary shared by few) about 400 bytes a paper; 1,000 real
    # papers measure about 310 (docs/BENCHMARKS.md).
    assert len(index.to_json().encode()) / len(sample_texts) < 600


def test_tiny_and_stop_word_only_sites() -> None:
    tiny = build_meaning_index([("1", "Graph retrieval"), ("2", "Music playlists")])
    assert sorted(tiny.terms) == ["graph", "music", "playlists", "retrieval"]  # < 20 papers: every word
    empty = build_meaning_index([("1", "The the THE of and: would would"), ("2", "and the of")])
    assert empty.terms == [] and empty.rows == [[], []]
    assert rank_by_meaning(empty, "the graph") == []
    assert json.loads(empty.to_json())["rows"] == [[], []]


def test_meaning_finds_what_words_miss(sample_texts: list[tuple[str, str]]) -> None:
    """No sample paper holds all of "music playlist recommendation"; by meaning the one about music
    preferences comes first, and fused with the (empty) word ranking it stays first."""
    index = build_meaning_index(sample_texts)
    query = "music playlist recommendation"
    assert not [a for a, text in sample_texts if all(w in text.lower() for w in query.split())]
    nearest = rank_by_meaning(index, query)
    assert nearest[0] == "2602.12301" and len(nearest) <= DEPTH
    assert fuse([], nearest, FUSION_TFIDF, 10)[0][0] == "2602.12301"
    # Stop words and unknown words change nothing; repeating a word weighs it as sublinear tf does.
    assert rank_by_meaning(index, "the music of a playlist for recommendation zzqx") == nearest
    assert rank_by_meaning(index, "") == [] and rank_by_meaning(index, "推荐系统") == []


def test_fusion_keeps_word_hits_on_top_and_ties_in_order() -> None:
    """The constants search.js reads: a paper holding every word at rank 1 stays above one found only by
    meaning, and a paper found both ways climbs above word-only neighbours."""
    fused = fuse(["a", "b", "c"], ["d", "c"], FUSION_TFIDF, 10)
    assert [a for a, *_ in fused] == ["c", "a", "b", "d"]
    assert fused[0][2:] == (3, 2) and fused[-1][2:] == (None, 1)


# -- adopting a site an older paperradar built -------------------------------------------------------


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_store(tmp_path_factory)


def _legacy_site(store_path: Path, out: Path) -> None:
    """What a paperradar from before the manifest left: the same files, no manifest."""
    with Store(store_path) as store:
        build_site(store, out, LANGS, "Radar")
    (out / SITE_MANIFEST).unlink()
    for name in ("search-meaning.js", "search-meaning.json"):  # not made by the old versions either
        (out / name).unlink()


def test_legacy_site_is_adopted(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _legacy_site(store_path, out)
    (out / "papers" / "2401.00001.html").write_text("an old build's page", encoding="utf-8")
    (out / "CNAME").write_text("radar.example.org", encoding="utf-8")
    assert is_legacy_site(out, SITE_MANIFEST)
    with Store(store_path) as store:
        report = build_site(store, out, LANGS, "Radar")
    assert report.adopted and report.removed == 0
    manifest = json.loads((out / SITE_MANIFEST).read_text(encoding="utf-8"))
    assert "search-meaning.js" in manifest["files"] and "CNAME" not in manifest["files"]
    assert (out / "CNAME").exists() and (out / "papers" / "2401.00001.html").exists()  # not known: kept
    with Store(store_path) as store:
        again = build_site(store, out, LANGS, "Radar")
    assert not again.adopted and again.changed == 0


def test_folder_that_is_not_a_paperradar_site_is_still_refused(store_path: Path, tmp_path: Path) -> None:
    cases = {
        "notes": {"notes.txt": "mine"},
        "index-only": {"search-index.js": "window.PAPERRADAR_SEARCH = [];\n"},  # one marker is not enough
        "other-code": {"search-index.js": "window.PAPERRADAR_SEARCH = [];\n", "static/search.js": "x()"},
        "other-index": {"search-index.js": "var x = 1;", "static/search.js": 'var G = "PAPERRADAR_SEARCH";'},
    }
    for name, files in cases.items():
        out = tmp_path / name
        for rel, text in files.items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(text, encoding="utf-8")
        assert not is_legacy_site(out, SITE_MANIFEST), name
        with Store(store_path) as store, pytest.raises(OwnershipError, match="not made by paperradar"):
            build_site(store, out, LANGS, "Radar")
        assert (out / next(iter(files))).read_text(encoding="utf-8") == next(iter(files.values()))
    # A marker reached through a symlink is not a file of the folder.
    out = tmp_path / "linked"
    _legacy_site(store_path, tmp_path / "real")
    out.mkdir()
    (out / "static").mkdir()
    (out / "search-index.js").symlink_to(tmp_path / "real" / "search-index.js")
    (out / "static" / "search.js").symlink_to(tmp_path / "real" / "static" / "search.js")
    assert not is_legacy_site(out, SITE_MANIFEST)


def test_publish_site_over_an_old_demo_folder(store_path: Path, tmp_path: Path) -> None:
    """`make demo` over demo/out left by an older paperradar: `publish site` builds and says it adopted."""
    shutil.copy(store_path, tmp_path / "radar.db")
    config = tmp_path / "paperradar.toml"
    config.write_text('[store]\npath = "radar.db"\n[output]\nfolder = "out"\n', encoding="utf-8")
    _legacy_site(store_path, tmp_path / "out" / "site")
    code, out, err = run_cli("--config", str(config), "publish", "site")
    assert code == 0, err
    assert "older paperradar; adopted" in out and (tmp_path / "out" / "site" / SITE_MANIFEST).is_file()
    assert (tmp_path / "out" / "site" / "search-meaning.js").is_file()
