"""Offline sources: JSON-lines dumps (Kaggle's arxiv-metadata-oai-snapshot, the shared listing and bulk
formats) and saved API Atom responses.

JSONL formats are told apart per line by their keys, so one file may mix them:
  kaggle    "versions" / "authors_parsed": authors as one string, categories space-separated, no listings
  listings  "listings" + "listing_dates": the days and categories a paper was listed in
  bulk      "listing_date": one day; categories with the primary first
  generic   anything else with an "id" and a "title" (no announcements)
Speed matters (a benchmark reads 155k records): orjson, one dict look-up per field, no per-record regex.
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson

from paperradar.errors import DataError
from paperradar.models import AnnounceKind, Announcement, Paper
from paperradar.sources.atom import MAX_FIELD_CHARS, oversized_field, parse_atom
from paperradar.sources.ids import parse_arxiv_id
from paperradar.sources.rss import split_authors

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
MAX_KEPT_ERRORS = 20  # messages kept in ReadStats.errors and logged one by one; the rest are counted
MAX_LINE_BYTES = 16 << 20  # [sources].max_line_bytes: Kaggle's longest real line is a few hundred kB
_CATEGORY_RE = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?", re.ASCII)
_category_ok: dict[str, bool] = {}  # categories repeat endlessly: check each distinct string once
# Signs that a "\x00"-joined author list needs cleaning: runs of blanks, line breaks, blank-edged or empty names.
_MESSY_NAMES = ("  ", "\n", "\t", "\r", " \x00", "\x00 ", "\x00\x00")
_LINE_HINT = "fix or delete that line, or read the file skipping bad lines (errors='skip')"


class _BadLine(Exception):
    """What is wrong with one line; the reader adds the file name and line number."""


@dataclass
class ReadStats:
    """Counts for one read_jsonl pass; complete once the iterator is exhausted."""

    lines: int = 0  # physical lines read, blank ones included
    records: int = 0  # records yielded
    skipped: int = 0  # bad lines skipped (errors="skip")
    truncated: bool = False  # compressed data ended early or was corrupt (errors="skip" stops there)
    errors: list[str] = field(default_factory=list)  # the first MAX_KEPT_ERRORS messages


def _open(path: Path) -> BinaryIO:
    """Open plain or gzip data, told apart by the magic bytes rather than the file name."""
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise DataError(f"{path} does not exist", hint="check the path") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    if raw.read(2) == GZIP_MAGIC:
        raw.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


def _collapse(text: str) -> str:
    """Collapse whitespace like `" ".join(text.split())`, skipping the split where it changes nothing.

    arXiv wraps titles and abstracts with single newlines: replacing those is 5x faster than splitting
    a 1 KB abstract into words, and the full collapse runs only when runs of spaces remain.
    """
    if "\n" in text:
        text = text.replace("\n", " ")
    if "  " in text or "\t" in text or "\r" in text or text[:1] == " " or text[-1:] == " ":
        return " ".join(text.split())
    return text


def _clean(text: Any, name: str) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise _BadLine(f"'{name}' is not a string")
    return _collapse(text)


def _opt(text: Any, name: str) -> str | None:
    return _clean(text, name) or None


def _categories(value: Any) -> list[str]:
    """Category names in order, without MSC/ACM classes ("68T50", "I.2.7") that some dumps mix in."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split()
    elif not isinstance(value, list):
        raise _BadLine("'categories' is not a list or a string")
    out: list[str] = []
    for cat in value:
        if not isinstance(cat, str):
            raise _BadLine(f"category {cat!r} is not a string")
        ok = _category_ok.get(cat)
        if ok is None:
            ok = _CATEGORY_RE.fullmatch(cat) is not None
            if len(_category_ok) < 10_000:
                _category_ok[cat] = ok
        if ok and cat not in out:
            out.append(cat)
    return out


def _authors(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return split_authors(value)
    if not isinstance(value, list):
        raise _BadLine("'authors' is not a list of names or a string")
    try:
        # One join and a few substring checks per record instead of a check per name; the join also
        # proves every element is a string.
        joined = "\x00".join(value)
    except TypeError:
        raise _BadLine("'authors' is not a list of names or a string") from None
    if not joined:
        return []
    if joined[0] in " \x00" or joined[-1] in " \x00" or any(mark in joined for mark in _MESSY_NAMES):
        return [name for name in map(_collapse, value) if name]
    return list(value)


def _day(text: Any) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise _BadLine(f"listing date {text!r} is not YYYY-MM-DD") from None


def _kaggle_authors(parsed: Any) -> tuple[list[str], list[str]]:
    """("First Last Suffix" names, affiliations) from authors_parsed [[last, first, suffix, affil...]]."""
    names: list[str] = []
    affiliations: list[str] = []
    for parts in parsed:
        if not isinstance(parts, list) or not parts:
            raise _BadLine("'authors_parsed' is not a list of [last, first, suffix] lists")
        last = parts[0] or ""
        first = (parts[1] or "").replace(" -", "-") if len(parts) > 1 else ""  # "C. -P." was "C.-P."
        suffix = (parts[2] or "") if len(parts) > 2 else ""
        name = " ".join(f"{first} {last} {suffix}".split())
        if name:
            names.append(name)
        for aff in parts[3:]:
            aff = " ".join((aff or "").split())
            # Skip footnote markers such as "1 and 2" that the snapshot keeps in place of affiliations.
            if aff.replace("and", "").strip("0123456789 ,") and aff not in affiliations:
                affiliations.append(aff)
    return names, affiliations


def _kaggle_time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).astimezone(UTC)  # "Mon, 2 Apr 2007 19:18:42 GMT"
    # OverflowError: found by fuzzing, "Fri, 31 Dec 9999 23:59:59 -1400" is past datetime.max in UTC.
    except (TypeError, ValueError, IndexError, OverflowError):
        raise _BadLine(f"version date {text!r} is not an RFC 2822 date") from None


def _from_kaggle(d: dict[str, Any], arxiv_id: str) -> tuple[Paper, list[Announcement]]:
    parsed = d.get("authors_parsed")
    if parsed:
        authors, affiliations = _kaggle_authors(parsed)
    else:
        authors, affiliations = _authors(d.get("authors")), []
    versions = d.get("versions") or []
    version, published, updated = 1, None, None
    if versions:
        if not isinstance(versions, list) or not all(isinstance(v, dict) for v in versions):
            raise _BadLine("'versions' is not a list of {version, created} objects")
        label = str(versions[-1].get("version") or "v1")
        if not (label[:1] == "v" and label[1:].isdigit()):
            raise _BadLine(f"version {label!r} is not like 'v2'")
        version = int(label[1:])
        published = _kaggle_time(versions[0].get("created"))
        updated = _kaggle_time(versions[-1].get("created"))
    paper = Paper(
        arxiv_id=arxiv_id,
        title=_clean(d.get("title"), "title"),
        authors=authors,
        abstract=_clean(d.get("abstract"), "abstract"),
        version=version,
        categories=_categories(d.get("categories")),
        comment=_opt(d.get("comments"), "comments"),
        journal_ref=_opt(d.get("journal-ref"), "journal-ref"),
        doi=_opt(d.get("doi"), "doi"),
        published=published,
        updated=updated,
        affiliations=affiliations,
        source="jsonl",
    )
    return paper, []


def _from_listings(d: dict[str, Any], arxiv_id: str) -> tuple[Paper, list[Announcement]]:
    listings = _categories(d.get("listings"))
    dates = d.get("listing_dates") or []
    if not isinstance(dates, list):
        raise _BadLine("'listing_dates' is not a list")
    known = _categories(d.get("categories"))
    primary = known[0] if known else None
    announcements: list[Announcement] = []
    for i, text in enumerate(dates):
        day = _day(text)
        for cat in listings:
            # The first listing is the submission: new in the primary, cross elsewhere (new when the
            # primary is unknown). Later listings of the same paper are replacements.
            kind: AnnounceKind = (
                "replace" if i else ("cross" if primary is not None and cat != primary else "new")
            )
            announcements.append(Announcement(arxiv_id, day, cat, kind))
    # Unknown categories: the listings are all we know (their order does not say which is primary).
    categories = known + [c for c in listings if c not in known] if known else listings
    submitted = d.get("submitted_utc")
    published = None
    if submitted:
        try:
            published = datetime.fromisoformat(submitted)
            # Found by the hostile-input tests: an explicit offset ("…+14:00") was overwritten with UTC,
            # shifting the time; convert it instead (naive values are UTC, as the field name says).
            if published.tzinfo is None:
                published = published.replace(tzinfo=UTC)
            else:
                published = published.astimezone(UTC)
        except (TypeError, ValueError, OverflowError):
            raise _BadLine(f"submitted_utc {submitted!r} is not 'YYYY-MM-DD HH:MM:SS'") from None
    paper = Paper(
        arxiv_id=arxiv_id,
        title=_clean(d.get("title"), "title"),
        authors=_authors(d.get("authors")),
        abstract=_clean(d.get("abstract"), "abstract"),
        # Each later listing is a replacement, so the paper is at least at this version.
        version=max(1, len(dates)),
        categories=categories,
        comment=_opt(d.get("comment"), "comment"),
        published=published,
        source="jsonl",
    )
    return paper, announcements


def _from_bulk(d: dict[str, Any], arxiv_id: str) -> tuple[Paper, list[Announcement]]:
    categories = _categories(d.get("categories"))
    announcements: list[Announcement] = []
    if d.get("listing_date") is not None:
        day = _day(d["listing_date"])
        announcements = [
            Announcement(arxiv_id, day, c, "cross" if i else "new") for i, c in enumerate(categories)
        ]
    paper = Paper(
        arxiv_id=arxiv_id,
        title=_clean(d.get("title"), "title"),
        authors=_authors(d.get("authors")),
        abstract=_clean(d.get("abstract"), "abstract"),
        categories=categories,
        comment=_opt(d.get("comment"), "comment"),
        source="jsonl",
    )
    return paper, announcements


def _from_generic(d: dict[str, Any], arxiv_id: str) -> tuple[Paper, list[Announcement]]:
    if "title" not in d:
        raise _BadLine("no 'title' (not a known arXiv JSON-lines format)")
    paper, _ = _from_bulk(d, arxiv_id)
    paper.comment = _opt(d.get("comment") or d.get("comments"), "comment")
    return paper, []


def parse_record(d: Any) -> tuple[Paper, list[Announcement]]:
    """One decoded JSON line to (paper, announcements); _BadLine says what is wrong."""
    if not isinstance(d, dict):
        raise _BadLine("not a JSON object")
    raw_id = d.get("id")
    if raw_id is None:
        raise _BadLine("no 'id'")
    if not isinstance(raw_id, str):
        raise _BadLine(f"'id' {raw_id!r} is not a string")
    try:
        arxiv_id, version = parse_arxiv_id(raw_id)
    except DataError as exc:
        raise _BadLine(exc.message) from None
    if "listings" in d:
        paper, anns = _from_listings(d, arxiv_id)
    elif "listing_date" in d:
        paper, anns = _from_bulk(d, arxiv_id)
    elif "versions" in d or "authors_parsed" in d:
        paper, anns = _from_kaggle(d, arxiv_id)
    else:
        paper, anns = _from_generic(d, arxiv_id)
    if version is not None and version > paper.version:  # an id written with its version says more
        paper.version = version
    return paper, anns


class JsonlReader(Iterator[tuple[Paper, list[Announcement]]]):
    """What read_jsonl returns: iterate it for (paper, announcements); `stats` counts as it goes."""

    def __init__(
        self,
        path: Path,
        errors: Literal["raise", "skip"] = "raise",
        *,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_field_chars: int = MAX_FIELD_CHARS,
    ) -> None:
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors must be 'raise' or 'skip', not {errors!r}")
        self.path = Path(path)
        self.errors = errors
        self.max_line_bytes = max_line_bytes
        self.max_field_chars = max_field_chars
        self.stats = ReadStats()
        self._stream = _open(self.path)  # fail now (missing file), not at the first next()
        self._records = self._read()

    def __iter__(self) -> JsonlReader:
        return self

    def __next__(self) -> tuple[Paper, list[Announcement]]:
        return next(self._records)

    def close(self) -> None:
        self._records.close()
        self._stream.close()

    def __enter__(self) -> JsonlReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bad(self, number: int, what: str) -> None:
        message = f"{self.path}: line {number}: {what}"
        if self.errors == "raise":
            raise DataError(message, hint=_LINE_HINT)
        self.stats.skipped += 1
        if len(self.stats.errors) < MAX_KEPT_ERRORS:
            self.stats.errors.append(message)
            log.warning("skipped %s", message)

    def _lines(self, stream: BinaryIO) -> Iterator[bytes | None]:
        """The file's lines, each at most max_line_bytes: a longer one (a one-line gzip bomb, a 200 MB
        abstract) is read past in bounded pieces and given as None, never held in memory whole."""
        cap = self.max_line_bytes
        while line := stream.readline(cap + 1):
            if len(line) <= cap or line.endswith(b"\n"):
                yield line
                continue
            yield None  # said at once: errors="raise" stops here without reading the rest of the line
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass

    def _read(self) -> Generator[tuple[Paper, list[Announcement]], None, None]:
        stats = self.stats
        number = 0
        loads = orjson.loads
        limit = self.max_field_chars
        try:
            with self._stream as stream:
                for number, line in enumerate(self._lines(stream), 1):
                    stats.lines = number
                    if line is None:
                        self._bad(
                            number,
                            f"longer than {self.max_line_bytes:,} bytes ([sources].max_line_bytes); not read",
                        )
                        continue
                    if number == 1 and line.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM (Windows editors)
                        line = line[3:]
                    if len(line) < 3 and not line.strip():
                        continue
                    try:
                        record = parse_record(loads(line))
                    except orjson.JSONDecodeError as exc:
                        self._bad(number, f"not JSON ({exc})")
                        continue
                    except _BadLine as exc:
                        self._bad(number, str(exc))
                        continue
                    except (TypeError, AttributeError, ValueError, OverflowError) as exc:
                        # A field of an unexpected type deep inside (e.g. a number where a name goes), or a
                        # date or number out of range (OverflowError, found by fuzzing).
                        self._bad(number, f"unexpected value ({type(exc).__name__}: {exc})")
                        continue
                    if len(line) > limit and (why := oversized_field(record[0], limit)) is not None:
                        self._bad(number, f"{record[0].arxiv_id}: {why}")
                        continue
                    stats.records += 1
                    yield record
        except (OSError, EOFError, zlib.error) as exc:
            message = f"{self.path}: after line {number}: the compressed data is corrupt or cut off ({exc})"
            if self.errors == "raise":
                raise DataError(message, hint="download or copy the file again") from None
            stats.truncated = True
            stats.errors.append(message)
            log.warning("%s; stopped reading there", message)
        if stats.skipped > MAX_KEPT_ERRORS:
            log.warning("%s: skipped %d bad lines in all", self.path, stats.skipped)


def read_jsonl(
    path: Path,
    errors: Literal["raise", "skip"] = "raise",
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> JsonlReader:
    """Iterate (paper, announcements) over a JSON-lines file, gzip or plain.

    errors="raise": the first bad line raises DataError naming the file and line ("line 17: no 'id'").
    errors="skip": bad lines are logged and counted in the returned reader's `stats` (a ReadStats).
    A line longer than `max_line_bytes`, or a paper with a field over `max_field_chars`, is a bad line.
    """
    return JsonlReader(path, errors, max_line_bytes=max_line_bytes, max_field_chars=max_field_chars)


def _head(path: Path, size: int = 4096) -> bytes:
    with _open(Path(path)) as stream:
        try:
            return stream.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: the compressed data is corrupt ({exc})") from None


def detect_format(path: Path) -> Literal["jsonl", "atom"]:
    """Tell JSON lines from API Atom XML by the content (gzip allowed), not by the file name."""
    head = _head(path).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "jsonl"
    if head.startswith(b"<") and b"<feed" in head:
        return "atom"
    what = "XML but not an Atom <feed>" if head.startswith(b"<") else "neither JSON lines nor Atom XML"
    raise DataError(
        f"{path}: cannot read this file: it is {what}",
        hint="give a JSON-lines dump (one paper per line) or a saved arXiv API response",
    )


def read_atom_file(
    path: Path, *, max_bytes: int = 64 << 20, max_field_chars: int = MAX_FIELD_CHARS
) -> list[Paper]:
    """Papers from a saved arXiv API response (plain or gzip, at most `max_bytes` decompressed); source is
    "atom-file". Malformed entries are left out (logged)."""
    path = Path(path)
    with _open(path) as stream:
        try:
            # In pieces: read(max_bytes + 1) would allocate the whole cap up front for a 2 kB file.
            chunks, size = [], 0
            while size <= max_bytes and (chunk := stream.read(1 << 20)):
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: the compressed data is corrupt ({exc})") from None
    if len(data) > max_bytes:
        raise DataError(
            f"{path} is larger than {max_bytes:,} bytes once decompressed; refused",
            hint="an API response is a few MB; if this one is real, raise [sources].max_api_bytes",
        )
    papers = parse_atom(data, source=str(path), max_field_chars=max_field_chars).papers
    for paper in papers:
        paper.source = "atom-file"
    return papers
