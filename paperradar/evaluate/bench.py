"""The shared-data evaluation: the real reader's picks against the real cs.IR listings.

    from paperradar.evaluate.bench import bench_eval
    result = bench_eval(Path("../shared"))      # or the data folder itself

Imports the cs.IR listings (papers + announcements) into a temporary store, adds the metadata of the
picked papers that the bulk file holds (picks from cs.CL/cs.CV/... are part of the reader's history even
though only cs.IR days can be judged), builds the cs.IR pools and runs `evaluate` for every ranker.

Two runs, each ranker on the same pools:
* cs.IR: the pools of the complete cs.IR listings (7-35 papers; recall@10 nears saturation there);
* wide: those plus pools of the reader's other categories (cs.CV, cs.CL, cs.AI, ... : 456 of the 599
  picks are outside cs.IR) built from the bulk file, a *sample* of arXiv (about a quarter to two thirds of
  a category's papers a day): a pool is the sampled papers whose primary category it is, listed on the
  pick's listing day, so pools are 10-300 papers and only sampled picks are judged. Every ranker sees the
  same sample, so the comparison is fair; the absolute figures are not those of a full listing.

Splits (all inside 2026-01-30 .. 2026-03-15):
* TEST: train until 2026-02-28, judge 2026-03-01 .. 2026-03-15 (the figure reported);
* VALIDATION (for tuning only; never the judged days): train until 2026-02-07 / 02-14 / 02-21, judge
  the following 7 days each;
* COLD START: train until 2026-02-06 (the first week), judge 2026-03-01 .. 03-15 (the test days; the
  weeks between are validation days, judged separately under "following_weeks" for reference).
"""

from __future__ import annotations

import gzip
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from paperradar.evaluate.baselines import zotero_embedder
from paperradar.evaluate.pools import announced_days, build_pools
from paperradar.evaluate.run import EvalReport, Pick, Pool, Ranker, default_rankers, evaluate, read_picks
from paperradar.models import Announcement, Paper
from paperradar.sources import read_jsonl
from paperradar.store import Store
from paperradar.store.views import announced_ids

TEST_SPLIT = (date(2026, 2, 28), None)
VALIDATION_SPLITS = (
    (date(2026, 2, 7), date(2026, 2, 14)),
    (date(2026, 2, 14), date(2026, 2, 21)),
    (date(2026, 2, 21), date(2026, 2, 28)),
)
GOAL = 1.40  # paperradar's recall@10 over the best baseline's, with the full history (issue 13)
COLD_GOAL = 1.20  # the same with one week of history (cold start)
COLD_START = date(2026, 2, 6)  # cold start: the first week of picks (2026-01-30 .. 02-06) is the history
WIDE_FROM = date(2025, 12, 1)  # bulk papers listed from here on are the wide run's pools and background
WIDE_MIN_PICKS = 10  # a category is judged in the wide run when the reader picked this many of its papers


def data_dir(shared_dir: Path) -> Path:
    shared_dir = Path(shared_dir)
    return shared_dir / "data" if (shared_dir / "data").is_dir() else shared_dir


def _import(store: Store, path: Path) -> tuple[list[Paper], list[Announcement]]:
    """Papers and announcements of a JSON-lines file into the store; both, for the caller to reuse."""
    papers, anns = [], []
    for paper, paper_anns in read_jsonl(path):
        papers.append(paper)
        anns.extend(paper_anns)
    store.save_papers(papers)
    store.save_announcements(anns)
    return papers, anns


def load_shared(data: Path, store: Store) -> tuple[list[Pick], list[Pool], dict[str, int]]:
    """Fill `store` from the shared files; return picks, cs.IR pools and the pool builder's counts."""
    listings = data / "arxiv" / "listings-cs-ir.jsonl.gz"
    picks_files = sorted((data / "picks").glob("*.jsonl"))
    picks = [p for f in picks_files for p in read_picks(f)]
    papers, anns = _import(store, listings)
    # Picked papers from other categories: their metadata only (no announcements: they were never in a
    # cs.IR pool), so they count as history and never as candidates.
    wanted = {p.arxiv_id for p in picks} - {p.arxiv_id for p in papers}
    bulk = data / "arxiv" / "bulk-155k.jsonl.gz"
    if wanted and bulk.exists():
        with tempfile.TemporaryDirectory() as tmp:
            subset = Path(tmp) / "picked.jsonl"
            with gzip.open(bulk, "rb") as src, subset.open("wb") as dst:
                for line in src:
                    if orjson.loads(line).get("id") in wanted:
                        dst.write(line)
            store.save_papers(paper for paper, _ in read_jsonl(subset))
    pools, stats = build_pools(announced_days(anns, "cs.IR"), picks, "cs.IR")
    return picks, pools, stats


def load_wide(
    data: Path, store: Store, picks: Sequence[Pick], min_picks: int = WIDE_MIN_PICKS
) -> tuple[list[Pool], dict[str, dict[str, int]]]:
    """Pools of the reader's *other* categories, built from the bulk file's sample (see the module doc).

    Imports the bulk papers listed from WIDE_FROM to the last pick's day (those the cs.IR listings do not
    hold already) with their one listing day; a category is evaluated when at least `min_picks` picks have
    it as primary. A pool is the sampled papers whose primary category it is, listed on the pick's day.
    Returns the pools and the pool builder's counts per category."""
    bulk = data / "arxiv" / "bulk-155k.jsonl.gz"
    if not bulk.exists() or not picks:
        return [], {}
    last = max(p.date for p in picks) + timedelta(days=1)
    held = set(announced_ids(store, date.min, date.max))
    picked = {p.arxiv_id for p in picks}
    primary_of_picks: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "wide.jsonl"
        with gzip.open(bulk, "rb") as src, subset.open("wb") as dst:
            for line in src:
                rec = orjson.loads(line)
                listed = rec.get("listing_date")
                if not isinstance(listed, str) or not WIDE_FROM.isoformat() <= listed <= last.isoformat():
                    continue
                if rec.get("id") in held:
                    continue
                dst.write(line if line.endswith(b"\n") else line + b"\n")
                cats = rec.get("categories") or []
                cats = cats.split() if isinstance(cats, str) else cats
                if rec.get("id") in picked and cats:
                    primary_of_picks[cats[0]] += 1
        _, anns = _import(store, subset)
        pools: list[Pool] = []
        stats: dict[str, dict[str, int]] = {}
        for category in sorted(c for c, n in primary_of_picks.items() if n >= min_picks and c != "cs.IR"):
            # "new" in a bulk record is its primary category: each paper lands in exactly one pool a day.
            days = announced_days(anns, category, kinds={"new"})
            cat_pools, stats[category] = build_pools(days, picks, category)
            pools += cat_pools
    return pools, stats


def run_split(
    store: Store,
    picks: Sequence[Pick],
    pools: Sequence[Pool],
    train_until: date,
    judge_until: date | None = None,
    rankers: Sequence[Ranker] | None = None,
) -> EvalReport:
    categories = sorted({p.category for p in pools} | {"cs.IR"})
    return evaluate(store, picks, pools, train_until, rankers, judge_until=judge_until, categories=categories)


def goal_check(
    summary: dict[str, dict[str, float]],
    metric: str = "recall@10",
    days: Sequence[dict[str, Any]] = (),
    goal: float = GOAL,
) -> dict[str, Any]:
    """paperradar's `metric` over the best baseline's; with the judged `days`, a 95% bootstrap interval of
    that ratio (judged pools resampled with replacement, the same resample for both rankers)."""
    baselines = {k: v[metric] for k, v in summary.items() if k != "paperradar"}
    best = max(baselines, key=lambda k: baselines[k])
    ours = summary["paperradar"][metric]
    ratio = ours / baselines[best] if baselines[best] else float("inf")
    out = {
        "metric": metric,
        "paperradar": ours,
        "best_baseline": best,
        "best_baseline_value": baselines[best],
        "ratio": ratio,
        "goal_ratio": goal,
        "met": ratio >= goal,
    }
    if days:
        out["ratio_95ci"] = bootstrap_ratio(days, best, metric)
    return out


def bootstrap_ratio(
    days: Sequence[dict[str, Any]], baseline: str, metric: str = "recall@10", n: int = 2000, seed: int = 0
) -> list[float]:
    """2.5th and 97.5th percentiles of mean(paperradar) / mean(baseline) over resampled judged pools."""
    ours = np.array([d["metrics"]["paperradar"][metric] for d in days])
    theirs = np.array([d["metrics"][baseline][metric] for d in days])
    picks = np.random.default_rng(seed).integers(0, len(days), size=(n, len(days)))
    ratios = ours[picks].mean(axis=1) / np.maximum(theirs[picks].mean(axis=1), 1e-12)
    return [round(float(x), 3) for x in np.percentile(ratios, [2.5, 97.5])]


def bench_eval(
    shared_dir: Path,
    rankers: Sequence[Ranker] | None = None,
    validation: bool = False,
    store_path: Path | None = None,
    wide: bool = True,
) -> dict[str, Any]:
    """The metrics table on the test split (and the validation splits when asked), as a dict: the cs.IR
    run first, then (with `wide`) the run over all the reader's categories."""
    started = time.perf_counter()
    data = data_dir(shared_dir)
    with tempfile.TemporaryDirectory() as tmp, Store(store_path or Path(tmp) / "eval.db") as store:
        picks, pools, pool_stats = load_shared(data, store)
        loaded = time.perf_counter()
        if rankers is None:  # zotero-arxiv-daily with MiniLM when the extra is installed (its name says)
            rankers = default_rankers(baseline_embedder=zotero_embedder(None))
        rankers = list(rankers)
        test = run_split(store, picks, pools, *TEST_SPLIT, rankers=rankers)
        result: dict[str, Any] = {
            "split": {"train_until": TEST_SPLIT[0].isoformat(), "judged": "2026-03-01..2026-03-15"},
            "table": test.summary(),
            "per_day": test.days,
            "counts": test.counts,
            "pool_stats": pool_stats,
            "goal": goal_check(test.summary(), days=test.days),
        }
        result["cold_start"] = _cold_start(store, picks, pools, rankers, validation)
        if validation:
            result["validation"] = _validation(store, picks, pools, rankers)
        if wide:
            # After the cs.IR run: the bulk papers join the store (and so the rankers' background) here.
            wide_pools, wide_stats = load_wide(data, store, picks)
            if wide_pools:
                everything = [*pools, *wide_pools]
                report = run_split(store, picks, everything, *TEST_SPLIT, rankers=rankers)
                result["wide"] = {
                    "table": report.summary(),
                    "per_category": {c: report.summary(c) for c in report.categories()},
                    "per_day": report.days,
                    "counts": report.counts,
                    "pool_stats": wide_stats,
                    "goal": goal_check(report.summary(), days=report.days),
                    "cold_start": _cold_start(store, picks, everything, rankers, validation),
                }
                if validation:
                    result["wide"]["validation"] = _validation(store, picks, everything, rankers)
    result["seconds"] = {"load": round(loaded - started, 1), "total": round(time.perf_counter() - started, 1)}
    return result


def _cold_start(
    store: Store, picks: Sequence[Pick], pools: Sequence[Pool], rankers: Sequence[Ranker], following: bool
) -> dict[str, Any]:
    """History = the first week of picks; judged on the test days (and, with `following`, on every later
    day, validation weeks included: for reference only, settings were chosen on those)."""
    test_days = [p for p in pools if p.date <= COLD_START or p.date > TEST_SPLIT[0]]
    report = run_split(store, picks, test_days, COLD_START, None, rankers)
    out: dict[str, Any] = {
        "train_until": COLD_START.isoformat(),
        "judged": "2026-03-01..2026-03-15",
        "table": report.summary(),
        "counts": report.counts,
        "goal": goal_check(report.summary(), days=report.days, goal=COLD_GOAL),
    }
    if following:
        later = run_split(store, picks, pools, COLD_START, None, rankers)
        out["following_weeks"] = {
            "judged": "2026-02-07..2026-03-15",
            "table": later.summary(),
            "goal": goal_check(later.summary(), days=later.days, goal=COLD_GOAL),
        }
    return out


def _validation(
    store: Store, picks: Sequence[Pick], pools: Sequence[Pool], rankers: Sequence[Ranker]
) -> list[dict[str, Any]]:
    return [
        {
            "train_until": t.isoformat(),
            "judge_until": j.isoformat() if j else None,
            "table": run_split(store, picks, pools, t, j, rankers).summary(),
        }
        for t, j in VALIDATION_SPLITS
    ]
