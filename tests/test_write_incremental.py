"""Answers are handed back (and stored) as they arrive, not when the slowest one is done: a run killed or
interrupted half-way never pays twice for an answer it already received."""

from __future__ import annotations

import sqlite3
import time

from paperradar.llm import write_texts
from paperradar.store import Store
from tests.fake_llm import FakeLLM, Fault
from tests.llm_backend_setup import backend, papers, reqs


def test_on_result_reports_each_answer_before_the_slowest(fake_llm: FakeLLM) -> None:
    ps = papers(4)
    fake_llm.add(Fault("hang", times=None, match=ps[3].title, task="brief", delay=1.0))
    seen: list[tuple[int, float]] = []
    start = time.monotonic()
    out = backend(fake_llm, concurrency=4).write(
        reqs(ps, "title"), on_result=lambda i, r: seen.append((i, time.monotonic() - start))
    )
    finished = time.monotonic() - start
    assert sorted(i for i, _ in seen) == [0, 1, 2, 3] and all(r is not None for r in out)
    early = [t for i, t in seen if i != 3]
    assert max(early) < finished - 0.5  # the three quick answers came back long before the slow one


def test_write_texts_stores_each_answer_on_arrival(fake_llm: FakeLLM, tmp_path) -> None:
    ps = papers(3)
    store = Store(tmp_path / "r.db")
    store.save_papers(ps)
    b = backend(fake_llm, concurrency=3)
    stored_when_called: list[int] = []
    original = store.save_text

    def spy(text, run_id, **kw):  # count rows already stored each time one more is saved
        original(text, run_id, **kw)
        stored_when_called.append(
            sqlite3.connect(store.path).execute("SELECT count(*) FROM texts").fetchone()[0]
        )

    store.save_text = spy  # type: ignore[method-assign]
    _, counts, _ = write_texts(store, b, ps, ["title"], "zh")
    assert counts.written == 3 and stored_when_called == [1, 2, 3]  # each saved once, one at a time
