"""P3 for a whole day: 3 languages (zh, ja, en), default style bands, against the fake OpenAI-compatible
server with a fixed latency L per answer. Wall time of the day's model work against the ideal
ceil(calls / C) x L at C = 8 and 16; calls per paper and language for the digest fields; calls on an
immediate re-run (goal 0) and on re-runs after a bad day (every answer failing: bounded by give_up_after).

    python bench/day_queue.py            (also part of `make bench`)
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from paperradar.config import load_config  # noqa: E402
from paperradar.pipeline import Pipeline  # noqa: E402
from paperradar.sources.intake import intake_sample  # noqa: E402
from paperradar.store import Store  # noqa: E402
from tests.fake_llm import Fault  # noqa: E402
from tests.fake_llm_styles import FakeStyleLLM  # noqa: E402

DAY = "2026-02-10"
LATENCY = 0.2


def _config(folder: Path, url: str, model: str, concurrency: int) -> Path:
    path = folder / "paperradar.toml"
    path.write_text(
        f'[store]\npath = "radar.db"\n[output]\nfolder = "out"\nlanguage = "zh"\n'
        f'[styles]\nlanguages = ["zh", "ja", "en"]\n'
        f'[llm]\nbackend = "openai"\nconcurrency = {concurrency}\nmax_retries = 0\n'
        f'[[llm.endpoints]]\nbase_url = "{url}"\nmodel = "{model}"\ntimeout = 30\n',
        encoding="utf-8",
    )
    return path


def _day(folder: Path, llm: FakeStyleLLM, concurrency: int) -> tuple[float, int, Pipeline]:
    """One day's rank + write + publish (the sample already imported): wall seconds and model calls."""
    from datetime import date

    cfg = load_config(_config(folder, llm.url, llm.model, concurrency))
    with Store(cfg.db_path) as store:
        intake_sample(store, cfg.sources.categories)
        pipe = Pipeline(cfg, store)
        pipe.offline = True
        before = len(llm.chat_calls)
        start = time.perf_counter()
        pipe.process_day(date.fromisoformat(DAY), store.start_run("bench", None))
        wall = time.perf_counter() - start
        return wall, len(llm.chat_calls) - before, pipe


def _span_in_own_process(folder: Path, llm: FakeStyleLLM, concurrency: int) -> tuple[float, int]:
    """The same day with paperradar in its own process (`run --sample`), as against a real remote endpoint:
    in `_day` the fake server's threads share the interpreter, and its work competes for the GIL with the
    client's event loop. Returns the model span (first request to last answer) and the calls."""
    import subprocess

    config = _config(folder, llm.url, llm.model, concurrency)
    before = len(llm.chat_calls)
    subprocess.run(
        [sys.executable, "-m", "paperradar", "-q", "--config", str(config), "run", "--sample", "--date", DAY],
        check=True,
        capture_output=True,
    )
    calls = llm.chat_calls[before:]
    return max(c.end for c in calls) - min(c.start for c in calls), len(calls)


def bench_day_queue(latency: float = LATENCY) -> dict[str, Any]:
    out: dict[str, Any] = {"latency_s": latency}
    for concurrency in (8, 16):
        llm = FakeStyleLLM(latency=latency).start()
        try:
            with tempfile.TemporaryDirectory(prefix="paperradar-day-") as tmp:
                folder = Path(tmp)
                wall, calls, pipe = _day(folder, llm, concurrency)
                digest_calls = sum(1 for c in llm.chat_calls if c.task in ("brief", "title", "summary"))
                interest_calls = sum(1 for c in llm.chat_calls if c.task == "interest")
                ideal = math.ceil(calls / concurrency) * latency
                # The interest round must end before the day's top is known; everything else is one queue.
                staged = (
                    math.ceil(interest_calls / concurrency)
                    + math.ceil((calls - interest_calls) / concurrency)
                ) * latency
                # The model's side alone: first request sent to last answer received (the rest of `wall` is
                # ranking, prompt building, storing and publishing on this machine's CPU).
                span = max(c.end for c in llm.chat_calls) - min(c.start for c in llm.chat_calls)
                top = pipe.cfg.output.top_n
                languages = len(pipe.cfg.languages)
                _, again_calls, _ = _day(folder, llm, concurrency)
            with tempfile.TemporaryDirectory(prefix="paperradar-day-") as tmp:
                own_span, own_calls = _span_in_own_process(Path(tmp), llm, concurrency)
                out[f"C{concurrency}"] = {
                    "calls": calls,
                    "wall_s": round(wall, 2),
                    "ideal_s": round(ideal, 2),
                    "ratio_vs_ideal": round(wall / ideal, 3),
                    "model_span_s": round(span, 2),
                    "span_vs_ideal": round(span / ideal, 3),
                    "staged_ideal_s": round(staged, 2),
                    "span_vs_staged_ideal": round(span / staged, 3),
                    "digest_calls_per_paper_language": round(digest_calls / (top * languages), 3),
                    "with_interest_per_paper_language": round(
                        (digest_calls + interest_calls) / (top * languages), 3
                    ),
                    "rerun_calls": again_calls,
                    "own_process_span_s": round(own_span, 2),
                    "own_process_span_vs_ideal": round(
                        own_span / (math.ceil(own_calls / concurrency) * latency), 3
                    ),
                }
        finally:
            llm.stop()
    # A bad day: every answer fails; then the next runs ask again until give_up_after, then stop paying.
    llm = FakeStyleLLM(latency=0.0).start()
    try:
        llm.add(Fault("500", times=None))
        with tempfile.TemporaryDirectory(prefix="paperradar-day-") as tmp:
            folder = Path(tmp)
            runs = [_day(folder, llm, 16)[1] for _ in range(5)]
        out["bad_day_calls_per_run"] = runs
    finally:
        llm.stop()
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(bench_day_queue(), indent=2))
