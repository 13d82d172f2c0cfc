"""Backup, restore and archive import of the SQLite database, without ever losing the copy that works.

- backup: SQLite's online backup API from one read snapshot (a run writing at the same time is wholly in
  or wholly out), into a temp file switched to rollback-journal mode (one self-contained file), verified,
  then renamed into place.
- restore / import: the incoming data becomes a verified database file next to the target first (a copy:
  the user's file is never opened for writing); only then, holding the writer lock, is the current
  database copied aside (`<db>.before-restore-<UTC time>`) and replaced through the backup API, so a
  reader that has it open (`paperradar serve`) sees the switch as one transaction. A file that is not a
  paperradar database (not SQLite, another program's tables, a schema from a newer paperradar, a damaged
  file) is refused before anything is touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from paperradar.errors import DataError, UsageError
from paperradar.store.archive_export import ArchiveReport, build_from_archive, data_tables
from paperradar.store.lock import RunLock
from paperradar.store.migrations import MIGRATIONS, SCHEMA_VERSION, _statements, migrate

SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    path: Path
    schema_version: int
    counts: dict[str, int]  # rows per data table
    days: int  # announcement days
    ranked_days: int  # days with a ranking (the site's days)

    def summary(self) -> str:
        c = self.counts
        return (
            f"{self.ranked_days} ranked days, {c.get('papers', 0)} papers, {c.get('texts', 0)} texts, "
            f"{c.get('ratings', 0)} ratings"
        )


@dataclass(frozen=True, slots=True)
class ReplaceReport:
    info: DatabaseInfo  # the database now in place
    kept: Path | None  # where the previous one was copied (None: there was none, or it was empty)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


@lru_cache(maxsize=8)
def _reference_shapes(version: int) -> dict[str, tuple[str, ...]]:
    """Table → columns of a paperradar database at schema `version`, built in memory from the migrations."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for number in range(version):
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
        return {shape.name: tuple(sorted(shape.columns)) for shape in data_tables(conn)}
    finally:
        conn.close()


def _check_header(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path} does not exist")
    if not path.is_file():
        raise DataError(f"{path} is not a file")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DataError(f"{path} cannot be read: {exc}") from None
    if head != SQLITE_HEADER:
        raise DataError(
            f"{path} is not an SQLite database, so not a paperradar backup",
            hint="pass a file written by `paperradar backup`",
        )


def _describe(conn: sqlite3.Connection, path: Path) -> DatabaseInfo:
    """Check that an open database is a whole paperradar database and count what it holds."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DataError(
                f"{path} was written by a newer paperradar (schema {version}, this one knows {SCHEMA_VERSION})",
                hint="upgrade paperradar first",
            )
        shapes = {shape.name: tuple(sorted(shape.columns)) for shape in data_tables(conn)}
        expected = _reference_shapes(version) if version >= 1 else {}
        wrong = [name for name, cols in expected.items() if shapes.get(name) != cols]
        if version < 1 or wrong:
            raise DataError(
                f"{path} is an SQLite database but not a paperradar one"
                + (f" (tables {', '.join(sorted(wrong)[:4])} differ from schema {version})" if wrong else ""),
                hint="pass a file written by `paperradar backup`",
            )
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise DataError(f"{path} is damaged: {check}", hint="use an older backup")
        counts = {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in sorted(shapes)
        }
        days = conn.execute("SELECT count(DISTINCT day) FROM announcements").fetchone()[0]
        ranked = conn.execute("SELECT count(DISTINCT day) FROM ranks").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise DataError(f"{path} is not a usable SQLite database: {exc}", hint="use another backup") from None
    return DatabaseInfo(path, version, counts, days, ranked)


def inspect_database(path: Path) -> DatabaseInfo:
    """Verify `path` is a whole paperradar database (read-only; nothing is written) and count its rows."""
    _check_header(path)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"{path} cannot be opened: {exc}") from None
    try:
        return _describe(conn, path)
    finally:
        conn.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_database(db: Path, dest: Path, *, overwrite: bool = False) -> DatabaseInfo:
    """Copy the live database `db` to `dest` (a file, or a folder to put `<name>-<UTC time>.db` in) with
    the online backup API; the copy is verified before it gets its name. Returns what the copy holds."""
    if not db.is_file():
        raise DataError(
            f"there is no database at {db}", hint="check [store].path, or run `paperradar run` first"
        )
    if dest.is_dir():
        dest = dest / f"{db.stem}-{_stamp()}.db"
    if dest.exists() and dest.resolve() == db.resolve():
        raise UsageError(f"{dest} is the database itself", hint="back it up to another file")
    if dest.exists() and not overwrite:
        raise UsageError(
            f"{dest} already exists", hint="pass --force to overwrite it, or choose another name"
        )
    if not dest.parent.is_dir():
        raise UsageError(f"{dest.parent} is not a folder", hint="create it first, or choose another path")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(f"{db.resolve().as_uri()}?mode=rw", uri=True)
        try:
            copy = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                source.backup(copy)  # all pages in one step: one consistent snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            finally:
                copy.close()
        finally:
            source.close()
        info = inspect_database(tmp)
        _fsync(tmp)
        os.replace(tmp, dest)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"backup of {db} failed: {exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return DatabaseInfo(dest, info.schema_version, info.counts, info.days, info.ranked_days)


@contextlib.contextmanager
def writer_lock(db: Path) -> Iterator[None]:
    """The writer lock `Store.acquire_lock` takes (store/lock.py), taken without opening the database: a
    restore must work when the current file is damaged."""
    db.parent.mkdir(parents=True, exist_ok=True)
    lock = RunLock(Path(f"{db}.lock"), db)
    lock.acquire(False, "restore")
    try:
        yield
    finally:
        lock.release()


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _holds_data(db: Path) -> bool:
    try:
        return sum(inspect_database(db).counts.values()) > 0
    except DataError:
        return db.exists() and db.stat().st_size > 0  # unreadable but not empty: worth keeping


def _prepare(path: Path, shown: Path) -> DatabaseInfo:
    """Bring a private copy (never the user's file) to this paperradar's schema and verify it; errors
    name `shown`, the file the user gave."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        _describe(conn, shown)  # refuse before migrating: a foreign database must not gain our tables
        migrate(conn)
        conn.execute("PRAGMA journal_mode=DELETE")
        return _describe(conn, shown)
    except sqlite3.DatabaseError as exc:
        raise DataError(f"{shown} is not a usable SQLite database: {exc}") from None
    finally:
        conn.close()


def _copy_into(new: Path, db: Path) -> bool:
    """Copy `new` over the live `db` through the backup API: other connections (a running `serve`) see
    one atomic switch. False when SQLite cannot (e.g. a WAL database with another page size)."""
    target = sqlite3.connect(str(db), isolation_level=None, timeout=30.0)
    source = sqlite3.connect(f"{new.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.backup(target)
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        source.close()
        target.close()


def install_database(new: Path, db: Path, label: str) -> ReplaceReport:
    """Put the verified database file `new` in place of `db` (consumed: moved or copied, then removed).
    The current database, if it holds anything, is first copied to `<db>.<label>-<UTC time>`."""
    expected = inspect_database(new)
    with writer_lock(db):
        kept: Path | None = None
        healthy = False
        if db.exists():
            try:
                inspect_database(db)
                healthy = True
            except DataError:
                healthy = False
            if _holds_data(db):
                kept = db.with_name(f"{db.name}.{label}-{_stamp()}")
                if healthy:
                    backup_database(db, kept)
                else:  # damaged: keep the files as they are
                    for part in [db, *_sidecars(db)]:
                        if part.exists():
                            os.replace(part, kept.with_name(kept.name + part.name[len(db.name) :]))
        if healthy and _copy_into(new, db):
            new.unlink()
        else:
            for part in _sidecars(db):
                part.unlink(missing_ok=True)  # a stale -wal must not be replayed onto the new file
            if db.exists():
                db.unlink()  # copied aside above if it held anything
            shutil.move(new, db)
        installed = inspect_database(db)
    if installed.counts != expected.counts:
        raise DataError(f"{db} does not hold what was installed ({installed.summary()})")
    return ReplaceReport(installed, kept)


def restore_database(source: Path, db: Path) -> ReplaceReport:
    """Replace the database `db` by the backup `source`, verified first; the old one is kept aside."""
    _check_header(source)
    tmp = db.parent / f".{db.name}.restore-{os.getpid()}.tmp"
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(source, tmp)
        wal = source.with_name(source.name + "-wal")
        if wal.exists():  # a copy of a live database: its last transactions may still be in the WAL
            shutil.copyfile(wal, tmp.with_name(tmp.name + "-wal"))
        _prepare(tmp, source)
        for part in _sidecars(tmp):
            part.unlink(missing_ok=True)
        return install_database(tmp, db, "before-restore")
    finally:
        for part in [tmp, *_sidecars(tmp)]:
            part.unlink(missing_ok=True)


def import_archive_into(
    folder: Path, db: Path, *, replace: bool = False
) -> tuple[ArchiveReport, ReplaceReport]:
    """Build a database from the archive folder and put it at `db`: a missing or empty database is
    filled; one that holds data is replaced only with `replace` (and kept aside)."""
    if db.exists() and _holds_data(db) and not replace:
        raise UsageError(
            f"{db} already holds data; `import --archive` fills a new or empty database",
            hint="pass --replace to replace it (the current one is kept beside it), or use another [store].path",
        )
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.parent / f".{db.name}.import-{os.getpid()}.tmp"
    for part in [tmp, *_sidecars(tmp)]:
        part.unlink(missing_ok=True)
    try:
        report = build_from_archive(folder, tmp)
        return report, install_database(tmp, db, "before-import")
    finally:
        for part in [tmp, *_sidecars(tmp)]:
            part.unlink(missing_ok=True)
