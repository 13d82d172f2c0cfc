"""Deterministic ordering of a day's ranked papers by the configured keys.

Each key sorts descending: "keywords" by keyword_count, "interest" by interest.score, "recency" by
paper.published (papers without a date last) and then by announcement day. Whatever keys are configured,
the last tie-break is arxiv_id ascending, so the output never depends on the order papers came in.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import UTC, datetime

from paperradar.models import Ranked

ORDER_KEYS = ("keywords", "interest", "recency")


def _timestamp(dt: datetime | None) -> float | None:
    if dt is None:
        return None
    # Naive datetimes are UTC by the models' convention; .timestamp() would read them as local time.
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def _recency(item: Ranked) -> tuple[float, ...]:
    ts = _timestamp(item.paper.published)
    day = item.announcement.day.toordinal() if item.announcement else 0
    # Descending with None last: (0, -ts) sorts before (1, 0).
    return (0.0, -ts, -day) if ts is not None else (1.0, 0.0, -day)


_KEYS: dict[str, Callable[[Ranked], tuple[float, ...]]] = {
    "keywords": lambda r: (-r.keyword_count,),
    # A heuristic score that stands in for a failed model score sorts after every model score (the two are
    # not on one scale); it says so in its why and is asked again on the next run.
    "interest": lambda r: (
        1 if r.interest and r.interest.missing else 0,
        -(r.interest.score if r.interest else 0),
    ),
    "recency": _recency,
}


def order_ranked(items: list[Ranked], keys: list[str]) -> list[Ranked]:
    """A new list sorted by `keys`; sets each item's 1-based `rank` and its `explanation`."""
    unknown = [k for k in keys if k not in _KEYS]
    if unknown:
        raise ValueError(f"unknown order key(s) {unknown}; use any of {', '.join(ORDER_KEYS)}")
    funcs = [_KEYS[k] for k in keys]

    def sort_key(item: Ranked) -> tuple[object, ...]:
        ann = item.announcement
        # arxiv_id decides ties; the rest only matters if the same paper was passed twice.
        tail = (
            (item.paper.arxiv_id, item.paper.version, ann.category, ann.kind)
            if ann
            else (item.paper.arxiv_id,)
        )
        return (*(part for f in funcs for part in f(item)), *tail)

    ordered = sorted(items, key=sort_key)
    for rank, item in enumerate(ordered, start=1):
        item.rank = rank
        published = item.paper.published
        item.explanation = {
            "order": list(keys),
            "keyword_count": item.keyword_count,
            "interest": item.interest.score if item.interest else None,
            **(
                {"interest_fallback": item.interest.missing}
                if item.interest and item.interest.missing
                else {}
            ),
            "published": published.isoformat() if published else None,
        }
    return ordered


def worst_positions(items: list[Ranked], keys: list[str]) -> dict[str, int]:
    """The lowest 1-based position each item can end at, whatever the interest scores still to come turn
    out to be (model answers, failures included). The keys before "interest" are known now: an item can
    only be passed by one whose known keys are as good as its own. Without an "interest" key every place
    is known. (Read by the pipeline to start the texts of papers certain to be in the top early.)"""
    if "interest" not in keys:
        return {item.paper.arxiv_id: rank for rank, item in enumerate(order_ranked(items, keys), start=1)}
    known = [_KEYS[k] for k in keys[: keys.index("interest")]]

    def prefix(item: Ranked) -> tuple[float, ...]:
        return tuple(part for f in known for part in f(item))

    prefixes = sorted(prefix(item) for item in items)
    out: dict[str, int] = {}
    for item in items:
        # Every item whose known keys are not worse may end above it (ties go to the unknown scores).
        out[item.paper.arxiv_id] = bisect.bisect_right(prefixes, prefix(item))
    return out
