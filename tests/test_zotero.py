"""Zotero both ways against a loopback Zotero Web API (tests/zotero_server.py): a library syncs
incrementally into the reader's library, a saved paper appears in its collection with its note, and the
API's failures (403, 429 + Retry-After, Backoff, 412 on write) are met the way the docs ask."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperradar.cli import main
from paperradar.errors import ConfigError
from paperradar.models import GeneratedText, Paper
from paperradar.rank.personal.library_sync import (
    library_item,
    save_to_zotero,
    sync_zotero,
    zotero_arxiv_id,
)
from paperradar.sources import read_jsonl
from paperradar.sources.zotero import ZoteroClient, ZoteroWaitTooLong, zotero_item
from paperradar.sources.zotero_config import ZoteroConfig
from paperradar.store import Store
from tests.zotero_server import API_KEY, Reply, ZoteroLibrary, ZoteroServer, load_fixture_library

SAMPLE = Path(__file__).parents[1] / "paperradar" / "sample" / "cs-ir-sample.jsonl.gz"
READING, SAVED = "RDNG2345", "PPRD3456"


@pytest.fixture
def library() -> ZoteroLibrary:
    lib = ZoteroLibrary(page_cap=3)  # small pages: the 9 top-level items take three, linked by rel="next"
    load_fixture_library(lib)
    return lib


@pytest.fixture
def server(library: ZoteroLibrary) -> Iterator[ZoteroServer]:
    with ZoteroServer(library) as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "radar.db") as s:
        s.save_papers([p for p, _ in read_jsonl(SAMPLE)])
        yield s


def client(server: ZoteroServer, key: str | None = API_KEY, **cfg: object) -> ZoteroClient:
    return ZoteroClient(ZoteroConfig(library_id="475425", base_url=server.url, **cfg), key)  # type: ignore[arg-type]


def library_rows(store: Store) -> dict[str, str]:
    return {i.key: i.abstract for i in store.library.items()}


# -- reading ------------------------------------------------------------------------------------------
def test_first_sync_reads_every_page_and_keeps_items_without_an_abstract(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    report = sync_zotero(store, client(server), None)
    reads = library.seen("GET", r"/items/top$")
    assert [r.query.get("start", "0") for r in reads] == ["0", "3", "6"]  # followed Link rel="next"
    assert report.total_results == 9 and report.pages == 3 and report.received == 9
    assert report.version == library.version
    assert report.not_references == 1  # the standalone note; the child note is not top-level
    # Six items came without an abstract: none dropped. Four were matched to arXiv (DOI, URL, title,
    # Extra) and got arXiv's abstract; the book and the preprint the store lacks keep their titles.
    assert (report.no_abstract, report.no_abstract_filled, report.no_abstract_title_only) == (6, 4, 2)
    rows = library_rows(store)
    assert set(rows) == {
        "arxiv:2602.06563",
        "arxiv:2602.06654",
        "arxiv:2602.06622",
        "arxiv:2602.06935",
        "arxiv:2602.07125",
        "arxiv:1706.03762",
        "title:introduction to information retrieval",
        "title:deep neural networks for youtube recommendations",
    }
    assert rows["arxiv:2602.06654"].startswith(store.get_paper("2602.06654").abstract[:40])  # type: ignore[union-attr]
    assert rows["arxiv:1706.03762"] == "" and rows["title:introduction to information retrieval"] == ""
    assert report.resolution.resolved_by_title == 1  # the conference paper known only by its title
    sources = {i.source for i in store.library.items()}
    assert sources == {"zotero:users/475425"}


def test_second_sync_asks_since_and_gets_304_then_only_the_delta(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    zot = client(server)
    first = sync_zotero(store, zot, None)
    before = len(library.requests)
    second = sync_zotero(store, zot, None)
    assert second.not_modified and second.requests == 1
    (ask,) = library.requests[before:]
    assert ask.query["since"] == str(first.version)
    assert ask.header("If-Modified-Since-Version") == str(first.version)
    # Another device edits the library: one paper added, one trashed, one deleted, one changed.
    new_key = library.add_item(
        {"itemType": "preprint", "title": "x", "archiveID": "arXiv:2602.07207", "abstractNote": ""}
    )
    library.trash_item("YTBDNN26")
    library.delete_item("MNNG8IRB")
    library.change_item("CTN4RECS", extra="read twice")
    before = len(library.requests)
    third = sync_zotero(store, zot, None)
    asked = library.requests[before:]
    assert all(r.query.get("since") == str(first.version) for r in asked)
    assert {r.path.rsplit("/", 1)[-1] for r in asked} == {"top", "deleted"}
    assert third.received == 3  # the new, the trashed and the changed item; not the whole library
    assert third.removed == 2  # trashed + deleted
    rows = library_rows(store)
    assert rows.get("arxiv:2602.07207")  # abstract from the store
    assert "title:introduction to information retrieval" not in rows
    assert "title:deep neural networks for youtube recommendations" not in rows
    assert store.zotero.item_keys("users/475425") >= {new_key, "CTN4RECS"}
    assert store.zotero.version("users/475425", "") == library.version


def test_a_change_while_paging_restarts_the_read(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    # After page 1 another device deletes an item of page 1: the rest shift up, and the first item of
    # the old page 2 would never be read. The pages' versions differ, so the read starts over.
    library.after(r"/items/top$", lambda: library.delete_item("SNT5T6KE"))
    report = sync_zotero(store, client(server), None)
    assert report.stable and report.pages == 3 and report.requests == 6  # 3 pages, twice
    assert report.received == 8 and report.version == library.version
    assert len(library_rows(store)) == 8


def test_a_library_that_keeps_changing_does_not_advance_the_version(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    for n in range(4):  # an edit after every page of both reads
        library.after(r"/items/top$", lambda n=n: library.change_item("CTN4RECS", extra=str(n)))  # type: ignore[misc]
    report = sync_zotero(store, client(server), None)
    assert not report.stable and store.zotero.version("users/475425", "") is None
    assert len(library_rows(store)) == 8  # what was read is kept; the next sync reads it all again


def test_collection_filter_and_an_item_leaving_the_collection(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    zot = client(server, collection="Reading")  # by name; resolved to its key through /collections
    first = sync_zotero(store, zot, None)
    assert first.scope == READING
    assert library.seen("GET", rf"/collections/{READING}/items/top$")
    assert "arxiv:2602.07125" not in library_rows(store)  # the Extra-only item is in no collection
    library.change_item("R2LEDW3B", collections=[])
    second = sync_zotero(store, zot, None)
    assert second.removed == 1 and "arxiv:2602.06622" not in library_rows(store)


def test_a_bibtex_row_survives_a_zotero_removal(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    from paperradar.rank.personal.library import LibraryItem

    store.library.save([LibraryItem("Not in Zotero", arxiv_id="2602.07207", source="my.bib").record()])
    sync_zotero(store, client(server), None)
    library.delete_item("TKMX4RGE")
    sync_zotero(store, client(server), None)
    rows = library_rows(store)
    assert "arxiv:2602.07207" in rows and "arxiv:2602.06563" not in rows


def test_arxiv_ids_from_the_fields_zotero_keeps() -> None:
    def ident(**data: str) -> str | None:
        return zotero_arxiv_id(
            zotero_item({"key": "ABCD2345", "version": 1, "data": {"itemType": "x", **data}})
        )

    assert ident(archiveID="arXiv:2602.06563") == "2602.06563"
    assert ident(DOI="10.48550/arXiv.2602.06654") == "2602.06654"
    assert ident(url="http://arxiv.org/pdf/2602.06622v2") == "2602.06622"
    assert ident(extra="tex.ids: x\narXiv: 2602.07125") == "2602.07125"
    assert ident(publicationTitle="arXiv preprint arXiv:hep-th/9901001") == "hep-th/9901001"
    assert ident(DOI="10.1145/2959100.2959190", url="https://doi.org/10.1145/2959100.2959190") is None
    item = zotero_item({"key": "ABCD2345", "version": 3, "data": {"itemType": "book", "title": " T ",
                                                                  "creators": [{"name": "CERN"}]}})  # fmt: skip
    assert library_item(item, "zotero:users/1").authors == ["CERN"]


# -- failures -----------------------------------------------------------------------------------------
def test_429_with_retry_after_and_a_backoff_are_waited_out(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    library.script("GET", r"/items/top$", Reply(429, b"Too Many Requests", {"Retry-After": "1"}))
    started = time.monotonic()
    report = sync_zotero(store, client(server), None)
    assert time.monotonic() - started >= 1.0 and report.waits == [1.0]
    assert report.received == 9  # the retried request went on to read every page
    library.change_item("CTN4RECS", extra="x")
    body = b"[]"
    library.script("GET", r"/items/top$", Reply(200, body, {"Backoff": "1", "Content-Type": "application/json",
                                                               "Last-Modified-Version": str(library.version),
                                                               "Total-Results": "0"}))  # fmt: skip
    zot = client(server)
    zot.changes(None)
    started = time.monotonic()
    zot.library_version()  # the next request waits out the Backoff
    assert time.monotonic() - started >= 0.9


def test_a_wait_longer_than_max_wait_stops_with_a_message(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    library.script("GET", r"/items/top$", Reply(429, b"Too Many Requests", {"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(ZoteroWaitTooLong, match="3600 s"):
        sync_zotero(store, client(server), None)
    assert time.monotonic() - started < 5


def test_bad_key_is_one_line_naming_the_variable(
    server: ZoteroServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = zotero_config_file(tmp_path, server)
    monkeypatch.setenv("MY_ZOTERO_KEY", "wrong-key-123")
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config), "library", "sync", "--offline"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("error: Zotero refused the API key in $MY_ZOTERO_KEY")
    assert "403 Invalid key" in err[0] and "wrong-key-123" not in "".join(err)
    assert len(err) == 2 and err[1].startswith("hint:")
    with pytest.raises(ConfigError, match=r"\$MY_ZOTERO_KEY is not set"):
        ZoteroClient.from_config(ZoteroConfig(library_id="1", api_key_env="MY_ZOTERO_KEY"), {}, need_key=True)


# -- writing ------------------------------------------------------------------------------------------
def summarised_store(store: Store) -> Paper:
    paper = store.get_paper("2602.06393")
    assert paper is not None
    text = GeneratedText(
        paper.arxiv_id, paper.version, "summary", "en", "MuCo batches turns.", "qwen2.5-7b", "h"
    )
    store.save_text(text, None)
    return paper


def test_a_saved_paper_appears_in_the_collection_with_its_note(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    paper = summarised_store(store)
    zot = client(server, save_collection="paperradar")
    sync_zotero(store, zot, None)
    report = save_to_zotero(store, zot, paper.arxiv_id, "en")
    assert report.created and report.collection == SAVED and report.summary_by == "qwen2.5-7b"
    item = library.items[report.item_key]
    assert item["itemType"] == "preprint" and item["collections"] == [SAVED]
    assert item["archiveID"] == "arXiv:2602.06393" and item["url"] == "https://arxiv.org/abs/2602.06393"
    assert item["DOI"] == "10.48550/arXiv.2602.06393" and item["title"] == paper.title
    assert [c["lastName"] for c in item["creators"]][:2] == ["Gu", "Heo"]
    (note,) = library.children(report.item_key)
    assert note["itemType"] == "note" and "MuCo batches turns." in note["note"]
    assert "Machine-generated by qwen2.5-7b in en" in note["note"]
    (write,) = library.seen("POST", r"/items$")
    assert write.header("If-Unmodified-Since-Version") == str(library.version - 1)
    assert [o["itemType"] for o in write.body] == ["preprint", "note"]  # one request: never a note-less item
    # The next sync brings the saved paper into the reader's library; saving again writes nothing.
    sync_zotero(store, zot, None)
    assert "arxiv:2602.06393" in library_rows(store)
    again = save_to_zotero(store, zot, paper.arxiv_id, "en")
    assert not again.created and again.item_key == report.item_key
    assert len(library.seen("POST", r"/items$")) == 1


def test_412_on_write_rereads_the_changes_and_retries(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    paper = summarised_store(store)
    zot = client(server)
    sync_zotero(store, zot, None)
    library.change_item("CTN4RECS", extra="edited on the laptop")  # the library moves on after the sync
    report = save_to_zotero(store, zot, paper.arxiv_id, "en")
    assert report.created and report.conflicts == 1
    first, second = library.seen("POST", r"/items$")
    assert (
        int(second.header("If-Unmodified-Since-Version") or 0)
        == int(first.header("If-Unmodified-Since-Version") or 0) + 1
    )
    assert sum(1 for i in library.items.values() if i.get("archiveID") == "arXiv:2602.06393") == 1


def test_412_because_another_device_saved_it_makes_no_duplicate(
    server: ZoteroServer, library: ZoteroLibrary, store: Store
) -> None:
    paper = summarised_store(store)
    zot = client(server)
    sync_zotero(store, zot, None)
    other = library.add_item({"itemType": "preprint", "title": paper.title, "archiveID": "arXiv:2602.06393"})
    report = save_to_zotero(store, zot, paper.arxiv_id, "en")
    assert not report.created and report.item_key == other and report.conflicts == 1
    assert sum(1 for i in library.items.values() if i.get("archiveID") == "arXiv:2602.06393") == 1


def test_429_on_write_waits_and_saves(server: ZoteroServer, library: ZoteroLibrary, store: Store) -> None:
    paper = summarised_store(store)
    library.script("POST", r"/items$", Reply(429, b"Too Many Requests", {"Retry-After": "1"}))
    report = save_to_zotero(store, client(server), paper.arxiv_id, "en")
    assert report.created and len(library.seen("POST", r"/items$")) == 2


# -- the command line ----------------------------------------------------------------------------------
def zotero_config_file(tmp_path: Path, server: ZoteroServer, extra: str = "") -> Path:
    path = tmp_path / "paperradar.toml"
    path.write_text(
        '[store]\npath = "radar.db"\n[output]\nfolder = "out"\nlanguage = "en"\n'
        f'[zotero]\nlibrary_id = "475425"\napi_key_env = "MY_ZOTERO_KEY"\nbase_url = "{server.url}"\n'
        'save_collection = "paperradar"\n' + extra,
        encoding="utf-8",
    )
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
    except SystemExit as done:
        code = int(done.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_sync_then_save(
    server: ZoteroServer,
    library: ZoteroLibrary,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = zotero_config_file(tmp_path, server)
    monkeypatch.setenv("MY_ZOTERO_KEY", API_KEY)
    with Store(tmp_path / "radar.db") as s:
        s.save_papers([p for p, _ in read_jsonl(SAMPLE)])
    code, out, err = run(["--config", str(config), "library", "sync", "--offline"], capsys)
    assert code == 0, err
    assert (
        "9 items in 3 pages; 8 stored, 0 removed, 1 notes/attachments skipped; 6 without an abstract kept"
        in out
    )
    code, out, _ = run(["--config", str(config), "library", "sync", "--offline"], capsys)
    assert code == 0 and "unchanged since version" in out and "304" in out
    code, out, err = run(["--config", str(config), "library", "save", "2602.06393v1"], capsys)
    assert code == 0, err
    assert out.startswith("saved 2602.06393 to Zotero as ") and f"in collection {SAVED}" in out
    assert "summary (extractive)" in out  # no stored summary: the extractive one, labelled
    code, out, _ = run(["--config", str(config), "library", "save", "2602.06393"], capsys)
    assert code == 0 and "already in Zotero" in out
    code, _, err = run(["--config", str(tmp_path / "none.toml"), "library", "sync"], capsys)
    assert code == 2
