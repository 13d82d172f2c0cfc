"""The archive as a folder of text files: compact, diff-friendly and deterministic, so it can live in git
(the GitHub Actions deployment commits it to a data branch) and come back as an equal database.

Layout of DIR:
- `archive.json`: format, schema version, and per table its columns, key, row count and files (each with
  its row count and SHA-256). No clock, no host name: the same database always gives the same bytes.
- `<table>/<shard>.jsonl`: one JSON object per row, keys sorted, rows in primary-key order. Big tables are
  cut by month (papers/texts/embeddings by the arXiv id's YYMM, announcements/ranks/digests by day, runs by
  start time) so a daily run rewrites a few small files and no file nears GitHub's 100 MB limit.

Every column of every table is exported as stored (JSON-in-TEXT columns stay text: the round trip is
exact). A BLOB is written as {"base64": "..."} and a non-finite REAL as {"float": "nan"}; no stored value
is a JSON object otherwise, so the two cannot be confused. The full-text index is not exported: import
rebuilds it. Import builds a new database file at the archive's schema version, checks every file against
the manifest, migrates it to this paperradar's schema and verifies it before it replaces anything.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from paperradar.errors import DataError, UsageError
from paperradar.store.migrations import MIGRATIONS, SCHEMA_VERSION, _statements, migrate

FORMAT = "paperradar-archive"
FORMAT_VERSION = 1
MANIFEST = "archive.json"

SqlValue = str | int | float | bytes | None

_NEW_ID = re.compile(r"^(\d{4})\.")
_OLD_ID = re.compile(r"^[a-z][a-z\-.]*/(\d{4})")
_MONTH = re.compile(r"^(\d{4}-\d{2})")
_SHARD_NAME = re.compile(r"^[0-9a-z][0-9a-z\-]*$")


def _id_shard(value: SqlValue) -> str:
    """arXiv ids by the month in the id: 2602.12345 → 2602, hep-th/9901001 → old-9901."""
    text = value if isinstance(value, str) else ""
    if m := _NEW_ID.match(text):
        return m.group(1)
    if m := _OLD_ID.match(text):
        return f"old-{m.group(1)}"
    return "other"


def _month_shard(value: SqlValue) -> str:
    """A day or timestamp by its month: 2026-02-10 → 2026-02."""
    m = _MONTH.match(value if isinstance(value, str) else "")
    return m.group(1) if m else "other"


# Which column cuts a table into files, and how. Tables not named here (small ones, and any a future
# migration adds) are one file, `<table>/all.jsonl`.
SHARDS: dict[str, tuple[str, Callable[[SqlValue], str]]] = {
    "papers": ("arxiv_id", _id_shard),
    "paper_versions": ("arxiv_id", _id_shard),
    "texts": ("arxiv_id", _id_shard),
    "embeddings": ("arxiv_id", _id_shard),
    "announcements": ("day", _month_shard),
    "ranks": ("day", _month_shard),
    "digests": ("day", _month_shard),
    "runs": ("started_at", _month_shard),
}


@dataclass(frozen=True, slots=True)
class TableShape:
    name: str
    columns: list[str]  # in table order
    key: list[str]  # primary-key columns in key order (empty: order by every column)


@dataclass(slots=True)
class ArchiveReport:
    folder: Path
    schema_version: int
    rows: dict[str, int] = field(default_factory=dict)
    files_written: int = 0  # files whose bytes changed (0 when the database did not change)
    files_removed: int = 0  # files of the previous export no longer needed

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# Tables about the search index, not data: fts_state names papers' rowids, which a rebuilt database does
# not keep (paperradar.store.fulltext); the loaded database sets its own.
_INDEX_BOOKKEEPING = {"fts_state"}


def data_tables(conn: sqlite3.Connection) -> list[TableShape]:
    """Every table that holds data: not SQLite's own, not a virtual table (FTS) or its shadow tables."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    shapes = []
    for name, _sql in rows:
        if name.startswith("sqlite_") or any(name == v or name.startswith(f"{v}_") for v in virtual):
            continue
        if name in _INDEX_BOOKKEEPING:
            continue
        info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        columns = [r[1] for r in info]
        key = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        shapes.append(TableShape(name, columns, key))
    return shapes


def _encode(value: SqlValue) -> Any:
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    return value


def _decode(value: Any) -> SqlValue:
    if isinstance(value, dict):
        if set(value) == {"base64"} and isinstance(value["base64"], str):
            return base64.b64decode(value["base64"], validate=True)
        if set(value) == {"float"} and value["float"] in ("nan", "inf", "-inf"):
            return float(value["float"])
        raise ValueError(f"unknown encoded value {value!r}")
    if isinstance(value, (list, bool)):
        raise ValueError(f"a stored value is never a {type(value).__name__}")
    return value  # type: ignore[no-any-return]


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _rows(conn: sqlite3.Connection, shape: TableShape) -> Iterator[tuple[SqlValue, ...]]:
    order = shape.key or shape.columns
    yield from conn.execute(f'SELECT {_quoted(shape.columns)} FROM "{shape.name}" ORDER BY {_quoted(order)}')


class _ShardWriter:
    """Streams one table's rows into temp files, one per shard, hashing as it goes (constant memory: the
    155k-paper bulk archive is written without holding a table in RAM). Rows come in key order, so a shard
    is usually contiguous; one that comes back is appended to."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.hashes: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self._current: str | None = None
        self._handle: Any = None

    def _tmp(self, name: str) -> Path:
        path = self.folder / name
        return path.with_name(f".{path.name}.{os.getpid()}.tmp")

    def add(self, name: str, line: bytes) -> None:
        if name != self._current:
            if self._handle is not None:
                self._handle.close()
            tmp = self._tmp(name)
            tmp.parent.mkdir(parents=True, exist_ok=True)
            self._handle = tmp.open("ab" if name in self.counts else "wb")
            self._current = name
            self.hashes.setdefault(name, hashlib.sha256())
            self.counts.setdefault(name, 0)
        self._handle.write(line)
        self.hashes[name].update(line)
        self.counts[name] += 1

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        for name in self.counts:
            self._tmp(name).unlink(missing_ok=True)

    def finish(self) -> tuple[dict[str, dict[str, Any]], int]:
        """Move each temp file into place unless the file there has the same bytes; returns the files'
        manifest entries and how many files changed."""
        if self._handle is not None:
            self._handle.close()
        changed = 0
        files: dict[str, dict[str, Any]] = {}
        for name in sorted(self.counts):
            digest = self.hashes[name].hexdigest()
            files[name] = {"rows": self.counts[name], "sha256": digest}
            path, tmp = self.folder / name, self._tmp(name)
            if path.is_file() and not path.is_symlink() and _sha256_of(path) == digest:
                tmp.unlink()
            else:
                os.replace(tmp, path)
                changed += 1
        return files, changed


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _export_table(conn: sqlite3.Connection, shape: TableShape, folder: Path) -> tuple[dict[str, Any], int]:
    column, shard_of = SHARDS.get(shape.name, ("", lambda _v: "all"))
    index = shape.columns.index(column) if column in shape.columns else -1
    writer = _ShardWriter(folder)
    try:
        for row in _rows(conn, shape):
            shard = shard_of(row[index]) if index >= 0 else "all"
            record = {name: _encode(value) for name, value in zip(shape.columns, row, strict=True)}
            writer.add(
                f"{shape.name}/{shard}.jsonl", orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"
            )
        return writer.finish()
    except BaseException:
        writer.discard()
        raise


def _atomic_write(path: Path, data: bytes) -> bool:
    """Write when the bytes differ; atomic (temp file + rename). True when written."""
    if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise DataError(
            f"{folder} holds no paperradar archive (no {MANIFEST})",
            hint="pass the folder `paperradar export --archive` wrote",
        ) from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise DataError(f"{path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"{path} is not a paperradar archive manifest")
    if data.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"{path} has archive format {data.get('format_version')!r}; this paperradar reads {FORMAT_VERSION}",
            hint="use the paperradar version that wrote it",
        )
    version = data.get("schema_version")
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise DataError(
            f"{path} was written at schema {version!r}; this paperradar knows schemas 1 to {SCHEMA_VERSION}",
            hint="upgrade paperradar to import it",
        )
    if not isinstance(data.get("tables"), dict):
        raise DataError(f"{path} lists no tables")
    return data


def export_archive(conn: sqlite3.Connection, folder: Path) -> ArchiveReport:
    """Write the whole database into `folder` as described above, from one consistent snapshot (a read
    transaction: a run writing at the same time is either wholly in or wholly out). Files whose bytes are
    unchanged are left alone; files the previous export listed and this one does not are deleted; nothing
    else in the folder is touched, and a non-empty folder without a manifest is refused."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder", hint="pass a folder to --archive")
    previous: dict[str, Any] | None = None
    if (folder / MANIFEST).exists():
        previous = read_manifest(folder)
    elif folder.exists() and any(folder.iterdir()):
        raise UsageError(
            f"{folder} is not empty and holds no paperradar archive ({MANIFEST})",
            hint="export into an empty or new folder",
        )
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*/.*.jsonl.*.tmp"):  # left by an export that was killed: ours by name
        stale.unlink()
    conn.execute("BEGIN")  # one snapshot for every table (WAL readers see a fixed point in time)
    try:
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
        tables: dict[str, Any] = {}
        written = 0
        for shape in data_tables(conn):
            files, changed = _export_table(conn, shape, folder)
            written += changed
            tables[shape.name] = {
                "columns": shape.columns,
                "key": shape.key,
                "rows": sum(f["rows"] for f in files.values()),
                "files": files,
            }
    finally:
        conn.execute("COMMIT")
    report = ArchiveReport(folder, schema, {name: t["rows"] for name, t in tables.items()})
    report.files_written = written
    current = {n for t in tables.values() for n in t["files"]}
    old_files = {n for t in (previous or {}).get("tables", {}).values() for n in t.get("files", {})}
    for name in sorted(old_files - current):
        path = folder / name
        if _safe_name(name) and path.is_file() and not path.is_symlink():
            path.unlink()
            report.files_removed += 1
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": schema,
        "tables": tables,
    }
    report.files_written += _atomic_write(folder / MANIFEST, _manifest_bytes(manifest))
    return report


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return (
        len(parts) == 2
        and re.fullmatch(r"[a-z_][a-z0-9_]*", parts[0]) is not None
        and parts[1].endswith(".jsonl")
        and _SHARD_NAME.match(parts[1][: -len(".jsonl")]) is not None
    )


def build_from_archive(folder: Path, target: Path) -> ArchiveReport:
    """Create a new database file `target` (must not exist) from the archive in `folder`, checked file by
    file against the manifest, migrated to this paperradar's schema and integrity-checked. Raises DataError
    on any mismatch; `target` is removed then."""
    manifest = read_manifest(folder)
    version: int = manifest["schema_version"]
    if target.exists():
        raise FileExistsError(target)
    conn = sqlite3.connect(str(target), isolation_level=None)
    try:
        report = _load(conn, folder, manifest, version)
        migrate(conn)  # the archive's schema → this paperradar's
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise DataError(f"the database built from {folder} fails SQLite's check: {ok}")
        conn.close()
    except BaseException:
        conn.close()
        target.unlink(missing_ok=True)
        raise
    return report


def _load(conn: sqlite3.Connection, folder: Path, manifest: dict[str, Any], version: int) -> ArchiveReport:
    conn.execute("PRAGMA foreign_keys=OFF")  # rows arrive table by table; checked once all are in
    conn.execute("BEGIN IMMEDIATE")
    for number in range(version):  # the schema exactly as it was when the archive was written
        for statement in _statements(MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    shapes = {shape.name: shape for shape in data_tables(conn)}
    listed: dict[str, Any] = manifest["tables"]
    if set(listed) != set(shapes):
        missing, extra = sorted(set(shapes) - set(listed)), sorted(set(listed) - set(shapes))
        raise DataError(
            f"{folder / MANIFEST} does not match schema {version}: "
            f"missing tables {missing or '-'}, unknown tables {extra or '-'}"
        )
    report = ArchiveReport(folder, version)
    for name, shape in sorted(shapes.items()):
        table = listed[name]
        columns = table.get("columns")
        if not isinstance(columns, list) or sorted(columns) != sorted(shape.columns):
            raise DataError(
                f"{folder / MANIFEST}: table {name} has columns {columns}, schema {version} has {shape.columns}"
            )
        insert = (
            f'INSERT INTO "{name}" ({_quoted(shape.columns)}) VALUES ({", ".join("?" * len(shape.columns))})'
        )
        count = 0
        for file_name, meta in sorted(table.get("files", {}).items()):
            if not _safe_name(file_name) or not file_name.startswith(f"{name}/"):
                raise DataError(f"{folder / MANIFEST} names an unexpected file {file_name!r}")
            rows = list(_read_rows(folder / file_name, meta, shape.columns))
            conn.executemany(insert, rows)
            count += len(rows)
        if count != table.get("rows"):
            raise DataError(f"{folder}: table {name} has {count} rows, the manifest says {table.get('rows')}")
        report.rows[name] = count
    problems = conn.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        table, rowid, parent, _ = problems[0]
        raise DataError(
            f"{folder}: {len(problems)} rows point at missing rows (first: {table} row {rowid} → {parent})"
        )
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "papers_fts" in tables:
        conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')")  # the index is derived data
        if "fts_state" in tables:  # every row is indexed now (paperradar.store.fulltext)
            conn.execute(
                "UPDATE fts_state SET indexed_through = (SELECT coalesce(max(rowid), 0) FROM papers)"
            )
    conn.execute("COMMIT")
    conn.execute("PRAGMA foreign_keys=ON")
    return report


def _read_rows(path: Path, meta: Any, columns: list[str]) -> Iterator[tuple[SqlValue, ...]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path} cannot be read: {exc}", hint="check out the whole archive folder") from None
    if not isinstance(meta, dict) or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise DataError(
            f"{path} does not match its checksum in {MANIFEST} (changed or truncated)",
            hint="restore the folder from git (or from the export that wrote it)",
        )
    lines = data.splitlines()
    if len(lines) != meta.get("rows"):
        raise DataError(f"{path}: {len(lines)} rows, {MANIFEST} says {meta.get('rows')}")
    for number, line in enumerate(lines, 1):
        try:
            record = orjson.loads(line)
            if not isinstance(record, dict) or sorted(record) != sorted(columns):
                raise ValueError(f"columns {sorted(record) if isinstance(record, dict) else record!r}")
            yield tuple(_decode(record[name]) for name in columns)
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise DataError(f"{path}:{number}: not a row of this table: {exc}") from None
