"""The "how paperradar ranked for you" panel where the reader sees it: the web UI's /eval page and days
list through a real server, and the static site's index in zh/ja/en (headless Chromium)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from paperradar.config import default_config
from paperradar.evaluate.own_panel import PanelInputs, compute_panel
from paperradar.publish.site import build_site
from paperradar.serve import BackgroundServer, create_app
from paperradar.store import Store
from paperradar.text.eval_labels import EVAL_LANGUAGES, eval_labels
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.own_ratings import CATS, filled_store

UNTIL = "2026-03-06"


@pytest.fixture(scope="module")
def rated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return filled_store(tmp_path_factory.mktemp("views"))


def test_every_language_says_every_panel_string() -> None:
    keys = set(eval_labels("en"))
    for lang in EVAL_LANGUAGES:
        assert set(eval_labels(lang)) == keys, lang


def test_web_ui_panel_never_waits_and_then_shows_the_figures(
    rated_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = default_config()
    cfg.sources.categories = CATS
    # The panel's window ends today by default; this archive ends on UNTIL.
    monkeypatch.setattr(PanelInputs, "day", lambda self: date.fromisoformat(UNTIL))
    with (
        BackgroundServer(create_app(rated_db, cfg)) as server,
        httpx.Client(base_url=server.url.rstrip("/"), timeout=10) as http,
    ):
        started = time.perf_counter()
        days = http.get("/")
        first_days_load = time.perf_counter() - started
        assert days.status_code == 200 and 'href="/eval"' in days.text
        started = time.perf_counter()
        page = http.get("/eval")
        first_eval_load = time.perf_counter() - started
        assert page.status_code == 200
        assert "computing" in page.text and 'http-equiv="refresh"' in page.text
        deadline = time.monotonic() + 300
        while "computing" in page.text and time.monotonic() < deadline:
            time.sleep(1)
            page = http.get("/eval")
        assert "How paperradar ranked for you" in page.text and "refresh" not in page.text
        started = time.perf_counter()
        days = http.get("/")
        ready_days_load = time.perf_counter() - started
    with Store(rated_db) as store:
        expected = compute_panel(store, PanelInputs(CATS, cfg.personal, cfg.keywords, until=None))
    ours = expected["rows"][0]
    assert ours["ranker"] == "paperradar" and f"{ours['recall@10']:.2f}" in days.text
    assert f"{expected['judged_days']} announcement days" in days.text
    for name in ("random", "keywords", "arxiv-sanity-lite", "zotero-arxiv-daily"):
        assert name in page.text
    print(
        f"days list {first_days_load * 1000:.0f} ms, /eval {first_eval_load * 1000:.0f} ms before; "
        f"days list with the panel {ready_days_load * 1000:.0f} ms; computed in {expected['seconds']} s"
    )
    assert first_days_load < 2 and first_eval_load < 2 and ready_days_load < 2


@pytest.fixture(scope="module")
def panel(rated_db: Path) -> dict[str, object]:
    cfg = default_config()
    with Store(rated_db) as store:
        return compute_panel(
            store,
            PanelInputs(CATS, cfg.personal, cfg.keywords, weeks=1, until=date(2026, 3, 6)),
        )


def test_site_index_has_the_panel_in_every_language(
    rated_db: Path, panel: dict[str, object], tmp_path: Path
) -> None:
    with Store(rated_db) as store:
        build_site(store, tmp_path / "site", ["zh", "ja", "en"], "Radar", ranking=panel)
        html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
        for lang in ("zh", "ja", "en"):
            assert eval_labels(lang)["title"] in html
        assert "随机" in html and "ランダム" in html and "arxiv-sanity-lite" in html
        again = tmp_path / "again"
        build_site(store, again, ["zh", "ja", "en"], "Radar", ranking={**panel, "seconds": 99.0})
        assert (again / "index.html").read_bytes() == html.encode("utf-8")  # byte-stable: no timing shown
        # nothing to measure: the panel is left out
        empty = {**panel, "rows": [], "message_key": "no_up_ratings"}
        build_site(store, tmp_path / "none", ["en"], "Radar", ranking=empty)
        assert "ranking-panel" not in (tmp_path / "none" / "index.html").read_text(encoding="utf-8")


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent")
def test_site_panel_in_chromium(rated_db: Path, panel: dict[str, object], tmp_path: Path) -> None:
    from playwright import sync_api

    with Store(rated_db) as store:
        build_site(store, tmp_path / "site", ["zh", "ja", "en"], "Radar", ranking=panel)
    shots = tmp_path / "shots"  # looked at by hand while writing this test (see the commit)
    shots.mkdir()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 700})
            page.goto((tmp_path / "site" / "index.html").resolve().as_uri())
            for lang in ("zh", "ja", "en"):
                page.click(f'label[for="lang-{lang}"]')
                box = page.locator("section.ranking-panel")
                assert box.is_visible()
                text = box.inner_text()
                assert eval_labels(lang)["title"] in text
                assert f"{panel['rows'][0]['recall@10']:.2f}" in text
                box.screenshot(path=str(shots / f"ranking-panel-{lang}.png"))
        finally:
            browser.close()


def test_publish_site_computes_the_panel_then_reuses_it(rated_db: Path, tmp_path: Path) -> None:
    """`paperradar publish site` through the CLI: the first build computes the panel and says so, the next
    one reads it from the cache file beside the database; "today" is the end of the fixture's month."""
    from unittest import mock

    from tests.cli_runner import run_cli

    db = tmp_path / "radar.db"
    db.write_bytes(rated_db.read_bytes())
    config = tmp_path / "paperradar.toml"
    config.write_text(
        f'[store]\npath = "{db}"\n[output]\nfolder = "{tmp_path / "out"}"\n[sources]\ncategories = ["cs.IR"]\n',
        encoding="utf-8",
    )
    with mock.patch.object(PanelInputs, "day", lambda self: date.fromisoformat(UNTIL)):
        code, out, err = run_cli("--config", str(config), "publish", "site")
        assert code == 0, err
        assert "ranking panel: paperradar recall@10" in out and "computed in" in out
        code, again, err = run_cli("--config", str(config), "publish", "site")
    assert code == 0, err
    assert "(cached)" in again
    html = (tmp_path / "out" / "site" / "index.html").read_text(encoding="utf-8")
    assert "ranking-panel" in html
