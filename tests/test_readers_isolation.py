"""Two readers, one config, one archive (issue 13's "done when"): different languages, muted topics and
channels. Each gets their own digest, site, feed and delivery (the loopback SMTP server and webhook
receiver of tests/deliver_servers.py), with nothing of the other's in it — ratings, library and interests
stay the reader's — while every text both need is asked of the model (the fake OpenAI-compatible server)
only once."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.cli_runner import cli
from tests.deliver_servers import SMTPServer, WebhookServer
from tests.fake_llm import FakeLLM

DAY = "2026-02-10"
KEY = "sk-test-readers-5c0ffee"
HOOK = "/hooks/T0READERS/0123456789abcdef"
PERSONAL = Path(__file__).parent / "fixtures" / "personal"
ANA_PROFILE = "ANA-PROFILE sequential recommendation and user modeling"
BEN_PROFILE = "BEN-PROFILE dense retrieval and learning to rank"


def two_readers(folder: Path, llm: FakeLLM, smtp_port: int) -> Path:
    path = folder / "paperradar.toml"
    path.write_text(
        f"""
[store]
path = "radar.db"
[output]
folder = "out"
[llm]
backend = "openai"
concurrency = 4
[[llm.endpoints]]
base_url = "{llm.url}"
model = "{llm.model}"
api_key_env = "RADAR_TEST_KEY"
[delivery]
retries = 1
backoff = 0.0
[delivery.webhook]
url_env = "RADAR_HOOK"

[[readers]]
name = "ana"
language = "zh"
interests = "{ANA_PROFILE}"
channels = ["webhook"]
[readers.muted]
terms = ["large language model"]

[[readers]]
name = "ben"
language = "en"
languages = []
interests = "{BEN_PROFILE}"
channels = ["mail"]
[readers.muted]
terms = ["recommendation"]
mode = "demote"
[readers.delivery.mail]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_addr = "radar@example.org"
to = ["ben@example.org"]
""",
        encoding="utf-8",
    )
    return path


def ids(text: str) -> list[str]:
    return re.findall(r"arxiv\.org/abs/([0-9.]+)v\d+", text)


def muted_ids(db: Path, reader: str) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT arxiv_id, explanation FROM ranks WHERE reader = ? AND day = ?", (reader, DAY)
        ).fetchall()
    finally:
        conn.close()
    return {pid for pid, explanation in rows if explanation and '"muted"' in explanation}


@pytest.fixture
def keyed(fake_style_llm: FakeLLM, monkeypatch):
    fake_style_llm.api_key = KEY
    monkeypatch.setenv("RADAR_TEST_KEY", KEY)
    return fake_style_llm


def test_two_readers_get_their_own_digest_site_feed_and_delivery(tmp_path, keyed, monkeypatch, capsys):
    with SMTPServer() as smtp, WebhookServer() as hook:
        monkeypatch.setenv("RADAR_HOOK", hook.url(HOOK))
        cfg = two_readers(tmp_path, keyed, smtp.port)
        assert cli("--config", str(cfg), "run", "--sample", "--date", DAY) == 0
        out = capsys.readouterr().out
        assert "reader ana:" in out and "reader ben:" in out

        # -- digests: each in the reader's language and folder, muted papers counted and explained
        ana_md = (tmp_path / "out/readers/ana/digests" / f"{DAY}.zh.md").read_text(encoding="utf-8")
        ben_md = (tmp_path / "out/readers/ben/digests" / f"{DAY}.en.md").read_text(encoding="utf-8")
        assert not (tmp_path / "out/digests").exists()  # no reader is "default": nothing at the old paths
        db = tmp_path / "radar.db"
        ana_muted, ben_muted = muted_ids(db, "ana"), muted_ids(db, "ben")
        assert ana_muted and ben_muted and ana_muted != ben_muted
        assert re.search(
            r"\*\*已屏蔽\*\*: \d+ 篇论文已按屏蔽设置略去（词语「large language model」：\d+ 篇）", ana_md
        )
        assert re.search(
            r'\*\*Muted\*\*: \d+ paper\(s\) moved to the end by your mutes \(term "recommendation"', ben_md
        )
        assert not set(ids(ana_md)) & ana_muted  # dropped: never listed
        listed = ids(ben_md)
        shown_muted = [i for i in listed if i in ben_muted]
        assert listed[len(listed) - len(shown_muted) :] == shown_muted  # demoted: after every other paper

        # -- delivery: ana's digest to the webhook only, ben's to the mailbox only
        assert len(hook.requests) == 1 and len(smtp.handler.mails) == 1
        body = hook.requests[-1].json()
        assert body["day"] == DAY and [i["arxiv_id"] for i in body["items"]] == ids(ana_md)
        assert smtp.handler.mails[0][1] == ["ben@example.org"]
        mail = smtp.handler.parsed().get_body(preferencelist=("plain",)).get_content()
        assert set(ids(mail)) == set(listed) and "已屏蔽" not in mail

        # -- the model: the papers both readers score go in shared calls, each profile in its own data block
        # (llm/panel.py); a paper only one reader scores (ana drops her muted ones) names that reader alone;
        # no other text asked twice (ana's zh briefs, ben's en titles and summaries, styles once each)
        interest = [c for c in keyed.chat_calls if c.task == "interest"]
        shared = [c for c in interest if '<profile id="' in c.text]
        assert shared
        for c in shared:
            blocks = re.findall(r'<profile id="p\d+">\n(.*?)\n</profile>', c.body["messages"][0]["content"])
            assert sorted(blocks) == sorted([ANA_PROFILE, BEN_PROFILE])
        assert all((ANA_PROFILE in c.text) != (BEN_PROFILE in c.text) for c in interest if c not in shared)
        asked = [(c.task, c.language, tuple(c.ids)) for c in keyed.chat_calls if c.task != "interest"]
        assert len(asked) == len(set(asked))

        # -- ana rates and imports a library; ben's next day is byte-identical and has none of it
        before = ben_md
        top = ids(ana_md)[0]
        assert cli("--config", str(cfg), "rate", "--reader", "ana", top, "down") == 0
        library = str(PERSONAL / "zotero-export.bib")
        assert cli("--config", str(cfg), "library", "import", "--reader", "ana", "--offline", library) == 0
        assert cli("--config", str(cfg), "run", "--sample", "--date", DAY) == 0
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("SELECT DISTINCT reader FROM ratings").fetchall() == [("ana",)]
            assert conn.execute("SELECT DISTINCT reader FROM library").fetchall() == [("ana",)]
        finally:
            conn.close()
        after = (tmp_path / "out/readers/ben/digests" / f"{DAY}.en.md").read_text(encoding="utf-8")
        assert after == before
        assert len(smtp.handler.mails) == 2 and len(hook.requests) == 2

    # -- sites: one per reader, in the reader's folder, with their own feeds and muted note
    capsys.readouterr()
    assert cli("--config", str(cfg), "publish", "site") == 0
    ana_site, ben_site = tmp_path / "out/readers/ana/site", tmp_path / "out/readers/ben/site"
    ana_feed = (ana_site / "feed.xml").read_text(encoding="utf-8")
    ben_feed = (ben_site / "atom.xml").read_text(encoding="utf-8")
    assert not any(pid in ana_feed for pid in ana_muted)  # a dropped paper is not in ana's feed
    assert any(pid in ben_feed for pid in ben_muted)  # a demoted one is still in ben's
    ana_day = (ana_site / "days" / f"{DAY}.html").read_text(encoding="utf-8")
    ben_day = (ben_site / "days" / f"{DAY}.html").read_text(encoding="utf-8")
    assert "已按屏蔽设置略去" in ana_day and "moved to the end by your mutes" not in ana_day
    assert "moved to the end by your mutes" in ben_day and "屏蔽" not in ben_day
    assert not any((ana_site / "papers" / f"{pid}.html").exists() for pid in ana_muted - ben_muted)

    # -- one reader at a time: an unknown reader is a usage error naming the known ones
    assert cli("--config", str(cfg), "run", "--sample", "--date", DAY, "--reader", "zoe") == 2
    assert "ana, ben" in capsys.readouterr().err
