"""The web UI's "save to Zotero" button against the loopback Zotero API: shown only when [zotero] is
configured, guarded like the rating buttons (same origin + form token), and the saved paper lands in the
configured collection with its note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paperradar.serve import BackgroundServer, create_app
from paperradar.sources.zotero_config import ZoteroConfig
from tests.serve_fixtures import OLD_ID, build_store, token_of
from tests.zotero_server import API_KEY, ZoteroLibrary, ZoteroServer, load_fixture_library

PAPER = "2602.06393"  # in the bundled sample; not in the test Zotero library


@pytest.fixture
def zotero() -> Iterator[ZoteroServer]:
    library = ZoteroLibrary()
    load_fixture_library(library)
    with ZoteroServer(library) as server:
        yield server


@pytest.fixture
def ui(tmp_path: Path, zotero: ZoteroServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv("ZOTERO_API_KEY", API_KEY)
    db, cfg = build_store(tmp_path)
    cfg.zotero = ZoteroConfig(library_id="475425", base_url=zotero.url, save_collection="paperradar")
    with (
        BackgroundServer(create_app(db, cfg)) as server,
        httpx.Client(base_url=server.url.rstrip("/"), timeout=30) as http,
    ):
        yield http


def test_save_button_puts_the_paper_and_its_note_in_the_collection(
    ui: httpx.Client, zotero: ZoteroServer
) -> None:
    page = ui.get(f"/paper/{PAPER}").text
    assert f'action="/zotero/save/{PAPER}"' in page and "save to Zotero" in page
    token = token_of(page)
    origin = {"Origin": str(ui.base_url)}
    assert ui.post(f"/zotero/save/{PAPER}", data={"csrf": token}).status_code == 403  # no origin
    assert ui.post(f"/zotero/save/{PAPER}", data={"csrf": "stale"}, headers=origin).status_code == 403
    assert not zotero.library.seen("POST", r"/items$")
    resp = ui.post(f"/zotero/save/{PAPER}", data={"csrf": token}, headers=origin)
    assert resp.status_code == 200 and "Saved" in resp.text and "PPRD3456" in resp.text
    (item,) = [i for i in zotero.library.items.values() if i.get("archiveID") == f"arXiv:{PAPER}"]
    assert item["collections"] == ["PPRD3456"]
    (note,) = zotero.library.children(item["key"])
    assert "paperradar" in note["note"] and "https://arxiv.org/abs/2602.06393" in note["note"]
    again = ui.get(f"/paper/{PAPER}").text
    assert f"In your Zotero library as <code>{item['key']}</code>" in again and "save to Zotero" not in again
    resp = ui.post(
        f"/zotero/save/{PAPER}", data={"csrf": token}, headers={**origin, "Accept": "application/json"}
    )
    assert resp.json()["created"] is False and len(zotero.library.seen("POST", r"/items$")) == 1


def test_a_refused_key_is_shown_not_crashed(ui: httpx.Client, zotero: ZoteroServer) -> None:
    zotero.library.api_key = "another-key"
    page = ui.get(f"/paper/{OLD_ID}").text
    resp = ui.post(
        f"/zotero/save/{OLD_ID}", data={"csrf": token_of(page)}, headers={"Origin": str(ui.base_url)}
    )
    assert resp.status_code == 502 and "Zotero refused the API key in $ZOTERO_API_KEY" in resp.text


def test_no_button_without_zotero(tmp_path: Path) -> None:
    db, cfg = build_store(tmp_path)
    with (
        BackgroundServer(create_app(db, cfg)) as server,
        httpx.Client(base_url=server.url.rstrip("/")) as http,
    ):
        page = http.get(f"/paper/{PAPER}").text
        assert "Zotero" not in page
        token = token_of(page)
        resp = http.post(
            f"/zotero/save/{PAPER}", data={"csrf": token}, headers={"Origin": str(http.base_url)}
        )
        assert resp.status_code == 404
