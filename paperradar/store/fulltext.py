"""Keeping the full-text index (`papers_fts`, FTS5 over title, abstract, authors) in step with `papers`.

FTS5 spends ~1,000 CPU instructions a token: indexing the 155k bulk file costs about twice as much as
decoding and inserting it (docs/BENCHMARKS.md, P4). So the index may lag behind the table, by a rule that
keeps every state consistent: rows of `papers` with rowid <= fts_state.indexed_through are indexed (as
they are now: the update and delete triggers keep them so), rows above it are waiting. Waiting rows are
always complete papers that search does not find yet; whoever indexes them does it set-based and moves the
mark in the same transaction, so a crash anywhere leaves a database that is right, only behind.

Three ways rows get indexed:
  inline    Store.save_papers indexes what it inserted (and anything left waiting) in its own transaction:
            daily runs and small saves are searchable at once, as before.
  deferred  inside Store.deferred_index() (bulk imports) batches are only inserted; the block's end
            indexes every waiting row in a few big statements, which FTS5 does cheaper than per batch.
  staged    when the archive has nothing indexed yet (a first import into a new archive), a child process
            builds the index in a scratch database while the import is still inserting: it reads the
            committed rows through its own read-only connection (WAL readers do not block the writer), so
            the tokenizing runs on another core, outside the archive's write lock. At the end the finished
            index (its shadow tables, written by the same SQLite from the same CREATE statement) is
            copied into the archive in one transaction. Anything that could make the copy wrong (a row
            of the import changed after it was built, another process indexing meanwhile, the builder
            failing) makes the end fall back to the deferred way instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# Rows per statement (and transaction) when indexing waiting rows in bulk: other writers get turns.
INDEX_CHUNK = 50_000
_INDEX_SQL = (
    "INSERT INTO papers_fts(rowid, title, abstract, authors) "
    "SELECT rowid, title, abstract, authors FROM papers WHERE rowid > ? AND rowid <= ?"
)
_SHADOW_TABLES = ("papers_fts_data", "papers_fts_idx", "papers_fts_docsize")


def indexed_through(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT indexed_through FROM fts_state").fetchone()[0])


def top_rowid(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM papers").fetchone()[0])


def index_waiting(conn: sqlite3.Connection, limit: int | None = None) -> bool:
    """Index waiting rows (all, or the next `limit` rowids) and move the mark; call inside a write
    transaction. True when nothing is left waiting."""
    done, top = indexed_through(conn), top_rowid(conn)
    if top <= done:
        if top < done:  # only deletes can get here; the delete trigger already lowers the mark
            conn.execute("UPDATE fts_state SET indexed_through = ?", (top,))
        return True
    upto = top if limit is None else min(top, done + limit)
    conn.execute(_INDEX_SQL, (done, upto))
    conn.execute("UPDATE fts_state SET indexed_through = ?", (upto,))
    return upto == top


def index_is_empty(conn: sqlite3.Connection) -> bool:
    """Nothing indexed: the mark at 0 and no document in the index (a first import into a new archive)."""
    if indexed_through(conn) != 0:
        return False
    return conn.execute("SELECT 1 FROM papers_fts_docsize LIMIT 1").fetchone() is None


class StagedIndex:
    """Builds the whole index of an archive that has none in a scratch database, in a child process
    (paperradar/store/fts_build.py), while the archive is being filled; `install` copies it in. The
    owner calls `advance(rowid)` after each commit that added rows and `updated_rows()` when a commit
    changed the text of rows that may already be built."""

    def __init__(self, db_path: Path, conn: sqlite3.Connection) -> None:
        self.db_path = db_path
        self.scratch = scratch_path(db_path)
        self.discard()  # a build left by a killed import
        # The same CREATE statement and settings as the archive's index, so the same SQLite writes the
        # same format: read from the archive itself rather than repeated here.
        ddl = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'papers_fts'"
        ).fetchone()
        config = conn.execute("SELECT k, v FROM papers_fts_config WHERE k != 'version'").fetchall()
        self._stale = False
        self._failed: str | None = None
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                str(Path(__file__).with_name("fts_build.py")),
                str(db_path),
                str(self.scratch),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._send(json.dumps({"ddl": ddl[0], "config": [list(row) for row in config]}))
        self.advance(top_rowid(conn))  # rows already waiting (a killed import) are built first

    def _send(self, line: str) -> None:
        if self._failed is not None or self._proc.stdin is None:
            return
        try:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
        except OSError as exc:  # the child died; finish() reports why
            self._failed = str(exc)

    # -- called by the importing thread ----------------------------------------------------------------
    def advance(self, rowid: int) -> None:
        self._send(f"advance {rowid}")

    def updated_rows(self) -> None:
        self._stale = True

    def finish(self) -> int | None:
        """Wait for the build; the last rowid it covers, or None when it cannot be used."""
        self._send("finish")
        out, err = self._proc.communicate()
        answer = out.split()
        if self._proc.returncode != 0 or len(answer) != 2 or answer[0] != "built":
            reason = err.strip().splitlines()[-1:] or [self._failed or f"exit status {self._proc.returncode}"]
            log.warning(
                "building the search index alongside the import failed (%s); indexing it now", reason[0]
            )
            return None
        if self._stale:
            log.info("a paper of this import changed after it was indexed alongside; indexing the import now")
            return None
        return int(answer[1])

    def cancel(self) -> None:
        """Stop at once (an interrupted import): the rows stay waiting for the next save."""
        self._proc.kill()
        self._proc.communicate()
        self.discard()

    def install(self, built_through: int) -> bool:
        """Copy the built index into the archive, if the archive still has none; True when done. Runs on
        a connection of its own: FTS5 notices another connection's commit (PRAGMA data_version) and
        re-reads its structure, which it would not do after writes to the shadow tables through its own."""
        conn = sqlite3.connect(str(self.db_path), isolation_level=None, timeout=30.0)
        try:
            conn.execute("ATTACH DATABASE ? AS staged", (str(self.scratch),))
            conn.execute("BEGIN IMMEDIATE")
            try:
                if not index_is_empty(conn) or top_rowid(conn) < built_through:
                    conn.execute("ROLLBACK")
                    return False
                for table in _SHADOW_TABLES:
                    conn.execute(f"DELETE FROM main.{table}")
                    conn.execute(f"INSERT INTO main.{table} SELECT * FROM staged.{table}")
                conn.execute("UPDATE fts_state SET indexed_through = ?", (built_through,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return True
        finally:
            conn.close()

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.scratch.unlink()


def scratch_path(db_path: Path) -> Path:
    return Path(f"{db_path}.fts-build")


class DeferredIndex:
    """The bookkeeping of one Store.deferred_index() block: staged when the archive has no index yet
    (and is a file), else deferred; `finish` leaves nothing waiting."""

    def __init__(self, db_path: Path | None, conn: sqlite3.Connection, parallel: bool) -> None:
        self.staged: StagedIndex | None = None
        if parallel and db_path is not None and index_is_empty(conn):
            try:
                self.staged = StagedIndex(db_path, conn)
            except OSError as exc:  # no process to spare (limits, no interpreter file): index at the end
                log.warning(
                    "cannot build the search index alongside the import (%s); indexing it at the end", exc
                )
        elif db_path is not None:  # a build left by a killed import, now never to be used
            with contextlib.suppress(FileNotFoundError):
                scratch_path(db_path).unlink()

    def saved(self, top: int, text_changed: bool) -> None:
        """After each committed batch: the highest rowid now, and whether it changed an indexed text of
        a row that existed before the batch."""
        if self.staged is not None:
            if text_changed:
                self.staged.updated_rows()
            self.staged.advance(top)

    def finish(
        self, transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]]
    ) -> None:
        if self.staged is not None:
            try:
                built = self.staged.finish()
                if built is not None:
                    if self.staged.install(built):
                        log.debug(
                            "search index built alongside the import (through rowid %d), copied in", built
                        )
                    else:
                        log.info("another process indexed the archive meanwhile; indexing the rest now")
            finally:
                self.staged.discard()
        done = False
        while not done:
            with transaction() as conn:
                done = index_waiting(conn, INDEX_CHUNK)

    def cancel(self) -> None:
        if self.staged is not None:
            self.staged.cancel()
