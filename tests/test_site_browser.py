"""The built site in a real browser (headless Chromium through Playwright), served over loopback HTTP and
opened from file://: the index shows the day, search works, styles show, hostile text stays text."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperradar.publish.site import build_site
from paperradar.store import Store
from paperradar.text.labels import labels
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.site_fixtures import ABSTRACT_WORD, DAY, HOSTILE_ID, HOSTILE_TITLE, LANGS, built_store

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (CI installs Debian's chromium)", allow_module_level=True)
# Imported only now, and not skipped when missing: with a browser on the machine, a missing playwright
# package is a broken install that must fail loudly, not a test that quietly stops running.
from playwright import sync_api


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser-site") / "out"
    with Store(built_store(tmp_path_factory)) as store:
        build_site(store, out, LANGS, "Radar")
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def http_base(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site.parent))  # the site lives under /out/
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{site.name}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.mark.parametrize("mode", ["http", "file"])
def test_site_in_browser(mode: str, site: Path, http_base: str, browser: object) -> None:
    base = http_base if mode == "http" else site.resolve().as_uri() + "/"
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        # The index shows the newest day with its themed sections.
        page.goto(base + "index.html")
        heading = page.locator(f"#d-{DAY.isoformat()} h2")
        assert DAY.isoformat() in heading.inner_text()
        assert page.locator("section.theme h3").first.is_visible()

        # Search by a word that only a sample paper's abstract has, from the URL and from typing.
        page.goto(base + "search.html?q=bookable")
        first = page.locator("#results li a").first
        first.wait_for(timeout=10_000)
        assert first.get_attribute("href") == "papers/2602.14358.html"
        page.fill("#q", ABSTRACT_WORD)
        page.locator(f'#results li a[href="papers/{HOSTILE_ID}.html"]').wait_for(timeout=10_000)
        assert HOSTILE_TITLE in page.locator("#results").inner_text()  # shown as text

        # A paper page shows its styles; the language switch changes what is visible.
        page.goto(base + "papers/2602.14358.html")
        zh = page.locator("section.texts.l-zh")
        assert zh.is_visible() and "Strengths" in zh.inner_text() and "亮点" in zh.inner_text()
        assert not page.locator("section.texts.l-ja").is_visible()
        page.click('label[for="lang-ja"]')
        assert page.locator("section.texts.l-ja").is_visible() and not zh.is_visible()
        assert "ハイライト" in page.locator("section.texts.l-ja").inner_text()

        # Hostile text: shown literally, no element or handler made from it, no dialog.
        for url in (f"papers/{HOSTILE_ID}.html", "index.html", f"days/{DAY.isoformat()}.html"):
            page.goto(base + url)
            if url.startswith("papers/"):
                assert "<script>alert(1)</script>" in page.locator("h1").inner_text()
            scripts = page.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
            assert scripts and all(s and s.endswith(".js") and "static/" in s for s in scripts), scripts
            assert page.locator("img, iframe, [onerror], [onload]").count() == 0
        page.goto(base + "papers/hep-th_9901001.html")
        assert "old-style identifier" in page.locator("h1").inner_text()
        assert dialogs == []
        assert errors == [], errors  # includes CSP violations, which would also break the search
    finally:
        context.close()


def test_language_switch_changes_every_label(site: Path, http_base: str, browser: object) -> None:
    """D4: the switch changes navigation, the search box's placeholder and aria-label, metadata labels,
    the announce kind, company chips and the page's lang, and the choice is remembered across pages."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(http_base + "papers/2602.14358.html")
        nav = page.locator("header nav")
        search = page.locator('header input[type="search"]')
        fields = page.locator("dl.fields")
        assert nav.inner_text().split() == ["最新", "归档", "标签"]  # the primary language without a click
        assert search.get_attribute("placeholder") == labels("zh")["search_placeholder"]
        assert page.evaluate("document.documentElement.lang") == "zh"
        assert page.title().startswith("【译】")

        page.click('label[for="lang-ja"]')
        assert nav.inner_text().split() == ["最新", "アーカイブ", "タグ"]
        assert search.get_attribute("placeholder") == labels("ja")["search_placeholder"]
        assert search.get_attribute("aria-label") == labels("ja")["search"]
        assert page.evaluate("document.documentElement.lang") == "ja"
        text = fields.inner_text()
        assert labels("ja")["authors"] in text and labels("ja")["appeared"] in text
        assert labels("zh")["authors"] not in text and labels("ja")["kind_new"] in text

        page.click('label[for="lang-en"]')
        text = fields.inner_text()
        assert nav.inner_text().split() == ["Latest", "Archive", "Tags"]
        assert search.get_attribute("placeholder") == labels("en")["search_placeholder"]
        assert "Authors" in text and "Listed on" in text and "(#" in text and "new" in text
        assert "出现日期" not in text and "Original title" not in text  # English: the title is the original
        # <title> follows too: the zh page title is the translation, the English one the original
        assert page.title().startswith("High Precision Audience Expansion") and page.title().endswith(
            "· Radar"
        )

        # The stars' tooltip and aria-label on the cards, from the page's one table.
        page.goto(http_base + "index.html")  # the choice (en) is remembered
        stars = page.locator("article.card .score").first
        assert re.fullmatch(r"Interest score [1-5]/5", stars.get_attribute("title") or "")
        assert stars.get_attribute("aria-label") == stars.get_attribute("title")

        # Company chips follow the switch: the gazetteer's name in each language.
        page.goto(http_base + "tags.html")
        assert page.locator("h1").inner_text() == "Tags"
        chips = page.locator("a.company")
        english = chips.all_inner_texts()
        page.click('label[for="lang-zh"]')
        chinese = chips.all_inner_texts()
        assert len(english) == len(chinese) > 0 and english != chinese
        assert all(re.fullmatch(r"[\x20-\x7e]+", name) for name in english), english

        # The search page words its status in the chosen language.
        page.click('label[for="lang-ja"]')
        page.goto(http_base + "search.html?q=zzzznothing")
        page.wait_for_function("document.getElementById('search-status').textContent.length > 0")
        page.wait_for_timeout(200)
        assert page.locator("#search-status").inner_text() == labels("ja")["search_none"]
        assert errors == [], errors
    finally:
        context.close()
