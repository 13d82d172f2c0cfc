"""`paperradar serve` in headless Chromium: rate a paper and keep the rating across a reload (with and
without JavaScript), search by a word of an abstract, and show a hostile title as text.

Playwright drives Debian's /usr/bin/chromium (never `playwright install`: no browser downloads here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperradar.config import Config
from paperradar.serve import BackgroundServer, create_app
from paperradar.store import Store
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.serve_fixtures import HOSTILE_ID, HOSTILE_TITLE, OLD_ID, build_store

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config]:
    return build_store(tmp_path_factory.mktemp("serve-browser"))


@pytest.fixture(scope="module")
def server(built: tuple[Path, Config]) -> Iterator[BackgroundServer]:
    db, cfg = built
    with BackgroundServer(create_app(db, cfg)) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def current_ratings(db: Path) -> dict[str, int]:
    with Store(db) as store:
        return store.current_ratings()


def test_click_up_and_reload_keeps_the_rating(
    page: sync_api.Page, server: BackgroundServer, built: tuple[Path, Config]
) -> None:
    db, _ = built
    page.goto(server.url)
    page.get_by_role("link", name="2026-02-10").click()
    page.wait_for_url(re.compile(r"/day/2026-02-10$"))
    first = page.locator("li.paper a.title").first
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/paper/"))
    arxiv_id = page.url.split("/paper/", 1)[1]
    assert page.locator("h1.title").inner_text() == title
    assert "used at the next run" in page.locator("section.rating").inner_text()

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.evaluate("window.stillHere = true")
    page.locator("section.rating button.up").click()
    sync_api.expect(page.locator("section.rating .current")).to_have_text("up")
    assert page.evaluate("window.stillHere === true")  # rate.js saved it in place, no page load
    assert errors == []  # nothing broke the CSP or the script
    page.reload()
    sync_api.expect(page.locator("section.rating .current")).to_have_text("up")
    sync_api.expect(page.locator("section.rating button.up")).to_have_attribute("aria-pressed", "true")
    assert current_ratings(db)[arxiv_id] == 1

    # The rating shows on the day page too.
    page.goto(f"{server.url}day/2026-02-10")
    assert page.locator("li.paper").first.locator(".mark.up").count() == 1


def test_rating_works_without_javascript(
    browser: sync_api.Browser, server: BackgroundServer, built: tuple[Path, Config]
) -> None:
    db, _ = built
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{server.url}paper/{OLD_ID}")
        with page.expect_navigation():
            page.locator("section.rating button.down").click()  # plain form POST, then 303 back
        assert page.url == f"{server.url}paper/{OLD_ID}"
        sync_api.expect(page.locator("section.rating .current")).to_have_text("down")
        assert current_ratings(db)[OLD_ID] == -1
        with page.expect_navigation():
            page.locator("section.rating button.clear").click()
        sync_api.expect(page.locator("section.rating .current")).to_have_text("none")
        assert OLD_ID not in current_ratings(db)
    finally:
        context.close()


def test_search_finds_a_paper_by_a_word_of_its_abstract(
    page: sync_api.Page, server: BackgroundServer
) -> None:
    page.goto(server.url)
    box = page.get_by_role("searchbox")
    box.fill("underexploited")  # only in the abstract of the sample's 2602.07774
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=underexploited"))
    hit = page.locator("ol.results a.title")
    sync_api.expect(hit).to_have_count(1)
    sync_api.expect(hit).to_have_text("Generative Reasoning Re-ranker")
    hit.click()
    page.wait_for_url(re.compile(r"/paper/2602\.07774$"))
    # An old-style id (with its '/') is found and opened the same way.
    page.goto(f"{server.url}search?q=xylophonic")
    page.locator("ol.results a.title").click()
    page.wait_for_url(re.compile(r"/paper/hep-th/9901001$"))


def test_hostile_title_is_text_and_nothing_runs(page: sync_api.Page, server: BackgroundServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.url}day/2026-02-20")
    link = page.locator("li.paper a.title").first
    sync_api.expect(link).to_have_text(HOSTILE_TITLE)
    page.locator("details.why-box summary").first.click()
    sync_api.expect(page.locator("details.why-box").first).to_contain_text("<svg onload=alert(4)>")
    link.click()
    page.wait_for_url(re.compile(rf"/paper/{re.escape(HOSTILE_ID)}$"))
    sync_api.expect(page.locator("h1.title")).to_have_text(HOSTILE_TITLE)
    page.goto(f"{server.url}search?q=zygomorphic")
    sync_api.expect(page.locator("ol.results a.title")).to_have_text(HOSTILE_TITLE)
    page.wait_for_timeout(300)  # give any injected handler (onerror, onload) time to fire
    assert dialogs == []
    # No injected element made it into any page's DOM.
    assert page.locator("img[src=x], svg, iframe, script:not([src])").count() == 0
