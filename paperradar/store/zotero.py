"""Zotero sync state in the archive (migration 4): the library version last synced per library and scope,
and which Zotero item became which `library` row. Writes happen inside the caller's transaction
(`store.transaction()`), so a sync's rows and its new version commit together."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from paperradar.models import DEFAULT_READER
from paperradar.store.db import Database


def zotero_source(library_path: str) -> str:
    """The `library.source` of rows a Zotero sync wrote: 'zotero:users/123'."""
    return f"zotero:{library_path}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ZoteroTable:
    """One reader's Zotero sync state (two readers may sync the same Zotero library into their own)."""

    def __init__(self, db: Database, reader: str = DEFAULT_READER) -> None:
        self._db = db
        self.reader = reader

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._db.connection

    def version(self, library: str, scope: str) -> int | None:
        row = self._conn.execute(
            "SELECT version FROM zotero_sync WHERE reader = ? AND library = ? AND scope = ?",
            (self.reader, library, scope),
        ).fetchone()
        return int(row[0]) if row else None

    def newest_version(self, library: str) -> int | None:
        """The newest library version any sync of `library` saw (versions are library-wide)."""
        row = self._conn.execute(
            "SELECT max(version) FROM zotero_sync WHERE reader = ? AND library = ?", (self.reader, library)
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def set_version(self, library: str, scope: str, version: int) -> None:
        self._conn.execute(
            "INSERT INTO zotero_sync (reader, library, scope, version, synced_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT (reader, library, scope) DO UPDATE SET "
            "version = excluded.version, synced_at = excluded.synced_at",
            (self.reader, library, scope, version, _now()),
        )

    def item_keys(self, library: str) -> set[str]:
        rows = self._conn.execute(
            "SELECT item_key FROM zotero_items WHERE reader = ? AND library = ?", (self.reader, library)
        )
        return {r[0] for r in rows}

    def item_for_arxiv(self, library: str, arxiv_id: str) -> str | None:
        row = self._conn.execute(
            "SELECT item_key FROM zotero_items WHERE reader = ? AND library = ? AND arxiv_id = ? "
            "ORDER BY item_key LIMIT 1",
            (self.reader, library, arxiv_id),
        ).fetchone()
        return str(row[0]) if row else None

    def save_items(self, library: str, rows: Iterable[tuple[str, int, str, str | None, bool, bool]]) -> None:
        """(item_key, version, library_key, arxiv_id, had_abstract, saved_by_paperradar) per item."""
        self._conn.executemany(
            "INSERT INTO zotero_items (reader, library, item_key, version, library_key, arxiv_id, had_abstract, "
            "saved_by_paperradar) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (reader, library, item_key) DO UPDATE SET "
            "version = excluded.version, library_key = excluded.library_key, arxiv_id = excluded.arxiv_id, "
            "had_abstract = excluded.had_abstract, "
            "saved_by_paperradar = max(zotero_items.saved_by_paperradar, excluded.saved_by_paperradar)",
            [(self.reader, library, k, v, lk, a, int(h), int(s)) for k, v, lk, a, h, s in rows],
        )

    def remove_items(self, library: str, keys: Iterable[str]) -> int:
        """Forget these Zotero items; delete the library rows they made that nothing maps to any more.
        Returns how many library rows were deleted."""
        keys = list(dict.fromkeys(keys))
        orphans: set[str] = set()
        for key in keys:
            row = self._conn.execute(
                "SELECT library_key FROM zotero_items WHERE reader = ? AND library = ? AND item_key = ?",
                (self.reader, library, key),
            ).fetchone()
            if row is None:
                continue
            self._conn.execute(
                "DELETE FROM zotero_items WHERE reader = ? AND library = ? AND item_key = ?",
                (self.reader, library, key),
            )
            orphans.add(row[0])
        deleted = 0
        for library_key in orphans:
            still = self._conn.execute(
                "SELECT 1 FROM zotero_items WHERE reader = ? AND library_key = ? LIMIT 1",
                (self.reader, library_key),
            ).fetchone()
            if still is None:
                deleted += self._conn.execute(
                    "DELETE FROM library WHERE reader = ? AND key = ? AND source = ?",
                    (self.reader, library_key, zotero_source(library)),
                ).rowcount
        return deleted
