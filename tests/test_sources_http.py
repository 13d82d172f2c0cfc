"""PoliteClient against a real loopback server: spacing, identification, retries, and failure messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import pairwise

import pytest

from paperradar import __version__
from paperradar.errors import EXIT_NETWORK, NetworkError
from paperradar.sources.http import MAX_WAIT, HTTPStatusError, PoliteClient, parse_retry_after, user_agent
from tests.arxiv_server import ArxivServer, Reply, unused_port
from tests.fake_time import FakeTime


def make_client(fake: FakeTime, **kwargs: object) -> PoliteClient:
    options: dict[str, object] = {"delay": 3.0, "timeout": 5.0, "max_retries": 4}
    options.update(kwargs)
    return PoliteClient(sleep=fake.sleep, clock=fake.clock, **options)  # type: ignore[arg-type]


def test_429_then_200_is_retried(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/api/query", Reply(429), Reply(200, b"<feed/>"))
    fake = FakeTime()
    with make_client(fake) as client:
        response = client.get(arxiv_server.api_url, params={"id_list": "2602.09386"})
        assert response.status_code == 200 and response.content == b"<feed/>"
        assert client.request_count == 2
    assert len(arxiv_server.requests) == 2
    assert all(r.param("id_list") == "2602.09386" for r in arxiv_server.requests)
    assert fake.sleeps and fake.sleeps[0] >= 3.0  # backoff never below arXiv's spacing


def test_503_retry_after_seconds_is_honoured(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/api/query", Reply(503, headers={"Retry-After": "7"}), Reply(200, b"ok"))
    fake = FakeTime()
    with make_client(fake, delay=0.0) as client:  # backoff alone would wait 1 s
        assert client.get(arxiv_server.api_url).content == b"ok"
    assert len(fake.sleeps) == 1 and fake.sleeps[0] >= 7.0


def test_503_retry_after_http_date_is_honoured(arxiv_server: ArxivServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    arxiv_server.route("/api/query", Reply(503, headers={"Retry-After": when}), Reply(200, b"ok"))
    fake = FakeTime()
    with make_client(fake, delay=0.0) as client:
        client.get(arxiv_server.api_url)
    assert 100 <= fake.sleeps[0] <= 121


def test_retry_after_past_the_cap_gives_up_at_once(arxiv_server: ArxivServer) -> None:
    # Issue 12: a server asking for a day is not waited for (it was, up to MAX_WAIT, per retry).
    arxiv_server.route("/api/query", Reply(429, headers={"Retry-After": "86400"}), Reply(200, b"ok"))
    fake = FakeTime()
    with make_client(fake) as client, pytest.raises(NetworkError) as info:
        client.get(arxiv_server.api_url)
    assert fake.sleeps == [] and len(arxiv_server.requests) == 1
    assert "86400 s" in info.value.message and "[sources].max_retry_after = 300 s" in info.value.message
    assert info.value.exit_code == EXIT_NETWORK and "kept" in (info.value.hint or "")


def test_retry_after_within_the_cap_is_waited_for(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/api/query", Reply(429, headers={"Retry-After": "250"}), Reply(200, b"ok"))
    fake = FakeTime()
    with make_client(fake) as client:
        client.get(arxiv_server.api_url)
    assert fake.sleeps == [250.0] and MAX_WAIT >= 250


def test_retries_exhausted_names_url_and_status(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/api/query", Reply(503))
    fake = FakeTime()
    with make_client(fake, max_retries=2) as client, pytest.raises(NetworkError) as info:
        client.get(arxiv_server.api_url, params={"id_list": "2602.09386"})
    assert client.request_count == 3 and len(arxiv_server.requests) == 3
    assert arxiv_server.api_url in info.value.message and "503" in info.value.message
    assert "3 attempts" in info.value.message
    assert info.value.exit_code == EXIT_NETWORK and "wait" in (info.value.hint or "")
    # Exponential backoff between the attempts: 3 s, then 6 s.
    assert fake.sleeps == [3.0, 6.0]


def test_other_4xx_fails_at_once(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/rss/cs.XX", Reply(404, b"not found", content_type="text/plain"))
    fake = FakeTime()
    with make_client(fake) as client, pytest.raises(HTTPStatusError) as info:
        client.get(arxiv_server.rss_url + "cs.XX")
    assert client.request_count == 1 and fake.sleeps == []
    assert isinstance(info.value, NetworkError) and info.value.status == 404
    assert "404" in info.value.message and arxiv_server.rss_url + "cs.XX" in info.value.message


def test_dead_port_gives_network_error_suggesting_sample() -> None:
    url = f"http://127.0.0.1:{unused_port()}/rss/cs.IR"
    fake = FakeTime()
    with make_client(fake, max_retries=2) as client, pytest.raises(NetworkError) as info:
        client.get(url)
    assert client.request_count == 3
    assert url in info.value.message and "cannot connect" in info.value.message
    assert "--sample" in (info.value.hint or "") and "network" in (info.value.hint or "")


def test_timeout_is_retried(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/api/query", Reply(200, b"slow", delay=0.6), Reply(200, b"fast"))
    fake = FakeTime()
    with make_client(fake, timeout=0.2) as client:
        assert client.get(arxiv_server.api_url).content == b"fast"
        assert client.request_count == 2


def test_politeness_delay_is_requested(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/api/query", Reply(200, b"ok"))
    fake = FakeTime()
    with make_client(fake) as client:
        client.get(arxiv_server.api_url)
        assert fake.sleeps == []  # the first request does not wait
        client.get(arxiv_server.api_url)
        fake.now += 1.0  # one second of work between requests counts towards the spacing
        client.get(arxiv_server.api_url)
    assert fake.sleeps == [3.0, 2.0]


def test_politeness_delay_is_real(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/api/query", Reply(200, b"ok"))
    with PoliteClient(delay=0.2, timeout=5.0) as client:
        for _ in range(3):
            client.get(arxiv_server.api_url)
    times = [r.time for r in arxiv_server.requests]
    assert len(times) == 3
    assert all(b - a >= 0.19 for a, b in pairwise(times))


def test_user_agent_names_paperradar_and_contact(arxiv_server: ArxivServer) -> None:
    arxiv_server.route("/api/query", Reply(200, b"ok"))
    fake = FakeTime()
    with make_client(fake, contact="reader@example.org") as client:
        client.get(arxiv_server.api_url)
    agent = arxiv_server.requests[0].headers["user-agent"]
    assert agent.startswith(f"paperradar/{__version__} (+https://github.com/paperradar/paperradar")
    assert "mailto:reader@example.org" in agent


def test_user_agent_without_contact() -> None:
    assert user_agent("") == f"paperradar/{__version__} (+https://github.com/paperradar/paperradar)"
    assert "mailto" not in user_agent("  ")
    assert user_agent("me@example.org\r\nX-Evil: 1") == user_agent("me@example.orgX-Evil:1")


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 9, 24, 12, 0, tzinfo=UTC)
    assert parse_retry_after("5", now) == 5.0
    assert parse_retry_after("Thu, 24 Sep 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 24 Sep 2026 11:00:00 GMT", now) == 0.0  # in the past: go now
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("99999", now) == MAX_WAIT


def test_client_closes() -> None:
    client = PoliteClient(sleep=lambda s: None)
    client.close()
    with pytest.raises(RuntimeError):
        client.get("http://127.0.0.1:1/")
