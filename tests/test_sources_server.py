"""The replay server itself, and a synthetic announcement day fetched the way a daily run does it."""

from __future__ import annotations

from collections import Counter
from datetime import date

import httpx

from paperradar.sources import ArxivAPI, PoliteClient, fetch_feed
from tests.arxiv_server import ArxivServer, Reply, recorded_query, synthetic_day


def test_routes_queue_and_log(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/x", Reply(503), Reply(200, b"one"), Reply(200, b"two"))
    arxiv_server.route("/x", Reply(200, b"special"), query={"id_list": "1"})
    arxiv_server.route("/p/", Reply(200, b"prefix"), prefix=True)
    arxiv_server.route("/h", handler=lambda r: Reply(200, (r.param("q") or "").upper().encode()))
    with httpx.Client(base_url=arxiv_server.url) as c:
        assert [c.get("/x").status_code, c.get("/x").text, c.get("/x").text, c.get("/x").text] == [
            503,
            "one",
            "two",
            "two",  # the last reply repeats
        ]
        assert c.get("/x", params={"id_list": "1"}).text == "special"
        assert c.get("/p/cs.IR+cs.AI").text == "prefix"
        assert c.get("/h", params={"q": "abc"}).text == "ABC"
        assert c.get("/nowhere").status_code == 404
    log = arxiv_server.requests
    assert len(log) == 8 and log[4].param("id_list") == "1" and log[5].path == "/p/cs.IR+cs.AI"
    assert "user-agent" in log[0].headers


def test_recorded_query_reads_meta() -> None:
    query = recorded_query("api_2026/id_astro-ph_0601001_s0_m100_3150dca9dc76.xml")
    assert query["id_list"] == "astro-ph/0601001" and query["max_results"] == "100"


def test_synthetic_day_like_a_daily_run(arxiv_server: ArxivServer) -> None:
    day = synthetic_day(500, ["cs.IR", "cs.AI"], day=date(2026, 9, 24))
    day.install(arxiv_server)
    sleeps: list[float] = []
    with PoliteClient(delay=3.0, sleep=sleeps.append) as client:
        feed = fetch_feed(client, arxiv_server.rss_url, ["cs.IR", "cs.AI"])
        assert feed.day == date(2026, 9, 24) and len(feed.announcements) == 500
        kinds = Counter(a.kind for a in feed.announcements)
        assert kinds == {"new": 300, "cross": 125, "replace": 50, "replace-cross": 25}
        papers, missing = ArxivAPI(client, arxiv_server.api_url).lookup(
            [a.arxiv_id for a in feed.announcements]
        )
        assert client.request_count == 4  # 1 feed + 3 look-ups of <= 200 ids
    assert missing == [] and len(papers) == 500
    by_id = {p.arxiv_id: p for p in papers}
    for rss_paper in feed.papers:
        api_paper = by_id[rss_paper.arxiv_id]
        assert api_paper.title == rss_paper.title and api_paper.authors == rss_paper.authors
        assert api_paper.version == rss_paper.version and api_paper.categories == rss_paper.categories
    assert len(sleeps) == 3


def test_synthetic_day_is_deterministic() -> None:
    a = synthetic_day(30, ["cs.IR"], seed=7)
    b = synthetic_day(30, ["cs.IR"], seed=7)
    assert a.rss() == b.rss() and a.atom_for(a.ids) == b.atom_for(b.ids)
    assert synthetic_day(30, ["cs.IR"], seed=8).rss() != a.rss()
