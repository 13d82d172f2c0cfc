"""search.js in a real browser (headless Chromium through Playwright, over loopback HTTP and from file://):
a query by meaning finds a paper that does not hold every word, in the zh, ja and en pages with their own
labels; "exact words" turns meaning off (and ?exact=1 opens with it on); a CJK query is found by words;
and the browser's fused order is the one the CLI's fusion (rank/search/hybrid.py) gives for the shipped
index (publish/site_search.py's rank_by_meaning is the reference)."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paperradar.publish.site import build_site
from paperradar.publish.site_search import MeaningIndex, rank_by_meaning
from paperradar.rank.search.hybrid import FUSION_TFIDF, fuse
from paperradar.store import Store
from paperradar.text.labels import labels
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.site_fixtures import LANGS, built_store

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (CI installs Debian's chromium)", allow_module_level=True)
from playwright import sync_api  # a missing playwright with a browser present must fail loudly

MEANING_QUERY = "music playlist recommendation"  # no sample paper holds all three words
MEANING_PAPER = "2602.12301"  # "Beyond Musical Descriptors: ... preference-bearing intent ..." (music)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("search-site") / "out"
    with Store(built_store(tmp_path_factory)) as store:
        build_site(store, out, LANGS, "Radar")
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def http_base(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{site.name}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def page(http_base: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            yield page
            assert errors == [], errors  # includes CSP violations
        finally:
            browser.close()


def _results(page: Any) -> list[tuple[str, str]]:
    """(arXiv id, "words" or "meaning") per result, after the status line says the search ran."""
    page.wait_for_function("document.getElementById('search-status').hasAttribute('data-mode')")
    return [
        (li.get_attribute("data-id"), li.get_attribute("data-found"))
        for li in page.locator("#results li").all()
    ]


def _search(page: Any, base: str, query: str, lang: str, exact: bool = False) -> list[tuple[str, str]]:
    page.goto(base + "search.html")
    page.click(f'label[for="lang-{lang}"]')
    if exact:
        page.check("#exact")
    page.fill("#q", query)
    return _results(page)


@pytest.mark.parametrize("lang", LANGS)
def test_meaning_and_exact_toggle_in_every_language(page: Any, http_base: str, lang: str) -> None:
    lab = labels(lang)
    hits = _search(page, http_base, MEANING_QUERY, lang)
    assert hits and hits[0] == (MEANING_PAPER, "meaning")
    assert all(found == "meaning" for _, found in hits)  # no paper holds every word
    status = page.locator("#search-status").inner_text()
    assert status == lab["search_count"].format(n=len(hits)) + " · " + lab["search_how_hybrid"]
    first = page.locator("#results li").first
    assert lab["search_by_meaning"] in first.inner_text()
    toggle = page.locator("label:has(#exact)")
    assert toggle.inner_text().strip() == lab["search_exact"]  # only the reader's language is visible
    others = [labels(o)["search_exact"] for o in LANGS if labels(o)["search_exact"] != lab["search_exact"]]
    assert not any(o in toggle.inner_text() for o in others)

    page.check("#exact")  # exact words: nothing holds all three
    page.wait_for_function("document.getElementById('search-status').getAttribute('data-mode') === 'exact'")
    assert page.locator("#results li").count() == 0
    assert page.locator("#search-status").inner_text() == lab["search_none"]
    page.uncheck("#exact")
    page.wait_for_function("document.getElementById('search-status').getAttribute('data-mode') === 'hybrid'")
    assert _results(page)[0] == (MEANING_PAPER, "meaning")


def test_exact_from_the_url_and_file_pages(page: Any, site: Path) -> None:
    base = site.resolve().as_uri() + "/"  # file://: the indexes come from their script tags
    page.goto(base + "search.html?q=music+playlist+recommendation&exact=1")
    assert page.is_checked("#exact") and _results(page) == []
    page.goto(base + "search.html?q=music+playlist+recommendation")
    assert not page.is_checked("#exact") and _results(page)[0] == (MEANING_PAPER, "meaning")
    page.goto(base + "search.html?q=bookable&exact=1")
    assert _results(page)[0] == ("2602.14358", "words")


def test_cjk_query_is_found_by_words(page: Any, http_base: str, site: Path) -> None:
    docs = json.loads((site / "search-index.json").read_text(encoding="utf-8"))
    holding = {d["id"] for d in docs if any("本文研究" in s for s in d["s"])}
    assert holding
    hits = _search(page, http_base, "本文研究", "zh")
    assert {a for a, _ in hits} <= holding and len(hits) == min(100, len(holding))  # 100 shown at most
    assert all(found == "words" for _, found in hits)
    count = labels("zh")["search_count"].format(n=len(holding))
    assert page.locator("#search-status").inner_text().startswith(count)


def test_browser_order_is_the_cli_fusion(page: Any, http_base: str, site: Path) -> None:
    """For a query found both ways, the browser's list is hybrid.fuse(word ranking, meaning ranking) with
    the CLI's tf-idf constants; the word ranking is what the page shows with exact words on."""
    raw = json.loads((site / "search-meaning.json").read_text(encoding="utf-8"))
    index = MeaningIndex(raw["terms"], raw["idf"], raw["ids"], raw["rows"])
    order = [d["id"] for d in json.loads((site / "search-index.json").read_text(encoding="utf-8"))]
    for query in ("generative recommendation", "retrieval augmented generation benchmark"):
        by_words = [a for a, _ in _search(page, http_base, query, "en", exact=True)]
        page.uncheck("#exact")
        page.wait_for_function(
            "document.getElementById('search-status').getAttribute('data-mode') === 'hybrid'"
        )
        shown = _results(page)
        nearest = rank_by_meaning(index, query, order)
        expected = fuse(by_words, nearest, FUSION_TFIDF, 100)
        assert [a for a, _ in shown] == [a for a, *_ in expected], query
        assert [f for _, f in shown] == ["words" if er else "meaning" for _, _, er, _ in expected]
        assert any(f == "meaning" for _, f in shown) and any(f == "words" for _, f in shown)
