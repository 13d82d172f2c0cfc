"""Full-text search of the archive (FTS5 over title, abstract, authors).

FTS5 scores every match with bm25 before LIMIT applies (~10 µs a row), so a common word in a large archive
was slow; see `search` for how the number of matches decides between exact bm25 and a bounded ranking.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

from paperradar.models import Paper

_WORD_RE = re.compile(r"\w+", re.UNICODE)

# Search (see Store.search and bench/search_bench.py): queries with up to SCORE_ALL matches are ranked
# exactly; above, bm25 ranks the SCORE_NEWEST newest title matches (~10 ms on 2 cores).
SCORE_ALL = 2000
SCORE_NEWEST = 1000
_BM25 = "bm25(papers_fts, 10.0, 1.0, 3.0)"


def fts_query(text: str) -> str:
    """Turn user text into a safe FTS5 query: every word quoted (so operators are literal), AND-ed."""
    words = _WORD_RE.findall(text)
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def search(
    conn: sqlite3.Connection,
    query: str,
    limit: int,
    columns: str,
    to_paper: Callable[[sqlite3.Row], Paper],
) -> list[tuple[Paper, float]]:
    """Full-text search over title, abstract and authors. The user's text is treated as plain words
    (FTS5 syntax such as quotes, AND, NEAR, column filters or '*' is escaped), all of which must match.

    Ranked by bm25 (title 10, abstract 1, authors 3). FTS5 scores every match before LIMIT applies, at
    ~10 µs a row, so a common word in a large archive (70k matches in 155k papers) took half a second.
    Counting matches costs next to nothing, so: up to SCORE_ALL matches, every match is scored, which
    is the exact bm25 order. Beyond that, papers with every word in the title come first: bm25 ranks
    the SCORE_NEWEST of them most recently added to the archive (FTS5 walks rowids newest first
    without scoring); when fewer than `limit` titles match, the rest are the best of the SCORE_NEWEST
    newest matches anywhere."""
    match = fts_query(query)
    if not match or limit <= 0:
        return []
    total = conn.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?", (match,)).fetchone()[0]
    if total <= max(SCORE_ALL, limit):
        scored = _bm25(conn, match, limit)
    else:
        newest = max(SCORE_NEWEST, limit)
        title = f"{{title}} : ({match})"
        scored = []
        floor = _newest_floor(conn, title, newest)
        if floor != 0:  # some title matches: ANDed with the plain query so bm25 also weighs the rest
            scored = _bm25(conn, f"({title}) AND ({match})", limit, floor)
        if len(scored) < limit:  # every title match is in: fill up from the newest matches anywhere
            taken = {rowid for rowid, _ in scored}
            more = _bm25(conn, match, limit + len(taken), _newest_floor(conn, match, newest))
            scored += [hit for hit in more if hit[0] not in taken][: limit - len(scored)]
    papers: dict[int, Paper] = {}
    for start in range(0, len(scored), 500):
        chunk = [rowid for rowid, _ in scored[start : start + 500]]
        sql = f"SELECT rowid, {columns} FROM papers WHERE rowid IN ({','.join('?' * len(chunk))})"
        papers.update((row["rowid"], to_paper(row)) for row in conn.execute(sql, chunk))
    return [(papers[rowid], -score) for rowid, score in scored if rowid in papers]


def _newest_floor(conn: sqlite3.Connection, match: str, newest: int) -> int | None:
    """The lowest rowid among the `newest` most recently added matches: None when there are fewer
    (score them all), 0 when there is none."""
    rows = conn.execute(
        "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
        (match, newest),
    ).fetchall()
    return 0 if not rows else rows[-1][0] if len(rows) == newest else None


def _bm25(
    conn: sqlite3.Connection, match: str, limit: int, floor: int | None = None
) -> list[tuple[int, float]]:
    """(rowid, bm25) of the best `limit` matches of an FTS5 expression, optionally only rowid >= floor;
    ties in rowid order (as the single-query search always gave them)."""
    sql = f"SELECT rowid, {_BM25} AS score FROM papers_fts WHERE papers_fts MATCH ?"
    params: list[Any] = [match]
    if floor is not None:
        sql += " AND rowid >= ?"
        params.append(floor)
    rows = conn.execute(sql + " ORDER BY score, rowid LIMIT ?", [*params, limit])
    return [(r[0], r[1]) for r in rows]
