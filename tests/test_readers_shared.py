"""Shared work across readers: two readers of the same language whose tops agree ask the model for exactly
the texts one reader asks (titles, summaries, companies, style pages: once per paper, task, language and
model), and the interest questions are shared calls that score each paper for both profiles ([llm]
profiles_per_call; each answer is stored as its reader's). A config without
[[readers]] runs exactly as before: its digest is the one reader "default"'s, at the old path."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.cli_runner import cli
from tests.fake_llm import FakeLLM

DAY = "2026-02-10"
KEY = "sk-test-shared-0badcafe"


def config(folder: Path, llm: FakeLLM, readers: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "paperradar.toml"
    path.write_text(
        '[store]\npath = "radar.db"\n[output]\nfolder = "out"\n'
        '[llm]\nbackend = "openai"\nconcurrency = 4\n'
        f'[[llm.endpoints]]\nbase_url = "{llm.url}"\nmodel = "{llm.model}"\napi_key_env = "RADAR_TEST_KEY"\n'
        + readers,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def keyed(fake_style_llm: FakeLLM, monkeypatch):
    fake_style_llm.api_key = KEY
    monkeypatch.setenv("RADAR_TEST_KEY", KEY)
    return fake_style_llm


def asked(llm: FakeLLM, start: int) -> Counter[str]:
    return Counter(c.task for c in llm.chat_calls[start:] if not c.is_repair)


def test_a_text_two_readers_need_is_asked_once(tmp_path, keyed):
    # The fake scores a paper by its id alone, so both readers' tops are the same papers.
    one = config(tmp_path / "one", keyed, "")
    assert cli("--config", str(one), "run", "--sample", "--date", DAY) == 0
    single = asked(keyed, 0)
    start = len(keyed.chat_calls)
    two = config(
        tmp_path / "two",
        keyed,
        '[[readers]]\nname = "default"\n[[readers]]\nname = "kai"\ninterests = "KAI: query rewriting"\n',
    )
    assert cli("--config", str(two), "run", "--sample", "--date", DAY) == 0
    pair = asked(keyed, start)
    # Both readers' interest questions ride in the single reader's calls (the papers sent once).
    assert pair["interest"] == single["interest"] > 0
    assert {t: n for t, n in pair.items() if t != "interest"} == {
        t: n for t, n in single.items() if t != "interest"
    }
    # the reader named "default" keeps today's paths; kai writes under out/readers/kai
    assert (tmp_path / "two/out/digests" / f"{DAY}.zh.md").exists()
    assert (tmp_path / "two/out/readers/kai/digests" / f"{DAY}.zh.md").exists()


def test_run_reader_runs_one_reader_only(tmp_path, keyed, capsys):
    cfg = config(
        tmp_path,
        keyed,
        '[[readers]]\nname = "ana"\n[[readers]]\nname = "ben"\nlanguage = "en"\nlanguages = []\n',
    )
    assert cli("--config", str(cfg), "run", "--sample", "--date", DAY, "--reader", "ben") == 0
    assert (tmp_path / "out/readers/ben/digests" / f"{DAY}.en.md").exists()
    assert not (tmp_path / "out/readers/ana").exists()
    capsys.readouterr()
    # --estimate for every reader counts the texts they share once
    assert cli("--config", str(cfg), "run", "--sample", "--date", DAY, "--estimate") == 0
    assert "interest" in capsys.readouterr().out
