"""The day queue starts the certain papers' texts while the interest round runs (pipeline/queue.py): every
slot is busy from the first request, the early work never costs a call the day would not make, and one
round of it waits for the slots the interest answers free. A 3-language day of the bundled sample against
the fake OpenAI-compatible server on loopback (real HTTP), counted on the server's side."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from paperradar.config import Config, load_config
from paperradar.llm.seam import WriteRequest
from paperradar.pipeline import Pipeline, queue
from paperradar.rank.day import DayPool
from paperradar.sources.intake import intake_sample
from paperradar.store import Store
from tests.fake_llm import Call
from tests.fake_llm_styles import FakeStyleLLM

DAY = date(2026, 2, 10)


def _day(folder: Path, llm: FakeStyleLLM, concurrency: int) -> list[Call]:
    path = folder / "paperradar.toml"
    path.write_text(
        '[store]\npath = "radar.db"\n[output]\nfolder = "out"\nlanguage = "zh"\n'
        '[styles]\nlanguages = ["zh", "ja", "en"]\n'
        f'[llm]\nbackend = "openai"\nconcurrency = {concurrency}\nmax_retries = 0\n'
        f'[[llm.endpoints]]\nbase_url = "{llm.url}"\nmodel = "{llm.model}"\ntimeout = 30\n',
        encoding="utf-8",
    )
    cfg = load_config(path)
    before = len(llm.chat_calls)
    with Store(cfg.db_path) as store:
        intake_sample(store, cfg.sources.categories)
        pipe = Pipeline(cfg, store)
        pipe.offline = True
        pipe.process_day(DAY, store.start_run("test", None))
    return llm.chat_calls[before:]


def test_early_work_fills_the_interest_round_and_costs_no_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    real = queue.early_requests

    def spy(pool: DayPool, places: dict[str, int], cfg: Config, slots: int) -> list[WriteRequest]:
        got = real(pool, places, cfg, slots)
        # Calls, not requests: a zh/ja title and summary are one call (the brief).
        brief = {"title", "summary"}
        calls = {
            (r.paper.arxiv_id, r.language, "brief" if r.task in brief and r.language != "en" else r.task)
            for r in got
        }
        started.append(len(calls))
        return got

    monkeypatch.setattr(queue, "early_requests", spy)
    llm = FakeStyleLLM(latency=0.15).start()
    try:
        (tmp_path / "c16").mkdir()
        (tmp_path / "c1").mkdir()
        calls = _day(tmp_path / "c16", llm, 16)
        llm.latency = 0.0
        serial = _day(tmp_path / "c1", llm, 1)  # one slot: no room for early work at all
    finally:
        llm.stop()

    def asked(run: list[Call]) -> list[tuple[str, str]]:
        return sorted((c.task, c.text[:400]) for c in run)

    # The same questions, early or not: only the order differs.
    assert len(calls) == len(serial)
    assert asked(calls) == asked(serial)
    interest = [c for c in calls if c.task == "interest"]
    first_answer = min(c.end for c in interest)
    during = [c for c in calls if c.start < first_answer]
    # Every slot is busy before the first interest answer is back, and no more than the slots.
    assert len(during) == 16
    assert {c.task for c in during} - {"interest"}, "certain papers' texts start with the interest round"
    # Beyond the slots the interest round leaves idle, one more round of certain work waits for the slots
    # its answers free (it is sent while the answers are checked and the order is settled).
    idle = 16 - len(interest)
    assert started[0] > idle
