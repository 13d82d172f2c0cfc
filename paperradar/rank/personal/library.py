"""The reader's library: BibTeX (Zotero, Mendeley, Google Scholar), CSL-JSON (Zotero) or a list of arXiv
ids/URLs, resolved to arXiv papers where possible and kept in the store's `library` table.

Resolution, in order, per item:
1. an arXiv id written anywhere arXiv ids are put: `eprint` (+ `archivePrefix`), Mendeley's `arxivId`,
   a URL (arxiv.org/abs|pdf/...), the arXiv DOI 10.48550/arXiv.X, `note`/`journal`/`number` text
   ("arXiv:2401.12345", "arXiv preprint arXiv:2401.12345");
2. else the title, looked up in the local store: full-text search, then equality of normalised titles
   (so a near title never claims the wrong paper);
3. else the item stays a non-arXiv item and counts by its own title + abstract.
Ids the store does not hold are completed by ONE batched `ArxivAPI.lookup` when an api object is given.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from paperradar.errors import DataError
from paperradar.models import LibraryRecord, Paper
from paperradar.rank.personal.bibtex import parse_bibtex
from paperradar.sources.ids import parse_arxiv_id
from paperradar.store import Store

_NEW_ID = r"\d{4}\.\d{4,5}(?:v\d+)?"
_OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?"
_ID_IN_TEXT = [
    re.compile(rf"arxiv\.org/(?:abs|pdf|html)/({_NEW_ID}|{_OLD_ID})", re.I),
    re.compile(rf"10\.48550/arxiv\.({_NEW_ID}|{_OLD_ID})", re.I),
    re.compile(rf"arxiv[:\s]\s*({_NEW_ID}|{_OLD_ID})", re.I),
]
_BARE_ID = re.compile(rf"\s*(?:arxiv:)?({_NEW_ID}|{_OLD_ID})\s*", re.I)
# Fields searched for an arXiv id, in order of trust.
_ID_FIELDS = (
    "eprint",
    "arxivid",
    "arxiv",
    "url",
    "doi",
    "note",
    "journal",
    "journaltitle",
    "number",
    "howpublished",
    "publisher",
    "archive_location",
    "annote",
)
_DATE_FIELDS = ("dateadded", "date-added", "added-at", "timestamp", "urldate")


@dataclass(slots=True)
class LibraryItem:
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    added: datetime | None = None
    source: str = ""
    resolved_by: str = "none"  # id | store-title | api | none

    @property
    def key(self) -> str:
        return f"arxiv:{self.arxiv_id}" if self.arxiv_id else f"title:{normalize_title(self.title)}"

    @property
    def text(self) -> str:
        return f"{self.title}. {self.abstract}".strip()

    def record(self) -> LibraryRecord:
        return LibraryRecord(
            self.key,
            self.title,
            self.abstract,
            list(self.authors),
            self.arxiv_id,
            self.added,
            self.source,
            self.resolved_by,
        )

    @classmethod
    def from_record(cls, r: LibraryRecord) -> LibraryItem:
        return cls(r.title, r.abstract, list(r.authors), r.arxiv_id, r.added, r.source, r.resolved_by)


@dataclass(slots=True)
class ImportReport:
    items: int = 0
    resolved_by_id: int = 0
    resolved_by_title: int = 0
    fetched_from_api: int = 0
    not_on_arxiv: int = 0
    missing_on_api: list[str] = field(default_factory=list)
    duplicates: int = 0


class LookupAPI(Protocol):
    def lookup(self, ids: list[str]) -> tuple[list[Paper], list[str]]: ...


# -- text helpers ---------------------------------------------------------------------------------------
_LATEX_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
}
_ACCENT_RE = re.compile(r"\\([" + re.escape("'`^\"~=.") + r"]|[cvuH](?=[\s{]))\s*\{?\s*([A-Za-z])\}?")
_LATEX_CMD_RE = re.compile(r"\\(?:emph|textit|textbf|textsc|texttt|mathrm|mathbf|mathcal|text)\s*")
_SPECIAL = {r"\&": "&", r"\%": "%", r"\$": "$", r"\_": "_", r"\#": "#", "--": "\u2013", "~": " "}


def latex_to_text(value: str) -> str:
    """Enough LaTeX for titles, names and abstracts in exports: accents, escapes, font commands, braces."""
    value = _ACCENT_RE.sub(
        lambda m: unicodedata.normalize("NFC", m.group(2) + _LATEX_ACCENTS[m.group(1)]), value
    )
    value = _LATEX_CMD_RE.sub("", value)
    for raw, repl in _SPECIAL.items():
        value = value.replace(raw, repl)
    value = value.replace("{", "").replace("}", "")
    return " ".join(value.split())


def normalize_title(title: str) -> str:
    """Lower-case letters and digits only, accents dropped: equal for the same paper across exports."""
    text = unicodedata.normalize("NFKD", latex_to_text(title).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", text))


def find_arxiv_id(fields: dict[str, str]) -> str | None:
    """The arXiv id an item names in any of its fields (canonical, without version), or None."""
    prefix = fields.get("archiveprefix", fields.get("eprinttype", "")).lower()
    for name in _ID_FIELDS:
        value = fields.get(name)
        if not value:
            continue
        bare = _BARE_ID.fullmatch(value)
        # A bare eprint is an arXiv id when the archive says so or when it has an arXiv id's shape.
        if bare and (name in ("eprint", "arxivid", "arxiv") and (prefix in ("", "arxiv") or "." in value)):
            return _canonical(bare.group(1))
        for pattern in _ID_IN_TEXT:
            m = pattern.search(value)
            if m:
                return _canonical(m.group(1))
    return None


def _canonical(text: str) -> str | None:
    try:
        return parse_arxiv_id(text)[0]
    except DataError:
        return None


def _parse_date(value: str | None) -> datetime | None:
    """Dates as exports write them: ISO 8601 (with or without time / zone), "YYYY-MM-DD hh:mm:ss", "YYYY/MM/DD"."""
    if not value:
        return None
    value = value.strip().replace("/", "-")
    with contextlib.suppress(ValueError):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    with contextlib.suppress(ValueError):
        return datetime.strptime(value[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    return None


def _bib_authors(value: str) -> list[str]:
    names = []
    for raw in re.split(r"\s+and\s+", value.strip()):
        name = latex_to_text(raw)
        if "," in name:  # "Last, First" -> "First Last"
            last, _, first = name.partition(",")
            name = f"{first.strip()} {last.strip()}".strip()
        if name and name.lower() != "others":
            names.append(name)
    return names


def items_from_bibtex(text: str, source: str = "") -> list[LibraryItem]:
    items = []
    for _kind, _key, raw in parse_bibtex(text):
        title = latex_to_text(raw.get("title", ""))
        if not title:
            continue
        added = next((d for d in (_parse_date(raw.get(f)) for f in _DATE_FIELDS) if d), None)
        items.append(
            LibraryItem(
                title=title,
                abstract=latex_to_text(raw.get("abstract", "")),
                authors=_bib_authors(raw.get("author", "")),
                arxiv_id=find_arxiv_id(raw),
                added=added,
                source=source,
            )
        )
    return items


# -- CSL-JSON -------------------------------------------------------------------------------------------
def _csl_date(value: Any) -> datetime | None:
    """A CSL date ({"date-parts": [[y, m, d]]} or {"raw": "..."} or a string); None when it is not one.
    Exports from other tools put odd things here (dicts, numbers, words): never worth failing an import."""
    if isinstance(value, dict):
        parts_list = value.get("date-parts")
        parts = (
            parts_list[0]
            if isinstance(parts_list, list) and parts_list and isinstance(parts_list[0], list)
            else []
        )
        if parts and all(isinstance(p, int | str) for p in parts):
            with contextlib.suppress(ValueError, OverflowError, TypeError):
                nums = [int(p) for p in parts] + [1, 1]
                return datetime(nums[0], nums[1], nums[2], tzinfo=UTC)
        raw = value.get("raw")
        return _parse_date(raw) if isinstance(raw, str) else None
    return _parse_date(value) if isinstance(value, str) else None


def items_from_csl_json(data: Any, source: str = "") -> list[LibraryItem]:
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list):
        raise DataError(
            f"{source or 'CSL-JSON'}: expected a list of items", hint="export as CSL JSON from Zotero"
        )
    items = []
    for entry in data:
        if not isinstance(entry, dict) or not entry.get("title"):
            continue
        fields = {k.lower(): str(v) for k, v in entry.items() if isinstance(v, str | int)}
        if str(entry.get("archive", "")).lower() == "arxiv":
            fields.setdefault("archiveprefix", "arxiv")
        authors = []
        people = entry.get("author")
        for person in people if isinstance(people, list) else []:
            if isinstance(person, dict):
                literal = person.get("literal")
                parts = [p for p in (person.get("given"), person.get("family")) if isinstance(p, str) and p]
                name = literal if isinstance(literal, str) and literal else " ".join(parts)
                if name:
                    authors.append(name)
        items.append(
            LibraryItem(
                title=latex_to_text(str(entry["title"])),
                abstract=" ".join(str(entry.get("abstract", "")).split()),
                authors=authors,
                arxiv_id=find_arxiv_id(fields),
                added=_csl_date(entry.get("dateAdded")) or _csl_date(entry.get("accessed")),
                source=source,
            )
        )
    return items


# -- id lists -------------------------------------------------------------------------------------------
def items_from_id_list(text: str, source: str = "") -> list[LibraryItem]:
    """One arXiv id or URL per line ('#' starts a comment); anything else on a line is ignored."""
    items = []
    for line in text.splitlines():
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        arxiv_id = _canonical(tokens[0]) or find_arxiv_id({"url": tokens[0]})
        if arxiv_id:
            items.append(LibraryItem(title="", arxiv_id=arxiv_id, source=source))
    return items


def read_library_file(path: Path) -> list[LibraryItem]:
    """Items of a .bib, .json (CSL-JSON) or plain id-list file, told apart by content, not name."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path} does not exist", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            return items_from_csl_json(json.loads(text), str(path))
        except (json.JSONDecodeError, RecursionError) as exc:
            raise DataError(f"{path}: not valid JSON: {exc}", hint="export as CSL JSON") from None
    if re.search(r"@\w+\s*[{(]", text):
        return items_from_bibtex(text, str(path))
    items = items_from_id_list(text, str(path))
    if not items and stripped:
        raise DataError(
            f"{path}: neither BibTeX, CSL-JSON nor a list of arXiv ids",
            hint="export the library as BibTeX or CSL JSON, or list one arXiv id or URL per line",
        )
    return items


# -- resolution and storage -----------------------------------------------------------------------------
def _by_title(store: Store, title: str) -> Paper | None:
    norm = normalize_title(title)
    if not norm:
        return None
    # FTS first (fast, tolerant), then normalised-title equality so a near title never claims a paper.
    for paper, _score in store.search(title, limit=10):
        if normalize_title(paper.title) == norm:
            return paper
    return None


def resolve_items(
    items: Sequence[LibraryItem], store: Store, api: LookupAPI | None = None
) -> tuple[list[LibraryItem], ImportReport]:
    """Fill ids, titles and abstracts from the store (and one batched API look-up); dedupe by key."""
    report = ImportReport(items=len(items))
    for item in items:
        if item.arxiv_id:
            item.resolved_by = "id"
        elif item.title:
            paper = _by_title(store, item.title)
            if paper is not None:
                item.arxiv_id, item.resolved_by = paper.arxiv_id, "store-title"
    ids = [i.arxiv_id for i in items if i.arxiv_id]
    known = store.get_papers(ids)
    unknown = list(dict.fromkeys(i for i in ids if i not in known))
    if unknown and api is not None:
        papers, missing = api.lookup(unknown)
        if papers:
            store.save_papers(papers)
            known.update({p.arxiv_id: p for p in papers})
        report.fetched_from_api = len(papers)
        report.missing_on_api = missing
        for item in items:
            if item.arxiv_id in {p.arxiv_id for p in papers}:
                item.resolved_by = "api"
    for item in items:
        paper = known.get(item.arxiv_id or "")
        if paper is not None:
            # The store's metadata is arXiv's own; the export's is whatever the reader's tool kept.
            item.title = paper.title or item.title
            item.abstract = paper.abstract or item.abstract
            item.authors = paper.authors or item.authors
    out: dict[str, LibraryItem] = {}
    for item in items:
        if not item.title and not item.abstract:
            # An id nobody could describe: keep it (a later import or look-up may fill it) with its id as title.
            item.title = item.arxiv_id or ""
        if item.key in out:
            report.duplicates += 1
            prev = out[item.key]
            prev.added = min((d for d in (prev.added, item.added) if d), default=None)
            continue
        out[item.key] = item
    for item in out.values():
        if item.resolved_by == "id":
            report.resolved_by_id += 1
        elif item.resolved_by == "store-title":
            report.resolved_by_title += 1
        elif item.resolved_by == "none":
            report.not_on_arxiv += 1
    return list(out.values()), report


def import_library(
    store: Store, paths: Sequence[Path], api: LookupAPI | None = None
) -> tuple[list[LibraryItem], ImportReport]:
    """`paperradar library import FILE...`: read, resolve, store. Returns the stored items and counts."""
    items: list[LibraryItem] = []
    for path in paths:
        items.extend(read_library_file(Path(path)))
    resolved, report = resolve_items(items, store, api)
    store.library.save(item.record() for item in resolved)
    return resolved, report
