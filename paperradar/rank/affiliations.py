"""Company from the paper's own author block: for the day's top papers the gazetteer left without a company,
the affiliations of arXiv's HTML rendering (LaTeXML, sources/latexml.py), read before any model is asked.

Why: arXiv's feeds almost never carry affiliations, so the gazetteer sees only title, comment and abstract,
and an industrial paper that does not name its company there stays "unknown". The author block names it.

Cost: one HTML request per paper through the polite client (its spacing, User-Agent and retries), at most
`top_n` per day and only for papers without a company; the result lands in the full-text cache
(`fulltext.fetch_fulltext`), so a re-run reads it from disk and the review/dialogue styles later find the
page there too. A page arXiv does not have (404, or a failed conversion) is remembered for
`RETRY_NO_HTML` in a small marker file beside the cache, so re-runs do not ask again.

Provenance: a company found here is recorded with field "affiliation (html)". A paper whose author block
names only universities and schools is settled as academic: the model is not asked about it. The others
keep their affiliations for the model's company question (model_scores.llm_companies), which then reads
the author block instead of nothing.

Offline (`run --sample`): no request at all; pages already in the cache are still read, and the run's
statistics say that nothing was fetched and why.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from paperradar.errors import DataError, NetworkError
from paperradar.models import AuthorBlockCounts, Paper, Ranked
from paperradar.rank.companies import Gazetteer
from paperradar.sources.fulltext import HTML_BASE, cache_path, cached_fulltext, fetch_fulltext
from paperradar.sources.http import PoliteClient

log = logging.getLogger(__name__)

FIELD = "affiliation (html)"  # CompanyHit.field for a company found in the HTML author block
RETRY_NO_HTML = timedelta(days=7)  # arXiv rarely converts a version later; a week bounds the cost of a miss

# An affiliation of a university or school: a company is not hiding in it. (Institutes and labs are not
# in this list: "Samsung Advanced Institute of Technology", "Zhejiang Lab" may well be industrial.)
_ACADEMIC = re.compile(
    r"universit|college|school|hochschule|école|ecole|polytechn|politecnico|institute of technology|"
    r"academy of sciences|大学|学院",
    re.I,
)


@dataclass(frozen=True, slots=True)
class AuthorBlockSource:
    """Where author blocks come from. `client=None` means no request may be made (offline run): the
    cache is still read, and `reason` says why nothing was fetched."""

    client: PoliteClient | None
    cache_dir: Path | None
    html_base: str = HTML_BASE
    reason: str = ""


def academic_only(affiliations: list[str]) -> bool:
    """True when every affiliation names a university or school (so no company is to be found)."""
    return bool(affiliations) and all(_ACADEMIC.search(a) for a in affiliations)


def companies_from_author_blocks(
    top: list[Ranked], gazetteer: Gazetteer, language: str, source: AuthorBlockSource
) -> tuple[dict[str, list[str]], AuthorBlockCounts]:
    """Give the top papers without a company one from their HTML author block (in place, provenance
    "affiliation (html)"). Returns the affiliations read for the papers still without a company (for
    the model's company question, which skips the academic ones), and what the step did."""
    counts = AuthorBlockCounts()
    read: dict[str, list[str]] = {}
    todo = [item for item in top if not item.companies]
    counts.papers = len(todo)
    client = source.client
    if client is None and todo:
        counts.note = source.reason or "no network for this run: author blocks read from the cache only"
    for item in todo:
        paper = item.paper
        affiliations = _read(paper, source, client, counts)
        if counts.failed and client is not None:
            # arXiv stopped answering (the polite client already retried): the rest of the day reads the
            # cache only, so one outage does not cost a full retry cycle per paper.
            client = None
            counts.note = "arXiv's HTML did not answer; the remaining papers were read from the cache only"
        if affiliations is None:
            continue
        if affiliations:
            counts.with_affiliations += 1
        hits = gazetteer.from_affiliations(affiliations, language, FIELD)
        if hits:
            item.companies = hits
            counts.companies += 1
            continue
        if affiliations:
            read[paper.arxiv_id] = affiliations
        if academic_only(affiliations):
            counts.academic += 1
    return read, counts


def _read(
    paper: Paper, source: AuthorBlockSource, client: PoliteClient | None, counts: AuthorBlockCounts
) -> list[str] | None:
    """The author block's affiliations, or None when there is no page to read (counted why)."""
    cached = cached_fulltext(paper.arxiv_id, paper.version, source.cache_dir)
    if cached is not None:
        if cached.source != "html":
            counts.no_html += 1  # the styles stage already found only a PDF: no author block to read
            return None
        counts.cached += 1
        return list(cached.affiliations)
    if client is None:
        counts.not_fetched += 1
        return None
    marker = _no_html_marker(paper, source.cache_dir)
    if marker is not None and _recent(marker):
        counts.no_html += 1
        return None
    try:
        full = fetch_fulltext(
            paper.arxiv_id,
            paper.version,
            client,
            cache_dir=source.cache_dir,
            html_base=source.html_base,
            pdf=False,
        )
    except DataError as exc:  # 404, or a page that is not a usable LaTeXML rendering
        counts.no_html += 1
        log.info("no author block for %s: %s", paper.versioned_id, exc.message)
        if marker is not None:
            _write_marker(marker, exc.message)
        return None
    except NetworkError as exc:
        counts.failed += 1
        log.warning("author block of %s not fetched (%s); tried again next run", paper.versioned_id, exc)
        return None
    counts.fetched += 1
    return list(full.affiliations)


def _no_html_marker(paper: Paper, cache_dir: Path | None) -> Path | None:
    if cache_dir is None:
        return None
    return cache_path(paper.arxiv_id, paper.version, cache_dir).with_suffix(".no-html")


def _recent(marker: Path) -> bool:
    try:
        checked = datetime.fromisoformat(json.loads(marker.read_text(encoding="utf-8"))["checked"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # unreadable marker: ask again
    return datetime.now(UTC) - checked < RETRY_NO_HTML


def _write_marker(marker: Path, reason: str) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps({"checked": datetime.now(UTC).isoformat(), "reason": reason}), encoding="utf-8")
    os.replace(tmp, marker)


def describe(counts: AuthorBlockCounts) -> str:
    """One line for the run summary: what the author-block step read, found and could not do, and why."""
    read = counts.cached + counts.fetched
    if not read and not counts.failed and not counts.no_html and counts.note:
        # Nothing was looked at (an offline run, a verb that does not fetch): say that, and why, only.
        return f"not looked up for {counts.papers} top papers without a company — {counts.note}"
    parts = [
        f"{counts.papers} top papers without a company: {read} author blocks read "
        f"({counts.cached} cached, {counts.fetched} fetched)"
    ]
    if counts.no_html:
        parts.append(f"{counts.no_html} without an HTML rendering")
    if counts.failed:
        parts.append(f"{counts.failed} failed (tried again next run)")
    if counts.not_fetched:
        parts.append(f"{counts.not_fetched} not fetched")
    line = ", ".join(parts) + f"; {counts.companies} given a company, {counts.academic} academic only"
    return line + (f" — {counts.note}" if counts.note else "")
