"""order_ranked: keys descending, None dates last, arxiv_id tie-break, independent of input order."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from paperradar.models import Announcement, Interest, KeywordHit, Paper, Ranked
from paperradar.rank.order import order_ranked


def item(
    arxiv_id: str, kws: int, score: int, published: datetime | None, day: date = date(2025, 1, 6)
) -> Ranked:
    return Ranked(
        paper=Paper(arxiv_id, f"title {arxiv_id}", [], "", published=published),
        announcement=Announcement(arxiv_id, day, "cs.IR", "new"),
        keyword_hits=[KeywordHit(f"k{i}", "technical", (f"k{i}",)) for i in range(kws)],
        companies=[],
        interest=Interest(score, "r", "heuristic"),
    )


T1 = datetime(2025, 1, 1, 10, tzinfo=UTC)
T2 = datetime(2025, 1, 2, 10, tzinfo=UTC)


def pool() -> list[Ranked]:
    return [
        item("2501.00005", 2, 3, T1),
        item("2501.00004", 2, 3, T1),  # identical to 00005 except id
        item("2501.00003", 3, 1, None),
        item("2501.00002", 2, 5, T2),
        item("2501.00001", 1, 5, T2),
        item("2501.00006", 2, 3, None),
        item("2501.00007", 2, 3, T2.replace(tzinfo=None)),  # naive = UTC
    ]


def ids(items: list[Ranked]) -> list[str]:
    return [r.paper.arxiv_id for r in items]


def test_default_order() -> None:
    out = order_ranked(pool(), ["keywords", "interest", "recency"])
    assert ids(out) == [
        "2501.00003",  # 3 keywords
        "2501.00002",  # 2 keywords, interest 5
        "2501.00007",  # 2 keywords, interest 3, newest
        "2501.00004",  # same as 00005: id ascending
        "2501.00005",
        "2501.00006",  # no date: last among equals
        "2501.00001",  # 1 keyword
    ]
    assert [r.rank for r in out] == list(range(1, 8))
    assert out[0].explanation == {
        "order": ["keywords", "interest", "recency"],
        "keyword_count": 3,
        "interest": 1,
        "published": None,
    }
    assert out[1].explanation["published"] == "2025-01-02T10:00:00+00:00"


def test_other_key_orders() -> None:
    assert ids(order_ranked(pool(), ["interest"]))[:2] == ["2501.00001", "2501.00002"]
    recency = ids(order_ranked(pool(), ["recency"]))
    assert recency[:3] == ["2501.00001", "2501.00002", "2501.00007"]
    assert recency[-2:] == ["2501.00003", "2501.00006"]
    assert ids(order_ranked(pool(), [])) == sorted(ids(pool()))


def test_recency_ties_broken_by_announcement_day() -> None:
    a = item("2501.00001", 0, 1, None, day=date(2025, 1, 6))
    b = item("2501.00002", 0, 1, None, day=date(2025, 1, 7))
    assert ids(order_ranked([a, b], ["recency"])) == ["2501.00002", "2501.00001"]


@pytest.mark.parametrize("seed", range(20))
def test_shuffled_input_gives_same_output(seed: int) -> None:
    keys = ["keywords", "interest", "recency"]
    expected = ids(order_ranked(pool(), keys))
    shuffled = pool()
    random.Random(seed).shuffle(shuffled)
    assert ids(order_ranked(shuffled, keys)) == expected


def test_returns_new_list_and_rejects_unknown_keys() -> None:
    items = pool()
    before = list(items)
    out = order_ranked(items, ["keywords"])
    assert out is not items and items == before
    with pytest.raises(ValueError, match="unknown order key"):
        order_ranked(items, ["popularity"])
