"""ArxivAPI look-ups and searches against the loopback server replaying recorded API answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from itertools import islice
from pathlib import Path

import pytest

from paperradar.errors import DataError, UsageError
from paperradar.sources.api import ArxivAPI
from paperradar.sources.atom import ArxivApiError, parse_atom
from paperradar.sources.http import HTTPStatusError, PoliteClient
from tests.arxiv_server import (
    FIXTURES,
    ArxivServer,
    Reply,
    fixture_bytes,
    fixture_reply,
    synthetic_day,
)


def paging_fixture(start: int) -> str:
    [path] = (FIXTURES / "api_2026").glob(f"q_testing_s{start}_m10_*.xml")
    return str(Path(path).relative_to(FIXTURES))


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    # The clock only moves when the client sleeps, so the politeness waits it asks for are exact and do
    # not depend on how long the loopback server took to answer.
    sleeps: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    with PoliteClient(delay=3.0, sleep=sleep, clock=lambda: now[0], max_retries=2) as c:
        c.sleeps = sleeps  # type: ignore[attr-defined]
        yield c


def test_lookup_batches_450_ids_in_3_requests(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    day = synthetic_day(450, ["cs.IR", "cs.AI"])
    day.install(arxiv_server)
    api = ArxivAPI(client, arxiv_server.api_url, batch_size=200)
    # Versions and duplicates in the input: versions are dropped (we want the latest), duplicates merged.
    asked = [f"{i}v1" for i in day.ids] + day.ids[:25]
    papers, missing = api.lookup(asked)
    assert missing == []
    assert [p.arxiv_id for p in papers] == day.ids
    assert client.request_count == 3
    requests = arxiv_server.requests
    assert [r.param("max_results") for r in requests] == ["200", "200", "50"]
    assert [len((r.param("id_list") or "").split(",")) for r in requests] == [200, 200, 50]
    assert "v1" not in (requests[0].param("id_list") or "")
    assert client.sleeps == [3.0, 3.0]  # type: ignore[attr-defined]


def test_lookup_reports_ids_the_api_omits(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    arxiv_server.route(
        "/api/query",
        fixture_reply("api_2026/id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.xml"),
        query={"id_list": "0808.05394,1707.08567"},
    )
    papers, missing = ArxivAPI(client, arxiv_server.api_url).lookup(["arXiv:0808.05394", "1707.08567v1"])
    assert [p.arxiv_id for p in papers] == ["1707.08567"]
    assert missing == ["0808.05394"]
    assert arxiv_server.requests[0].param("max_results") == "2"


def test_lookup_old_style_id(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    arxiv_server.route(
        "/api/query",
        fixture_reply("api_2026/id_astro-ph_0601001_s0_m100_3150dca9dc76.xml"),
        query={"id_list": "astro-ph/0601001"},
    )
    papers, missing = ArxivAPI(client, arxiv_server.api_url).lookup(
        ["https://arxiv.org/abs/astro-ph/0601001v1"]
    )
    assert missing == [] and papers[0].affiliations[0] == "Ohio State"


def test_lookup_of_nothing_sends_nothing(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    assert ArxivAPI(client, arxiv_server.api_url).lookup([]) == ([], [])
    assert arxiv_server.requests == []


def test_lookup_refuses_garbage_before_any_request(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    with pytest.raises(DataError, match="not an arXiv identifier"):
        ArxivAPI(client, arxiv_server.api_url).lookup(["2602.09386", "../../etc/passwd"])
    assert arxiv_server.requests == []


def test_http_400_error_feed_becomes_arxiv_api_error(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    arxiv_server.route("/api/query", fixture_reply("api_2026/id_abc_s0_m100_b79c8dcf6bc3.xml"))
    assert fixture_reply("api_2026/id_abc_s0_m100_b79c8dcf6bc3.xml").status == 400
    with pytest.raises(ArxivApiError) as info:
        ArxivAPI(client, arxiv_server.api_url).lookup(["2602.09386"])
    assert info.value.api_message == "incorrect id format for abc"
    assert client.request_count == 1  # a 400 is not retried


def test_http_400_without_error_feed_stays_a_network_error(
    arxiv_server: ArxivServer, client: PoliteClient
) -> None:
    arxiv_server.route("/api/query", Reply(400, b"Bad Request", content_type="text/plain"))
    with pytest.raises(HTTPStatusError) as info:
        ArxivAPI(client, arxiv_server.api_url).lookup(["2602.09386"])
    assert info.value.status == 400


def route_paging(server: ArxivServer, starts: list[int]) -> None:
    for start in starts:
        server.route("/api/query", fixture_reply(paging_fixture(start)), query={"start": str(start)})


def test_search_pages_with_start_and_max_results(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    starts = [0, 10, 20, 30, 40, 50]
    route_paging(arxiv_server, starts)
    api = ArxivAPI(client, arxiv_server.api_url)
    found = list(islice(api.search(["cs.IR", "cs.AI"], date(2026, 9, 1), date(2026, 9, 3), page_size=10), 60))
    expected = [p.arxiv_id for s in starts for p in parse_atom(fixture_bytes(paging_fixture(s))).papers]
    assert [p.arxiv_id for p in found] == expected and len(set(expected)) == 60
    requests = arxiv_server.requests
    assert [r.param("start") for r in requests] == [str(s) for s in starts]
    first = requests[0]
    assert (
        first.param("search_query")
        == "(cat:cs.IR OR cat:cs.AI) AND submittedDate:[202609010000 TO 202609032359]"
    )
    assert (first.param("sortBy"), first.param("sortOrder"), first.param("max_results")) == (
        "submittedDate",
        "ascending",
        "10",
    )


def test_search_stops_at_total_results(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    for start in (0, 10):
        body = fixture_bytes(paging_fixture(start)).replace(
            b"<opensearch:totalResults>214881<", b"<opensearch:totalResults>20<"
        )
        arxiv_server.route("/api/query", Reply(200, body), query={"start": str(start)})
    api = ArxivAPI(client, arxiv_server.api_url)
    found = list(api.search(["cs.IR"], date(2026, 9, 1), date(2026, 9, 1), page_size=10))
    assert len(found) == 20 and len(arxiv_server.requests) == 2
    assert (
        arxiv_server.requests[0].param("search_query")
        == "(cat:cs.IR) AND submittedDate:[202609010000 TO 202609012359]"
    )


def empty_page(total: int) -> Reply:
    body = fixture_bytes("api_2026/id_0000.0000_s0_m100_8b51d9633a68.xml").replace(
        b"<opensearch:totalResults>0<", f"<opensearch:totalResults>{total}<".encode()
    )
    return Reply(200, body)


def test_search_empty_page_mid_paging_ends_with_warning(
    arxiv_server: ArxivServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    route_paging(arxiv_server, [0, 10])
    arxiv_server.route("/api/query", empty_page(214881), query={"start": "20"})
    api = ArxivAPI(client, arxiv_server.api_url)
    with caplog.at_level(logging.WARNING, logger="paperradar.sources.api"):
        found = list(api.search(["cs.IR"], date(2026, 9, 1), date(2026, 9, 2), page_size=10))
    assert len(found) == 20
    assert [r.param("start") for r in arxiv_server.requests] == ["0", "10", "20", "20", "20"]
    assert any("empty page" in r.getMessage() for r in caplog.records)


def test_search_empty_page_then_recovers(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    route_paging(arxiv_server, [0, 10])
    arxiv_server.route(
        "/api/query", empty_page(214881), fixture_reply(paging_fixture(20)), query={"start": "20"}
    )
    api = ArxivAPI(client, arxiv_server.api_url)
    found = list(islice(api.search(["cs.IR"], date(2026, 9, 1), date(2026, 9, 2), page_size=10), 30))
    assert len(found) == 30
    assert [r.param("start") for r in arxiv_server.requests] == ["0", "10", "20", "20"]


def test_search_with_no_results_makes_one_request(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    arxiv_server.route("/api/query", empty_page(0))
    api = ArxivAPI(client, arxiv_server.api_url)
    assert list(api.search(["cs.IR"], date(2026, 9, 5), date(2026, 9, 6))) == []
    assert len(arxiv_server.requests) == 1


def test_search_refuses_reversed_dates(arxiv_server: ArxivServer, client: PoliteClient) -> None:
    api = ArxivAPI(client, arxiv_server.api_url)
    with pytest.raises(UsageError, match="reversed"):
        list(api.search(["cs.IR"], date(2026, 9, 6), date(2026, 9, 5)))
    assert arxiv_server.requests == []
