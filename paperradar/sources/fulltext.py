"""A paper's full text: arXiv's HTML rendering (LaTeXML), else its PDF; cached on disk by id + version.

Used only for the papers that need more than the abstract (the review and dialogue styles, affiliations).
Requests go through PoliteClient like every other arXiv request (spacing, User-Agent, retries).

HTML is read by latexml.py (the standard library's html.parser, no compiled dependency); PDFs by pypdf
(pure Python, imported only when a paper has no HTML rendering).

Errors: a page that is not a LaTeXML rendering, or a PDF without text, is a DataError (the caller then
uses the abstract); a 4xx for both renderings is a DataError too ("no full text"); a network failure
stays a NetworkError.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from paperradar.errors import DataError, PaperradarError
from paperradar.models import Paper, SourceText
from paperradar.sources.http import HTTPStatusError, PoliteClient
from paperradar.sources.ids import parse_arxiv_id, safe_filename
from paperradar.sources.latexml import INSTITUTION, parse_latexml
from paperradar.text.extractive import split_sentences
from paperradar.text.tokens import estimate_tokens

log = logging.getLogger(__name__)

HTML_BASE = "https://arxiv.org/html"
PDF_BASE = "https://arxiv.org/pdf"
# Bump when parsing changes: cached results of an older parser are fetched and parsed again.
PARSER_VERSION = 2

# --- the result ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    title: str  # as printed, with its number: "5 Experiments", "5.2 Main Results"
    text: str  # paragraphs separated by "\n"
    level: int = 1  # 1 section, 2 subsection, ...; the abstract is level 1


@dataclass(slots=True)
class FullText:
    sections: list[Section]
    tables: list[list[list[str]]]  # table -> rows -> cell texts
    affiliations: list[str]
    source: Literal["html", "pdf"]
    title: str = ""
    table_captions: list[str] = field(default_factory=list)  # parallel to tables ("" when none)
    url: str = ""

    def check_texts(self) -> list[str]:
        """Everything a generated text may be checked against: sections, table cells, affiliations."""
        cells = [" | ".join(row) for table in self.tables for row in table]
        return [self.title, *(f"{s.title}\n{s.text}" for s in self.sections), *cells, *self.affiliations]

    def to_json(self) -> str:
        return json.dumps({"parser": PARSER_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> FullText | None:
        """None for a cache file of another parser version or an unreadable one."""
        try:
            raw = json.loads(text)
            if raw.pop("parser", None) != PARSER_VERSION:
                return None
            raw["sections"] = [Section(**s) for s in raw["sections"]]
            return cls(**raw)
        except (ValueError, TypeError, KeyError):
            return None


# --- fetching --------------------------------------------------------------------------------------------


def cache_path(arxiv_id: str, version: int, cache_dir: Path) -> Path:
    base, _ = parse_arxiv_id(arxiv_id)
    return cache_dir / f"{safe_filename(f'{base}v{version}')}.json"


def cached_fulltext(arxiv_id: str, version: int, cache_dir: Path | None) -> FullText | None:
    """The cached full text of one paper version, without any request; None when there is none (or it was
    parsed by another parser version)."""
    if cache_dir is None:
        return None
    path = cache_path(arxiv_id, version, cache_dir)
    return FullText.from_json(path.read_text(encoding="utf-8")) if path.exists() else None


def fetch_fulltext(
    arxiv_id: str,
    version: int,
    client: PoliteClient,
    *,
    cache_dir: Path | None = None,
    html_base: str = HTML_BASE,
    pdf_base: str = PDF_BASE,
    pdf: bool = True,
) -> FullText:
    """The full text of one paper version: cache, else HTML, else PDF (see the module doc for errors).
    `pdf=False` asks for the HTML rendering only (one request; the author block needs nothing else); a
    cached PDF result is still returned, its `source` says so."""
    base, _ = parse_arxiv_id(arxiv_id)
    vid = f"{base}v{version}"
    path = cache_path(arxiv_id, version, cache_dir) if cache_dir is not None else None
    cached = cached_fulltext(arxiv_id, version, cache_dir)
    if cached is not None:
        return cached
    problems: list[str] = []
    result: FullText | None = None
    # HTML first (sections and tables survive), the PDF when arXiv has no HTML rendering or it is unusable.
    renderings: list[tuple[str, str, Callable[[Any, str], FullText]]] = [
        ("HTML", html_base, lambda response, url: parse_html(response.text, url=url)),
        ("PDF", pdf_base, lambda response, url: parse_pdf(response.content, url=url)),
    ][: 2 if pdf else 1]
    for label, base_url, parse in renderings:
        url = f"{base_url.rstrip('/')}/{vid}"
        try:
            response = client.get(
                url, max_bytes=client.limits.fulltext, limit_key="[sources].max_fulltext_bytes"
            )
            result = parse(response, url)
            break
        except HTTPStatusError as exc:
            if exc.status >= 500:
                raise
            problems.append(f"{label}: HTTP {exc.status}")  # 404: no such rendering of this paper
        except DataError as exc:
            problems.append(f"{label}: {exc.message}")
    if result is None:
        raise DataError(
            f"no usable full text for {vid} ({'; '.join(problems)})",
            hint="the abstract is used instead",
        )
    if problems:
        log.info("full text of %s from PDF (%s)", vid, "; ".join(problems))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(result.to_json(), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a crash never leaves half a cache file behind
    return result


# --- HTML ------------------------------------------------------------------------------------------------


def parse_html(html: str, url: str = "") -> FullText:
    """Sections, tables and affiliations of an arXiv LaTeXML page; DataError when it is not one."""
    doc = parse_latexml(html, url)
    return FullText(
        sections=[Section(title, text, level) for title, text, level in doc.sections],
        tables=doc.tables,
        affiliations=doc.affiliations,
        source="html",
        title=doc.title,
        table_captions=doc.captions,
        url=url,
    )


# --- PDF -------------------------------------------------------------------------------------------------

# "1 Introduction", "3.2 Training Objective", "5. EXPERIMENTS", and unnumbered standard headings.
_PDF_HEADING = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,2})\.?\s+(?P<title>[A-Z][^\d.,;:]{2,80})$")
_PDF_NAMED = re.compile(
    r"^(abstract|introduction|related work|background|conclusions?|references|acknowledge?ments?|"
    r"appendix|discussion|experiments?|evaluation|methods?|methodology)$",
    re.I,
)


def parse_pdf(data: bytes, url: str = "") -> FullText:
    """Sections (by heading lines), the title and affiliation lines of page one; no tables (PDF text loses
    their grid, and a wrong cell is worse than none). DataError when there is no text to read."""
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DataError(f"{url or 'the file'} is not a PDF")
    from pypdf import PdfReader  # lazy: only papers without HTML need it
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, NotImplementedError) as exc:
        # NotImplementedError: pypdf's answer to a filter or parameter it does not support (found by fuzzing:
        # "Unsupported filter /FlateDecode" for a stream with a bad /DecodeParms) — this paper's PDF only.
        raise DataError(f"unreadable PDF at {url or 'the given file'}: {exc}") from None
    lines = [" ".join(line.split()) for page in pages for line in page.splitlines()]
    lines = [line for line in lines if line]
    if sum(len(line) for line in lines) < 200:
        raise DataError(f"{url or 'the PDF'} has no extractable text (a scanned paper?)")
    title = lines[0]
    front: list[str] = []
    sections: list[Section] = []
    current: tuple[str, int] | None = None
    body: list[str] = []

    def flush() -> None:
        if current is not None and (body or current[0]):
            sections.append(Section(current[0], _join_pdf_lines(body), current[1]))

    for line in lines[1:]:
        m = _PDF_HEADING.match(line)
        named = _PDF_NAMED.match(line)
        if (m and len(line.split()) <= 10) or named:
            flush()
            level = m.group("num").count(".") + 1 if m else 1
            current, body = (line if m else line.capitalize() if line.isupper() else line, level), []
        elif current is None:
            front.append(line)
        else:
            body.append(line)
    flush()
    if not sections:
        raise DataError(f"{url or 'the PDF'} has no recognizable section headings")
    affiliations = list(dict.fromkeys(x for x in front if INSTITUTION.search(x) and "@" not in x))
    return FullText(
        sections=sections, tables=[], affiliations=affiliations, source="pdf", title=title, url=url
    )


def _join_pdf_lines(lines: list[str]) -> str:
    """PDF lines of one section as one paragraph; "recom-" + "mendation" is rejoined."""
    text = ""
    for line in lines:
        if text.endswith("-") and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text


# --- fitting a token budget ------------------------------------------------------------------------------

_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.I))
    for kind, pattern in (
        ("drop", r"referenc|bibliograph|acknowledg|ethic|impact statement|checklist|author contribution"),
        ("abstract", r"^abstract$"),
        ("intro", r"introduc"),
        ("conclusion", r"conclu|discussion|summary|future work|limitation"),
        ("experiments", r"experiment|evaluat|result|empiric|ablation|deploy|online|a/b|benchmark|analys"),
        ("related", r"related|background|preliminar|literature"),
        ("method", r"method|approach|framework|model|propos|design|architect|algorithm|formulat|overview"),
    )
)
_PRIORITY = {"abstract": 0, "intro": 1, "method": 2, "experiments": 3, "tables": 4, "conclusion": 5}
_PRIORITY |= {"related": 6, "other": 7, "appendix": 8}
_APPENDIX = re.compile(r"^(appendix|supplementary|[A-H](\.\d+)*\s)", re.I)


def _kind(title: str) -> str:
    bare = re.sub(r"^[\d.]+\s*", "", title).strip()
    for kind, pattern in _KINDS:
        if pattern.search(bare):
            return kind
    return "appendix" if _APPENDIX.match(title) else "other"


def _units(fulltext: FullText) -> list[tuple[int, str, list[str]]]:
    """(priority, heading, pieces) in document order; pieces are sentences (rows for tables)."""
    units: list[tuple[int, str, list[str]]] = []
    parent = "other"
    last_experiment = -1
    for s in fulltext.sections:
        kind = _kind(s.title)
        if s.level == 1 or s.title == "Abstract":
            parent = kind
        elif kind != "drop":
            kind = "appendix" if parent == "appendix" else parent  # subsections rank with their section
        if kind == "drop" or parent == "drop":
            continue
        # A paragraph's last sentence carries the paragraph break, so a cut keeps the paragraphs.
        pieces = []
        for para in s.text.split("\n"):
            sentences = split_sentences(para)
            pieces += [*sentences[:-1], sentences[-1] + "\n"] if sentences else []
        units.append((_PRIORITY[kind], "#" * min(s.level + 1, 4) + " " + (s.title or "…"), pieces))
        if kind == "experiments":
            last_experiment = len(units)
    rows: list[str] = []
    for i, table in enumerate(fulltext.tables):
        caption = fulltext.table_captions[i] if i < len(fulltext.table_captions) else ""
        rows.append(caption or f"Table {i + 1}")
        rows += [" | ".join(row) for row in table]
    if rows:
        at = last_experiment if last_experiment >= 0 else len(units)
        units.insert(at, (_PRIORITY["tables"], "## Tables", rows))
    return units


def fit_to_budget(fulltext: FullText, max_tokens: int) -> str:
    """The paper's text in about `max_tokens`: whole sections in priority order (abstract, introduction,
    method, experiments, tables, conclusion, then the rest; references and acknowledgements never), then the
    leading sentences of the sections that did not fit whole. Never cuts inside a sentence or a table row;
    "…" marks a cut. Output keeps document order with a Markdown heading per section. 0 = no limit."""
    units = _units(fulltext)
    cost = [[estimate_tokens(p) + 1 for p in pieces] for _, _, pieces in units]
    head_cost = [estimate_tokens(h) + 2 for _, h, _ in units]
    order = sorted(range(len(units)), key=lambda i: (units[i][0], i))
    limit = max_tokens if max_tokens > 0 else sum(map(sum, cost)) + sum(head_cost)
    kept: dict[int, int] = {}  # unit -> number of leading pieces kept
    used = 0

    def take_head(i: int) -> None:
        nonlocal used
        n, spend = 0, head_cost[i]
        while n < len(cost[i]) and used + spend + cost[i][n] <= limit:
            spend += cost[i][n]
            n += 1
        if n or not cost[i]:
            kept[i], used = n, used + spend

    for i in order:  # whole sections first; the abstract and introduction are worth their beginning
        total = head_cost[i] + sum(cost[i])
        if used + total <= limit:
            kept[i], used = len(units[i][2]), used + total
        elif units[i][0] <= _PRIORITY["intro"]:
            take_head(i)
    for i in order:  # then the beginning of what did not fit
        if i not in kept:
            take_head(i)
    blocks = []
    for i in sorted(kept):
        _, heading, pieces = units[i]
        if not pieces and i + 1 not in kept:
            continue  # a bare "4 Experiments" heading is only worth keeping above its kept subsections
        if heading == "## Tables":
            text = "\n".join(pieces[: kept[i]]) + ("\n…" if kept[i] < len(pieces) else "")
        else:
            text = "".join(p if p.endswith("\n") else p + " " for p in pieces[: kept[i]]).strip()
            text += " …" if kept[i] < len(pieces) else ""
        blocks.append(f"{heading}\n{text}" if text else heading)
    return "\n\n".join(blocks)


def prepare_sources(
    papers: Iterable[Paper],
    client: PoliteClient,
    *,
    cache_dir: Path | None,
    max_tokens: int = 6000,
    html_base: str | None = None,
    pdf_base: str | None = None,
) -> dict[str, SourceText]:
    """Full texts for `papers` (one HTML or PDF fetch each, cached on disk), fitted to `max_tokens`.
    A paper whose full text cannot be had gets the abstract (SourceText()), with the reason logged."""
    out: dict[str, SourceText] = {}
    bases = {k: v for k, v in (("html_base", html_base), ("pdf_base", pdf_base)) if v}
    with client.stage("the full texts"):  # one deadline for all papers: past it, abstracts
        for paper in papers:
            out[paper.arxiv_id] = _source_text(paper, client, cache_dir, max_tokens, bases)
    return out


def _source_text(
    paper: Paper, client: PoliteClient, cache_dir: Path | None, max_tokens: int, bases: dict[str, str]
) -> SourceText:
    try:
        full = fetch_fulltext(
            paper.arxiv_id,
            paper.version,
            client,
            cache_dir=cache_dir,
            html_base=bases.get("html_base", HTML_BASE),
            pdf_base=bases.get("pdf_base", PDF_BASE),
        )
    except PaperradarError as exc:
        log.warning("full text of %s unavailable (%s); using the abstract", paper.versioned_id, exc)
        return SourceText()
    return _fitted(full, max_tokens)


def _fitted(full: FullText, max_tokens: int) -> SourceText:
    return SourceText(
        text=fit_to_budget(full, max_tokens),
        origin=full.source,
        checks=tuple(full.check_texts()),
        affiliations=tuple(full.affiliations),
    )


def cached_source(paper: Paper, cache_dir: Path | None, max_tokens: int) -> SourceText | None:
    """A paper's full text as a style prompt had it, from the cache only (None: never fetched)."""
    full = cached_fulltext(paper.arxiv_id, paper.version, cache_dir)
    return _fitted(full, max_tokens) if full is not None else None


class FullTextFetcher:
    """A SourceProvider for the day's reviews and dialogues: each wanted paper's full text is fetched on
    first request, one at a time (the polite client is not shared between threads), in a worker thread,
    so the event loop keeps every other model call going meanwhile. `fetched` is what it got."""

    def __init__(
        self,
        wanted: Iterable[str],
        client: PoliteClient,
        *,
        cache_dir: Path | None,
        max_tokens: int = 6000,
        html_base: str | None = None,
        pdf_base: str | None = None,
    ) -> None:
        self.wanted = set(wanted)
        self.client = client
        self.cache_dir, self.max_tokens = cache_dir, max_tokens
        self.html_base, self.pdf_base = html_base, pdf_base
        self.fetched: dict[str, SourceText] = {}
        self._lock: asyncio.Lock | None = None  # made on first use: a lock belongs to one event loop
        self._ends: float | None = None  # monotonic time the full-text stage ends, from the first fetch

    async def get(self, paper: Paper) -> SourceText | None:
        if paper.arxiv_id not in self.wanted:
            return None
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if paper.arxiv_id not in self.fetched:
                self.fetched.update(await asyncio.to_thread(self._fetch, paper))
        return self.fetched.get(paper.arxiv_id)

    def sources_for(self, papers: Iterable[Paper]) -> dict[str, SourceText]:
        """The full texts the pages of `papers` were written from: fetched in this run, or (a text already
        stored by an earlier run, no fetch needed now) read from the cache, so a resumed run writes the
        same pages as an uninterrupted one."""
        out: dict[str, SourceText] = {}
        for paper in papers:
            found = self.fetched.get(paper.arxiv_id) or cached_source(paper, self.cache_dir, self.max_tokens)
            if found is not None:
                out[paper.arxiv_id] = found
        return out

    async def exclusive(self, work: Callable[[], None]) -> None:
        """Run `work` (blocking, using the same polite client: the author blocks) in a worker thread, never
        beside a full-text fetch, so the event loop keeps every model call going meanwhile."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await asyncio.to_thread(work)

    def _fetch(self, paper: Paper) -> dict[str, SourceText]:
        bases = {k: v for k, v in (("html_base", self.html_base), ("pdf_base", self.pdf_base)) if v}
        # One deadline for all the day's full texts, as prepare_sources has: past it, abstracts.
        if self._ends is None:
            deadline = self.client.limits.stage_deadline  # None: no deadline
            self._ends = time.monotonic() + (math.inf if deadline is None else deadline)
        left = self._ends - time.monotonic()
        if left <= 0:
            log.warning("full text of %s not fetched: the full-text deadline passed", paper.versioned_id)
            return {paper.arxiv_id: SourceText()}
        with self.client.stage("the full texts", seconds=None if math.isinf(left) else left):
            return {paper.arxiv_id: _source_text(paper, self.client, self.cache_dir, self.max_tokens, bases)}
