import dataclasses
import sqlite3
from datetime import UTC, date, datetime

import pytest

from paperradar.errors import BusyError, DataError
from paperradar.models import Announcement, GeneratedText, Paper
from paperradar.store import SCHEMA_VERSION, Store


def paper(arxiv_id="2602.09386", version=1, **kw):
    base = dict(
        arxiv_id=arxiv_id,
        title="SMES: Towards Scalable Multi-Task Recommendation via Expert Sparsity",
        authors=["Yukun Zhang", "Si Dong"],
        abstract="Industrial recommender systems rely on multi-task learning.",
        version=version,
        categories=["cs.IR"],
        source="rss",
    )
    base.update(kw)
    return Paper(**base)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.db") as s:
        yield s


def test_schema_version_and_wal(store, sql):
    assert sql(store).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert sql(store).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_replacement_updates_version_never_duplicates(store):
    store.save_papers([paper()])
    stats = store.save_papers([paper(version=3, title="SMES v3", source="api")])
    assert stats.new_versions == 1
    assert store.count_papers() == 1
    assert store.get_paper("2602.09386").version == 3
    assert store.get_paper("2602.09386").title == "SMES v3"
    assert store.paper_versions("2602.09386") == [1, 3]
    # an older version arriving late does not roll the paper back
    store.save_papers([paper(version=2, title="old")])
    assert store.get_paper("2602.09386").title == "SMES v3"


def test_same_version_from_api_completes_feed_record(store):
    store.save_papers([paper()])
    published = datetime(2026, 2, 10, 11, 56, tzinfo=UTC)
    store.save_papers([paper(source="api", comment="KDD 2026", published=published, authors=["A", "B", "C"])])
    got = store.get_paper("2602.09386")
    assert got.comment == "KDD 2026" and got.published == published and got.authors == ["A", "B", "C"]
    # and the weaker feed record afterwards does not undo it
    store.save_papers([paper()])
    assert store.get_paper("2602.09386").authors == ["A", "B", "C"]


def test_duplicates_within_one_batch(store):
    stats = store.save_papers([paper(), paper(version=2, title="v2"), paper()])
    assert stats.inserted == 1
    assert store.get_paper("2602.09386").version == 2


def test_resave_changes_nothing(store, sql):
    store.save_papers([paper(), paper("hep-th/9901001", title="Old style")])
    before = sql(store).execute("SELECT * FROM papers ORDER BY arxiv_id").fetchall()
    stats = store.save_papers([paper(), paper("hep-th/9901001", title="Old style")])
    assert stats.unchanged == 2 and stats.updated == 0
    assert [tuple(r) for r in before] == [
        tuple(r) for r in sql(store).execute("SELECT * FROM papers ORDER BY arxiv_id")
    ]


def test_announcements_one_per_paper_prefer_new(store):
    store.save_papers([paper()])
    day = date(2026, 2, 10)
    store.save_announcements(
        [
            Announcement("2602.09386", day, "cs.LG", "cross", 1),
            Announcement("2602.09386", day, "cs.IR", "new", 1),
        ]
    )
    assert store.save_announcements([Announcement("2602.09386", day, "cs.IR", "new", 1)]) == 0
    anns = store.announcements(day)
    assert len(anns) == 1 and anns[0].kind == "new" and anns[0].category == "cs.IR"
    assert store.announcements(day, ["cs.LG"])[0].kind == "cross"
    assert store.announcement_days() == [day]


def test_fts_search_escapes_user_syntax(store):
    store.save_papers(
        [
            paper(),
            paper(
                "2602.07774",
                title="Generative Reasoning Re-ranker",
                authors=["Mingfu Liang"],
                abstract="We rerank with reasoning and reinforcement learning.",
            ),
        ]
    )
    assert [p.arxiv_id for p, _ in store.search("re-ranker")] == ["2602.07774"]
    assert [p.arxiv_id for p, _ in store.search("liang")] == ["2602.07774"]
    for hostile in ['"unbalanced', "title:foo", "a AND OR NOT", "NEAR(", "*", "x' OR 1=1 --", ""]:
        store.search(hostile)  # never an FTS5 syntax error
    # an update re-indexes through the trigger
    store.save_papers([paper(version=2, title="Sparse experts", source="api")])
    assert store.search("sparse") and not store.search("scalable")


def test_texts_cached_and_never_overwritten_by_accident(store):
    store.save_papers([paper()])
    t = GeneratedText(
        "2602.09386", 1, "summary", "en", "first", "extractive", "h1", datetime(2026, 2, 10, tzinfo=UTC)
    )
    store.save_text(t, None)
    store.save_text(dataclasses.replace(t, content="second"), None)
    assert store.get_text("2602.09386", 1, "summary", "en", "h1", "extractive").content == "first"
    store.save_text(dataclasses.replace(t, content="third"), None, overwrite=True)
    assert store.get_text("2602.09386", 1, "summary", "en", "h1", "extractive").content == "third"
    assert store.get_text("2602.09386", 2, "summary", "en", "h1", "extractive") is None


def test_second_writer_gets_busy_error(tmp_path):
    with Store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        a.acquire_lock()
        with pytest.raises(BusyError) as info:
            b.acquire_lock()
        assert info.value.exit_code == 6
        a.release_lock()
        b.acquire_lock()


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(DataError, match="newer paperradar"):
        Store(path)


def test_not_a_database(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DataError, match="not a usable paperradar database"):
        Store(path)
