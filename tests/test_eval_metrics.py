"""recall@k, nDCG@k and MRR with binary relevance."""

from __future__ import annotations

import math

import pytest

from paperradar.evaluate.metrics import day_metrics, mrr, ndcg_at_k, recall_at_k

RANKED = ["a", "b", "c", "d", "e", "f"]


def test_recall_at_k() -> None:
    assert recall_at_k(RANKED, {"a", "e"}, 1) == 0.5
    assert recall_at_k(RANKED, {"a", "e"}, 5) == 1.0
    assert recall_at_k(RANKED, {"z"}, 5) == 0.0  # a relevant item outside the ranking is never found
    assert recall_at_k(RANKED[:2], {"a", "b"}, 10) == 1.0  # k past the end


def test_ndcg_at_k() -> None:
    assert ndcg_at_k(RANKED, {"a"}, 10) == 1.0
    assert ndcg_at_k(RANKED, {"b"}, 10) == pytest.approx(1 / math.log2(3))
    # two relevant at ranks 1 and 3 against the ideal ranks 1 and 2
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, {"a", "c"}, 10) == pytest.approx(expected)
    assert ndcg_at_k(RANKED, {"f"}, 5) == 0.0
    assert ndcg_at_k(["x", "y"], {"x", "q", "r"}, 10) == pytest.approx(1 / (1 + 1 / math.log2(3) + 0.5))


def test_mrr() -> None:
    assert mrr(RANKED, {"c", "e"}) == pytest.approx(1 / 3)
    assert mrr(RANKED, {"zz"}) == 0.0


def test_day_metrics_and_errors() -> None:
    m = day_metrics(RANKED, {"a", "f"})
    assert m == {"recall@5": 0.5, "recall@10": 1.0, "ndcg@10": pytest.approx(m["ndcg@10"]), "mrr": 1.0}
    with pytest.raises(ValueError, match="no relevant"):
        recall_at_k(RANKED, set(), 5)
    with pytest.raises(ValueError, match="k must"):
        ndcg_at_k(RANKED, {"a"}, 0)
