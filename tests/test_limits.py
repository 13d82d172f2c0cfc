"""Issue 12, items 1 and 2, against misbehaving servers on loopback (tests/misbehaving_server.py) and real
files: every size is capped where data enters, and every wait has a deadline."""

from __future__ import annotations

import gzip
import logging
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from paperradar.errors import EXIT_DATA, EXIT_NETWORK, BusyError, DataError, NetworkError
from paperradar.llm.config import LLMConfig
from paperradar.llm.default_plugins.openai import OpenAIBackend
from paperradar.llm.seam import Declined
from paperradar.publish.deliver import DeliveryConfig, deliver, from_records
from paperradar.rank.personal.bibtex import parse_bibtex
from paperradar.sources.api import ArxivAPI
from paperradar.sources.files import read_jsonl
from paperradar.sources.http import Limits, PoliteClient
from paperradar.sources.rss import parse_rss
from paperradar.store import Store
from tests.llm_backend_setup import papers, reqs
from tests.misbehaving_server import BadHTTP, TrickleSMTP, gzip_bomb

MIB = 1 << 20


@pytest.fixture(scope="module")
def bad() -> BadHTTP:
    gzip_bomb(256 * MIB)  # made (and cached) before any test measures memory: the server runs in-process
    with BadHTTP() as server:
        server.bomb_bytes = 256 * MIB
        server.trickle_interval = 0.2
        yield server


def client(**kwargs: object) -> PoliteClient:
    options: dict[str, object] = {"delay": 0.0, "timeout": 5.0, "max_retries": 0, "sleep": lambda s: None}
    options.update(kwargs)
    return PoliteClient(**options)  # type: ignore[arg-type]


# -- byte caps -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["gzip-bomb/rss/cs.IR", "endless/rss/cs.IR"])
def test_a_body_past_its_cap_is_refused_in_bounded_memory(bad: BadHTTP, path: str) -> None:
    tracemalloc.start()
    try:
        with client(limits=Limits(feed=MIB)) as c, pytest.raises(DataError) as info:
            c.get(f"{bad.url}/{path}", max_bytes=c.limits.feed, limit_key="[sources].max_feed_bytes")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than 1,048,576 bytes once decompressed" in info.value.message
    assert "[sources].max_feed_bytes" in (info.value.hint or "") and info.value.exit_code == EXIT_DATA
    assert peak < 8 * MIB, peak  # the cap plus one 64 KiB inflate step, never the 256 MiB


@pytest.mark.parametrize("path", ["bad-gzip/x", "cut-gzip/x"])
def test_a_body_that_is_not_the_gzip_it_claims_is_a_data_error(bad: BadHTTP, path: str) -> None:
    with client() as c, pytest.raises(DataError, match="gzip"):
        c.get(f"{bad.url}/{path}")


def test_a_redirect_loop_is_a_network_error_naming_the_url(bad: BadHTTP) -> None:
    with client() as c, pytest.raises(NetworkError, match="redirect loop") as info:
        c.get(f"{bad.url}/redirect-loop/rss/cs.IR")
    assert "/redirect-loop/rss/cs.IR" in info.value.message and info.value.exit_code == EXIT_NETWORK


def backend(base_url: str, **llm: object) -> OpenAIBackend:
    endpoint = {"base_url": base_url, "model": "fake-model", "timeout": 5.0}
    cfg = LLMConfig.model_validate(
        {"backend": "openai", "endpoints": [endpoint], "max_retries": 0, "json_schema": "off", **llm}
    )
    return OpenAIBackend(cfg, interests="ranking")


@pytest.mark.parametrize("path", ["gzip-bomb", "endless"])
def test_an_llm_answer_past_its_cap_declines_that_call(bad: BadHTTP, path: str) -> None:
    [result] = backend(f"{bad.url}/{path}/v1", max_response_bytes=MIB).write(reqs(papers(1), "title"))
    assert isinstance(result, Declined) and result.status == "failed"
    assert "larger than 1,048,576 bytes" in result.detail


def test_a_webhook_answer_past_its_cap_fails_the_delivery(bad: BadHTTP) -> None:
    msg = from_records(__import__("datetime").date(2026, 2, 10), "en", "# digest", [])
    dcfg = DeliveryConfig.model_validate({"webhook": {"url_env": "HOOK"}, "retries": 0})
    result = deliver("webhook", msg, dcfg, env={"HOOK": f"{bad.url}/endless/hook"}, sleep=lambda s: None)
    assert not result.ok and "more than 1,048,576 bytes" in result.detail


def test_a_jsonl_line_past_its_cap_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    src = tmp_path / "bomb.jsonl.gz"
    with gzip.open(src, "wb", compresslevel=1) as fh:
        fh.write(b'{"id": "2602.00001", "title": "good", "abstract": "ok"}\n')
        fh.write(b'{"id": "2602.00002", "title": "bomb", "abstract": "' + b"a" * (24 * MIB) + b'"}\n')
        fh.write(b'{"id": "2602.00003", "title": "good too", "abstract": "ok"}\n')
    tracemalloc.start()
    try:
        reader = read_jsonl(src, errors="skip", max_line_bytes=MIB)
        ids = [paper.arxiv_id for paper, _ in reader]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ids == ["2602.00001", "2602.00003"] and reader.stats.skipped == 1
    assert "line 2: longer than 1,048,576 bytes ([sources].max_line_bytes)" in reader.stats.errors[0]
    assert peak < 16 * MIB, peak
    with pytest.raises(DataError, match="max_line_bytes"):
        list(read_jsonl(src, max_line_bytes=MIB))


def test_a_field_past_its_cap_is_not_stored(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    big = "word " * 60_000  # 300,000 characters: far past any real abstract, under the line cap
    src.write_text(
        f'{{"id": "2602.00001", "title": "t", "abstract": "{big}"}}\n{{"id": "2602.00002", "title": "u"}}\n'
    )
    reader = read_jsonl(src, errors="skip")
    assert [p.arxiv_id for p, _ in reader] == ["2602.00002"]
    assert (
        "abstract is 299,999 characters long, more than [sources].max_field_chars = 262,144"
        in (reader.stats.errors[0])
    )


def test_bibtex_macros_that_double_are_refused_quickly() -> None:
    # 812 bytes that expand to 2^31 characters before the cap (issue 12).
    text = '@string{m0 = "xxxxxxxx"}\n' + "".join(
        f"@string{{m{i} = m{i - 1} # m{i - 1}}}\n" for i in range(1, 32)
    )
    text += "@article{k, title = m31}\n"
    started = time.perf_counter()
    with pytest.raises(DataError, match="expands past 1,048,576 characters"):
        parse_bibtex(text)
    assert time.perf_counter() - started < 2


def test_a_doctype_past_the_first_64_kib_is_still_refused() -> None:
    laughs = b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    doc = b'<?xml version="1.0"?>\n<!--' + b"x" * 70_000 + b"-->\n" + laughs
    doc += b'<rss version="2.0"><channel><title>&b;</title></channel></rss>'
    with pytest.raises(DataError, match="DTD"):
        parse_rss(doc)


# -- deadlines -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["trickle/rss/cs.IR", "trickle-head/rss/cs.IR"])
def test_a_trickling_server_ends_at_the_request_deadline(bad: BadHTTP, path: str) -> None:
    started = time.monotonic()
    with client(request_deadline=1.0) as c, pytest.raises(NetworkError, match="1 s deadline"):
        c.get(f"{bad.url}/{path}")
    assert time.monotonic() - started < 1.0 + 1.5


def test_the_stage_deadline_bounds_retries_and_waits(bad: BadHTTP) -> None:
    started = time.monotonic()
    c = client(request_deadline=0.6, max_retries=10, sleep=time.sleep)
    with c, c.stage("the day's intake from arXiv", 1.5), pytest.raises(NetworkError) as info:
        c.get(f"{bad.url}/silent/rss/cs.IR")
    assert time.monotonic() - started < 1.5 + 1.5
    assert "the day's intake from arXiv did not finish within its 1.5 s deadline" in info.value.message
    assert "[sources].stage_deadline" in (info.value.hint or "")


def test_paging_stops_when_a_page_brings_nothing_new(bad: BadHTTP) -> None:
    from datetime import date

    with client() as c:
        found = list(
            ArxivAPI(c, f"{bad.url}/api-no-progress/query").search(
                ["cs.IR"], date(2026, 2, 1), date(2026, 2, 2)
            )
        )
    assert [p.arxiv_id for p in found] == ["2602.09386"]
    assert len([r for r in bad.requests if "api-no-progress" in r[1]]) == 2  # not 10^9 pages


def test_an_llm_that_trickles_ends_at_its_timeout(bad: BadHTTP) -> None:
    started = time.monotonic()
    b = backend(f"{bad.url}/trickle/v1")
    b.cfg.endpoints[0].timeout = 1.0
    [result] = b.write(reqs(papers(1), "title"))
    assert isinstance(result, Declined) and "within 1s" in result.detail
    assert time.monotonic() - started < 1.0 + 1.5


def test_a_trickling_webhook_ends_at_the_delivery_deadline(bad: BadHTTP) -> None:
    msg = from_records(__import__("datetime").date(2026, 2, 10), "en", "# digest", [])
    dcfg = DeliveryConfig.model_validate({"webhook": {"url_env": "HOOK"}, "retries": 5, "deadline": 1.5})
    started = time.monotonic()
    result = deliver("webhook", msg, dcfg, env={"HOOK": f"{bad.url}/trickle/hook"}, sleep=time.sleep)
    assert not result.ok and "deadline of 1.5 s" in result.detail
    assert time.monotonic() - started < 1.5 + 1.5


def test_a_trickling_smtp_server_ends_at_the_delivery_deadline() -> None:
    msg = from_records(__import__("datetime").date(2026, 2, 10), "en", "# digest", [])
    with TrickleSMTP(interval=0.2) as smtp:
        dcfg = DeliveryConfig.model_validate(
            {
                "mail": {
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "security": "none",
                    "from_addr": "a@example.org",
                    "to": ["b@example.org"],
                },
                "retries": 3,
                "deadline": 1.5,
                "timeout": 30,
            }
        )
        started = time.monotonic()
        result = deliver("mail", msg, dcfg, env={}, sleep=time.sleep)
    assert not result.ok and result.failure == "unavailable" and "deadline of 1.5 s" in result.detail
    assert time.monotonic() - started < 1.5 + 1.5


# -- the run lock ---------------------------------------------------------------------------------------
def test_a_bounded_lock_wait_names_the_holder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Store(tmp_path / "radar.db") as holder, Store(tmp_path / "radar.db") as second:
        holder.acquire_lock(verb="import")
        started = time.monotonic()
        with caplog.at_level(logging.WARNING), pytest.raises(BusyError) as info:
            second.acquire_lock(wait=0.5, verb="run")
        assert 0.5 <= time.monotonic() - started < 2
        assert f"pid {os.getpid()} (`paperradar import`, started " in info.value.message
        assert "waited 0.5 s" in info.value.message
        assert any("waiting up to 0.5 s" in r.getMessage() for r in caplog.records)  # never silently


def test_a_holder_that_died_is_taken_over_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = tmp_path / "radar.db.lock"
    lock.write_text('{"pid": 999999, "host": "h", "started": "2026-02-10T06:00:00+00:00", "verb": "run"}')
    with Store(tmp_path / "radar.db") as store, caplog.at_level(logging.WARNING):
        store.acquire_lock()  # the kernel lock died with its holder: taken at once
        assert any(
            "pid 999999" in r.getMessage() and "without releasing" in r.getMessage() for r in caplog.records
        )
        assert f'"pid":{os.getpid()}' in lock.read_text()
    assert lock.read_text() == ""  # released: no holder


def test_gzip_bomb_helper_is_what_it_says() -> None:
    assert len(gzip_bomb(40 * MIB)) < 64 * 1024 and len(gzip.decompress(gzip_bomb(40 * MIB))) == 40 * MIB
