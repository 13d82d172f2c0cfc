"""A day run from code that already runs an event loop (a notebook, a Playwright session, an async web
app) works as from the command line: the day's queue then runs its loop in a worker thread while the
caller waits, and the store follows it there (found by the browser tests: `asyncio.run() cannot be called
from a running event loop`, then SQLite's same-thread check)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from paperradar.config import load_config
from paperradar.pipeline import run_pipeline
from paperradar.store import Store
from tests.fake_llm_styles import FakeStyleLLM

DAY = date(2026, 2, 10)


def _config(folder: Path, llm_url: str | None) -> Path:
    text = f'[store]\npath = "{folder / "radar.db"}"\n[output]\nfolder = "{folder / "out"}"\n'
    if llm_url:
        text += (
            f'[llm]\nbackend = "openai"\n[[llm.endpoints]]\nbase_url = "{llm_url}"\nmodel = "fake-model"\n'
        )
    path = folder / "paperradar.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run_inside_a_loop(config: Path) -> int:
    cfg = load_config(config)

    async def caller() -> int:  # a running loop in this thread, as in a notebook cell
        with Store(cfg.db_path) as store:
            result = run_pipeline(cfg, store, day=DAY, sample=True)
            return result.listed

    return asyncio.run(caller())


def test_a_day_without_a_model_runs_inside_an_event_loop(tmp_path: Path) -> None:
    assert _run_inside_a_loop(_config(tmp_path, None)) > 0
    assert (tmp_path / "out" / "digests" / f"{DAY}.zh.md").is_file()


def test_a_day_with_a_model_runs_inside_an_event_loop(tmp_path: Path) -> None:
    llm = FakeStyleLLM().start()
    try:
        assert _run_inside_a_loop(_config(tmp_path, llm.url)) > 0
        assert llm.chat_calls, "the model was asked"
    finally:
        llm.stop()
    digest = (tmp_path / "out" / "digests" / f"{DAY}.zh.md").read_text(encoding="utf-8")
    assert "该论文与读者关注" in digest and "fake-model" in digest  # the model wrote, and the digest says so
