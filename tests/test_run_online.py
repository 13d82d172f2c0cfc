"""`paperradar run` against arXiv replayed on loopback: the feed says what was announced, batched API
look-ups complete it, the digest holds exactly that day's announcements."""

from __future__ import annotations

import re
import socket

import pytest

from tests.arxiv_server import ArxivServer, synthetic_day
from tests.cli_runner import cli


@pytest.fixture
def server():
    with ArxivServer() as srv:
        yield srv


def online_config(write_config, server: ArxivServer, extra: str = ""):
    return write_config(
        f'[sources]\ncategories = ["cs.IR", "cs.LG"]\nrss_url = "{server.rss_url}"\napi_url = "{server.api_url}"\n'
        f'html_url = "{server.url}/html"\n'
        f'request_delay = 0.0\nmax_retries = 1\ncontact = "radar@example.org"\n{extra}'
    )


def test_daily_run_takes_in_the_feed_day(write_config, server, capsys):
    day = synthetic_day(450, ["cs.IR", "cs.LG"])
    day.install(server)
    cfg = online_config(write_config, server)
    assert cli("--config", str(cfg), "run") == 0
    out = capsys.readouterr().out
    assert "2026-09-24" in out
    # one feed request plus ceil(450 / 200) = 3 batched look-ups
    assert len(server.requests_to("/rss/cs.IR+cs.LG")) == 1
    lookups = server.requests_to("/api/query")
    assert len(lookups) == 3
    agents = [{k.lower(): v for k, v in r.headers.items()}["user-agent"] for r in server.requests]
    assert all("paperradar" in a and "radar@example.org" in a for a in agents)
    text = (cfg.parent / "out" / "digests" / "2026-09-24.zh.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"arxiv\.org/abs/([0-9.]+)v\d+", text))
    wanted = {p.arxiv_id for p in day.papers if p.kind in ("new", "cross")}  # replacements are off by default
    assert len(listed) == 20 and listed <= wanted

    # the same day again from the store: no network at all, identical bytes
    before = text
    server.reset()
    assert cli("--config", str(cfg), "run", "--date", "2026-09-24") == 0
    assert server.requests == []
    assert (cfg.parent / "out" / "digests" / "2026-09-24.zh.md").read_text(encoding="utf-8") == before


def test_replacements_can_be_included(write_config, server):
    day = synthetic_day(60, ["cs.IR"])
    day.install(server)
    cfg = online_config(write_config, server, "include_replacements = true\ninclude_cross_lists = false\n")
    cfg.write_text(cfg.read_text().replace('categories = ["cs.IR", "cs.LG"]', 'categories = ["cs.IR"]'))
    assert cli("--config", str(cfg), "-q", "export", "--all") == 4  # nothing stored yet: a clear data error
    assert cli("--config", str(cfg), "run") == 0
    assert cli("--config", str(cfg), "export", "--all", "-o", str(cfg.parent / "all.jsonl")) == 0
    kinds = set(
        re.findall(r'"announce_kind":"([a-z-]+)"', (cfg.parent / "all.jsonl").read_text().replace(" ", ""))
    )
    assert kinds == {"new", "replace", "replace-cross"}


def test_empty_feed_is_an_explicit_result(write_config, server, capsys):
    empty = (
        b"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0' xmlns:arxiv='http://arxiv.org/schemas/atom'>"
        b"<channel><title>cs.IR updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.IR</link>"
        b"<description>cs.IR updates</description><pubDate>Mon, 28 Sep 2026 00:00:00 -0400</pubDate>"
        b"</channel></rss>"
    )
    from tests.arxiv_server import Reply

    server.route("/rss/", Reply(body=empty, content_type="application/rss+xml"), prefix=True)
    cfg = online_config(write_config, server)
    assert cli("--config", str(cfg), "run") == 0
    out = capsys.readouterr().out
    assert "no new papers announced for 2026-09-28" in out
    text = (cfg.parent / "out" / "digests" / "2026-09-28.zh.md").read_text(encoding="utf-8")
    assert "没有新论文公布" in text and "周末和节假日" in text


def test_truncated_feed_is_a_data_error_that_keeps_the_store(write_config, server, capsys):
    from tests.arxiv_server import Reply

    day = synthetic_day(30, ["cs.IR"])
    day.install(server)
    cfg = online_config(write_config, server)
    assert cli("--config", str(cfg), "run") == 0
    capsys.readouterr()
    server.route("/rss/", Reply(body=day.rss()[:700], content_type="application/rss+xml"), prefix=True)
    assert cli("--config", str(cfg), "run") == 4
    err = capsys.readouterr().err
    assert "error:" in err and "XML" in err and "Traceback" not in err
    # what was already processed is still there
    assert cli("--config", str(cfg), "run", "--date", "2026-09-24") == 0


def test_dead_port_names_the_url_and_suggests_sample(write_config, capsys):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    cfg = write_config(
        f'[sources]\nrss_url = "http://127.0.0.1:{port}/rss/"\napi_url = "http://127.0.0.1:{port}/api/query"\n'
        "request_delay = 0.0\nmax_retries = 0\n"
    )
    assert cli("--config", str(cfg), "run") == 3
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "--sample" in err and "Traceback" not in err


def test_init_writes_commented_config(tmp_path, capsys):
    path = tmp_path / "p.toml"
    assert cli("init", "--path", str(path)) == 0
    text = path.read_text(encoding="utf-8")
    assert text.count("#") > 20 and 'language = "zh"' in text
    assert cli("init", "--path", str(path)) == 2
    assert "--force" in capsys.readouterr().err
    assert cli("--config", str(path), "run", "--sample") == 0
