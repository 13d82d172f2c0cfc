"""The search index lags behind `papers` during bulk imports (paperradar.store.fulltext) and is whole again
when they end: built alongside into an empty archive, in bulk otherwise, inline for daily saves; a killed
import leaves waiting rows that the next save indexes. Every check ends with FTS5's own integrity check
against the content table ('integrity-check' with rank 1: every row indexed, exactly as it is stored)."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from paperradar.models import Paper
from paperradar.sources import intake, read_jsonl
from paperradar.sources.intake import import_file, sample_path
from paperradar.store import Store
from paperradar.store.archive_export import build_from_archive, export_archive
from paperradar.store.migrations import MIGRATIONS, _statements

Sql = Callable[[Store], sqlite3.Connection]
ROOT = Path(__file__).resolve().parents[1]


def sample_papers() -> list[Paper]:
    return [paper for paper, _ in read_jsonl(sample_path())]


def index_matches_table(conn: sqlite3.Connection) -> None:
    """Raises unless every row of papers is indexed with exactly its stored text and nothing else is."""
    conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('integrity-check', 1)")


def waiting(conn: sqlite3.Connection) -> int:
    mark = conn.execute("SELECT indexed_through FROM fts_state").fetchone()[0]
    return int(conn.execute("SELECT count(*) FROM papers WHERE rowid > ?", (mark,)).fetchone()[0])


def results(store: Store, query: str) -> list[tuple[str, float]]:
    return [(p.arxiv_id, round(score, 9)) for p, score in store.search(query, 20)]


QUERIES = ["recommendation", "large language models", "retrieval augmented generation", "graph", "Zhang"]


def test_first_import_builds_the_index_alongside_and_equals_inline_indexing(
    tmp_path: Path, sql: Sql, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG, logger="paperradar.store.fulltext")
    monkeypatch.setattr(intake, "PARALLEL_INDEX_MIN_BYTES", 0)  # the sample is small: build alongside anyway
    with Store(tmp_path / "inline.db") as inline:
        inline.save_papers(sample_papers(), batch_size=20)
        expected = {q: results(inline, q) for q in QUERIES}
        index_matches_table(sql(inline))
    with Store(tmp_path / "bulk.db") as store:
        counts = import_file(store, sample_path(), batch_size=20)
        assert counts.inserted == 167
        assert "built alongside the import (through rowid 167), copied in" in caplog.text
        conn = sql(store)
        index_matches_table(conn)
        assert waiting(conn) == 0
        # bm25 reads only the index's statistics: the same scores, the same order
        assert {q: results(store, q) for q in QUERIES} == expected
        assert all(expected[q] for q in QUERIES[:4])
        assert not Path(f"{store.path}.fts-build").exists()
        # the copied index goes on working for daily saves: inserts, and updates through the trigger
        first = sample_papers()[0]
        store.save_papers([dataclasses.replace(first, version=first.version + 1, title="Quokka ranking")])
        store.save_papers([dataclasses.replace(first, arxiv_id="2699.00001", title="Another quokka")])
        assert {p.arxiv_id for p, _ in store.search("quokka")} == {first.arxiv_id, "2699.00001"}
        index_matches_table(conn)


def test_staged_build_is_dropped_when_a_later_batch_rewrites_an_earlier_paper(
    tmp_path: Path, sql: Sql, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG, logger="paperradar.store.fulltext")
    monkeypatch.setattr(intake, "PARALLEL_INDEX_MIN_BYTES", 0)  # the sample is small: build alongside anyway
    papers = sample_papers()
    src = tmp_path / "twice.jsonl"
    lines = [
        json.dumps({"id": p.arxiv_id, "title": p.title, "abstract": p.abstract, "authors": p.authors})
        for p in papers[:60]
    ]
    # the first paper comes back 50 lines later (another batch), as version 2 with another title
    lines.insert(
        50,
        json.dumps(
            {
                "id": papers[0].arxiv_id + "v2",
                "title": "Wombat retrieval",
                "abstract": papers[0].abstract,
                "authors": papers[0].authors,
            }
        ),
    )
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store(tmp_path / "r.db") as store:
        counts = import_file(store, src, batch_size=10)
        assert (counts.inserted, counts.updated) == (60, 1)
        assert "changed after it was indexed alongside" in caplog.text and "copied in" not in caplog.text
        index_matches_table(sql(store))
        assert [p.arxiv_id for p, _ in store.search("wombat")] == [papers[0].arxiv_id]


def test_import_into_an_indexed_archive_indexes_in_bulk_at_the_end(tmp_path: Path, sql: Sql):
    papers = sample_papers()
    with Store(tmp_path / "r.db") as store:
        store.save_papers(papers[:30])  # a daily run: indexed at once
        conn = sql(store)
        assert waiting(conn) == 0
        with store.deferred_index():
            store.save_papers(papers[30:100], batch_size=20)
            store.save_papers([dataclasses.replace(papers[0], version=9, title="Platypus search")])
            store.save_papers([dataclasses.replace(papers[40], version=9, title="Echidna search")])
            assert waiting(conn) == 70  # stored, not searchable yet
            assert not Path(f"{store.path}.fts-build").exists()  # no staged build: the archive had an index
        assert waiting(conn) == 0
        index_matches_table(conn)
        assert [p.arxiv_id for p, _ in store.search("platypus")] == [papers[0].arxiv_id]
        assert [p.arxiv_id for p, _ in store.search("echidna")] == [papers[40].arxiv_id]


@pytest.mark.parametrize("indexed_before", [0, 30])  # a first import (staged build) and a later one
def test_readers_during_an_import_see_a_consistent_index(
    tmp_path: Path, sql: Sql, monkeypatch, indexed_before: int
):
    """Another process reading while the import runs: every row it finds is a whole paper, the index
    it reads agrees with the rows it says are indexed, and what search finds is always at or below the
    mark (waiting rows are simply not found yet)."""
    monkeypatch.setattr(intake, "PARALLEL_INDEX_MIN_BYTES", 0)
    papers = sample_papers()
    seen: list[tuple[int, int]] = []
    with Store(tmp_path / "r.db") as store:
        store.save_papers(papers[:indexed_before])
        with Store(tmp_path / "r.db") as reader:
            conn = sql(reader)

            def check(stage: str, done: int, total: int | None) -> None:
                mark = conn.execute("SELECT indexed_through FROM fts_state").fetchone()[0]
                indexed = conn.execute(
                    "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'the OR a OR of'"
                ).fetchone()[0]
                found = conn.execute(
                    "SELECT max(rowid) FROM papers_fts WHERE papers_fts MATCH 'the OR a OR of'"
                ).fetchone()[0]
                assert found is None or found <= mark
                conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('integrity-check')")
                seen.append((mark, indexed))

            import_file(store, sample_path(), batch_size=25, progress=check)
        assert len(seen) >= 7 and seen[0][0] == indexed_before  # the import's batches were not indexed yet
        assert seen[-1][0] == 167  # the last report comes when the import is done: everything searchable
        conn = sql(store)
        assert waiting(conn) == 0
        index_matches_table(conn)


@pytest.mark.parametrize("broken", ["no process", "the builder fails"])
def test_an_import_whose_index_builder_cannot_run_indexes_at_the_end(
    tmp_path: Path, sql: Sql, caplog, monkeypatch, broken: str
):
    caplog.set_level(logging.INFO, logger="paperradar.store.fulltext")
    monkeypatch.setattr(intake, "PARALLEL_INDEX_MIN_BYTES", 0)
    if broken == "no process":

        def refuse(*args: object, **kwargs: object) -> None:
            raise OSError(11, "Resource temporarily unavailable")

        monkeypatch.setattr(subprocess, "Popen", refuse)
    else:  # an interpreter that exits at once with status 1, before reading a line
        monkeypatch.setattr(sys, "executable", "/bin/false")
    with Store(tmp_path / "r.db") as store:
        counts = import_file(store, sample_path(), batch_size=25)
        assert counts.inserted == 167
        conn = sql(store)
        assert waiting(conn) == 0
        index_matches_table(conn)
        assert "copied in" not in caplog.text
        expected = "cannot build the search index alongside" if broken == "no process" else "failed"
        assert expected in caplog.text
        assert not Path(f"{store.path}.fts-build").exists()


def test_a_readers_view_shares_the_deferred_index_of_its_store(tmp_path: Path, sql: Sql):
    """Store.for_reader views share the connection: a save through a view inside the store's deferred
    block is deferred too, and a view made inside the block indexes inline once the block is over."""
    papers = sample_papers()
    with Store(tmp_path / "r.db") as store:
        conn = sql(store)
        with store.deferred_index(parallel=False):
            view = store.for_reader("alice")
            view.save_papers(papers[:10])
            assert waiting(conn) == 10
        assert waiting(conn) == 0
        view.save_papers(papers[10:12])
        assert waiting(conn) == 0
        with view.deferred_index(parallel=False):
            store.save_papers(papers[12:15])
            assert waiting(conn) == 3
        index_matches_table(conn)


def test_reimport_is_idempotent_and_leaves_the_index_alone(tmp_path: Path, sql: Sql):
    with Store(tmp_path / "r.db") as store:
        import_file(store, sample_path(), batch_size=50)
        conn = sql(store)
        before = conn.execute("SELECT count(*), sum(length(block)) FROM papers_fts_data").fetchone()
        counts = import_file(store, sample_path(), batch_size=50)
        assert (counts.inserted, counts.updated) == (0, 0)
        assert conn.execute("SELECT count(*), sum(length(block)) FROM papers_fts_data").fetchone() == before
        index_matches_table(conn)


def test_an_error_inside_the_block_still_leaves_what_was_saved_searchable(tmp_path: Path, sql: Sql):
    papers = sample_papers()
    with Store(tmp_path / "r.db") as store:
        with pytest.raises(RuntimeError), store.deferred_index():
            store.save_papers(papers[:40], batch_size=10)
            raise RuntimeError("a bad line")
        index_matches_table(sql(store))
        assert papers[0].arxiv_id in {p.arxiv_id for p, _ in store.search(papers[0].title)}


def test_an_interrupt_leaves_rows_waiting_and_the_next_save_indexes_them(tmp_path: Path, sql: Sql):
    papers = sample_papers()
    with Store(tmp_path / "r.db") as store:
        with pytest.raises(KeyboardInterrupt), store.deferred_index():
            store.save_papers(papers[:40], batch_size=10)
            raise KeyboardInterrupt
        conn = sql(store)
        assert waiting(conn) == 40
        conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('integrity-check')")  # consistent, behind
        assert not store.search(papers[0].title)
        store.save_papers(papers[40:41])  # any later save (a daily run) catches up
        assert waiting(conn) == 0
        index_matches_table(conn)
        assert papers[0].arxiv_id in {p.arxiv_id for p, _ in store.search(papers[0].title)}


def test_another_process_indexing_meanwhile_makes_the_staged_copy_stand_down(
    tmp_path: Path, sql: Sql, caplog, monkeypatch
):
    caplog.set_level(logging.INFO, logger="paperradar.store.fulltext")
    papers = sample_papers()
    with Store(tmp_path / "r.db") as store, Store(tmp_path / "r.db") as other:
        with store.deferred_index():
            store.save_papers(papers[:50], batch_size=10)
            other.save_papers(papers[50:51])  # a save without the run lock: indexes everything waiting
            store.save_papers(papers[51:100], batch_size=10)
        conn = sql(store)
        assert waiting(conn) == 0
        index_matches_table(conn)
        assert "another process indexed the archive meanwhile" in caplog.text
        assert papers[0].arxiv_id in {p.arxiv_id for p, _ in store.search(papers[0].title)}


def test_deleting_the_last_rows_never_makes_a_new_row_look_indexed(tmp_path: Path, sql: Sql):
    papers = sample_papers()
    with Store(tmp_path / "r.db") as store:
        store.save_papers(papers[:5])
        conn = sql(store)
        conn.execute("DELETE FROM papers WHERE rowid >= 4")  # no API deletes papers; the trigger must cope
        assert conn.execute("SELECT indexed_through FROM fts_state").fetchone()[0] == 3
        with store.deferred_index(parallel=False):
            store.save_papers(papers[5:7])  # rowids 4 and 5 again
        index_matches_table(conn)
        assert papers[5].arxiv_id in {p.arxiv_id for p, _ in store.search(papers[5].title)}


def test_upgrade_from_schema_3_keeps_the_index_and_its_triggers(tmp_path: Path, sql: Sql):
    db = tmp_path / "old.db"
    papers = sample_papers()[:10]
    # a schema-3 database with indexed papers, as an older paperradar left it
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as old:
        for number in range(3):
            for statement in _statements(MIGRATIONS[number]):
                old.execute(statement)
        old.execute("PRAGMA user_version = 3")
        for p in papers:
            old.execute(
                "INSERT INTO papers (arxiv_id, version, title, authors, abstract, categories, source, first_seen) "
                "VALUES (?, 1, ?, ?, ?, '[]', 'jsonl', '2026-01-01')",
                (p.arxiv_id, p.title, json.dumps(p.authors), p.abstract),
            )
            old.execute(
                "INSERT INTO papers_fts(rowid, title, abstract, authors) "
                "SELECT rowid, title, abstract, authors FROM papers WHERE rowid = last_insert_rowid()"
            )
    with Store(db) as store:
        conn = sql(store)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT indexed_through FROM fts_state").fetchone()[0] == 10
        index_matches_table(conn)
        store.save_papers([dataclasses.replace(papers[3], version=2, title="Numbat embeddings")])
        store.save_papers(sample_papers()[10:12])
        index_matches_table(conn)
        assert [p.arxiv_id for p, _ in store.search("numbat")] == [papers[3].arxiv_id]


def test_an_archive_export_of_a_lagging_index_restores_whole(tmp_path: Path, sql: Sql):
    """fts_state names rowids, which a database rebuilt from an export does not keep: it is not exported,
    and the restored database, whose index is rebuilt from every row, marks every row indexed."""
    papers = sample_papers()
    with Store(tmp_path / "r.db") as store:
        store.save_papers(papers[:20])
        with pytest.raises(KeyboardInterrupt), store.deferred_index(parallel=False):
            store.save_papers(papers[20:60], batch_size=10)
            raise KeyboardInterrupt  # 40 rows left waiting
        assert waiting(sql(store)) == 40
        report = export_archive(sql(store), tmp_path / "arch")
    assert "fts_state" not in report.rows and not (tmp_path / "arch" / "fts_state").exists()
    build_from_archive(tmp_path / "arch", tmp_path / "restored.db")
    with Store(tmp_path / "restored.db") as restored:
        conn = sql(restored)
        assert waiting(conn) == 0
        index_matches_table(conn)
        restored.save_papers(papers[60:70])  # indexes only the new rows: nothing twice
        index_matches_table(conn)
        assert papers[30].arxiv_id in {p.arxiv_id for p, _ in restored.search(papers[30].title)}


def _synthetic_jsonl(path: Path, n: int) -> None:
    """n papers in the bulk format, their words drawn from the bundled sample (seeded)."""
    rng = random.Random(4)
    words = " ".join(p.abstract for p in sample_papers()).split()
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(n):
            record = {
                "id": f"2601.{i:05d}",
                "title": " ".join(rng.choices(words, k=10)),
                "authors": [f"Author {rng.randrange(500)}", f"Author {rng.randrange(500)}"],
                "abstract": " ".join(rng.choices(words, k=150)),
                "categories": ["cs.IR"],
                "listing_date": "2026-01-05",
            }
            fh.write(json.dumps(record) + "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_during_an_import_leaves_a_consistent_archive_that_resumes(tmp_path: Path, sql: Sql):
    src, db = tmp_path / "bulk.jsonl.gz", tmp_path / "r.db"
    _synthetic_jsonl(src, 6000)
    code = (
        "import sys; from pathlib import Path; from paperradar.store import Store; "
        "from paperradar.sources.intake import import_file; "
        f"import_file(Store(Path({str(db)!r})), Path({str(src)!r}), batch_size=300)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            with contextlib.closing(sqlite3.connect(db, timeout=30)) as probe:
                try:
                    if probe.execute("SELECT count(*) FROM papers").fetchone()[0] >= 1500:
                        break
                except sqlite3.OperationalError:  # the schema is not there yet
                    pass
            time.sleep(0.05)
        assert child.poll() is None, "the import ended before it could be killed: make the file bigger"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('integrity-check')")
        stored = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        assert 1500 <= stored < 6000
        assert waiting(conn) > 0  # killed mid-import: stored rows wait for the index, nothing half-done
    with Store(db) as store:
        counts = import_file(store, src, batch_size=1000)  # the same import again resumes
        assert counts.inserted == 6000 - stored and store.count_papers() == 6000
        conn = sql(store)
        assert waiting(conn) == 0
        index_matches_table(conn)
        assert not Path(f"{db}.fts-build").exists()
        with gzip.open(src, "rt") as fh:
            first = json.loads(fh.readline())
        assert first["id"] in {p.arxiv_id for p, _ in store.search(first["title"], 5)}
