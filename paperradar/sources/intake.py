"""Intake: what sources bring in goes into the store. The day's RSS feed completed by batched API look-ups,
API backfills by submission date, offline files (JSONL, Atom XML) and the bundled sample.

Every function takes the store and what it needs of [sources]; the caller owns the run (lock, record).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from queue import Empty, Queue
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from paperradar.errors import DataError
from paperradar.models import (
    AnnounceKind,
    Announcement,
    FeedDay,
    ImportCounts,
    Paper,
    Progress,
    RunStats,
    no_progress,
)
from paperradar.sources.api import ArxivAPI
from paperradar.sources.config import SourcesConfig
from paperradar.sources.files import detect_format, read_atom_file, read_jsonl
from paperradar.sources.http import Limits, PoliteClient
from paperradar.sources.rss import fetch_feed
from paperradar.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

SAMPLE_NAME = "cs-ir-sample.jsonl.gz"
# From this file size on, an import into an empty archive builds the search index in a second process as
# it goes (paperradar.store.fulltext); below, starting that process costs more than it saves.
PARALLEL_INDEX_MIN_BYTES = 1 << 20
ARXIV_TZ = ZoneInfo("America/New_York")  # arXiv's announcement clock


def sample_path() -> Path:
    return Path(str(resources.files("paperradar").joinpath("sample", SAMPLE_NAME)))


def polite_client(src: SourcesConfig) -> PoliteClient:
    return PoliteClient(
        delay=src.request_delay,
        timeout=src.timeout,
        max_retries=src.max_retries,
        contact=src.contact,
        request_deadline=src.request_deadline,
        max_retry_after=src.max_retry_after,
        limits=Limits(
            feed=src.max_feed_bytes,
            api=src.max_api_bytes,
            fulltext=src.max_fulltext_bytes,
            field_chars=src.max_field_chars,
            stage_deadline=src.stage_deadline,
        ),
    )


def estimated_announce_day(submitted: datetime) -> date:
    """The listing date arXiv gives a paper submitted at `submitted`, for backfills that have no feed:
    submissions close at 14:00 US/Eastern on weekdays and appear in the listing dated the next weekday.
    Holidays are not known here, so this is an estimate and is only used where no real listing exists."""
    et = submitted.astimezone(ARXIV_TZ)
    cutoff = et.date()
    if et.weekday() >= 5 or et.time() >= time(14, 0):
        cutoff += timedelta(days=1)
    while cutoff.weekday() >= 5:
        cutoff += timedelta(days=1)
    listing = cutoff + timedelta(days=1)
    while listing.weekday() >= 5:
        listing += timedelta(days=1)
    return listing


def import_file(
    store: Store,
    path: Path,
    *,
    source: str | None = None,
    errors: Literal["raise", "skip"] = "raise",
    batch_size: int = 5000,
    progress: Progress = no_progress,
    src: SourcesConfig | None = None,
) -> ImportCounts:
    """JSONL (Kaggle snapshot or paperradar's listing formats, gzip or not) or saved API Atom XML, within the
    limits of `src` ([sources].max_line_bytes, max_field_chars, max_api_bytes; defaults when None)."""
    if not path.exists():
        raise DataError(f"{path} does not exist", hint="check the path")
    src = src or SourcesConfig.model_validate({})  # the defaults
    counts = ImportCounts()
    if detect_format(path) == "atom":
        papers = read_atom_file(path, max_bytes=src.max_api_bytes, max_field_chars=src.max_field_chars)
        stats = store.save_papers(papers)
        counts.papers, counts.inserted, counts.updated = len(papers), stats.inserted, stats.updated
        return counts
    # Decoding runs in a thread while SQLite writes the previous batch (sqlite3 releases the GIL while
    # it works), so a bulk import costs little more than its slower half. A bad line raises here after
    # every batch before it was stored. The search index is built apart from the batches (into a new
    # archive on another core as they come in, else in bulk at the end): it costs twice the inserts.
    reader = read_jsonl(
        path, errors=errors, max_line_bytes=src.max_line_bytes, max_field_chars=src.max_field_chars
    )
    with store.deferred_index(parallel=path.stat().st_size >= PARALLEL_INDEX_MIN_BYTES):
        for batch in _batches_in_background(reader, batch_size):
            papers = [paper for paper, _ in batch]
            if source:
                for paper in papers:
                    paper.source = source
            stats = store.save_papers(papers, batch_size=len(papers) + 1)
            anns = [a for _, paper_anns in batch for a in paper_anns]
            counts.announcements += store.save_announcements(anns) if anns else 0
            counts.papers += len(papers)
            counts.inserted += stats.inserted
            counts.updated += stats.updated
            progress("import", counts.papers, None)
    progress("import", counts.papers, counts.papers)
    return counts


def intake_sample(store: Store, categories: Iterable[str]) -> list[date]:
    """The bundled real sample into the store; the days it has for `categories`."""
    import_file(store, sample_path(), source="sample")
    return store.announcement_days(categories)


def intake_feed(
    store: Store, src: SourcesConfig, client: PoliteClient, stats: RunStats, progress: Progress = no_progress
) -> FeedDay:
    """Today's announcements from the RSS feed, completed by batched API look-ups; one stage deadline for
    both. Malformed items are left out and listed in stats.feed_skipped (the digest says so)."""
    with client.stage("the day's intake from arXiv"):
        feed = fetch_feed(client, src.rss_url, src.categories)
        progress("fetch", 1, None)
        if feed.papers:
            store.save_papers(feed.papers)
        if feed.announcements:
            store.save_announcements(feed.announcements)
        stats.feed_items = len(feed.announcements)
        stats.feed_skipped += feed.skipped
        complete_metadata(store, src, client, (a.arxiv_id for a in feed.announcements), stats, progress)
    return feed


def complete_metadata(
    store: Store,
    src: SourcesConfig,
    client: PoliteClient,
    ids: Iterable[str],
    stats: RunStats,
    progress: Progress = no_progress,
) -> None:
    """Look up, in batches, papers known only from the feed (no submission time, comment, all authors)."""
    ids = list(dict.fromkeys(ids))
    stored = store.get_papers(ids)
    need = [i for i in ids if i not in stored or stored[i].source == "rss"]
    stats.api_lookups = len(need)
    if not need:
        return
    api = ArxivAPI(client, src.api_url, src.batch_size)
    with client.stage("the day's intake from arXiv"):
        papers, missing = api.lookup(need)
    stats.feed_skipped += api.skipped
    store.save_papers(papers)
    progress("complete", len(papers), len(need))
    if missing:
        log.warning(
            "arXiv API did not return %d of %d ids (kept the feed's data): %s",
            len(missing),
            len(need),
            ", ".join(missing[:10]),
        )
    stats.api_missing = len(missing)


def intake_range(
    store: Store,
    src: SourcesConfig,
    client: PoliteClient,
    date_from: date,
    date_to: date,
    progress: Progress = no_progress,
) -> int:
    """Backfill by submission date through the API. Such papers get an *estimated* listing day."""
    api = ArxivAPI(client, src.api_url, src.batch_size)
    cats = set(src.categories)
    count = 0
    papers: list[Paper] = []
    anns: list[Announcement] = []
    try:
        with client.stage(f"the backfill {date_from} … {date_to}"):
            for paper in api.search(src.categories, date_from, date_to):
                papers.append(paper)
                count += 1
                progress("fetch", count, None)
                if paper.published is None:
                    continue
                day = estimated_announce_day(paper.published)
                for cat in paper.categories:
                    if cat in cats:
                        kind: AnnounceKind = "new" if cat == paper.primary_category else "cross"
                        anns.append(Announcement(paper.arxiv_id, day, cat, kind, paper.version))
    finally:  # a deadline or a network failure half-way keeps what was fetched until then
        store.save_papers(papers)
        # Never overwrite a real listing with an estimate.
        real = {(a.arxiv_id, a.category) for d in {a.day for a in anns} for a in store.announcements(d)}
        store.save_announcements(a for a in anns if (a.arxiv_id, a.category) not in real)
    return count


_DONE = object()


def _batches_in_background(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of `size` items produced by a reader thread, at most two batches ahead."""
    queue: Queue[object] = Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        batch: list[T] = []
        try:
            for item in items:
                batch.append(item)
                if len(batch) >= size:
                    queue.put(batch)
                    batch = []
                    if stop.is_set():
                        return
            if batch:
                queue.put(batch)
            queue.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it in its own thread
            queue.put(exc)

    thread = threading.Thread(target=produce, name="paperradar-reader", daemon=True)
    thread.start()
    try:
        while True:
            got = queue.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield got  # type: ignore[misc]  # the producer puts only list[T] besides the two markers
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue, then let it finish
            with contextlib.suppress(Empty):
                queue.get(timeout=0.05)
