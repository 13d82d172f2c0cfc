"""`paperradar run --sample` with an OpenAI-compatible endpoint (the fake server, real HTTP on loopback):
every model field comes from a validated answer, carries the model's name, is cached, and is budgeted."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.cli_runner import cli
from tests.fake_llm import FakeLLM, Fault

KEY = "sk-test-7d1f0c2b9e8a4c55"


def llm_config(write_config, fake: FakeLLM, extra: str = "", language: str = "zh") -> Path:
    return write_config(
        f'language = "{language}"\n'
        f'[llm]\nbackend = "openai"\nconcurrency = 4\n{extra}\n'
        f'[[llm.endpoints]]\nbase_url = "{fake.url}"\nmodel = "{fake.model}"\napi_key_env = "RADAR_TEST_KEY"\n'
    )


@pytest.fixture
def keyed(fake_style_llm: FakeLLM, monkeypatch):
    fake_style_llm.api_key = KEY
    monkeypatch.setenv("RADAR_TEST_KEY", KEY)
    return fake_style_llm


def test_sample_run_fields_come_from_the_model(write_config, keyed: FakeLLM, capsys):
    cfg = llm_config(write_config, keyed)
    assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-10") == 0
    out = capsys.readouterr().out
    assert f"LLM {keyed.model}:" in out
    text = (cfg.parent / "out" / "digests" / "2026-02-10.zh.md").read_text(encoding="utf-8")
    assert keyed.model in text  # the mode line names the model
    assert "抽取式" not in text and "未翻译" not in text and "启发式评分：" not in text
    # translated titles (Han characters) on every paper; model reasons with 【N分】 scores
    titles = re.findall(r"^## \d+\. (.+)$", text, flags=re.M)
    assert len(titles) == 20 and all(re.search(r"[\u4e00-\u9fff]", t) for t in titles)
    # the export says which model wrote what
    export = cfg.parent / "day.jsonl"
    assert cli("--config", str(cfg), "export", "--date", "2026-02-10", "-o", str(export)) == 0
    rows = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert all(r["interest_mode"] == keyed.model and r["summary_mode"] == keyed.model for r in rows)
    assert all(1 <= r["interest_score"] <= 5 and r["interest_reason"] for r in rows)

    # re-running the day makes no call at all and writes the same bytes
    calls = len(keyed.chat_calls)
    before = (cfg.parent / "out" / "digests" / "2026-02-10.zh.md").read_bytes()
    assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-10") == 0
    assert len(keyed.chat_calls) == calls
    assert (cfg.parent / "out" / "digests" / "2026-02-10.zh.md").read_bytes() == before

    # the key never lands in the database, the outputs or the run log
    for path in cfg.parent.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    conn = sqlite3.connect(cfg.parent / "radar.db")
    for (stats,) in conn.execute("SELECT stats FROM runs"):
        assert KEY not in stats


def test_budget_stops_llm_work_and_still_publishes(write_config, keyed: FakeLLM, capsys):
    cfg = llm_config(write_config, keyed, "[llm.budget]\nmax_calls = 6\n")
    assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-10") == 0
    assert len(keyed.chat_calls) <= 6
    text = (cfg.parent / "out" / "digests" / "2026-02-10.zh.md").read_text(encoding="utf-8")
    assert text.count("**摘要总结**") == 20
    # what the budget cut keeps its labelled extractive/heuristic fields
    assert "抽取式" in text and ("启发式" in text or "未翻译" in text)
    assert "over the budget (asked again next run)" in capsys.readouterr().out
    # the next run (a new budget) finishes what was cut
    assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-10") == 0


def test_one_failing_paper_never_stops_the_run(write_config, keyed: FakeLLM):
    keyed.add(Fault("500", times=None, task="brief"))
    cfg = llm_config(write_config, keyed, "max_retries = 1\n")
    assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-11") == 0
    text = (cfg.parent / "out" / "digests" / "2026-02-11.zh.md").read_text(encoding="utf-8")
    # every summary fell back to extractive, labelled; titles and scores still came from the model
    listed = len(re.findall(r"^## \d+\. ", text, flags=re.M))
    assert listed == 19 and text.count("抽取式摘要") == listed and keyed.model in text


def test_llm_check_reports_model_and_errors(write_config, keyed: FakeLLM, capsys, monkeypatch):
    cfg = llm_config(write_config, keyed)
    assert cli("--config", str(cfg), "llm", "check") == 0
    assert f"model {keyed.model}" in capsys.readouterr().out
    monkeypatch.setenv("RADAR_TEST_KEY", "sk-wrong-0000000000")
    assert cli("--config", str(cfg), "llm", "check") == 2
    err = capsys.readouterr().err
    assert "RADAR_TEST_KEY" in err and "sk-wrong-0000000000" not in err


def test_llm_check_without_endpoint_says_how(write_config, capsys):
    cfg = write_config()
    assert cli("--config", str(cfg), "llm", "check") == 2
    assert "[[llm.endpoints]]" in capsys.readouterr().err


def test_unknown_endpoint_key_suggests_fix(write_config, capsys):
    cfg = write_config('[llm]\nbackend = "openai"\n[[llm.endpoints]]\nbse_url = "http://x"\nmodel = "m"\n')
    assert cli("--config", str(cfg), "run", "--sample") == 2
    assert "did you mean 'base_url'" in capsys.readouterr().err
