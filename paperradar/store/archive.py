"""The SQLite archive: papers with every version seen, announcements, runs, generated texts; each reader's
ranks, digests and ratings through `ReaderRecords` (reader_records.py); row codecs in rows.py.

One file in WAL mode. Writes are idempotent: saving what is already there changes no row, so running the
same day twice leaves the database as it was (the runs log is the one table that grows, by design).
"""

from __future__ import annotations

import contextlib
import copy
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from paperradar.errors import DataError, StorageError, environment_error
from paperradar.models import (
    DEFAULT_READER,
    Announcement,
    DeclineReason,
    GeneratedText,
    Interest,
    Paper,
    Ranked,
    TextStatus,
    decline_status,
)
from paperradar.store.archive_export import ArchiveReport, export_archive
from paperradar.store.db import Database
from paperradar.store.embeddings import EmbeddingTable
from paperradar.store.fulltext import DeferredIndex, index_waiting, top_rowid
from paperradar.store.library import LibraryTable
from paperradar.store.lock import RunLock
from paperradar.store.migrations import migrate
from paperradar.store.reader_records import ReaderRecords
from paperradar.store.readonly import open_read_only
from paperradar.store.rows import (
    PAPER_COLUMNS,
    datetime_or_none,
    dumps,
    iso_or_none,
    merge_papers,
    merge_record,
    now_iso,
    paper_record,
    row_to_paper,
)
from paperradar.store.zotero import ZoteroTable


def _journal_mode_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. Two processes opening a brand-new file at the same moment (two `paperradar run`
    started together) can get 'database is locked' from this pragma at once: SQLite does not call the
    busy handler for a journal-mode change. The other process finishes the switch within milliseconds."""
    for attempt in range(100):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.01)


@dataclass(slots=True)
class SaveStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    new_versions: int = 0


class Store(ReaderRecords):
    """Library-first access to the archive; the CLI is a thin layer over these methods.

    A store is seen as one reader (`reader`, "default" unless opened through `for_reader`): ranks, ratings,
    the library, digest records and Zotero sync state are that reader's; papers, announcements, texts,
    embeddings and runs are shared by every reader of the archive."""

    last_path: ClassVar[Path | None] = None  # the archive last opened: errors from SQLite name it

    def __init__(
        self, path: str | os.PathLike[str], *, read_only: bool = False, reader: str = DEFAULT_READER
    ):
        """`read_only`: SQLite itself refuses every write (the file is opened mode=ro), nothing is migrated
        and no lock is taken; a database of another schema is refused with the command that fixes it. A
        database this user cannot write (or in a folder it cannot write, where SQLite could not make its
        -wal/-shm files) is opened read-only too: search, show and export work; a write says "read-only"
        (exit 7)."""
        self.path = Path(path)
        Store.last_path = self.path
        cannot_write = self.path.exists() and not (
            os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)
        )
        self.read_only = read_only or cannot_write
        self.reader = reader  # whose ranks, ratings, library and sync state this store reads and writes
        self._root: Store | None = None  # set on a reader's view: the store that owns the connection
        self._lock: RunLock | None = None
        if self.read_only:
            # No write access to the folder: nothing (not even SQLite's -shm) may be made beside the file.
            self._conn = open_read_only(
                self.path, immutable=cannot_write and not os.access(self.path.parent, os.W_OK)
            )
        else:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # One thread at a time, not always the opening one: a day's model work may run its event
                # loop in a worker thread while the caller waits (llm.seam.run_sync, when the caller
                # already runs a loop, as under Playwright or in a notebook). SQLite is built serialized.
                self._conn = sqlite3.connect(
                    str(self.path), isolation_level=None, timeout=30.0, check_same_thread=False
                )
                self._conn.row_factory = sqlite3.Row
                _journal_mode_wal(self._conn)
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                self._conn.execute(
                    "PRAGMA cache_size=-65536"
                )  # 64 MB page cache: bulk imports touch big indexes
                migrate(self._conn)
            except sqlite3.DatabaseError as exc:
                expected = environment_error(exc, self.path)
                if isinstance(expected, StorageError):
                    raise expected from None  # the machine (disk full, read-only), not the file's content
                raise DataError(
                    f"{self.path} is not a usable paperradar database: {exc}",
                    hint="point [store].path at another file, or move this one away",
                ) from None
        self._deferred: DeferredIndex | None = None  # inside deferred_index(): batches are not indexed
        self._db = Database(self._conn)
        self.library = LibraryTable(self._db, reader)
        self.embeddings = EmbeddingTable(self._db)
        self.zotero = ZoteroTable(self._db, reader)

    def for_reader(self, name: str) -> Store:
        """The same archive (one connection, one run lock) seen as reader `name`. The view never closes
        the connection or releases the lock: the store it came from does."""
        root = self._root or self
        if name == self.reader:
            return self
        view = copy.copy(root)
        view.reader = name
        view._root = root
        view.library = LibraryTable(root._db, name)
        view.zotero = ZoteroTable(root._db, name)
        return view

    # -- plumbing ---------------------------------------------------------------------------------------
    def close(self) -> None:
        if self._root is not None:
            return  # a reader's view: the store it came from closes the connection
        self.release_lock()
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._db.transaction()

    def acquire_lock(self, wait: bool | float = False, verb: str = "run") -> None:
        """One writing run per database: a second writer gets a BusyError naming the holder (pid, verb,
        start time), or with `wait` queues behind it for at most `wait` seconds (True: LOCK_WAIT), saying so."""
        if self._root is not None:
            self._root.acquire_lock(wait, verb)
            return
        if self._lock is not None or str(self.path) == ":memory:":
            return
        lock = RunLock(Path(f"{self.path}.lock"), self.path)
        lock.acquire(wait, verb)
        self._lock = lock
        self._close_interrupted_runs()

    def _close_interrupted_runs(self) -> None:
        # Only a run holding this lock records itself as 'running', so with the lock held any such row is a
        # process that died (SIGKILL, OOM, power loss) before it could record how it ended.
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = 'interrupted', error = coalesce(error, ?) WHERE status = 'running'",
                ("the process stopped before the run finished (killed or crashed); the next run resumed it",),
            )

    def release_lock(self) -> None:
        if self._root is not None:
            self._root.release_lock()
            return
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- papers -----------------------------------------------------------------------------------------
    def save_papers(self, papers: Iterable[Paper], batch_size: int = 2000) -> SaveStats:
        """Insert or merge papers. A higher version replaces the metadata and is recorded in paper_versions;
        the same version fills gaps (a feed item completed by the API); nothing is ever duplicated."""
        stats = SaveStats()
        batch: list[Paper] = []
        for paper in papers:
            batch.append(paper)
            if len(batch) >= batch_size:
                self._save_batch(batch, stats)
                batch = []
        if batch:
            self._save_batch(batch, stats)
        return stats

    @contextlib.contextmanager
    def deferred_index(self, parallel: bool = True) -> Iterator[None]:
        """Papers saved inside the block are stored without being indexed for search; the block's end
        indexes them all at once, which costs far less per paper (paperradar.store.fulltext; into an
        empty archive the index is built on another core meanwhile when `parallel`). Search finds them
        when the block ends, also when it ends with an error; a killed process leaves them waiting for
        the next save, which indexes them."""
        owner = self._root or self  # readers' views share the connection, so they share this state too
        if owner._deferred is not None or self.read_only:  # nested, or nothing can be saved anyway
            yield
            return
        file = None if str(self.path) == ":memory:" else self.path
        deferred = owner._deferred = DeferredIndex(file, self._conn, parallel)
        try:
            yield
        except Exception:
            owner._deferred = None
            deferred.finish(self.transaction)
            raise
        except BaseException:
            owner._deferred = None
            deferred.cancel()
            raise
        owner._deferred = None
        deferred.finish(self.transaction)

    def _save_batch(self, batch: list[Paper], stats: SaveStats) -> None:
        # The last record of an id in the batch wins, merged over earlier ones like any other update.
        latest: dict[str, Paper] = {}
        for paper in batch:
            prev = latest.get(paper.arxiv_id)
            latest[paper.arxiv_id] = paper if prev is None else merge_papers(prev, paper)
        now = now_iso()
        deferred = (self._root or self)._deferred  # inside deferred_index(): not indexed here
        with self.transaction() as conn:
            existing = self._fetch_rows(list(latest))
            inserts, updates, versions = [], [], []
            text_changed = False
            for arxiv_id, paper in latest.items():
                row = existing.get(arxiv_id)
                record = paper_record(paper, now)
                if row is None:
                    inserts.append(record)
                    versions.append((arxiv_id, paper.version, paper.title, record[11], now))
                    stats.inserted += 1
                    continue
                merged = merge_record(dict(row), record)
                if merged == dict(row):
                    stats.unchanged += 1
                    continue
                updates.append(merged)
                text_changed = text_changed or any(
                    merged[k] != row[k] for k in ("title", "abstract", "authors")
                )
                if merged["version"] != row["version"]:
                    versions.append((arxiv_id, merged["version"], merged["title"], merged["updated"], now))
                    stats.new_versions += 1
                stats.updated += 1
            if inserts:
                conn.executemany(
                    f"INSERT INTO papers ({PAPER_COLUMNS}) VALUES ({','.join('?' * 15)})", inserts
                )
            if deferred is None:  # one set-based INSERT … SELECT: 2x faster than a per-row trigger
                index_waiting(conn)
            if updates:
                cols = [
                    c.strip() for c in PAPER_COLUMNS.split(",") if c.strip() not in ("arxiv_id", "first_seen")
                ]
                sql = f"UPDATE papers SET {', '.join(f'{c} = :{c}' for c in cols)} WHERE arxiv_id = :arxiv_id"
                conn.executemany(sql, updates)
            conn.executemany("INSERT OR IGNORE INTO paper_versions VALUES (?, ?, ?, ?, ?)", versions)
            top = top_rowid(conn) if deferred is not None else 0
        if deferred is not None:
            deferred.saved(top, text_changed)

    def _fetch_rows(self, ids: list[str]) -> dict[str, sqlite3.Row]:
        rows: dict[str, sqlite3.Row] = {}
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            sql = f"SELECT {PAPER_COLUMNS} FROM papers WHERE arxiv_id IN ({','.join('?' * len(chunk))})"
            for row in self._conn.execute(sql, chunk):
                rows[row["arxiv_id"]] = row
        return rows

    def get_paper(self, arxiv_id: str) -> Paper | None:
        row = self._conn.execute(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE arxiv_id = ?", (arxiv_id,)
        ).fetchone()
        return row_to_paper(row) if row else None

    def get_papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        return {k: row_to_paper(r) for k, r in self._fetch_rows(list(dict.fromkeys(ids))).items()}

    def known_versions(self, ids: Iterable[str]) -> dict[str, int]:
        return {k: r["version"] for k, r in self._fetch_rows(list(dict.fromkeys(ids))).items()}

    def paper_versions(self, arxiv_id: str) -> list[int]:
        rows = self._conn.execute(
            "SELECT version FROM paper_versions WHERE arxiv_id = ? ORDER BY version", (arxiv_id,)
        )
        return [r[0] for r in rows]

    def count_papers(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    # -- announcements ----------------------------------------------------------------------------------
    def save_announcements(self, items: Iterable[Announcement]) -> int:
        rows = [(a.day.isoformat(), a.category, a.arxiv_id, a.kind, a.version) for a in items]
        with self.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT INTO announcements (day, category, arxiv_id, kind, version) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (day, category, arxiv_id) DO UPDATE SET kind = excluded.kind, "
                "version = coalesce(excluded.version, announcements.version) "
                "WHERE announcements.kind IS NOT excluded.kind "
                "OR (excluded.version IS NOT NULL AND announcements.version IS NOT excluded.version)",
                rows,
            )
            return conn.total_changes - before

    def announcements(self, day: date, categories: Iterable[str] | None = None) -> list[Announcement]:
        """One announcement per paper for the day: a paper listed in several watched categories appears once,
        under its 'new' listing when it has one (the primary), else its first listing."""
        cats = list(categories) if categories else None
        sql = "SELECT day, category, arxiv_id, kind, version FROM announcements WHERE day = ?"
        params: list[Any] = [day.isoformat()]
        if cats:
            sql += f" AND category IN ({','.join('?' * len(cats))})"
            params += cats
        order = {"new": 0, "cross": 1, "replace": 2, "replace-cross": 3}
        best: dict[str, Announcement] = {}
        for row in self._conn.execute(sql + " ORDER BY arxiv_id, category", params):
            ann = Announcement(
                row["arxiv_id"], date.fromisoformat(row["day"]), row["category"], row["kind"], row["version"]
            )
            cur = best.get(ann.arxiv_id)
            if cur is None or order[ann.kind] < order[cur.kind]:
                best[ann.arxiv_id] = ann
        return sorted(best.values(), key=lambda a: a.arxiv_id)

    def listings_of(self, arxiv_id: str) -> list[Announcement]:
        """Every listing of one paper (each day and category), oldest first."""
        rows = self._conn.execute(
            "SELECT day, category, arxiv_id, kind, version FROM announcements WHERE arxiv_id = ? "
            "ORDER BY day, category",
            (arxiv_id,),
        )
        return [
            Announcement(r["arxiv_id"], date.fromisoformat(r["day"]), r["category"], r["kind"], r["version"])
            for r in rows
        ]

    def listing_days(self, arxiv_id: str, until: date, categories: Sequence[str] = ()) -> list[date]:
        """The days up to `until` on which a paper was listed in `categories` (any when empty)."""
        sql = "SELECT DISTINCT day FROM announcements WHERE arxiv_id = ? AND day <= ?"
        params: list[Any] = [arxiv_id, until.isoformat()]
        if categories:
            sql += f" AND category IN ({','.join('?' * len(categories))})"
            params += list(categories)
        return [date.fromisoformat(r[0]) for r in self._conn.execute(sql, params)]

    def announcement_days(self, categories: Iterable[str] | None = None) -> list[date]:
        cats = list(categories) if categories else None
        sql = "SELECT DISTINCT day FROM announcements"
        if cats:
            sql += f" WHERE category IN ({','.join('?' * len(cats))})"
        return [date.fromisoformat(r[0]) for r in self._conn.execute(sql + " ORDER BY day", cats or [])]

    # -- runs -------------------------------------------------------------------------------------------
    def start_run(self, command: str, day: date | None) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs (command, day, started_at) VALUES (?, ?, ?)",
                (command, day.isoformat() if day else None, now_iso()),
            )
            return int(cur.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        status: str,
        stats: dict[str, Any],
        error: str | None = None,
        day: date | None = None,
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, stats = ?, error = ?, day = coalesce(?, day) WHERE id = ?",
                (now_iso(), status, dumps(stats), error, day.isoformat() if day else None, run_id),
            )

    def load_ranked(self, day: date) -> list[Ranked]:
        """The stored ranking of a day as Ranked objects (for `write`, `publish` and `export` on their own)."""
        rows = self.ranks(day)
        papers = self.get_papers(r.arxiv_id for r in rows)
        anns = {a.arxiv_id: a for a in self.announcements(day)}
        out = []
        for row in rows:
            paper = papers[row.arxiv_id]
            out.append(
                Ranked(
                    paper=paper,
                    announcement=anns.get(paper.arxiv_id, Announcement(paper.arxiv_id, day, "", "new")),
                    keyword_hits=row.keyword_hits,
                    companies=row.companies,
                    interest=Interest(
                        row.interest_score,
                        row.interest_reason,
                        row.interest_mode,
                        reasons=row.interest_reasons,
                        missing=row.interest_missing,
                    ),
                    rank=row.rank,
                    explanation=row.explanation,
                )
            )
        return out

    # -- generated texts --------------------------------------------------------------------------------
    def get_text(
        self, arxiv_id: str, version: int, task: str, language: str, template_hash: str, model: str
    ) -> GeneratedText | None:
        row = self._conn.execute(
            "SELECT * FROM texts WHERE arxiv_id=? AND version=? AND task=? AND language=? AND template_hash=? "
            "AND model=? AND status='ok'",
            (arxiv_id, version, task, language, template_hash, model),
        ).fetchone()
        if row is None:
            return None
        return GeneratedText(
            row["arxiv_id"],
            row["version"],
            row["task"],
            row["language"],
            row["content"],
            row["model"],
            row["template_hash"],
            datetime_or_none(row["created_at"]),
        )

    def text_status(
        self, arxiv_id: str, version: int, task: str, language: str, template_hash: str, model: str
    ) -> tuple[TextStatus, DeclineReason | None, int] | None:
        """(status, reason, failed attempts) of a stored text; None when it was never asked for."""
        row = self._conn.execute(
            "SELECT status, reason, attempts FROM texts WHERE arxiv_id=? AND version=? AND task=? AND language=? "
            "AND template_hash=? AND model=?",
            (arxiv_id, version, task, language, template_hash, model),
        ).fetchone()
        return (row[0], row[1], int(row[2])) if row else None

    def save_text(
        self,
        text: GeneratedText,
        run_id: int | None,
        reason: DeclineReason | None = None,
        detail: str | None = None,
        overwrite: bool = False,
    ) -> None:
        """Store an answer (reason None), or a marker saying why there is none (never content)."""
        status: TextStatus = "ok" if reason is None else decline_status(reason)
        # A stored good answer is never overwritten by accident; --refresh TASK passes overwrite=True.
        guard = "" if overwrite else " WHERE texts.status IS NOT 'ok'"
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO texts (arxiv_id, version, task, language, template_hash, model, status, content, detail, "
                "created_at, run_id, reason, attempts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                "status=excluded.status, content=excluded.content, detail=excluded.detail, "
                "created_at=excluded.created_at, run_id=excluded.run_id, reason=excluded.reason, "
                # A failed answer adds to the count that makes write_texts give up; a good one keeps the count.
                "attempts = texts.attempts + excluded.attempts" + guard,
                (
                    text.arxiv_id,
                    text.version,
                    text.task,
                    text.language,
                    text.template_hash,
                    text.mode,
                    status,
                    text.content if status == "ok" else None,
                    detail,
                    iso_or_none(text.created_at) or now_iso(),
                    run_id,
                    reason,
                    1 if status == "failed" else 0,
                ),
            )

    # -- search -----------------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 20) -> list[tuple[Paper, float]]:
        """Full-text search over title, abstract and authors; see paperradar.store.search."""
        from paperradar.store.search import search

        return search(self._conn, query, limit, PAPER_COLUMNS, row_to_paper)

    def export_archive(self, folder: Path) -> ArchiveReport:
        """Every table as sorted JSONL under `folder` (store/archive_export.py): one consistent snapshot."""
        return export_archive(self._conn, folder)

    def table_counts(self) -> dict[str, int]:
        names = [
            "papers",
            "paper_versions",
            "announcements",
            "runs",
            "ranks",
            "texts",
            "ratings",
            "digests",
            "embeddings",
            "library",
        ]
        return {n: self._conn.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}
