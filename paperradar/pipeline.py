"""The daily job, one direction: sources → store → rank → write → publish.

Each stage reads what the previous one stored, so any stage can also run on its own (`paperradar rank`,
`write`, `publish`) and a run that stopped half-way picks up from the store.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from queue import Empty, Queue
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from paperradar.config import Config
from paperradar.errors import DataError
from paperradar.models import (
    Announcement,
    CompanyHit,
    Digest,
    FeedDay,
    GeneratedText,
    Interest,
    Paper,
    Ranked,
)
from paperradar.publish.labels import labels
from paperradar.publish.markdown import render_digest
from paperradar.rank import Gazetteer, HeuristicInterest, KeywordMatcher, order_ranked
from paperradar.rank.personal.hook import personal_rerank
from paperradar.sources import ArxivAPI, PoliteClient, fetch_feed, read_atom_file, read_jsonl
from paperradar.sources.files import detect_format
from paperradar.store import Store
from paperradar.write import TASKS, Backend, get_backend, write_texts

log = logging.getLogger(__name__)
T = TypeVar("T")

SAMPLE_NAME = "cs-ir-sample.jsonl.gz"
ARXIV_TZ = ZoneInfo("America/New_York")  # arXiv's announcement clock

# Reports progress: (step name, done, total or None, optional detail). The CLI draws rich bars from it.
Progress = Callable[..., None]


def _no_progress(step: str, done: int, total: int | None, detail: str = "") -> None:
    return None


@dataclass
class DayResult:
    day: date
    digest_path: Path
    announced: int  # announcements kept for the day after the cross-list/replacement filters
    listed: int  # papers in the digest
    empty_reason: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    deliveries: list[Any] = field(default_factory=list)  # DeliveryResult per configured channel


def sample_path() -> Path:
    return Path(str(resources.files("paperradar").joinpath("sample", SAMPLE_NAME)))


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


class Pipeline:
    def __init__(
        self, cfg: Config, store: Store, progress: Progress | None = None, client: PoliteClient | None = None
    ):
        self.cfg = cfg
        self.store = store
        self.progress = progress or _no_progress
        self._client = client
        self.stats: dict[str, Any] = {}
        self.last_digest: tuple[Digest, str, Path] | None = None
        self.offline = False  # a --sample run never touches the network, full text included

    # -- sources → store --------------------------------------------------------------------------------
    @property
    def client(self) -> PoliteClient:
        if self._client is None:
            src = self.cfg.sources
            self._client = PoliteClient(
                delay=src.request_delay, timeout=src.timeout, max_retries=src.max_retries, contact=src.contact
            )
        return self._client

    def import_file(
        self, path: Path, source: str | None = None, errors: str = "raise", batch_size: int = 5000
    ) -> dict[str, int]:
        """JSONL (Kaggle snapshot or paperradar's listing formats, gzip or not) or saved API Atom XML."""
        if not path.exists():
            raise DataError(f"{path} does not exist", hint="check the path")
        counts = {"papers": 0, "announcements": 0, "inserted": 0, "updated": 0}
        if detect_format(path) == "atom":
            papers = read_atom_file(path)
            stats = self.store.save_papers(papers)
            counts.update(papers=len(papers), inserted=stats.inserted, updated=stats.updated)
            return counts
        # Decoding runs in a thread while SQLite writes the previous batch (sqlite3 releases the GIL while
        # it works), so a bulk import costs little more than its slower half. A bad line raises here after
        # every batch before it was stored.
        for batch in _batches_in_background(read_jsonl(path, errors=errors), batch_size):
            papers = [paper for paper, _ in batch]
            if source:
                for paper in papers:
                    paper.source = source
            stats = self.store.save_papers(papers, batch_size=len(papers) + 1)
            anns = [a for _, paper_anns in batch for a in paper_anns]
            counts["announcements"] += self.store.save_announcements(anns) if anns else 0
            counts["papers"] += len(papers)
            counts["inserted"] += stats.inserted
            counts["updated"] += stats.updated
            self.progress("import", counts["papers"], None)
        self.progress("import", counts["papers"], counts["papers"])
        return counts

    def intake_sample(self) -> list[date]:
        self.import_file(sample_path(), source="sample")
        return self.store.announcement_days(self.cfg.sources.categories)

    def intake_feed(self) -> FeedDay:
        """Today's announcements from the RSS feed, completed by batched API look-ups."""
        src = self.cfg.sources
        feed = fetch_feed(self.client, src.rss_url, src.categories)
        self.progress("fetch", 1, None)
        if feed.papers:
            self.store.save_papers(feed.papers)
        if feed.announcements:
            self.store.save_announcements(feed.announcements)
        self.stats["feed_items"] = len(feed.announcements)
        self.complete_metadata(a.arxiv_id for a in feed.announcements)
        return feed

    def complete_metadata(self, ids: Iterable[str]) -> None:
        """Look up, in batches, papers known only from the feed (no submission time, comment, all authors)."""
        ids = list(dict.fromkeys(ids))
        stored = self.store.get_papers(ids)
        need = [i for i in ids if i not in stored or stored[i].source == "rss"]
        self.stats["api_lookups"] = len(need)
        if not need:
            return
        api = ArxivAPI(self.client, self.cfg.sources.api_url, self.cfg.sources.batch_size)
        papers, missing = api.lookup(need)
        self.store.save_papers(papers)
        self.progress("complete", len(papers), len(need))
        if missing:
            log.warning(
                "arXiv API did not return %d of %d ids (kept the feed's data): %s",
                len(missing),
                len(need),
                ", ".join(missing[:10]),
            )
        self.stats["api_missing"] = len(missing)

    def intake_range(self, date_from: date, date_to: date) -> int:
        """Backfill by submission date through the API. Such papers get an *estimated* listing day."""
        api = ArxivAPI(self.client, self.cfg.sources.api_url, self.cfg.sources.batch_size)
        cats = set(self.cfg.sources.categories)
        count = 0
        papers: list[Paper] = []
        anns: list[Announcement] = []
        for paper in api.search(self.cfg.sources.categories, date_from, date_to):
            papers.append(paper)
            count += 1
            self.progress("fetch", count, None)
            if paper.published is None:
                continue
            day = estimated_announce_day(paper.published)
            for cat in paper.categories:
                if cat in cats:
                    kind = "new" if cat == paper.primary_category else "cross"
                    anns.append(Announcement(paper.arxiv_id, day, cat, kind, paper.version))
        self.store.save_papers(papers)
        # Never overwrite a real listing with an estimate.
        real = {(a.arxiv_id, a.category) for d in {a.day for a in anns} for a in self.store.announcements(d)}
        self.store.save_announcements(a for a in anns if (a.arxiv_id, a.category) not in real)
        return count

    # -- rank -------------------------------------------------------------------------------------------
    def announced(self, day: date) -> list[Announcement]:
        src = self.cfg.sources
        kinds = {"new"}
        if src.include_cross_lists:
            kinds.add("cross")
        if src.include_replacements:
            kinds |= {"replace", "replace-cross"}
        return [a for a in self.store.announcements(day, src.categories) if a.kind in kinds]

    def rank_day(self, day: date, run_id: int | None = None, refresh: Iterable[str] = ()) -> list[Ranked]:
        anns = self.announced(day)
        papers = self.store.get_papers(a.arxiv_id for a in anns)
        anns = [a for a in anns if a.arxiv_id in papers]
        pool = [papers[a.arxiv_id] for a in anns]
        lang = self.cfg.output.language
        groups = self.cfg.keywords.groups
        matcher = KeywordMatcher(groups, self.cfg.keywords.aliases)
        gazetteer = Gazetteer.load()
        hits = {p.arxiv_id: matcher.match(p.title, p.abstract, p.comment or "") for p in pool}
        companies = {p.arxiv_id: gazetteer.detect(p, lang) for p in pool}
        interests = HeuristicInterest(self.cfg.reader.interests, groups).score(pool, hits, companies, lang)
        interests.update(self.llm_interests(pool, interests, lang, run_id, refresh))
        ranked = [
            Ranked(papers[a.arxiv_id], a, hits[a.arxiv_id], companies[a.arxiv_id], interests[a.arxiv_id])
            for a in anns
        ]
        ordered = order_ranked(ranked, list(self.cfg.output.order))
        # The reader's library, ratings and followed authors re-order the day when there are any; every
        # paper's explanation then says which features and which library papers put it where it is.
        ordered = personal_rerank(self.store, self.cfg, day, ordered)
        self.llm_companies(ordered[: self.cfg.output.top_n], lang, run_id, refresh)
        self.store.save_ranks(day, ordered, run_id)
        self.progress("rank", len(ordered), len(ordered))
        return ordered

    # -- write ------------------------------------------------------------------------------------------
    @functools.cached_property
    def backend(self) -> Backend:
        """One backend per run: its usage counters and budget span the whole run."""
        backend = get_backend(self.cfg.llm.backend, self.cfg)
        if hasattr(backend, "progress"):
            backend.progress = lambda p: self.progress(
                "llm",
                p.calls,
                max(p.planned, p.calls + p.in_flight),
                f"{p.in_flight} in flight · {p.failed} failed · {p.tokens:,} tokens",
            )
        return backend

    def llm_interests(
        self,
        pool: list[Paper],
        heuristic: dict[str, Interest],
        lang: str,
        run_id: int | None,
        refresh: Iterable[str] = (),
    ) -> dict[str, Interest]:
        """Model scores for the day's pool, where the backend can give them. A paper whose answer failed,
        was filtered or was cut by the budget keeps its heuristic score, which says it is heuristic."""
        if not pool or not self.backend.supports("interest", lang):
            return {}
        texts, self.stats["interest"] = write_texts(
            self.store, self.backend, pool, ["interest"], lang, run_id, refresh
        )
        out = {}
        for arxiv_id, by_task in texts.items():
            answer = json.loads(by_task["interest"].content)
            evidence = {"heuristic_score": heuristic[arxiv_id].score, **heuristic[arxiv_id].evidence}
            out[arxiv_id] = Interest(
                int(answer["score"]), answer["reason"], by_task["interest"].mode, evidence
            )
        return out

    def llm_companies(
        self, top: list[Ranked], lang: str, run_id: int | None, refresh: Iterable[str] = ()
    ) -> None:
        """Company from the affiliation text, asked of the model only where the gazetteer found none.
        Recorded with provenance `llm`; a gazetteer hit is never overridden."""
        ask = [r for r in top if not r.companies and r.paper.affiliations]
        if not ask or not self.backend.supports("company", lang):
            return
        texts, self.stats["company"] = write_texts(
            self.store, self.backend, [r.paper for r in ask], ["company"], lang, run_id, refresh
        )
        for item in ask:
            got = texts.get(item.paper.arxiv_id, {}).get("company")
            if got is None:
                continue
            answer = json.loads(got.content)
            if answer.get("company"):
                name = str(answer["company"])
                item.companies = [CompanyHit(name.lower(), name, "llm", str(answer.get("evidence") or ""))]

    def write_day(
        self,
        ranked: list[Ranked],
        run_id: int | None = None,
        refresh: Iterable[str] = (),
        language: str | None = None,
    ) -> dict[str, dict[str, GeneratedText]]:
        """Titles and summaries for the top N. Where the model gave no summary (no LLM, failure, budget),
        the extractive one stands in, labelled as such; a missing title shows the original, labelled."""
        top = [r.paper for r in ranked[: self.cfg.output.top_n]]
        lang = language or self.cfg.output.language
        texts, counts = write_texts(self.store, self.backend, top, TASKS, lang, run_id, refresh)
        if self.backend.name != "extractive":
            missing = [p for p in top if "summary" not in texts.get(p.arxiv_id, {})]
            fallback, fallback_counts = write_texts(
                self.store, get_backend("extractive", self.cfg), missing, ["summary"], lang, run_id
            )
            for arxiv_id, by_task in fallback.items():
                texts.setdefault(arxiv_id, {}).setdefault("summary", by_task["summary"])
            counts["extractive_fallback"] = fallback_counts["written"] + fallback_counts["cached"]
        self.stats["texts"] = counts
        self.record_llm_usage()
        self.progress("write", len(top), len(top))
        return texts

    def record_llm_usage(self) -> None:
        """The run's LLM bill so far (calls, tokens, cost) into the run stats, when the backend keeps one."""
        usage = getattr(self.backend, "usage", None)
        if usage is not None:
            self.stats["llm"] = {"model": self.backend.name, **usage.as_dict()}

    # -- publish ----------------------------------------------------------------------------------------
    def digest_path(self, day: date, language: str | None = None) -> Path:
        return self.cfg.out_dir / "digests" / f"{day.isoformat()}.{language or self.cfg.output.language}.md"

    def publish_day(
        self,
        day: date,
        ranked: list[Ranked],
        texts: dict[str, dict[str, GeneratedText]],
        announced: int,
        empty_reason: str | None = None,
        language: str | None = None,
    ) -> Path:
        cfg = self.cfg
        language = language or cfg.output.language
        digest = Digest(
            day=day,
            language=language,
            categories=list(cfg.sources.categories),
            generated_at=datetime(2000, 1, 1, tzinfo=cfg.tz),
            order=list(cfg.output.order),
            top_n=cfg.output.top_n,
            announced=announced,
            items=ranked[: cfg.output.top_n],
            texts=texts,
            empty_reason=empty_reason,
        )
        # The generated-at line is the only part that depends on the clock. Keep the first time a given
        # content was generated, so re-running a day writes a byte-identical file.
        content_hash = hashlib.sha256(render_digest(digest, cfg.output.max_authors).encode()).hexdigest()
        path = self.digest_path(day, language)
        record = self.store.digest_record(day, digest.language, "digest")
        if record is not None and record["content_hash"] == content_hash:
            generated_at = datetime.fromisoformat(record["generated_at"])
        else:
            generated_at = datetime.now(UTC).replace(microsecond=0)
        digest = replace(digest, generated_at=generated_at.astimezone(cfg.tz))
        markdown = render_digest(digest, cfg.output.max_authors)
        write_if_changed(path, markdown)
        if language == cfg.output.language:
            self.last_digest = (digest, markdown, path)  # what delivery sends: the digest as written to disk
        self.store.save_digest_record(
            day, digest.language, "digest", content_hash, generated_at.isoformat(), str(path)
        )
        return path

    # -- all stages -------------------------------------------------------------------------------------
    def publish_stored_day(self, day: date) -> Path:
        """The digest of a day already in the store (ranked if it was not), for `publish` and re-sends:
        everything comes from the cache, so it costs no model call that was answered before."""
        ranked = self.store.load_ranked(day) or self.rank_day(day)
        texts = self.write_day(ranked) if ranked else {}
        reason = None if ranked else self.empty_reason(day, None)
        return self.publish_day(day, ranked, texts, len(ranked), reason)

    def deliver(self) -> list[Any]:
        """Send the last published digest to every configured channel. Never raises for a failed delivery:
        the digest is already on disk; the results say what failed."""
        from paperradar.publish.deliver import deliver_all, from_digest

        if self.last_digest is None or not self.cfg.delivery.configured():
            return []
        digest, markdown, path = self.last_digest
        results = deliver_all(from_digest(digest, markdown, path), self.cfg)
        self.stats["delivery"] = {r.channel: {"ok": r.ok, "detail": r.detail} for r in results}
        return results

    def process_day(
        self, day: date, run_id: int | None, empty_note: str | None = None, refresh: Iterable[str] = ()
    ) -> DayResult:
        ranked = self.rank_day(day, run_id, refresh)
        reason = None if ranked else self.empty_reason(day, empty_note)
        path = self.digest_path(day)
        for language in self.cfg.languages:
            items = ranked if language == self.cfg.output.language else self.localize(ranked, language)
            texts = self.write_day(items, run_id, refresh, language) if items else {}
            why = (
                reason
                if language == self.cfg.output.language
                else self.empty_reason(day, empty_note, language)
            )
            written = self.publish_day(day, items, texts, len(items), None if items else why, language)
            path = written if language == self.cfg.output.language else path
        if ranked:
            self.write_styles(day, ranked, run_id, refresh)
        return DayResult(
            day, path, len(ranked), min(len(ranked), self.cfg.output.top_n), reason, dict(self.stats)
        )

    def localize(self, ranked: list[Ranked], language: str) -> list[Ranked]:
        """The day's ranking as a reader of `language` sees it: same order and scores; company names and
        heuristic reasons in that language. A model's reason stays in the language it was asked in (asking
        again could give another score than the one the ranking used)."""
        gazetteer = Gazetteer.load()
        pool = [r.paper for r in ranked]
        hits = {r.paper.arxiv_id: r.keyword_hits for r in ranked}
        companies = {
            r.paper.arxiv_id: [
                replace(c, name=gazetteer.display_name(c.company, language)) if c.field != "llm" else c
                for c in r.companies
            ]
            for r in ranked
        }
        heuristic = HeuristicInterest(self.cfg.reader.interests, self.cfg.keywords.groups).score(
            pool, hits, companies, language
        )
        out = []
        for r in ranked:
            interest = r.interest
            if interest.mode == "heuristic":
                interest = heuristic[r.paper.arxiv_id]
            out.append(replace(r, companies=companies[r.paper.arxiv_id], interest=interest))
        return out

    def write_styles(
        self, day: date, ranked: list[Ranked], run_id: int | None, refresh: Iterable[str] = ()
    ) -> dict[str, Any]:
        """highlight / review / dialogue pages for the configured bands and languages (write/style_pages)."""
        from paperradar.write.style_pages import write_style_pages

        return write_style_pages(self, day, ranked, run_id, refresh)

    def empty_reason(self, day: date, note: str | None, language: str | None = None) -> str:
        """Why a day has no papers, in the digest's language. `note` is a label key plus its fields
        (e.g. "reason_sample_range first=… last=…") or a free text from the feed."""
        text = labels(language or self.cfg.output.language)
        if day.weekday() >= 5:
            return text["reason_weekend"]
        if note and note.split(" ", 1)[0] in text:
            key, *fields = note.split(" ")
            return text[key].format(**dict(f.split("=", 1) for f in fields))
        return note or text["reason_none_stored"]


_DONE = object()


def _batches_in_background(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of `size` items produced by a reader thread, at most two batches ahead."""
    queue: Queue[Any] = Queue(maxsize=2)
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
            yield got
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue, then let it finish
            with contextlib.suppress(Empty):
                queue.get(timeout=0.05)


def write_if_changed(path: Path, text: str) -> bool:
    """Atomic write (no half-written digest after a crash), skipped when the bytes are already there."""
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a run killed between write and rename
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def iter_days(date_from: date, date_to: date) -> Iterator[date]:
    day = date_from
    while day <= date_to:
        yield day
        day += timedelta(days=1)


def run_pipeline(
    cfg: Config,
    store: Store,
    *,
    day: date | None = None,
    sample: bool = False,
    refresh: Iterable[str] = (),
    progress: Progress | None = None,
    client: PoliteClient | None = None,
    wait: bool = False,
) -> DayResult:
    """`paperradar run`: choose the day, take in its announcements, then rank, write and publish it."""
    store.acquire_lock(wait=wait)
    pipe = Pipeline(cfg, store, progress, client)
    run_id = store.start_run("run --sample" if sample else "run", day)
    try:
        note: str | None = None
        if sample:
            pipe.offline = True
            days = pipe.intake_sample()
            if day is None:
                day = days[-1]
            elif day not in days and day.weekday() < 5:
                note = f"reason_sample_range first={days[0]} last={days[-1]}"
        elif day is None or (day.weekday() < 5 and not pipe.announced(day)):
            feed = pipe.intake_feed()
            if day is None:
                day = feed.day or datetime.now(ARXIV_TZ).date()
                note = "reason_feed_empty" if not feed.announcements else None
            elif feed.day != day:
                raise DataError(
                    f"no announcements for {day} in the store, and arXiv's feed is for {feed.day or 'no day'}",
                    hint=f"the feed only carries the latest day; backfill with `paperradar fetch --from {day} --to {day}`",
                )
        result = pipe.process_day(day, run_id, note, refresh)
        deliveries = pipe.deliver()
        result.deliveries = deliveries
        result.stats = dict(pipe.stats)
        status = "partial" if any(not d.ok for d in deliveries) else "ok"
        store.finish_run(run_id, status, result.stats, day=day)
        return result
    except BaseException as exc:
        store.finish_run(run_id, "failed", pipe.stats, error=f"{type(exc).__name__}: {exc}", day=day)
        raise
    finally:
        if pipe._client is not None and client is None:
            pipe._client.close()
        store.release_lock()
