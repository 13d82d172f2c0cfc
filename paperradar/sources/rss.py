"""The daily announcement feed: rss.arxiv.org RSS 2.0, one feed for several categories joined with '+'.

Each item carries the paper (title, dc:creator, abstract in the description) and how it was announced
(arxiv:announce_type new / cross / replace / replace-cross). The channel's pubDate is the announcement
date in arXiv's own (US Eastern) time, and that date is what we call the day.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import feedparser

from paperradar.errors import DataError
from paperradar.models import ANNOUNCE_KINDS, Announcement, FeedDay, Paper
from paperradar.sources.atom import MAX_FIELD_CHARS, oversized_field, refuse_dtd
from paperradar.sources.http import PoliteClient
from paperradar.sources.ids import parse_arxiv_id

log = logging.getLogger(__name__)

EMPTY_NOTE = "arXiv announced nothing for this feed today (weekends and holidays have no announcements)"
ARXIV_TZ = ZoneInfo("America/New_York")
_MALFORMED_HINT = (
    "the download may have been cut off or replaced by an error page; run again later, "
    "or check [sources].rss_url"
)
_DESC_HEAD_RE = re.compile(r"arXiv:(\S+)\s+Announce Type:\s*([\w-]+)", re.IGNORECASE)
_AND_RE = re.compile(r"(?:^|\s+)and\s+")
_TAG_RE = re.compile(r"<[^>]+>")
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def collapse(text: str | None) -> str:
    """Collapse runs of whitespace (arXiv wraps titles and abstracts at ~80 columns)."""
    return " ".join(text.split()) if text else ""


def split_authors(text: str) -> list[str]:
    """Split "A, B and C" / "A, B, and C" / "A and B" into names, keeping "Jr."-style suffixes attached.

    Splits on the word "and" only, so names like "Anderson" or "Alexandra" survive.
    """
    if "<" in text:  # older feeds wrapped each name in a link
        text = _TAG_RE.sub("", text)
    names: list[str] = []
    for part in text.split(","):
        for piece in _AND_RE.split(part) if "and" in part else (part,):
            name = " ".join(piece.split())
            if not name:
                continue
            if name.lower() in _NAME_SUFFIXES and names:
                names[-1] = f"{names[-1]} {name}"
            else:
                names.append(name)
    return names


def parse_feed_bytes(xml: bytes | str, *, what: str, source: str) -> Any:
    """feedparser on in-memory data only (given a str or bytes it would try to open a path or URL)."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    refuse_dtd(data, what=what, source=source, hint=_MALFORMED_HINT)  # entity bombs, anywhere in the document
    try:
        parsed = feedparser.parse(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as exc:
        # Found by fuzzing (tests/test_fuzz_parsers.py): when the strict XML parse fails, feedparser falls
        # back to its loose sgmllib parser, which raises on malformed character references, e.g.
        # "&#2000000;" (ValueError from chr) or "&#xD800;" (UnicodeEncodeError). Such a document is broken
        # XML and would be refused below anyway; say so instead of crashing with a traceback.
        raise DataError(
            f"{what} from {source} is not valid XML: {type(exc).__name__}: {exc}", hint=_MALFORMED_HINT
        ) from None
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        # An encoding override (declared charset differs from the transport's) is harmless; everything
        # else means the document is broken, and feedparser's "loose" recovery would silently drop items.
        if not isinstance(problem, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType):
            raise DataError(f"{what} from {source} is not valid XML: {problem}", hint=_MALFORMED_HINT)
    return parsed


def _feed_day(feed: Any, entries: list[Any]) -> date | None:
    raw = feed.get("published")
    if raw:
        try:
            # The date as written: "Thu, 24 Sep 2026 00:00:00 -0400" is the 24th, whatever UTC says.
            return parsedate_to_datetime(raw).date()
        except (TypeError, ValueError, IndexError):
            log.warning("RSS pubDate %r is not a date; falling back to other dates in the feed", raw)
    for candidate in [feed.get("updated"), *(e.get("published") for e in entries)]:
        if not candidate:
            continue
        try:
            when = parsedate_to_datetime(candidate)
            if when.tzinfo is not None:  # lastBuildDate is UTC; the announce day is Eastern time
                when = when.astimezone(ARXIV_TZ)
        # OverflowError: found by fuzzing, "Fri, 31 Dec 9999 23:59:59 -1400" has no Eastern-time date.
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        return when.date()
    return None


def _item_id(entry: Any) -> tuple[str, int | None]:
    for candidate in (entry.get("id"), _desc_head(entry)[0], entry.get("link")):
        if candidate:
            try:
                return parse_arxiv_id(candidate)
            except DataError:
                continue
    raise DataError(
        f"RSS item {collapse(entry.get('title'))[:60]!r} has no arXiv id in its guid, description or link",
        hint=_MALFORMED_HINT,
    )


def _desc_head(entry: Any) -> tuple[str | None, str | None]:
    m = _DESC_HEAD_RE.match((entry.get("summary") or "").lstrip())
    return (m.group(1), m.group(2).lower()) if m else (None, None)


def _abstract(summary: str) -> str:
    head, sep, rest = summary.partition("Abstract:")
    if sep:
        return collapse(rest)
    return collapse(_DESC_HEAD_RE.sub("", head, count=1))


def _authors(entry: Any) -> list[str]:
    # arXiv writes one dc:creator with all names; other feeds repeat dc:creator once per author.
    raw = [a.get("name", "") for a in entry.get("authors") or [] if a.get("name")]
    if not raw and entry.get("author"):
        raw = [entry["author"]]
    names: list[str] = []
    for text in raw:
        names.extend(split_authors(text))
    return names


def parse_rss(
    xml: bytes | str,
    *,
    source: str = "input",
    categories: list[str] | None = None,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> FeedDay:
    """Parse an rss.arxiv.org feed into the day, its announcements and the papers as the feed tells them.

    `source` only names where the bytes came from in error messages (a URL or a file). `categories` are the
    feed's categories: each announcement is filed under the one the paper was listed in. An item that
    cannot be read (no arXiv id, a field past `max_field_chars`) is left out with its reason in `skipped`;
    the rest of the day is kept (a document that is not an RSS feed at all is still a DataError).
    """
    watched = set(categories or ())
    if not xml.strip():
        raise DataError(
            f"RSS feed from {source} is not valid XML: the document is empty", hint=_MALFORMED_HINT
        )
    parsed = parse_feed_bytes(xml, what="RSS feed", source=source)
    version = parsed.get("version") or ""
    if not version.startswith("rss"):
        found = f"found {version}" if version else "no feed element found"
        raise DataError(f"RSS feed from {source} is not an RSS feed ({found})", hint=_MALFORMED_HINT)
    entries = list(parsed.entries)
    day = _feed_day(parsed.feed, entries)
    if not entries:
        return FeedDay(day=day, announcements=[], papers=[], note=EMPTY_NOTE)
    if day is None:
        raise DataError(f"RSS feed from {source} has items but no date", hint=_MALFORMED_HINT)

    announcements: list[Announcement] = []
    papers: list[Paper] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        try:
            arxiv_id, version = _item_id(entry)
            head_id, head_kind = _desc_head(entry)
            if version is None and head_id:
                version = parse_arxiv_id(head_id)[1]
        except DataError as exc:
            skipped.append(exc.message)
            continue
        if arxiv_id in seen:  # a multi-category feed lists each paper once; stay safe if it does not
            continue
        kind = str(entry.get("arxiv_announce_type") or head_kind or "new").strip().lower()
        if kind not in ANNOUNCE_KINDS:
            skipped.append(f"RSS item {arxiv_id}: unknown announce type {kind[:40]!r}")
            continue
        categories = list(dict.fromkeys(t["term"] for t in entry.get("tags") or [] if t.get("term")))
        paper = Paper(
            arxiv_id=arxiv_id,
            title=collapse(entry.get("title")),
            authors=_authors(entry),
            abstract=_abstract(entry.get("summary") or ""),
            version=version or 1,
            categories=categories,
            journal_ref=collapse(entry.get("arxiv_journal_reference")) or None,
            doi=collapse(entry.get("arxiv_doi")) or None,
            source="rss",
        )
        if (why := oversized_field(paper, max_field_chars)) is not None:
            skipped.append(f"RSS item {arxiv_id}: {why}")
            continue
        seen.add(arxiv_id)
        # File the announcement under the watched category it was listed in: for a cross-list the item's
        # first category is the paper's primary, which is outside the feed's categories.
        listed_in = [c for c in categories if c in watched] if watched else []
        category = listed_in[0] if listed_in else (categories[0] if categories else "")
        announcements.append(Announcement(arxiv_id, day, category, kind, version))
        papers.append(paper)
    for reason in skipped[:20]:
        log.warning("%s: skipped a malformed item: %s", source, reason)
    return FeedDay(day=day, announcements=announcements, papers=papers, skipped=skipped)


def feed_url(rss_url: str, categories: list[str]) -> str:
    if not categories:
        raise ValueError("fetch_feed needs at least one category")
    base = rss_url if rss_url.endswith("/") else rss_url + "/"
    return base + "+".join(categories)


def fetch_feed(client: PoliteClient, rss_url: str, categories: list[str]) -> FeedDay:
    """GET the combined feed for `categories` and parse it; errors name the URL."""
    url = feed_url(rss_url, categories)
    limits = client.limits
    response = client.get(url, max_bytes=limits.feed, limit_key="[sources].max_feed_bytes")
    return parse_rss(response.content, source=url, categories=categories, max_field_chars=limits.field_chars)
