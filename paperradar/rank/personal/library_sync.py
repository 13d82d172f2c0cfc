"""Zotero into the reader's library and back: `paperradar library sync` and `paperradar library save`.

sources/zotero.py talks to the API and returns plain items; this module maps them onto the `library` rows
that BibTeX/CSL-JSON imports make (library.py: same resolution to arXiv by id, then by title, then one
batched arXiv API look-up) and remembers, in migration 4's tables (store/zotero.py), the library version last synced and
which Zotero item became which row. So a second sync asks only for what changed, an item deleted or
trashed in Zotero (or moved out of the synced collection) leaves the library, and a paper already in
Zotero is not saved twice.

Rows a sync writes get source 'zotero:<users|groups>/<id>' (library.py keeps a row's last source). A
removal deletes a row only while that is still its source and no other Zotero item maps to it, so a paper
imported from a BibTeX file after the sync stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from paperradar.errors import DataError
from paperradar.rank.personal.library import (
    ImportReport,
    LibraryItem,
    LookupAPI,
    find_arxiv_id,
    resolve_items,
)
from paperradar.sources.zotero import (
    NOT_REFERENCES,
    ZoteroChanges,
    ZoteroClient,
    ZoteroItem,
    summary_note_html,
)
from paperradar.store import Store
from paperradar.store.views import best_summary, why_line
from paperradar.store.zotero import ZoteroTable, zotero_source
from paperradar.text.extractive import summarize

# Zotero field -> the field name library.find_arxiv_id searches (lower case, BibTeX's vocabulary).
_ID_FIELD_MAP = {
    "archiveID": "arxiv",  # preprints: "arXiv:2401.12345"
    "url": "url",
    "DOI": "doi",  # 10.48550/arXiv.2401.12345
    "extra": "note",  # "arXiv: 2401.12345" is a common Extra line
    "publicationTitle": "journal",  # "arXiv preprint arXiv:2401.12345"
    "number": "number",
    "reportNumber": "number",
    "archiveLocation": "archive_location",
    "repository": "publisher",
}


def source_name(library_path: str) -> str:
    return zotero_source(library_path)


def zotero_arxiv_id(item: ZoteroItem) -> str | None:
    """The arXiv id a Zotero item names in its URL, DOI, archive id, Extra or other fields."""
    fields: dict[str, str] = {}
    for zotero_name, our_name in _ID_FIELD_MAP.items():
        value = item.fields.get(zotero_name)
        if value and our_name not in fields:
            fields[our_name] = value
    if item.fields.get("repository", "").lower() == "arxiv":
        fields["archiveprefix"] = "arxiv"
    return find_arxiv_id(fields)


def library_item(item: ZoteroItem, source: str) -> LibraryItem:
    return LibraryItem(
        title=item.title,
        abstract=item.abstract,
        authors=list(item.creators),
        arxiv_id=zotero_arxiv_id(item),
        added=item.date_added,
        source=source,
    )


# -- sync -----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class SyncReport:
    library: str
    scope: str  # '' (whole library) or the collection key
    since: int | None
    version: int
    not_modified: bool
    received: int = 0  # top-level items the API returned
    stored: int = 0  # library rows written (new or updated)
    removed: int = 0  # library rows deleted (deleted/trashed in Zotero, or left the collection)
    not_references: int = 0  # standalone notes/attachments: not papers, skipped
    no_abstract: int = 0  # items Zotero held without an abstract: kept, never dropped...
    no_abstract_filled: int = 0  # ...of which arXiv gave the abstract (matched by id or title)
    no_abstract_title_only: int = 0  # ...of which only the title is known
    total_results: int | None = None
    pages: int = 0
    requests: int = 0
    waits: list[float] = field(default_factory=list)
    stable: bool = True  # False: Zotero changed during the read; the version was not advanced
    resolution: ImportReport = field(default_factory=ImportReport)


def sync_zotero(store: Store, client: ZoteroClient, api: LookupAPI | None, full: bool = False) -> SyncReport:
    """`paperradar library sync`: the Zotero library (or [zotero].collection) into the reader's library,
    reading only what changed since the last sync unless `full`."""
    cfg = client.cfg
    library = cfg.library_path
    collection = client.collection_key(cfg.collection) if cfg.collection else None
    scope = collection or ""
    state = store.zotero
    since = None if full else state.version(library, scope)
    changes = client.changes(since, collection)
    report = SyncReport(
        library,
        scope,
        since,
        changes.version,
        changes.not_modified,
        total_results=changes.total_results,
        pages=changes.pages,
        requests=changes.requests,
        waits=changes.waits,
        stable=changes.stable,
    )
    if changes.not_modified:
        with store.transaction():
            state.set_version(library, scope, changes.version)  # records when the library was last checked
        return report
    _apply(store, state, changes, report, api)
    return report


def _apply(
    store: Store, state: ZoteroTable, changes: ZoteroChanges, report: SyncReport, api: LookupAPI | None
) -> None:
    library, source = report.library, source_name(report.library)
    report.received = len(changes.items)
    papers = [i for i in changes.items if i.item_type not in NOT_REFERENCES and not i.trashed]
    report.not_references = sum(1 for i in changes.items if i.item_type in NOT_REFERENCES)
    gone = changes.deleted + [i.key for i in changes.items if i.trashed]
    if changes.since is None:
        # A full read: whatever was synced before and is not there now has left the library (or scope).
        seen = {i.key for i in changes.items}
        gone += sorted(state.item_keys(library) - seen)
    pairs = [(item, library_item(item, source)) for item in papers]
    # Resolution may call the arXiv API: done before the write transaction, so no lock is held meanwhile.
    resolved, report.resolution = resolve_items([li for _, li in pairs], store, api)
    for item, li in pairs:
        if not item.abstract:
            report.no_abstract += 1
            if li.abstract:
                report.no_abstract_filled += 1
            else:
                report.no_abstract_title_only += 1
    # Library.save runs its own transaction; the state follows in a second one. A crash between them
    # leaves the old version recorded, so the next sync reads the same changes again: nothing is lost.
    report.stored = store.library.save(i.record() for i in resolved) if resolved else 0
    with store.transaction():
        state.save_items(
            library, [(i.key, i.version, li.key, li.arxiv_id, bool(i.abstract), False) for i, li in pairs]
        )
        report.removed = state.remove_items(library, gone)
        if changes.stable:  # else the next sync reads the same changes again (and whatever moved meanwhile)
            state.set_version(library, report.scope, changes.version)


# -- save -----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class SaveReport:
    arxiv_id: str
    item_key: str
    note_key: str | None
    collection: str | None
    created: bool  # False: it was already in Zotero (known from a sync or found after a 412)
    conflicts: int  # 412 answers met
    summary_by: str | None  # who wrote the note's summary: a model name, 'extractive', or None (no note text)


def save_to_zotero(store: Store, client: ZoteroClient, arxiv_id: str, language: str) -> SaveReport:
    """`paperradar library save ID` / the web UI's button: the paper as a preprint with paperradar's
    summary as a child note, in [zotero].save_collection (else collection, else the library root)."""
    cfg = client.cfg
    library = cfg.library_path
    paper = store.get_paper(arxiv_id)
    if paper is None:
        raise DataError(
            f"{arxiv_id} is not in the store", hint="`paperradar fetch` or `paperradar import` it first"
        )
    state = store.zotero
    target = cfg.save_collection or cfg.collection
    collection = client.collection_key(target) if target else None
    existing = state.item_for_arxiv(library, paper.arxiv_id)
    if existing is not None:
        return SaveReport(paper.arxiv_id, existing, None, collection, False, 0, None)
    summary = best_summary(store, paper, language)
    if summary is None and paper.abstract:
        summary = {
            "content": summarize(paper.abstract),
            "model": "extractive",
            "language": "en",
            "version": paper.version,
        }
    note = summary_note_html(
        paper,
        summary["content"] if summary else None,
        summary["model"] if summary else None,
        summary["language"] if summary else None,
        why_line(store, paper.arxiv_id),
    )

    def already_there(changed: list[ZoteroItem]) -> ZoteroItem | None:
        return next((i for i in changed if zotero_arxiv_id(i) == paper.arxiv_id and not i.trashed), None)

    saved = client.save_paper(paper, note, collection, state.newest_version(library), already_there)
    row = LibraryItem(
        title=paper.title,
        abstract=paper.abstract,
        authors=list(paper.authors),
        arxiv_id=paper.arxiv_id,
        added=datetime.now(UTC),
        source=source_name(library),
        resolved_by="id",
    )
    store.library.save([row.record()])
    with store.transaction():
        state.save_items(library, [(saved.key, saved.version, row.key, paper.arxiv_id, True, saved.created)])
    return SaveReport(
        paper.arxiv_id,
        saved.key,
        saved.note_key,
        saved.collection,
        saved.created,
        saved.conflicts,
        summary["model"] if summary and saved.created else None,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
