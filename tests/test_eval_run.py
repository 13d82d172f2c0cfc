"""`paperradar eval`: pools from listings, the judged-day engine, baselines, and no leakage of picks."""

from __future__ import annotations

import gzip
import json
import math
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from paperradar.evaluate import (
    Pick,
    Pool,
    build_pools,
    default_rankers,
    evaluate,
    format_table,
    history_until,
    listing_days,
    read_picks,
    read_pools,
    write_pools,
)
from paperradar.evaluate.bench import bench_eval, goal_check
from paperradar.models import Announcement, Paper
from paperradar.rank.personal.scoring import History
from paperradar.sources.intake import import_file
from paperradar.store import Store

FIX = Path(__file__).parent / "fixtures" / "personal"
LISTINGS = FIX / "listings-cs-ir-sample.jsonl.gz"
TRAIN_UNTIL = date(2026, 2, 28)
# With a tf-idf embedder configured, zotero-arxiv-daily runs its tf-idf stand-in, and is named so.
NAMES = ["paperradar", "random", "keywords", "arxiv-sanity-lite", "zotero-arxiv-daily[tfidf]"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    with Store(tmp_path_factory.mktemp("eval") / "eval.db") as s:
        import_file(s, LISTINGS)  # the listings as `paperradar import` takes them in
        yield s


@pytest.fixture(scope="module")
def picks() -> list[Pick]:
    return read_picks(FIX / "picks.jsonl")


@pytest.fixture(scope="module")
def pools() -> list[Pool]:
    return read_pools(FIX / "pools.jsonl")


def test_build_pools_rule(picks: list[Pick], pools: list[Pool], tmp_path: Path) -> None:
    built, stats = build_pools(LISTINGS, picks)
    assert [(p.date, p.ids) for p in built] == [(p.date, p.ids) for p in pools]  # the fixture file
    assert (
        stats["picks"] == len(picks) == stats["not_in_listings"] + stats["pool_picks"] + stats["repeat_picks"]
    )
    listed = listing_days(LISTINGS)
    by_date = {p.date: p for p in built}
    # Sunday 2026-03-01 re-reads Friday 2026-02-27's listing; Saturday's picks are no longer candidates
    sunday, saturday = by_date[date(2026, 3, 1)], by_date[date(2026, 2, 28)]
    assert all(date(2026, 2, 27) in listed[i] for i in sunday.ids)
    sat_picks = {p.arxiv_id for p in picks if p.date == date(2026, 2, 28) and p.arxiv_id in listed}
    assert sat_picks and sat_picks <= set(saturday.ids) and not sat_picks & set(sunday.ids)
    # every pool holds at least one of its day's picks
    for pool in built:
        assert {p.arxiv_id for p in picks if p.date == pool.date} & set(pool.ids)
    write_pools(built, tmp_path / "p.jsonl")
    assert [(p.date, p.ids) for p in read_pools(tmp_path / "p.jsonl")] == [(p.date, p.ids) for p in built]


def test_build_pools_window_and_union() -> None:
    listed = {
        "a": [date(2026, 3, 2)],
        "b": [date(2026, 3, 3)],
        "c": [date(2026, 3, 3)],
        "d": [date(2026, 2, 20)],
    }
    picks = [
        Pick(date(2026, 3, 4), "a"),  # from Monday's listing
        Pick(date(2026, 3, 4), "b"),  # from Tuesday's: the pool is the union of both days
        Pick(date(2026, 3, 4), "d"),  # listed two weeks earlier: outside the window
        Pick(date(2026, 3, 4), "zz"),  # never listed in the category
        Pick(date(2026, 3, 5), "c"),
    ]
    pools, stats = build_pools(listed, picks)
    assert [(p.date, p.ids) for p in pools] == [
        (date(2026, 3, 4), ["a", "b", "c"]),
        (date(2026, 3, 5), ["c"]),
    ]
    assert stats["outside_window"] == 1 and stats["not_in_listings"] == 1


def test_evaluate_all_rankers(store: Store, picks: list[Pick], pools: list[Pool]) -> None:
    report = evaluate(store, picks, pools, TRAIN_UNTIL, default_rankers(), categories=["cs.IR"])
    summary = report.summary()
    assert list(summary) == NAMES
    judged = [p for p in pools if p.date > TRAIN_UNTIL]
    assert report.counts["judged_pools"] == len(report.days) == len(judged)
    for name in NAMES:
        for metric in ("recall@5", "recall@10", "ndcg@10", "mrr"):
            assert 0.0 <= summary[name][metric] <= 1.0
        assert summary[name]["days"] == len(judged)
    assert report.counts["history_picks"] > 0
    data = json.loads(json.dumps(report.as_dict()))  # --json output is plain JSON
    assert data["train_until"] == "2026-02-28" and data["days"][0]["metrics"]["random"]
    table = format_table(report)
    assert all(name in table for name in NAMES) and "recall@10" in table


def test_judged_picks_never_reach_the_rankers(store: Store, picks: list[Pick], pools: list[Pool]) -> None:
    """The leakage test: rankings of judged days must not change whatever the judged days' picks are."""
    real = evaluate(store, picks, pools, TRAIN_UNTIL, default_rankers(), keep_rankings=True)
    history_only = [p for p in picks if p.date <= TRAIN_UNTIL]
    # Replace every judged pick by a different paper of the same pool (the metrics change, rankings must not)
    swapped = list(history_only)
    for pool in pools:
        if pool.date > TRAIN_UNTIL:
            chosen = {p.arxiv_id for p in picks if p.date == pool.date}
            other = next(i for i in pool.ids if i not in chosen)
            swapped.append(Pick(pool.date, other, "cs.IR"))
    fake = evaluate(store, swapped, pools, TRAIN_UNTIL, default_rankers(), keep_rankings=True)
    assert [d["rankings"] for d in real.days] == [d["rankings"] for d in fake.days]
    assert [d["metrics"] for d in real.days] != [d["metrics"] for d in fake.days]


class SpyRanker:
    name = "spy"

    def __init__(self) -> None:
        self.seen: list[tuple[History, list[Paper]]] = []

    def rank(self, pool: list[Paper], history: History) -> list[str]:
        self.seen.append((history, pool))
        return [p.arxiv_id for p in pool]


def test_rankers_get_only_the_history(store: Store, picks: list[Pick], pools: list[Pool]) -> None:
    spy = SpyRanker()
    evaluate(store, picks, pools, TRAIN_UNTIL, [spy])
    judged_only = {p.arxiv_id for p in picks if p.date > TRAIN_UNTIL} - {
        p.arxiv_id for p in picks if p.date <= TRAIN_UNTIL
    }
    assert spy.seen
    for history, pool in spy.seen:
        assert history.cutoff == TRAIN_UNTIL
        assert all(p.added.date() <= TRAIN_UNTIL for p in history.positives)
        assert all(d <= TRAIN_UNTIL for d, _ in history.impressions)
        assert not judged_only & {p.arxiv_id for p in history.positives}
        assert not {p.arxiv_id for p in history.positives} & {p.arxiv_id for p in pool}


def test_history_holds_nothing_after_cutoff(store: Store, picks: list[Pick], pools: list[Pool]) -> None:
    history, counts = history_until(store, picks, pools, date(2026, 2, 25), ["cs.IR"])
    assert counts["history_picks"] == len({p.arxiv_id for p in picks if p.date <= date(2026, 2, 25)})
    history.positives.append(replace(history.positives[0], added=history.positives[0].added.replace(day=27)))
    with pytest.raises(ValueError, match="later items"):
        history.check()


def test_known_papers_leave_judged_pools(store: Store, picks: list[Pick], pools: list[Pool]) -> None:
    judged = next(p for p in pools if p.date > TRAIN_UNTIL)
    again = [*picks, Pick(TRAIN_UNTIL, judged.ids[0], "cs.IR")]  # picked before: the reader has it
    spy = SpyRanker()
    report = evaluate(store, again, pools, TRAIN_UNTIL, [spy])
    assert report.counts["pool_already_in_history"] >= 1
    assert all(judged.ids[0] not in {p.arxiv_id for p in pool} for _, pool in spy.seen)


def test_goal_check() -> None:
    summary = {
        "paperradar": {"recall@10": 0.9},
        "random": {"recall@10": 0.5},
        "keywords": {"recall@10": 0.75},
    }
    goal = goal_check(summary, goal=1.2)
    assert goal["best_baseline"] == "keywords" and goal["met"] and math.isclose(goal["ratio"], 1.2)
    assert not goal_check(summary)["met"]  # the full-history goal is 1.4x


def test_bench_eval_on_a_small_shared_folder(tmp_path: Path) -> None:
    data = tmp_path / "shared" / "data"
    (data / "arxiv").mkdir(parents=True)
    (data / "picks").mkdir()
    shutil.copy(LISTINGS, data / "arxiv" / "listings-cs-ir.jsonl.gz")
    shutil.copy(FIX / "picks.jsonl", data / "picks" / "reader-picks.jsonl")
    # the bulk file holds the metadata of picks from other categories
    with gzip.open(data / "arxiv" / "bulk-155k.jsonl.gz", "wt") as f:
        f.write(
            json.dumps(
                {
                    "id": "2602.20191",
                    "title": "A cs.CL pick",
                    "authors": ["A B"],
                    "categories": ["cs.CL"],
                    "abstract": "Language models.",
                    "listing_date": "2026-02-24",
                }
            )
        )
        f.write("\n")
    result = bench_eval(tmp_path / "shared", rankers=default_rankers())  # tf-idf: no MiniLM in tests
    assert list(result["table"]) == NAMES
    cold = result["cold_start"]  # the first week as history, judged on the test days
    assert cold["train_until"] == "2026-02-06" and cold["goal"]["goal_ratio"] == 1.2
    assert cold["counts"]["history_picks"] < result["counts"]["history_picks"]
    assert result["goal"]["metric"] == "recall@10" and "met" in result["goal"]
    assert result["pool_stats"]["pools"] == 9 and result["counts"]["judged_pools"] == 4


def test_wide_pools_come_from_the_bulk_sample_by_primary_category(tmp_path: Path) -> None:
    from paperradar.evaluate.bench import load_wide

    def rec(i: str, cats: list[str], day: str) -> dict[str, object]:
        return {"id": i, "title": f"Paper {i}", "authors": ["A B"], "categories": cats, "abstract": "Text.",
                "listing_date": day}  # fmt: skip

    records = [
        rec("2603.00001", ["cs.CV"], "2026-03-03"),  # picked
        rec("2603.00002", ["cs.CV", "cs.CL"], "2026-03-03"),
        rec("2603.00003", ["cs.CL", "cs.CV"], "2026-03-03"),  # cs.CL's: a cross-list is not in cs.CV's pool
        rec("2603.00004", ["cs.CV"], "2026-03-04"),  # another listing day: not in the pool
        rec("2511.00005", ["cs.CV"], "2025-11-03"),  # before the window: not imported
        rec("2603.00006", ["cs.IR"], "2026-03-03"),  # the store holds it already (cs.IR listings)
    ]
    data = tmp_path / "data"
    (data / "arxiv").mkdir(parents=True)
    with gzip.open(data / "arxiv" / "bulk-155k.jsonl.gz", "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    picks = [Pick(date(2026, 3, 4), "2603.00001"), Pick(date(2026, 3, 4), "2603.00006")]
    with Store(tmp_path / "w.db") as store:
        store.save_papers([Paper("2603.00006", "Held", ["C D"], "Held text.", categories=["cs.IR"])])
        store.save_announcements([Announcement("2603.00006", date(2026, 3, 3), "cs.IR", "new", 1)])
        pools, stats = load_wide(data, store, picks, min_picks=1)
        assert [(p.date, p.category, p.ids) for p in pools] == [
            (date(2026, 3, 4), "cs.CV", ["2603.00001", "2603.00002"])
        ]
        assert stats["cs.CV"]["pool_picks"] == 1
        assert store.get_paper("2511.00005") is None and store.get_paper("2603.00004") is not None
        assert store.get_paper("2603.00006").title == "Held"


def test_goal_check_gives_a_bootstrap_interval_of_the_ratio() -> None:
    def day(ours: float, theirs: float) -> dict[str, object]:
        return {"metrics": {"paperradar": {"recall@10": ours}, "keywords": {"recall@10": theirs}}}

    same = [day(x, x) for x in (0.2, 0.5, 1.0, 0.7)]
    summary = {"paperradar": {"recall@10": 0.6}, "keywords": {"recall@10": 0.6}}
    assert goal_check(summary, days=same)["ratio_95ci"] == [1.0, 1.0]
    better = [day(1.0, 0.5), day(0.8, 0.4), day(0.6, 0.5), day(0.9, 0.6)] * 5
    low, high = goal_check({"paperradar": {"recall@10": 0.8}, "keywords": {"recall@10": 0.5}}, days=better)[
        "ratio_95ci"
    ]
    assert 1.0 < low < 1.6 < high
