"""Read-only queries for the reader-facing views that store/views.py does not have yet: the days a
ranking exists for, the ratings with their times, whether a paper is in the reader's library. Used by
`paperradar mcp`; plain functions over a Store, nothing here writes.
"""

from __future__ import annotations

from typing import Any

from paperradar.store.archive import Store


def ranked_days(store: Store, newest: int = 30) -> list[str]:
    """The newest `newest` days that have a stored ranking, newest first (ISO dates)."""
    rows = store._db.cursor(
        "SELECT DISTINCT day FROM ranks WHERE reader = ? ORDER BY day DESC LIMIT ?", (store.reader, newest)
    )
    return [r[0] for r in rows]


def rating_history(store: Store) -> list[dict[str, Any]]:
    """Each paper's current rating (up/down; cleared ones left out), newest first, with when it was given
    and the paper's title when the store holds it."""
    rows = store._db.cursor(
        "SELECT r.arxiv_id, r.value, r.rated_at, p.title FROM ratings r LEFT JOIN papers p USING (arxiv_id) "
        "WHERE r.reader = ? AND r.id = (SELECT max(id) FROM ratings WHERE reader = r.reader "
        "AND arxiv_id = r.arxiv_id) AND r.value != 0 ORDER BY r.rated_at DESC, r.id DESC",
        (store.reader,),
    )
    return [dict(r) for r in rows]


def in_library(store: Store, arxiv_id: str) -> list[dict[str, Any]]:
    """The reader's library rows for a paper (where each came from), empty when it is not there."""
    rows = store._db.cursor(
        "SELECT source, added_at, resolved_by FROM library WHERE reader = ? AND arxiv_id = ? ORDER BY added_at",
        (store.reader, arxiv_id),
    )
    return [dict(r) for r in rows]


def texts_for(
    store: Store, arxiv_ids: list[str], language: str, tasks: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """{arxiv_id: {task: text row}}: per paper and task the text the digest would show in `language`
    (a model's before the extractive one, the newest version and time first)."""
    out: dict[str, dict[str, Any]] = {}
    if not arxiv_ids:
        return out
    marks = ",".join("?" * len(arxiv_ids))
    tmarks = ",".join("?" * len(tasks))
    rows = store._db.cursor(
        f"SELECT arxiv_id, version, task, language, model, content, created_at FROM texts "
        f"WHERE status = 'ok' AND content IS NOT NULL AND language = ? AND task IN ({tmarks}) "
        f"AND arxiv_id IN ({marks}) ORDER BY version DESC, model = 'extractive', created_at DESC",
        [language, *tasks, *arxiv_ids],
    )
    for row in rows:
        out.setdefault(row["arxiv_id"], {}).setdefault(row["task"], dict(row))
    return out
