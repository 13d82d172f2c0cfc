"""bench/p5_wide.py measures rankers of one P5 split in separate processes and joins them: the joined
report must be the one a single run over all the rankers gives (same summary, same paired bootstrap), and
files that judged different pools must be refused rather than silently mixed."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from paperradar.evaluate.bench import GOAL, goal_check
from paperradar.evaluate.run import EvalReport

ROOT = Path(__file__).resolve().parents[1]


def _p5_wide() -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    import p5_wide  # bench/p5_wide.py

    return p5_wide


def _metrics(r10: float) -> dict[str, float]:
    return {"recall@5": r10 / 2, "recall@10": r10, "ndcg@10": r10 / 3, "mrr": r10 / 4}


DAYS = [
    {
        "date": "2026-03-02",
        "category": "cs.IR",
        "n": 20,
        "picks": 2,
        "metrics": {"paperradar": _metrics(1.0), "random": _metrics(0.5), "keywords": _metrics(0.5)},
    },
    {
        "date": "2026-03-02",
        "category": "cs.CV",
        "n": 90,
        "picks": 1,
        "metrics": {"paperradar": _metrics(0.0), "random": _metrics(1.0), "keywords": _metrics(0.0)},
    },
    {
        "date": "2026-03-03",
        "category": "cs.IR",
        "n": 12,
        "picks": 3,
        "metrics": {"paperradar": _metrics(0.667), "random": _metrics(0.333), "keywords": _metrics(0.667)},
    },
]


def _run_file(folder: Path, names: list[str], days: list[dict[str, Any]] = DAYS, tag: str = "") -> Path:
    rows = [dict(d, metrics={n: d["metrics"][n] for n in names}) for d in days]
    path = folder / f"{'+'.join(names)}{tag}.json"
    path.write_text(
        json.dumps(
            {
                "split": "test",
                "train_until": "2026-02-28",
                "rankers": names,
                "seconds": {},
                "counts": {},
                "per_day": rows,
            }
        ),
        encoding="utf-8",
    )
    return path


def test_joined_runs_equal_one_run_over_every_ranker(tmp_path: Path) -> None:
    p5_wide = _p5_wide()
    joined = p5_wide.combine(
        [_run_file(tmp_path, ["random"]), _run_file(tmp_path, ["paperradar", "keywords"])]
    )
    whole = EvalReport(date(2026, 2, 28), ["paperradar", "random", "keywords"], days=DAYS)
    for name in whole.rankers:
        assert joined["table"][name] == whole.summary()[name]
    assert joined["goal"] == goal_check(whole.summary(), days=DAYS, goal=GOAL)
    assert joined["per_category"]["cs.CV"]["random"]["recall@10"] == 1.0


def test_runs_over_different_pools_are_refused(tmp_path: Path) -> None:
    p5_wide = _p5_wide()
    other = _run_file(tmp_path, ["random"], DAYS[:2], tag="-two-pools")
    with pytest.raises(SystemExit, match="different pools"):
        p5_wide.combine([_run_file(tmp_path, ["paperradar"]), other])
