"""The shared-data evaluation: the real reader's picks against the real cs.IR listings.

    from paperradar.evaluate.bench import bench_eval
    result = bench_eval(Path("../shared"))      # or the data folder itself

Imports the cs.IR listings (papers + announcements) into a temporary store, adds the metadata of the
picked papers that the bulk file holds (picks from cs.CL/cs.CV/... are part of the reader's history even
though only cs.IR days can be judged), builds the cs.IR pools and runs `evaluate` for every ranker.

Splits (all inside 2026-01-30 .. 2026-03-15):
* TEST: train until 2026-02-28, judge 2026-03-01 .. 2026-03-15 (the figure reported);
* VALIDATION (for tuning only; never the judged days): train until 2026-02-07 / 02-14 / 02-21, judge
  the following 7 days each.
"""

from __future__ import annotations

import gzip
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from paperradar.evaluate.pools import build_pools, listing_days
from paperradar.evaluate.run import EvalReport, Pick, Pool, Ranker, default_rankers, evaluate, read_picks
from paperradar.sources import read_jsonl
from paperradar.store import Store

TEST_SPLIT = (date(2026, 2, 28), None)
VALIDATION_SPLITS = (
    (date(2026, 2, 7), date(2026, 2, 14)),
    (date(2026, 2, 14), date(2026, 2, 21)),
    (date(2026, 2, 21), date(2026, 2, 28)),
)
GOAL = 1.20  # paperradar's recall@10 over the best baseline's


def data_dir(shared_dir: Path) -> Path:
    shared_dir = Path(shared_dir)
    return shared_dir / "data" if (shared_dir / "data").is_dir() else shared_dir


def load_shared(data: Path, store: Store) -> tuple[list[Pick], list[Pool], dict[str, int]]:
    """Fill `store` from the shared files; return picks, cs.IR pools and the pool builder's counts."""
    listings = data / "arxiv" / "listings-cs-ir.jsonl.gz"
    picks_files = sorted((data / "picks").glob("*.jsonl"))
    picks = [p for f in picks_files for p in read_picks(f)]
    papers, anns = [], []
    for paper, paper_anns in read_jsonl(listings):
        papers.append(paper)
        anns.extend(paper_anns)
    store.save_papers(papers)
    store.save_announcements(anns)
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
    pools, stats = build_pools(listing_days(listings, "cs.IR"), picks, "cs.IR")
    return picks, pools, stats


def run_split(
    store: Store,
    picks: Sequence[Pick],
    pools: Sequence[Pool],
    train_until: date,
    judge_until: date | None = None,
    rankers: Sequence[Ranker] | None = None,
) -> EvalReport:
    return evaluate(store, picks, pools, train_until, rankers, judge_until=judge_until, categories=["cs.IR"])


def goal_check(summary: dict[str, dict[str, float]], metric: str = "recall@10") -> dict[str, Any]:
    baselines = {k: v[metric] for k, v in summary.items() if k != "paperradar"}
    best = max(baselines, key=lambda k: baselines[k])
    ours = summary["paperradar"][metric]
    ratio = ours / baselines[best] if baselines[best] else float("inf")
    return {
        "metric": metric,
        "paperradar": ours,
        "best_baseline": best,
        "best_baseline_value": baselines[best],
        "ratio": ratio,
        "goal_ratio": GOAL,
        "met": ratio >= GOAL,
    }


def bench_eval(
    shared_dir: Path,
    rankers: Sequence[Ranker] | None = None,
    validation: bool = False,
    store_path: Path | None = None,
) -> dict[str, Any]:
    """The metrics table on the test split (and the validation splits when asked), as a dict."""
    started = time.perf_counter()
    data = data_dir(shared_dir)
    with tempfile.TemporaryDirectory() as tmp, Store(store_path or Path(tmp) / "eval.db") as store:
        picks, pools, pool_stats = load_shared(data, store)
        loaded = time.perf_counter()
        rankers = list(rankers) if rankers is not None else default_rankers()
        test = run_split(store, picks, pools, *TEST_SPLIT, rankers=rankers)
        result: dict[str, Any] = {
            "split": {"train_until": TEST_SPLIT[0].isoformat(), "judged": "2026-03-01..2026-03-15"},
            "table": test.summary(),
            "per_day": test.days,
            "counts": test.counts,
            "pool_stats": pool_stats,
            "goal": goal_check(test.summary()),
        }
        if validation:
            result["validation"] = [
                {
                    "train_until": t.isoformat(),
                    "judge_until": j.isoformat() if j else None,
                    "table": run_split(store, picks, pools, t, j, rankers).summary(),
                }
                for t, j in VALIDATION_SPLITS
            ]
    result["seconds"] = {"load": round(loaded - started, 1), "total": round(time.perf_counter() - started, 1)}
    return result
