"""`make bench`'s own functions run (small sizes): a benchmark that rots unnoticed reports nothing when it
is finally needed (bench_llm passed the whole config where the backend takes [llm], and read the counts as
a dict, until this test)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_llm_runs_and_a_rerun_is_free() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import run  # bench/run.py

    figures = run.bench_llm(n=24, latency=0.0, concurrency=4)
    assert figures["calls_on_rerun"] == 0 and figures["failed"] == 0
    assert figures["calls_per_paper"] <= 1.2  # interest in batches of 8, title + summary in one call
