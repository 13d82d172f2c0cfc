"""Read-only views of the archive: for the web UI (`paperradar serve`) a paper's ranks, listings and
generated texts, translated titles and per-day counts; for personal ranking and `eval` the papers announced
in a window of days. Plain functions over a Store: nothing here writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from paperradar.models import DeclineReason, Paper, StoredRank
from paperradar.store.archive import Store
from paperradar.store.rows import decode_rank


def _chunks(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):  # stay under SQLite's bound-parameter limit
        yield ids[start : start + size]


def paper_ranks(store: Store, arxiv_id: str) -> list[StoredRank]:
    """Every stored rank row of one paper for the store's reader, newest day first, decoded like Store.ranks."""
    rows = store._conn.execute(
        "SELECT * FROM ranks WHERE reader = ? AND arxiv_id = ? ORDER BY day DESC", (store.reader, arxiv_id)
    )
    return [decode_rank(r) for r in rows]


def paper_announcements(store: Store, arxiv_id: str) -> list[dict[str, Any]]:
    """The days a paper was listed, newest first, each with its listings ("cs.IR new", "cs.AI cross")."""
    rows = store._conn.execute(
        "SELECT day, category, kind FROM announcements WHERE arxiv_id = ? ORDER BY day DESC, category",
        (arxiv_id,),
    )
    days: dict[str, list[str]] = {}
    for row in rows:
        days.setdefault(row["day"], []).append(f"{row['category']} {row['kind']}")
    return [{"day": day, "listings": listings} for day, listings in days.items()]


def translated_titles(store: Store, papers: dict[str, Paper], language: str) -> dict[str, dict[str, Any]]:
    """{arxiv_id: {content, model}}: the newest 'title' text in `language` for each paper's current
    version. A title of an older version is not shown: it may translate a title that has since changed."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(papers)):
        rows = store._conn.execute(
            "SELECT arxiv_id, version, model, content FROM texts WHERE task = 'title' AND status = 'ok' "
            f"AND language = ? AND arxiv_id IN ({','.join('?' * len(chunk))}) ORDER BY created_at",
            [language, *chunk],
        )
        for row in rows:
            paper = papers[row["arxiv_id"]]
            if row["version"] == paper.version and row["content"] and row["content"] != paper.title:
                out[row["arxiv_id"]] = {"content": row["content"], "model": row["model"]}
    return out


def day_counts(store: Store, categories: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """({day: papers announced in the watched categories}, {day: papers ranked}) in two queries."""
    marks = ",".join("?" * len(categories))
    announced = store._conn.execute(
        f"SELECT day, count(DISTINCT arxiv_id) FROM announcements WHERE category IN ({marks}) GROUP BY day",
        categories,
    )
    ranked = store._conn.execute(
        "SELECT day, count(*) FROM ranks WHERE reader = ? GROUP BY day", (store.reader,)
    )
    return {r[0]: r[1] for r in announced}, {r[0]: r[1] for r in ranked}


def announced_ids(
    store: Store, start: date, end: date, categories: Sequence[str] = (), newest: int | None = None
) -> list[str]:
    """Distinct ids announced on a day in [start, end), in `categories` (any when empty), by id; with
    `newest`, only that many, taken newest day first (then by id)."""
    sql = "SELECT DISTINCT arxiv_id FROM announcements WHERE day >= ? AND day < ?"
    params: list[Any] = [start.isoformat(), end.isoformat()]
    if categories:
        sql += f" AND category IN ({','.join('?' * len(categories))})"
        params += list(categories)
    if newest is None:
        return [r[0] for r in store._conn.execute(sql + " ORDER BY arxiv_id", params)]
    return [
        r[0] for r in store._conn.execute(sql + f" ORDER BY day DESC, arxiv_id LIMIT {int(newest)}", params)
    ]


def good_texts(store: Store, ids: list[str]) -> Iterator[list[sqlite3.Row]]:
    """The stored good texts of `ids` (every version, task, language and model), in chunks of papers."""
    for chunk in _chunks(ids):
        yield store._db.read(
            "SELECT arxiv_id, version, task, language, template_hash, model, content, created_at FROM texts "
            f"WHERE status = 'ok' AND content IS NOT NULL AND arxiv_id IN ({','.join('?' * len(chunk))})",
            chunk,
        )


def paper_texts(store: Store, arxiv_id: str) -> list[dict[str, Any]]:
    """The good generated texts of a paper (every version, task, language and model), newest first."""
    rows = store._db.read(
        "SELECT version, task, language, model, content, created_at FROM texts "
        "WHERE arxiv_id = ? AND status = 'ok' ORDER BY version DESC, task, created_at DESC",
        (arxiv_id,),
    )
    return [dict(r) for r in rows]


def best_summary(store: Store, paper: Paper, language: str) -> dict[str, Any] | None:
    """The summary the digest would show: the current version's, a model's before the extractive one,
    the newest first; else an older version's. {content, model, language, version} or None."""
    rows = store._db.read(
        "SELECT content, model, language, version FROM texts WHERE arxiv_id = ? AND task = 'summary' "
        "AND status = 'ok' AND language = ? AND content IS NOT NULL "
        "ORDER BY version = ? DESC, model = 'extractive', version DESC, created_at DESC LIMIT 1",
        (paper.arxiv_id, language, paper.version),
    )
    return dict(rows[0]) if rows else None


def why_line(store: Store, arxiv_id: str) -> str | None:
    """One line of the newest stored rank: 'rank #3 on 2026-02-10; interest 4/5 (heuristic): reason'."""
    rows = store._db.read(
        "SELECT day, rank, interest_score, interest_mode, interest_reason FROM ranks WHERE reader = ? "
        "AND arxiv_id = ? ORDER BY day DESC LIMIT 1",
        (store.reader, arxiv_id),
    )
    if not rows:
        return None
    row = rows[0]
    return (
        f"rank #{row['rank']} on {row['day']}; interest {row['interest_score']}/5 "
        f"({row['interest_mode']}): {row['interest_reason']}"
    )


def text_declines(store: Store, ids: list[str]) -> dict[tuple[str, str, str], tuple[DeclineReason, int]]:
    """{(arxiv_id, task, language): (reason, failed attempts)} for texts asked of a model without a usable
    answer (any version or prompt: the newest row wins), so pages can say why a field has no model text."""
    out: dict[tuple[str, str, str], tuple[DeclineReason, int]] = {}
    for chunk in _chunks(ids):
        rows = store._db.read(
            "SELECT arxiv_id, task, language, reason, attempts FROM texts WHERE status != 'ok' AND "
            f"reason IS NOT NULL AND arxiv_id IN ({','.join('?' * len(chunk))}) ORDER BY created_at",
            chunk,
        )
        for row in rows:
            out[(row["arxiv_id"], row["task"], row["language"])] = (row["reason"], int(row["attempts"]))
    return out
