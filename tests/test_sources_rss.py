"""The rss.arxiv.org feed: the recorded real feed, empty days, broken documents, and fetching over HTTP."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from paperradar.errors import DataError, NetworkError
from paperradar.sources.http import PoliteClient
from paperradar.sources.rss import EMPTY_NOTE, fetch_feed, parse_rss, split_authors
from tests.arxiv_server import ArxivServer, Reply, fixture_bytes

FEED = "rss_cs.LG+cs.AI+cs.CL+stat.ML.xml"


@pytest.fixture
def real_feed() -> bytes:
    return fixture_bytes(FEED)


def test_real_feed_day_and_kinds(real_feed: bytes) -> None:
    day = parse_rss(real_feed)
    assert day.day == date(2026, 9, 24)  # "Thu, 24 Sep 2026 00:00:00 -0400" as written, not UTC
    assert day.note is None
    assert Counter(a.kind for a in day.announcements) == {"new": 2, "cross": 1, "replace": 1}
    assert [a.arxiv_id for a in day.announcements] == ["2609.26811", "2609.26820", "2205.06398", "2009.13987"]
    assert all(a.day == date(2026, 9, 24) for a in day.announcements)
    cross = day.announcements[2]
    assert (cross.category, cross.kind, cross.version) == ("stat.ME", "cross", 2)


def test_real_feed_papers(real_feed: bytes) -> None:
    papers = {p.arxiv_id: p for p in parse_rss(real_feed).papers}
    assert len(papers) == 4
    signal = papers["2609.26820"]
    assert signal.authors == ["Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan"]
    assert signal.categories == ["cs.LG", "cs.AI"]
    assert signal.title.startswith("Signal2Symbol: Neuro-Symbolic Temporal Reasoning")
    drift = papers["2609.26811"]
    assert drift.authors == ["Fabien Polly"]
    assert drift.abstract.startswith("Local learning trains each layer with its own auxiliary loss")
    assert drift.abstract.endswith("precisely where normalization is absent.")
    assert "Announce Type" not in drift.abstract and "arXiv:" not in drift.abstract
    assert drift.source == "rss" and drift.version == 1
    assert papers["2009.13987"].version == 3
    assert papers["2205.06398"].doi == "10.1093/bioinformatics/btac431"
    assert papers["2205.06398"].categories == ["stat.ME", "stat.AP", "stat.ML"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Pritam Dey, Zhengwu Zhang, David B. Dunson", ["Pritam Dey", "Zhengwu Zhang", "David B. Dunson"]),
        ("Ileana Streinu and Louis Theran", ["Ileana Streinu", "Louis Theran"]),
        ("A. Smith, B. Jones and C. Brown", ["A. Smith", "B. Jones", "C. Brown"]),
        ("A. Smith, B. Jones, and C. Brown", ["A. Smith", "B. Jones", "C. Brown"]),
        ("Sandra Anderson, Alexandra Candela", ["Sandra Anderson", "Alexandra Candela"]),
        ("Martin Luther King, Jr., Rosa Parks", ["Martin Luther King Jr.", "Rosa Parks"]),
        ("  Wei  Zhang ,\n Yuki Tanaka ", ["Wei Zhang", "Yuki Tanaka"]),
        ("", []),
    ],
)
def test_split_authors(text: str, names: list[str]) -> None:
    assert split_authors(text) == names


def test_replace_cross_and_unknown_kinds(real_feed: bytes) -> None:
    text = real_feed.decode()
    text = text.replace(
        "<arxiv:announce_type>replace</arxiv:announce_type>",
        "<arxiv:announce_type>replace-cross</arxiv:announce_type>",
    )
    text = text.replace(
        "<arxiv:announce_type>cross</arxiv:announce_type>",
        "<arxiv:announce_type>mystery</arxiv:announce_type>",
    )
    day = parse_rss(text)  # str input works too
    kinds = {a.arxiv_id: a.kind for a in day.announcements}
    assert kinds["2009.13987"] == "replace-cross"
    assert "2205.06398" not in kinds  # an announce type we do not know is skipped, not guessed
    assert len(day.papers) == len(day.announcements) == 3


def test_empty_feed_has_note(real_feed: bytes) -> None:
    empty = re.sub(rb"<item>.*?</item>\s*", b"", real_feed, flags=re.S)
    assert b"<item>" not in empty
    day = parse_rss(empty)
    assert day.announcements == [] and day.papers == []
    assert day.note == EMPTY_NOTE and "weekends and holidays" in day.note
    assert day.day == date(2026, 9, 24)


def test_empty_feed_without_dates() -> None:
    xml = b"<?xml version='1.0'?><rss version='2.0'><channel><title>cs.IR</title></channel></rss>"
    day = parse_rss(xml)
    assert day.day is None and day.note == EMPTY_NOTE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[:3000],  # cut off mid-item
        lambda b: b.replace(b"</channel>", b""),  # mismatched tag
        lambda b: b.replace(b"<title>Random Polytope", b"<title>Random & Polytope"),  # bare ampersand
        lambda b: b"",
        lambda b: b"<html><body>Service Unavailable</body>",
    ],
    ids=["truncated", "mismatched", "ampersand", "empty", "html"],
)
def test_malformed_feed_is_data_error(real_feed: bytes, mangle: object) -> None:
    with pytest.raises(DataError) as info:
        parse_rss(mangle(real_feed), source="https://rss.arxiv.org/rss/cs.IR")  # type: ignore[operator]
    assert "https://rss.arxiv.org/rss/cs.IR" in info.value.message
    assert info.value.hint


def test_truncated_feed_message_says_not_valid_xml(real_feed: bytes) -> None:
    with pytest.raises(DataError, match=r"RSS feed from somewhere is not valid XML: .*no element found"):
        parse_rss(real_feed[:3000], source="somewhere")


def test_atom_document_is_not_an_rss_feed() -> None:
    with pytest.raises(DataError, match="not an RSS feed"):
        parse_rss(fixture_bytes("api_2026/id_1605.08386_s0_m100_199195aa31ad.xml"))


def test_fetch_feed_over_http(arxiv_server: ArxivServer, real_feed: bytes) -> None:
    arxiv_server.route("/rss/cs.LG+cs.AI+cs.CL+stat.ML", Reply(200, real_feed))
    with PoliteClient(delay=0, sleep=lambda s: None) as client:
        day = fetch_feed(client, arxiv_server.rss_url, ["cs.LG", "cs.AI", "cs.CL", "stat.ML"])
    assert len(day.announcements) == 4
    assert [r.path for r in arxiv_server.requests] == ["/rss/cs.LG+cs.AI+cs.CL+stat.ML"]


def test_fetch_feed_adds_missing_slash(arxiv_server: ArxivServer, real_feed: bytes) -> None:
    arxiv_server.route("/rss/cs.IR", Reply(200, real_feed))
    with PoliteClient(delay=0, sleep=lambda s: None) as client:
        fetch_feed(client, arxiv_server.rss_url.rstrip("/"), ["cs.IR"])
    assert arxiv_server.requests[0].path == "/rss/cs.IR"


def test_fetch_feed_errors_name_the_url(arxiv_server: ArxivServer, real_feed: bytes) -> None:
    arxiv_server.route("/rss/cs.IR", Reply(200, real_feed[:2000]))
    arxiv_server.route("/rss/cs.XX", Reply(404, b"nope"))
    with PoliteClient(delay=0, sleep=lambda s: None) as client:
        with pytest.raises(DataError) as bad:
            fetch_feed(client, arxiv_server.rss_url, ["cs.IR"])
        with pytest.raises(NetworkError) as missing:
            fetch_feed(client, arxiv_server.rss_url, ["cs.XX"])
    assert arxiv_server.rss_url + "cs.IR" in bad.value.message
    assert arxiv_server.rss_url + "cs.XX" in missing.value.message and "404" in missing.value.message


def test_cross_list_is_filed_under_the_watched_category() -> None:
    from tests.arxiv_server import synthetic_day

    day = synthetic_day(40, ["cs.IR"])
    feed = parse_rss(day.rss(), categories=["cs.IR"])
    crosses = [a for a in feed.announcements if a.kind in ("cross", "replace-cross")]
    assert crosses and all(a.category == "cs.IR" for a in crosses)
    # without the feed's categories the first listed category is kept (the primary)
    unfiled = parse_rss(day.rss())
    assert any(a.category != "cs.IR" for a in unfiled.announcements if a.kind == "cross")
