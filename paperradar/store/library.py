"""The reader's library in the archive (table `library`, migration 2): papers from their Zotero, Mendeley or
Scholar export, resolved to arXiv ids where possible. Personal ranking reads it as "papers the reader liked"."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime

from paperradar.models import DEFAULT_READER, LibraryRecord
from paperradar.store.db import Database


class LibraryTable:
    """One reader's library (the store's reader; "default" for the archive as it was before readers)."""

    def __init__(self, db: Database, reader: str = DEFAULT_READER) -> None:
        self._db = db
        self.reader = reader

    def save(self, items: Iterable[LibraryRecord]) -> int:
        """Insert or update; re-importing keeps the first known added date (the reader added it then)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [
            (
                self.reader,
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
                "INSERT INTO library (reader, key, arxiv_id, title, abstract, authors, added_at, source, "
                "resolved_by, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (reader, key) DO UPDATE SET "
                "arxiv_id = excluded.arxiv_id, title = excluded.title, abstract = excluded.abstract, "
                "authors = excluded.authors, added_at = min(library.added_at, excluded.added_at), "
                "source = excluded.source, resolved_by = excluded.resolved_by",
                rows,
            )
        return len(rows)

    def items(self, until: date | None = None) -> list[LibraryRecord]:
        """Every item, oldest first; with `until`, only those added on or before that day."""
        out = []
        for row in self._db.read(
            "SELECT * FROM library WHERE reader = ? ORDER BY added_at, key", (self.reader,)
        ):
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
        return int(self._db.read("SELECT count(*) FROM library WHERE reader = ?", (self.reader,))[0][0])
