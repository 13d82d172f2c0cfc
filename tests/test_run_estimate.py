"""`paperradar run --estimate` and the multilingual day, from outside: the CLI in-process against the fake
OpenAI-compatible server on loopback (real HTTP), the bundled sample, a real SQLite store.

What a reader relies on: the estimate asks the model nothing and needs no API key; the calls it predicts are
the calls the run then makes; a day in three languages asks the interest question once (its reason comes back
in every language) and writes each language's reasons in that language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_runner import cli
from tests.fake_llm import FakeLLM

KEY = "sk-test-5b7e21c0d9f84a16"
DAY = "2026-02-10"


def three_language_config(write_config, fake: FakeLLM, extra: str = "") -> Path:
    return write_config(
        'language = "zh"\n'
        '[styles]\nlanguages = ["zh", "ja", "en"]\n'
        f'[llm]\nbackend = "openai"\nconcurrency = 4\n{extra}\n'
        f'[[llm.endpoints]]\nbase_url = "{fake.url}"\nmodel = "{fake.model}"\napi_key_env = "RADAR_EST_KEY"\n'
        f'[llm.prices]\n"{fake.model}" = {{ input_per_mtok = 0.14, output_per_mtok = 0.28 }}\n'
    )


def estimated_calls(out: str) -> tuple[int, int, float]:
    """(calls, stored, cost) of the estimate table's total row."""
    row = re.search(r"^\s*total\s+(\d+)\s+(\d+)\s+[\d,]+\s+[\d,]+\s+([\d.]+)\s*$", out, flags=re.M)
    assert row, out
    return int(row[1]), int(row[2]), float(row[3])


def test_estimate_predicts_the_run_and_needs_no_key(
    write_config, fake_style_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    cfg = three_language_config(write_config, fake_style_llm)
    fake_style_llm.api_key = KEY
    monkeypatch.delenv("RADAR_EST_KEY", raising=False)  # an estimate is made before a key is bought

    assert cli("--config", str(cfg), "run", "--sample", "--date", DAY, "--estimate") == 0
    out = capsys.readouterr().out
    assert "nothing was asked of it" in out
    assert fake_style_llm.chat_calls == []  # not one request reached the model
    calls, stored, cost = estimated_calls(out)
    assert calls > 0 and stored == 0 and cost > 0
    assert not (cfg.parent / "out" / "digests").exists()  # an estimate publishes nothing

    monkeypatch.setenv("RADAR_EST_KEY", KEY)
    assert cli("--config", str(cfg), "run", "--sample", "--date", DAY) == 0
    capsys.readouterr()
    assert len(fake_style_llm.chat_calls) == calls  # the run made exactly the calls predicted

    # Everything is stored now: a second estimate prices nothing.
    monkeypatch.delenv("RADAR_EST_KEY")
    assert cli("--config", str(cfg), "run", "--sample", "--date", DAY, "--estimate") == 0
    again, stored_now, cost_now = estimated_calls(capsys.readouterr().out)
    assert again == 0 and stored_now > 0 and cost_now == 0


def test_estimate_without_a_model_says_it_costs_nothing(write_config, capsys) -> None:
    cfg = write_config()
    assert cli("--config", str(cfg), "run", "--sample", "--date", DAY, "--estimate") == 0
    assert "a run makes no model call and costs nothing" in capsys.readouterr().out


def test_three_languages_share_one_interest_question(
    write_config, fake_style_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    cfg = three_language_config(write_config, fake_style_llm)
    monkeypatch.setenv("RADAR_EST_KEY", KEY)
    assert cli("--config", str(cfg), "run", "--sample", "--date", DAY) == 0
    capsys.readouterr()
    interest_calls = [c for c in fake_style_llm.chat_calls if c.task == "interest"]
    scored = sum(len(c.ids) for c in interest_calls)
    # every paper of the pool asked once (not once per language), several papers to a call
    assert scored == len({i for c in interest_calls for i in c.ids}) and len(interest_calls) < scored

    digests = cfg.parent / "out" / "digests"
    kana = re.compile(r"[\u3040-\u30ff]")
    han = re.compile(r"[\u4e00-\u9fff]")
    for lang in ("zh", "ja", "en"):
        text = (digests / f"{DAY}.{lang}.md").read_text(encoding="utf-8")
        lines = re.findall(r"【\d(?:点|分|/5)】\s*(.+)", text)  # the interest line: score, then reason
        assert lines, (lang, text[:400])
        for line in lines:
            if lang == "ja":
                assert kana.search(line), line  # Japanese, not the Chinese reason (D1)
            elif lang == "zh":
                assert han.search(line) and not kana.search(line), line
            else:
                assert not han.search(line) and not kana.search(line), line
