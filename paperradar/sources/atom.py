"""The arXiv API's Atom feed (export.arxiv.org/api/query), in its 2016 and its current (2026) shape.

Parsed with ElementTree rather than feedparser: feedparser flattens <author> so only the last author's
arxiv:affiliation survives, and the namespaced elements we need (primary_category, comment, journal_ref,
doi, opensearch counts) are plain XPath look-ups here. The parse goes through defusedxml with
forbid_dtd: a document with a <!DOCTYPE> anywhere (arXiv never sends one) is refused before any entity is
declared, expanded or fetched.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree import ElementTree as ET
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

import defusedxml.ElementTree

from paperradar.errors import DataError
from paperradar.models import Paper
from paperradar.sources.ids import parse_arxiv_id

log = logging.getLogger(__name__)

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_MALFORMED_HINT = "the response may have been cut off or replaced by an error page; run again later"


class ArxivApiError(DataError):
    """The API answered with its error feed (an entry whose id contains "api/errors").

    `api_message` is the API's own words, e.g. "incorrect id format for abc".
    """

    def __init__(self, api_message: str, hint: str | None = None) -> None:
        super().__init__(
            f"arXiv API error: {api_message}",
            hint=hint
            or "check the ids or the search query that was sent (the message says which part is wrong)",
        )
        self.api_message = api_message


MAX_FIELD_CHARS = 256 * 1024  # [sources].max_field_chars: real abstracts are under 2,000 characters


@dataclass
class AtomPage:
    papers: list[Paper]
    total_results: int | None
    skipped: list[str] = field(default_factory=list)  # why each malformed entry was left out


def oversized_field(paper: Paper, limit: int) -> str | None:
    """Why `paper` is too big to store (a text field, or the author list, over `limit` characters)."""
    fields = {
        "title": paper.title,
        "abstract": paper.abstract,
        "comment": paper.comment or "",
        "journal_ref": paper.journal_ref or "",
        "doi": paper.doi or "",
        "authors": paper.authors,
        "affiliations": paper.affiliations,
        "categories": paper.categories,
    }
    for name, value in fields.items():
        size = len(value) if isinstance(value, str) else sum(len(v) + 2 for v in value)
        if size > limit:
            return f"its {name} is {size:,} characters long, more than [sources].max_field_chars = {limit:,}"
    return None


def _text(el: ET.Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    text = " ".join(el.text.split())
    return text or None


def _int(el: ET.Element | None) -> int | None:
    text = _text(el)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _time(el: ET.Element | None, where: str) -> datetime | None:
    text = _text(el)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)  # handles "Z" and "-04:00" (the 2016 feed) on 3.11
    except ValueError:
        raise DataError(f"{where}: {text!r} is not an ISO date-time", hint=_MALFORMED_HINT) from None
    if when.tzinfo is None:  # the API speaks UTC; never hand out naive datetimes
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:  # found by fuzzing: "0001-01-01T00:00:00+01:00" is before datetime.min in UTC
        raise DataError(f"{where}: {text!r} is out of range", hint=_MALFORMED_HINT) from None


def _entry(el: ET.Element, source: str) -> Paper:
    raw_id = _text(el.find(f"{ATOM}id"))
    if raw_id is None:
        raise DataError(f"Atom feed from {source}: an entry has no <id>", hint=_MALFORMED_HINT)
    arxiv_id, version = parse_arxiv_id(raw_id)
    authors: list[str] = []
    affiliations: list[str] = []
    for author in el.iterfind(f"{ATOM}author"):
        name = _text(author.find(f"{ATOM}name"))
        if name:
            authors.append(name)
        for aff in author.iterfind(f"{ARXIV}affiliation"):
            text = _text(aff)
            if text and text not in affiliations:
                affiliations.append(text)
    categories: list[str] = []
    primary = el.find(f"{ARXIV}primary_category")
    if primary is not None and primary.get("term"):
        categories.append(primary.get("term", ""))
    for cat in el.iterfind(f"{ATOM}category"):
        term = cat.get("term")
        if term and term not in categories:
            categories.append(term)
    where = f"Atom feed from {source}, entry {arxiv_id}"
    return Paper(
        arxiv_id=arxiv_id,
        title=_text(el.find(f"{ATOM}title")) or "",
        authors=authors,
        abstract=_text(el.find(f"{ATOM}summary")) or "",
        version=version or 1,
        categories=categories,
        comment=_text(el.find(f"{ARXIV}comment")),
        journal_ref=_text(el.find(f"{ARXIV}journal_ref")),
        doi=_text(el.find(f"{ARXIV}doi")),
        published=_time(el.find(f"{ATOM}published"), where),
        updated=_time(el.find(f"{ATOM}updated"), where),
        affiliations=affiliations,
        source="api",
    )


def declares_dtd(xml: bytes | str) -> bool:
    """True when the document's prolog has a <!DOCTYPE ...>, i.e. may declare entities. A quick first look;
    the parse (defusedxml, forbid_dtd) then refuses a DTD wherever it is.

    arXiv's Atom and RSS never carry one. Found by fuzzing (tests/test_fuzz_parsers.py): expat's own guard
    stops a "billion laughs" only after ~8 MiB of expansion, which cost 80-160 MB of memory and up to 2 s
    per 600-byte document (feedparser then re-parses it loosely). Refusing any DTD up front, as defusedxml's
    forbid_dtd does, costs nothing for real feeds. A linear scan, no regex: the prolog may be hostile too.
    """
    data = xml[:65536]
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    i, n = 0, len(data)
    while i < n:
        if data[i : i + 1].isspace():
            i += 1
        elif data.startswith(b"\xef\xbb\xbf", i):
            i += 3
        elif data.startswith(b"<?", i) or data.startswith(b"<!--", i):
            close = b"?>" if data[i + 1 : i + 2] == b"?" else b"-->"
            end = data.find(close, i + 2)
            if end < 0:
                return False
            i = end + len(close)
        else:
            return data[i : i + 9].upper() == b"<!DOCTYPE"
    return False


def refuse_dtd(xml: bytes, *, what: str, source: str, hint: str) -> None:
    """DataError when the document declares a DTD anywhere, read in full by defusedxml's expat reader
    (forbid_dtd, no entities, nothing external). For parsers that are not defusedxml themselves (feedparser):
    a document that is not well-formed XML is left to that parser's own error."""
    if declares_dtd(xml):  # a DTD in the prolog: refused without parsing
        raise DataError(
            f"{what} from {source} declares a DTD (<!DOCTYPE>), which arXiv never sends; refused", hint=hint
        )
    import defusedxml.expatreader  # only RSS needs it (Atom parses through defusedxml.ElementTree)

    parser = defusedxml.expatreader.create_parser(forbid_dtd=True)
    parser.setContentHandler(ContentHandler())
    try:
        parser.parse(io.BytesIO(xml))
    except defusedxml.DefusedXmlException:
        raise DataError(
            f"{what} from {source} declares a DTD or entities, which arXiv never sends; refused", hint=hint
        ) from None
    except (SAXException, ValueError):
        return


def parse_atom(
    xml: bytes | str, *, source: str = "input", max_field_chars: int = MAX_FIELD_CHARS
) -> AtomPage:
    """Parse one API response page. ArxivApiError for the API's error feed, DataError for broken XML.

    An entry that cannot be read (a malformed id or date, a field past `max_field_chars`) is left out and
    its reason kept in `skipped`: one bad entry does not cost the others. `source` only names where the
    bytes came from in error messages (a URL or a file).
    """
    if not xml.strip():
        raise DataError(
            f"Atom feed from {source} is not valid XML: the document is empty", hint=_MALFORMED_HINT
        )
    if declares_dtd(xml):
        raise DataError(
            f"Atom feed from {source} declares a DTD (<!DOCTYPE>), which arXiv never sends; refused",
            hint=_MALFORMED_HINT,
        )
    try:
        root = defusedxml.ElementTree.fromstring(xml, forbid_dtd=True)
    except ET.ParseError as exc:
        raise DataError(f"Atom feed from {source} is not valid XML: {exc}", hint=_MALFORMED_HINT) from None
    except defusedxml.DefusedXmlException:  # a DTD past the prolog scan: anywhere in the document
        raise DataError(
            f"Atom feed from {source} declares a DTD (<!DOCTYPE>), which arXiv never sends; refused",
            hint=_MALFORMED_HINT,
        ) from None
    if root.tag != f"{ATOM}feed":
        raise DataError(
            f"Atom feed from {source} is not an Atom feed (root element <{root.tag}>)", hint=_MALFORMED_HINT
        )
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        entry_id = _text(entry.find(f"{ATOM}id")) or ""
        if "api/errors" in entry_id:
            message = _text(entry.find(f"{ATOM}summary")) or entry_id.rpartition("#")[2].replace("_", " ")
            raise ArxivApiError(message)
    papers: list[Paper] = []
    skipped: list[str] = []
    for number, entry in enumerate(entries, 1):
        try:
            paper = _entry(entry, source)
        except DataError as exc:
            skipped.append(f"entry {number}: {exc.message}")
            continue
        if (why := oversized_field(paper, max_field_chars)) is not None:
            skipped.append(f"entry {number} ({paper.arxiv_id}): {why}")
            continue
        papers.append(paper)
    for reason in skipped[:20]:
        log.warning("Atom feed from %s: skipped %s", source, reason)
    return AtomPage(
        papers=papers,
        total_results=_int(root.find(f"{OPENSEARCH}totalResults")),
        skipped=skipped,
    )
