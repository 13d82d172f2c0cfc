"""Ranking metrics with binary relevance: recall@k, nDCG@k and MRR over one ranked list.

All three take the ranked ids (best first) and the set of relevant ids, and return a value in [0, 1].
A relevant id missing from the ranking counts as never found. An empty relevant set is an error: a day
without picks cannot be judged, and averaging a made-up 0 or 1 into the mean would hide that.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def _check(relevant: Collection[str], k: int | None = None) -> None:
    if not relevant:
        raise ValueError("no relevant items: this list cannot be judged")
    if k is not None and k < 1:
        raise ValueError("k must be at least 1")


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant items found in the top k."""
    _check(relevant, k)
    rel = set(relevant)
    return len(rel.intersection(ranked[:k])) / len(rel)


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """DCG of the top k (gain 1 per relevant item, discount log2(rank + 1)) over the best possible DCG."""
    _check(relevant, k)
    rel = set(relevant)
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(rel))))
    return dcg / ideal


def mrr(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """1 / rank of the first relevant item; 0 when none is ranked."""
    _check(relevant)
    rel = set(relevant)
    for i, item in enumerate(ranked):
        if item in rel:
            return 1.0 / (i + 1)
    return 0.0


def day_metrics(ranked: Sequence[str], relevant: Collection[str]) -> dict[str, float]:
    """The metrics `paperradar eval` reports for one judged day."""
    return {
        "recall@5": recall_at_k(ranked, relevant, 5),
        "recall@10": recall_at_k(ranked, relevant, 10),
        "ndcg@10": ndcg_at_k(ranked, relevant, 10),
        "mrr": mrr(ranked, relevant),
    }


METRICS = ("recall@5", "recall@10", "ndcg@10", "mrr")
