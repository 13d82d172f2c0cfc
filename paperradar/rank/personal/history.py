"""What the personal ranker may know about a reader (`History`, `Positive`) and the pool-relative helpers
both the ranker (scoring.py) and the learned formula (formula.py) use: percentiles and submission order."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from paperradar.models import Paper

_NEW_ID_RE = re.compile(r"(\d{2})(\d{2})\.(\d{4,5})")


@dataclass(slots=True)
class Positive:
    """Something the reader likes: a library item, an up-rating, or (in `eval`) a past pick."""

    key: str
    title: str
    text: str
    added: datetime
    arxiv_id: str | None = None
    paper: Paper | None = None  # the store's metadata when the item is an arXiv paper we hold
    source: str = "library"
    authors: list[str] = field(default_factory=list)  # for items that are not store papers


@dataclass(slots=True)
class History:
    """Everything the ranker may know about the reader, all dated on or before `cutoff`."""

    cutoff: date
    positives: list[Positive]
    negatives: list[Paper] = field(default_factory=list)  # down-ratings
    impressions: list[tuple[date, list[Paper]]] = field(
        default_factory=list
    )  # days looked at, what was shown
    background: list[Paper] = field(default_factory=list)  # unlabelled store papers (idf, random negatives)

    def fingerprint(self) -> tuple[Any, ...]:
        """Equal for equal histories (cheap): what a ranker may cache its fitted parts under."""
        return (
            self.cutoff,
            tuple(p.key for p in self.positives),
            tuple((d, len(papers)) for d, papers in self.impressions),
            tuple(p.arxiv_id for p in self.negatives),
            len(self.background),
            self.background[0].arxiv_id if self.background else None,
            self.background[-1].arxiv_id if self.background else None,
        )

    def check(self) -> None:
        """Refuse a history holding anything after its cutoff (a leak into a judged day)."""
        late = [p.key for p in self.positives if p.added.date() > self.cutoff]
        late += [str(d) for d, _ in self.impressions if d > self.cutoff]
        if late:
            raise ValueError(f"history with cutoff {self.cutoff} holds later items: {late[:5]}")


# -- small helpers --------------------------------------------------------------------------------------
def percentile(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Average-rank percentile in [0, 1] (ties share a value); 0.5 for a pool of one."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2:
        return np.full(len(x), 0.5)
    order = x.argsort(kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    for value in np.unique(x):  # average ranks over ties
        same = x == value
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    return ranks / (len(x) - 1)


def submission_key(paper: Paper) -> float:
    """Submission order: new-style ids are sequential within a month (YYMM.NNNNN); old ids and unknown
    shapes fall back to the submission time, else sort first."""
    m = _NEW_ID_RE.fullmatch(paper.arxiv_id)
    if m:
        return (int(m.group(1)) * 12 + int(m.group(2))) * 1e6 + int(m.group(3))
    if paper.published is not None:
        ts = paper.published if paper.published.tzinfo else paper.published.replace(tzinfo=UTC)
        return ts.timestamp() / 1e3  # far below any new-style key: old ids are old
    return 0.0


def pool_positions(papers: Sequence[Paper]) -> dict[str, float]:
    """Submission-order percentile of each paper within one pool (1 = the most recently submitted)."""
    order = percentile([submission_key(p) for p in papers])
    return {p.arxiv_id: float(v) for p, v in zip(papers, order, strict=True)}
