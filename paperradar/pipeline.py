"""The daily job, one direction: sources → store → rank → write → publish (→ deliver).

This module only orchestrates: it calls each stage in order with that stage's own settings, keeps the run
record and holds the run lock. Each stage reads what the previous one stored, so any stage can also run on
its own (`paperradar rank`, `write`, `publish`) and a run that stopped half-way picks up from the store.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from paperradar.config import Config
from paperradar.errors import DataError
from paperradar.llm import Backend, get_backend
from paperradar.llm.texts import Texts
from paperradar.models import DeliveryRecord, Digest, EmptyNote, Progress, Ranked, RunStats, no_progress
from paperradar.publish.deliver import DeliveryResult, deliver_all, from_digest
from paperradar.publish.digest import digest_path, empty_reason, publish_digest
from paperradar.publish.style_pages import write_style_pages
from paperradar.rank.config import RankSettings
from paperradar.rank.day import announced, localize, rank_day
from paperradar.sources.fulltext import prepare_sources
from paperradar.sources.http import PoliteClient
from paperradar.sources.intake import ARXIV_TZ, intake_feed, intake_sample, polite_client
from paperradar.store import Store
from paperradar.write.digest_texts import write_digest_texts
from paperradar.write.styles.day import fulltext_wanted, write_day_styles


@dataclass
class DayResult:
    day: date
    digest_path: Path
    announced: int  # announcements kept for the day after the cross-list/replacement filters
    listed: int  # papers in the digest
    empty_reason: str | None = None
    stats: RunStats = field(default_factory=RunStats)
    deliveries: list[DeliveryResult] = field(default_factory=list)


class Pipeline:
    """One run's context: the config, the store, the run's LLM backend (its budget spans the run), the
    polite arXiv client, and the run's statistics. Each method is one stage call."""

    def __init__(
        self, cfg: Config, store: Store, progress: Progress | None = None, client: PoliteClient | None = None
    ):
        self.cfg = cfg
        self.store = store
        self.progress = progress or no_progress
        self._client = client
        self._own_client = client is None
        self.stats = RunStats()
        self.last_digest: tuple[Digest, str, Path] | None = None  # what delivery sends, as written to disk
        self.offline = False  # a --sample run never touches the network, full text included

    @property
    def client(self) -> PoliteClient:
        if self._client is None:
            self._client = polite_client(self.cfg.sources)
        return self._client

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
            self._client = None

    @functools.cached_property
    def backend(self) -> Backend:
        backend = get_backend(self.cfg.llm.backend, self.cfg.llm, interests=self.cfg.reader.interests)
        backend.on_progress(
            lambda p: self.progress(
                "llm",
                p.calls,
                max(p.planned, p.calls + p.in_flight),
                f"{p.in_flight} in flight · {p.failed} failed · {p.tokens:,} tokens",
            )
        )
        return backend

    @property
    def rank_settings(self) -> RankSettings:
        cfg = self.cfg
        return RankSettings(
            categories=tuple(cfg.sources.categories),
            kinds=cfg.sources.kinds,
            language=cfg.output.language,
            top_n=cfg.output.top_n,
            order=tuple(cfg.output.order),
            keywords=cfg.keywords,
            interests=cfg.reader.interests,
            personal=cfg.personal,
        )

    # -- stages -----------------------------------------------------------------------------------------
    def rank(self, day: date, run_id: int | None = None, refresh: Iterable[str] = ()) -> list[Ranked]:
        return rank_day(
            self.store,
            self.backend,
            self.rank_settings,
            day,
            run_id=run_id,
            refresh=refresh,
            stats=self.stats,
            progress=self.progress,
        )

    def write(
        self,
        ranked: list[Ranked],
        run_id: int | None = None,
        refresh: Iterable[str] = (),
        language: str | None = None,
    ) -> Texts:
        texts = write_digest_texts(
            self.store,
            self.backend,
            ranked,
            self.cfg.output.top_n,
            language or self.cfg.output.language,
            run_id=run_id,
            refresh=refresh,
            stats=self.stats,
            progress=self.progress,
        )
        self._record_usage()
        return texts

    def styles(
        self, day: date, ranked: list[Ranked], run_id: int | None, refresh: Iterable[str] = ()
    ) -> None:
        """highlight / review / dialogue: full text for the papers a model will write from, then texts, pages."""
        cfg, lang = self.cfg.styles, self.cfg.output.language
        wanted = fulltext_wanted(ranked, cfg, self.backend, lang)
        sources = {}
        if wanted and self.offline:
            self.stats.fulltext = "offline run: styles written from the abstract"
        elif wanted:
            src = self.cfg.sources
            sources = prepare_sources(
                wanted,
                self.client,
                cache_dir=self.cfg.db_path.parent / "fulltext",
                max_tokens=cfg.fulltext_tokens,
                html_base=src.html_url,
                pdf_base=src.pdf_url,
            )
        items = write_day_styles(
            self.store,
            self.backend,
            ranked,
            cfg,
            lang,
            sources=sources,
            run_id=run_id,
            refresh=refresh,
            stats=self.stats,
        )
        templates = self.cfg.resolve(cfg.templates_dir) if cfg.templates_dir else None
        write_style_pages(
            self.cfg.out_dir,
            day,
            items,
            sources=sources,
            templates_dir=templates,
            max_authors=self.cfg.output.max_authors,
        )
        self._record_usage()

    def publish(
        self,
        day: date,
        ranked: list[Ranked],
        texts: Texts,
        reason: str | None = None,
        language: str | None = None,
    ) -> Path:
        language = language or self.cfg.output.language
        digest, markdown, path = publish_digest(
            self.store,
            self.cfg.output,
            self.cfg.out_dir,
            list(self.cfg.sources.categories),
            day,
            ranked,
            texts,
            len(ranked),
            language,
            reason,
            skipped=tuple(self.stats.feed_skipped),
        )
        if language == self.cfg.output.language:
            self.last_digest = (digest, markdown, path)
        return path

    def _record_usage(self) -> None:
        usage = self.backend.usage
        if usage is not None:
            self.stats.llm_model, self.stats.llm = self.backend.name, usage

    # -- a whole day ------------------------------------------------------------------------------------
    def process_day(
        self, day: date, run_id: int | None, note: EmptyNote | None = None, refresh: Iterable[str] = ()
    ) -> DayResult:
        ranked = self.rank(day, run_id, refresh)
        main = self.cfg.output.language
        for language in self.cfg.languages:
            items = ranked if language == main else localize(ranked, self.rank_settings, language)
            texts = self.write(items, run_id, refresh, language) if items else {}
            self.publish(day, items, texts, None if items else empty_reason(day, note, language), language)
        if ranked:
            self.styles(day, ranked, run_id, refresh)
        reason = None if ranked else empty_reason(day, note, main)
        path = digest_path(self.cfg.out_dir, day, main)
        return DayResult(day, path, len(ranked), min(len(ranked), self.cfg.output.top_n), reason, self.stats)

    def publish_stored_day(self, day: date) -> Path:
        """The digest of a day already in the store (ranked if it was not), for `publish` and re-sends:
        everything comes from the cache, so it costs no model call that was answered before."""
        ranked = self.store.load_ranked(day) or self.rank(day)
        texts = self.write(ranked) if ranked else {}
        return self.publish(
            day, ranked, texts, None if ranked else empty_reason(day, None, self.cfg.output.language)
        )

    def deliver(self) -> list[DeliveryResult]:
        """Send the last published digest to every configured channel. Never raises for a failed delivery:
        the digest is already on disk; the results say what failed."""
        if self.last_digest is None or not self.cfg.delivery.configured():
            return []
        digest, markdown, path = self.last_digest
        results = deliver_all(from_digest(digest, markdown, path), self.cfg.delivery)
        self.stats.delivery = {r.channel: DeliveryRecord(r.ok, r.detail) for r in results}
        return results


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
    store.acquire_lock(wait=cfg.store.lock_wait if wait else False, verb="run --sample" if sample else "run")
    pipe = Pipeline(cfg, store, progress, client)
    run_id = store.start_run("run --sample" if sample else "run", day)
    try:
        note: EmptyNote | None = None
        if sample:
            pipe.offline = True
            days = intake_sample(store, cfg.sources.categories)
            if day is None:
                day = days[-1]
            elif day not in days and day.weekday() < 5:
                note = EmptyNote("reason_sample_range", (("first", str(days[0])), ("last", str(days[-1]))))
        elif day is None or (day.weekday() < 5 and not announced(store, pipe.rank_settings, day)):
            feed = intake_feed(store, cfg.sources, pipe.client, pipe.stats, pipe.progress)
            if day is None:
                day = feed.day or datetime.now(ARXIV_TZ).date()
                note = EmptyNote("reason_feed_empty") if not feed.announcements else None
            elif feed.day != day:
                raise DataError(
                    f"no announcements for {day} in the store, and arXiv's feed is for {feed.day or 'no day'}",
                    hint=f"the feed only carries the latest day; backfill with `paperradar fetch --from {day} --to {day}`",
                )
        result = pipe.process_day(day, run_id, note, refresh)
        result.deliveries = pipe.deliver()
        status = "partial" if any(not d.ok for d in result.deliveries) else "ok"
        store.finish_run(run_id, status, result.stats.as_dict(), day=day)
        return result
    except BaseException as exc:
        store.finish_run(
            run_id, "failed", pipe.stats.as_dict(), error=f"{type(exc).__name__}: {exc}", day=day
        )
        raise
    finally:
        pipe.close()
        store.release_lock()
