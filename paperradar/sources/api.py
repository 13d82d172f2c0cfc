"""The arXiv query API: batched metadata look-ups by id, and date-bounded category searches.

A daily run learns from the RSS feed which ~500 papers were announced, then completes their metadata
(comments, journal refs, affiliations, exact dates) with id_list look-ups of up to `batch_size` ids
each: 3 requests, 3 s apart, instead of 500.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

from paperradar.errors import DataError, UsageError
from paperradar.models import Paper
from paperradar.sources.atom import ArxivApiError, AtomPage, parse_atom
from paperradar.sources.http import HTTPStatusError, PoliteClient
from paperradar.sources.ids import parse_arxiv_id

log = logging.getLogger(__name__)

EMPTY_PAGE_RETRIES = 2  # arXiv sometimes answers a page inside the result set with no entries


class ArxivAPI:
    def __init__(self, client: PoliteClient, base_url: str, batch_size: int = 200) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.client = client
        self.base_url = base_url
        self.batch_size = batch_size
        self.skipped: list[str] = []  # malformed entries left out, over all pages, with their reasons

    def _page(self, params: dict[str, Any]) -> AtomPage:
        try:
            response = self.client.get(
                self.base_url,
                params=params,
                max_bytes=self.client.limits.api,
                limit_key="[sources].max_api_bytes",
            )
        except HTTPStatusError as exc:
            # The API reports bad input (e.g. a malformed id) as an Atom error feed with HTTP 400.
            # That is a data problem with a precise message, not a network failure.
            if exc.status == 400 and b"api/errors" in exc.response.content:
                try:
                    parse_atom(exc.response.content, source=self.base_url)
                except ArxivApiError as api_error:
                    raise api_error from None
                except DataError:
                    pass  # not a parseable error feed: report the HTTP failure as it was
            raise
        page = parse_atom(
            response.content, source=str(response.url), max_field_chars=self.client.limits.field_chars
        )
        self.skipped += page.skipped
        return page

    def lookup(self, ids: list[str]) -> tuple[list[Paper], list[str]]:
        """Latest metadata for `ids` (any accepted id form; versions are dropped so the latest comes back).

        Returns (papers in input order, canonical ids the API did not return). One request per
        `batch_size` distinct ids. DataError before any request if an id is not an arXiv id.
        """
        wanted = list(dict.fromkeys(parse_arxiv_id(i)[0] for i in ids))
        found: dict[str, Paper] = {}
        for start in range(0, len(wanted), self.batch_size):
            batch = wanted[start : start + self.batch_size]
            page = self._page({"id_list": ",".join(batch), "start": 0, "max_results": len(batch)})
            for paper in page.papers:
                found.setdefault(paper.arxiv_id, paper)
        papers = [found[i] for i in wanted if i in found]
        missing = [i for i in wanted if i not in found]
        if missing:
            log.info(
                "arXiv API did not return %d of %d ids: %s",
                len(missing),
                len(wanted),
                ", ".join(missing[:10]),
            )
        return papers, missing

    def search(
        self, categories: list[str], date_from: date, date_to: date, page_size: int = 200
    ) -> Iterator[Paper]:
        """Papers submitted in [date_from, date_to] (whole days) to any of `categories`, oldest first.

        Pages with start/max_results until totalResults is reached. A page that comes back empty
        before the end is asked again EMPTY_PAGE_RETRIES times, then the search ends with a warning
        (a partial result beats an endless loop). Papers are yielded once even if pages overlap, and a
        page that brings nothing new ends the search too: an API that keeps reporting 10^9 results while
        serving the same entries would otherwise be paged forever.
        """
        if not categories:
            raise UsageError("a search needs at least one category")
        if date_from > date_to:
            raise UsageError(f"search dates are reversed: {date_from} is after {date_to}")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        cats = " OR ".join(f"cat:{c}" for c in categories)
        query = f"({cats}) AND submittedDate:[{date_from:%Y%m%d}0000 TO {date_to:%Y%m%d}2359]"
        seen: set[str] = set()
        start = 0
        total: int | None = None
        empty_in_a_row = 0
        while total is None or start < total:
            page = self._page(
                {
                    "search_query": query,
                    "sortBy": "submittedDate",
                    "sortOrder": "ascending",
                    "start": start,
                    "max_results": page_size,
                }
            )
            if page.total_results is not None:
                total = page.total_results
            if not page.papers:
                if total is None or start >= total:
                    return  # an honest end: nothing (more) matches
                if empty_in_a_row < EMPTY_PAGE_RETRIES:
                    empty_in_a_row += 1
                    continue
                log.warning(
                    "arXiv API returned an empty page at %d of %d results for %r (asked %d times); "
                    "the search ends early with %d papers",
                    start,
                    total,
                    query,
                    empty_in_a_row + 1,
                    len(seen),
                )
                return
            empty_in_a_row = 0
            start += len(page.papers)
            new = [paper for paper in page.papers if paper.arxiv_id not in seen]
            if not new:
                log.warning(
                    "arXiv API page at %d of %s results for %r brought no new paper; the search ends with %d",
                    start - len(page.papers),
                    total if total is not None else "?",
                    query,
                    len(seen),
                )
                return
            for paper in new:
                seen.add(paper.arxiv_id)
                yield paper
            # No opensearch count (never seen from arXiv, but do not loop on it): a short page is the end.
            if total is None and len(page.papers) < page_size:
                return
