"""One reader's records in the archive: the day's ranking, the digests written, the ratings given. A mixin
of `Store`: every query names `self.reader` (a reader's view of the store sees only their rows)."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import date, datetime

from paperradar.models import Ranked, StoredRank
from paperradar.store.rows import RANK_COLUMNS, decode_rank, now_iso, rank_row


class ReaderRecords:
    _conn: sqlite3.Connection
    reader: str

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # Store's

    # -- ranks ------------------------------------------------------------------------------------------
    def save_ranks(self, day: date, ranked: list[Ranked], run_id: int | None) -> None:
        """Replace the reader's ranking of the day; rows whose values did not change are left untouched
        (run_id too)."""
        rows = [rank_row(self.reader, day, r, run_id) for r in ranked]
        with self.transaction() as conn:
            keep = [r[2] for r in rows]
            conn.execute(
                f"DELETE FROM ranks WHERE reader = ? AND day = ? AND arxiv_id NOT IN ({','.join('?' * len(keep))})",
                [self.reader, day.isoformat(), *keep],
            )
            conn.executemany(
                f"INSERT INTO ranks ({RANK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (reader, day, arxiv_id) DO UPDATE SET "
                "rank = excluded.rank, keyword_count = excluded.keyword_count, keyword_hits = excluded.keyword_hits, "
                "companies = excluded.companies, interest_score = excluded.interest_score, "
                "interest_reason = excluded.interest_reason, interest_mode = excluded.interest_mode, "
                "explanation = excluded.explanation, run_id = excluded.run_id, "
                "interest_reasons = excluded.interest_reasons, interest_missing = excluded.interest_missing "
                "WHERE (ranks.rank, ranks.keyword_count, ranks.keyword_hits, ranks.companies, ranks.interest_score, "
                "ranks.interest_reason, ranks.interest_mode, ranks.explanation, ranks.interest_reasons, "
                "ranks.interest_missing) IS NOT (excluded.rank, "
                "excluded.keyword_count, excluded.keyword_hits, excluded.companies, excluded.interest_score, "
                "excluded.interest_reason, excluded.interest_mode, excluded.explanation, excluded.interest_reasons, "
                "excluded.interest_missing)",
                rows,
            )

    def ranks(self, day: date) -> list[StoredRank]:
        rows = self._conn.execute(
            "SELECT * FROM ranks WHERE reader = ? AND day = ? ORDER BY rank", (self.reader, day.isoformat())
        )
        return [decode_rank(row) for row in rows]

    def rank_totals(self) -> tuple[int, int]:
        """(distinct papers ranked, days ranked) for the reader over the whole archive."""
        row = self._conn.execute(
            "SELECT count(DISTINCT arxiv_id), count(DISTINCT day) FROM ranks WHERE reader = ?", (self.reader,)
        ).fetchone()
        return int(row[0]), int(row[1])

    # -- digests ----------------------------------------------------------------------------------------
    def digest_record(self, day: date, language: str, style: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn.execute(
            "SELECT * FROM digests WHERE reader=? AND day=? AND language=? AND style=?",
            (self.reader, day.isoformat(), language, style),
        ).fetchone()
        return row

    def save_digest_record(
        self, day: date, language: str, style: str, content_hash: str, generated_at: str, path: str
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO digests (reader, day, language, style, content_hash, generated_at, path) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET content_hash=excluded.content_hash, "
                "generated_at=excluded.generated_at, path=excluded.path WHERE (digests.content_hash, digests.path) "
                "IS NOT (excluded.content_hash, excluded.path)",
                (self.reader, day.isoformat(), language, style, content_hash, generated_at, path),
            )

    # -- ratings (personal ranking builds on these) -----------------------------------------------------
    def rate(self, arxiv_id: str, value: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO ratings (reader, arxiv_id, value, rated_at) VALUES (?, ?, ?, ?)",
                (self.reader, arxiv_id, value, now_iso()),
            )

    def rating_history(self, until: datetime) -> list[tuple[str, int, datetime]]:
        """The reader's latest rating of each paper given up to `until` (cleared ones included, as 0)."""
        rows = self._conn.execute(
            "SELECT arxiv_id, value, rated_at FROM ratings r WHERE reader = ? AND id = "
            "(SELECT max(id) FROM ratings WHERE reader = r.reader AND arxiv_id = r.arxiv_id AND rated_at <= ?) "
            "ORDER BY arxiv_id",
            (self.reader, until.isoformat(timespec="seconds")),
        )
        return [(r[0], int(r[1]), datetime.fromisoformat(r[2])) for r in rows]

    def current_ratings(self) -> dict[str, int]:
        rows = self._conn.execute(
            "SELECT arxiv_id, value FROM ratings r WHERE reader = ? AND id = "
            "(SELECT max(id) FROM ratings WHERE reader = r.reader AND arxiv_id = r.arxiv_id)",
            (self.reader,),
        )
        return {r[0]: r[1] for r in rows if r[1] != 0}
