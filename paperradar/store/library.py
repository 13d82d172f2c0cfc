"""The reader's library in the archive (table `library`, migration 2): papers from their Zotero, Mendeley or
Scholar export, resolved to arXiv ids where possible. Personal ranking reads it as "papers the reader liked"."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime

from paperradar.models import LibraryRecord
from paperradar.store.db import Database


class LibraryTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, items: Iterable[LibraryRecord]) -> int:
        """Insert or update; re-importing keeps the first known added date (the reader added it then)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [
            (
                i.key,
                i.arxiv_id,
                i.title,
                i.abstract,
                json.dumps(i.authors, ensure_ascii=False),
                (i.added or datetime.now(UTC)).isoformat(timespec="seconds"),
                i.source,
                i.resolved_by,
                now,
            )
            for i in items
        ]
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT INTO library VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (key) DO UPDATE SET "
                "arxiv_id = excluded.arxiv_id, title = excluded.title, abstract = excluded.abstract, "
                "authors = excluded.authors, added_at = min(library.added_at, excluded.added_at), "
                "source = excluded.source, resolved_by = excluded.resolved_by",
                rows,
            )
        return len(rows)

    def items(self, until: date | None = None) -> list[LibraryRecord]:
        """Every item, oldest first; with `until`, only those added on or before that day."""
        out = []
        for row in self._db.read("SELECT * FROM library ORDER BY added_at, key"):
            added = datetime.fromisoformat(row["added_at"])
            if until is not None and added.date() > until:
                continue
            out.append(
                LibraryRecord(
                    key=row["key"],
                    title=row["title"],
                    abstract=row["abstract"],
                    authors=json.loads(row["authors"]),
                    arxiv_id=row["arxiv_id"],
                    added=added,
                    source=row["source"],
                    resolved_by=row["resolved_by"],
                )
            )
        return out

    def count(self) -> int:
        return int(self._db.read("SELECT count(*) FROM library")[0][0])
