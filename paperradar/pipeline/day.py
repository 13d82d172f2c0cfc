"""One run's context and one method per stage call: the day's ranking, its model work in one queue, the
digests and pages, delivery. Each stage reads what the previous one stored, so any stage can also run on
its own (`paperradar rank`, `write`, `publish`) and a run that stopped half-way picks up from the store."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paperradar.config import Config
from paperradar.llm import TASKS, Backend, get_backend
from paperradar.llm.texts import EMPTY_BATCH, ManyBatch, TextBatch, TextService
from paperradar.models import (
    DEFAULT_READER,
    DeliveryRecord,
    Digest,
    EmptyNote,
    MutedSummary,
    Progress,
    Ranked,
    RunStats,
    no_progress,
)
from paperradar.pipeline.queue import QueueReader, run_day_queue
from paperradar.publish.deliver import DeliveryResult, deliver_all, from_digest
from paperradar.publish.digest import digest_path, empty_reason, publish_digest
from paperradar.publish.style_pages import write_style_pages
from paperradar.rank.affiliations import AuthorBlockSource
from paperradar.rank.config import RankSettings
from paperradar.rank.day import DayPool, localize, prepare_day, rank_day
from paperradar.rank.model_scores import apply_companies
from paperradar.rank.muted import split_muted, summarize_mutes
from paperradar.sources.fulltext import FullTextFetcher
from paperradar.sources.http import PoliteClient
from paperradar.sources.intake import polite_client
from paperradar.store import Store
from paperradar.write.digest_texts import assemble_digest, write_digest_texts
from paperradar.write.styles.day import assemble_styles, fulltext_wanted
from paperradar.write.styles.tasks import StyleBackend


@dataclass
class DayResult:
    day: date
    digest_path: Path
    announced: int  # announcements kept for the day after the cross-list/replacement filters
    listed: int  # papers in the digest
    empty_reason: str | None = None
    stats: RunStats = field(default_factory=RunStats)
    deliveries: list[DeliveryResult] = field(default_factory=list)
    reader: str = DEFAULT_READER
    muted: MutedSummary | None = None  # the reader's muted papers of the day, when there were any
    # A run for several readers: every reader's own result, this one first (empty for one reader).
    per_reader: list[DayResult] = field(default_factory=list)


class Pipeline:
    """One run's context: the config, the store, the run's LLM backend (its budget spans the run), the
    polite arXiv client, and the run's statistics. Each method is one stage call."""

    def __init__(
        self, cfg: Config, store: Store, progress: Progress | None = None, client: PoliteClient | None = None
    ):
        self.cfg = cfg
        # The store as this config's reader sees it ("default" for a config without [[readers]]).
        self.store = store.for_reader(cfg.reader_name)
        # A reader's pipeline: the run's pipeline it shares everything with (None: this is the run's).
        self._root: Pipeline | None = None
        self._readers: dict[str, Pipeline] = {}  # the pipelines of this config's readers, made once each
        self.progress = progress or no_progress
        self._client = client
        self._own_client = client is None
        self.stats = RunStats()
        self.last_digest: tuple[Digest, str, Path] | None = None  # what delivery sends, as written to disk
        self.offline = False  # a --sample run never touches the network, full text included
        # Author blocks are fetched by the daily run only (it talks to arXiv anyway); a stage re-ranking a
        # stored day (`rank`, `publish`) reads the ones already cached and makes no surprise request.
        self.fetch_author_blocks = False
        self.keyless = False  # the backend is built without API keys: it is never asked (`run --estimate`)

    @property
    def client(self) -> PoliteClient:
        if self._root is not None:
            return self._root.client
        if self._client is None:
            self._client = polite_client(self.cfg.sources)
        return self._client

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
            self._client = None

    def for_reader(self, name: str) -> Pipeline:
        """The pipeline of one reader of this config: their resolved config and their view of the store,
        sharing this run's backend (one budget, one queue), arXiv client, statistics and progress."""
        cfg = self.cfg.for_reader(name)
        if cfg is self.cfg:
            return self
        if name in self._readers:  # one pipeline per reader for the whole run: its last digest is delivered
            return self._readers[name]
        child = self._readers[name] = Pipeline(cfg, self.store, self.progress)
        child._root = self
        child.stats = self.stats
        child.offline = self.offline
        child.fetch_author_blocks = self.fetch_author_blocks
        child.keyless = self.keyless
        child.__dict__["backend"] = self.backend  # the cached_property, shared
        return child

    def reader_pipes(self, only: str | None = None) -> list[Pipeline]:
        """One pipeline per reader of the config (or only the reader `only`), in config order."""
        names = [only] if only is not None else self.cfg.reader_names()
        return [self.for_reader(name) for name in names]

    @functools.cached_property
    def backend(self) -> Backend:
        llm = self.cfg.llm
        if self.keyless:  # `run --estimate` asks nothing, so it needs no API key in the environment
            llm = llm.model_copy(
                update={"endpoints": [e.model_copy(update={"api_key_env": None}) for e in llm.endpoints]}
            )
        backend = get_backend(
            llm.backend,
            llm,
            interests=self.cfg.reader.interests,
            languages=self.cfg.languages,
        )
        backend.on_progress(
            lambda p: self.progress(
                "llm",
                p.calls,
                max(p.planned, p.calls + p.in_flight),
                f"{p.in_flight} in flight · {p.failed} failed · {p.tokens:,} tokens",
            )
        )
        return backend

    def texts(self, run_id: int | None = None, refresh: Iterable[str] = ()) -> TextService:
        return TextService(
            self.store, self.backend, run_id, frozenset(refresh), give_up_after=self.cfg.llm.give_up_after
        )

    @property
    def rank_settings(self) -> RankSettings:
        cfg = self.cfg
        return RankSettings(
            categories=tuple(cfg.sources.categories),
            kinds=cfg.sources.kinds,
            language=cfg.output.language,
            languages=tuple(cfg.languages),
            top_n=cfg.output.top_n,
            order=tuple(cfg.output.order),
            keywords=cfg.keywords,
            interests=cfg.reader.interests,
            personal=cfg.personal,
            muted=cfg.muted,
            profile=cfg.interest_profile,
        )

    # -- stages -----------------------------------------------------------------------------------------
    def rank(
        self, day: date, run_id: int | None = None, refresh: Iterable[str] = (), ask_companies: bool = True
    ) -> list[Ranked]:
        return rank_day(
            self.texts(run_id, refresh),
            self.rank_settings,
            day,
            stats=self.stats,
            progress=self.progress,
            ask_companies=ask_companies,
            author_blocks=self.author_blocks(),
        )

    def author_blocks(self) -> AuthorBlockSource | None:
        """Where the top papers' HTML author blocks come from ([sources] company_from_html): the polite
        client and the full-text cache; the cache only in an offline run."""
        src = self.cfg.sources
        if not src.company_from_html:
            return None
        cache = self.cfg.db_path.parent / "fulltext"
        if self.offline:
            reason = "offline run (--sample): no arXiv request; author blocks read from the cache only"
            return AuthorBlockSource(None, cache, src.html_url, reason)
        if not self.fetch_author_blocks:
            reason = "fetched by `paperradar run` only: author blocks read from the cache only"
            return AuthorBlockSource(None, cache, src.html_url, reason)
        return AuthorBlockSource(self.client, cache, src.html_url)

    def write(
        self,
        ranked: list[Ranked],
        run_id: int | None = None,
        refresh: Iterable[str] = (),
        language: str | None = None,
    ) -> TextBatch:
        batch = write_digest_texts(
            self.texts(run_id, refresh),
            ranked,
            self.cfg.output.top_n,
            language or self.cfg.output.language,
            stats=self.stats,
            progress=self.progress,
        )
        self._record_usage()
        return batch

    def day_texts(
        self, run_id: int | None, refresh: Iterable[str]
    ) -> tuple[TextService, FullTextFetcher | None]:
        """The day's text service (style-aware: a review or dialogue reads its paper's full text, fetched
        by `fetcher` in an online run) and the fetcher."""
        cfg, styles = self.cfg, self.cfg.styles
        fetcher = None
        if not self.offline:
            fetcher = FullTextFetcher(
                (),
                self.client,
                cache_dir=cfg.db_path.parent / "fulltext",
                max_tokens=styles.fulltext_tokens,
                html_base=cfg.sources.html_url,
                pdf_base=cfg.sources.pdf_url,
            )
        styler = StyleBackend(self.backend, sources=fetcher, fulltext_tokens=styles.fulltext_tokens)
        return self.texts(run_id, refresh).with_backend(styler), fetcher

    def queue_reader(self, pool: DayPool) -> QueueReader:
        """This reader's part of the day's queue."""
        return QueueReader(self.store, self.cfg, self.rank_settings, pool, self.stats, self.author_blocks())

    def write_day(self, pool: DayPool, run_id: int | None, refresh: Iterable[str]) -> list[Ranked]:
        """Everything a model does for the day, in ONE bounded-concurrency queue (pipeline/queue.py): the
        interest question, then, once the top is known, the company question, the digest's titles and
        summaries in every language and every style page; a review or dialogue waits only for its own
        paper's full text, fetched meanwhile. Then the digests and pages. Returns the day's order."""
        texts, fetcher = self.day_texts(run_id, refresh)
        work = run_day_queue(texts, [self.queue_reader(pool)], self.cfg, fetcher=fetcher)[0]
        self.finish_day(pool.day, work.ranked, work.batch, texts, fetcher, run_id)
        return work.ranked

    def finish_day(
        self,
        day: date,
        ranked: list[Ranked],
        batch: ManyBatch,
        texts: TextService,
        fetcher: FullTextFetcher | None,
        run_id: int | None,
    ) -> None:
        """This reader's share of the day's answers: companies onto the top, the ranking saved, the digest
        in every language, the style pages (over the papers the reader lists: a dropped paper has none)."""
        cfg, lang, top_n = self.cfg, self.cfg.output.language, self.cfg.output.top_n
        styles = cfg.styles
        listed = split_muted(ranked)[0]
        self.progress("rank", len(ranked), len(ranked))
        wanted = fulltext_wanted(listed, styles, self.backend, lang)
        if self.offline and wanted:
            self.stats.fulltext = "offline run: styles written from the abstract"
        top = listed[:top_n]
        self.stats.company = batch.counts_of(["company"]) if "company" in batch.counts else self.stats.company
        apply_companies(top, batch, lang)
        self.store.save_ranks(day, ranked, run_id)  # with the companies the model named
        self.stats.texts = batch.counts_of(TASKS)
        for language in cfg.languages:
            items = ranked if language == lang else localize(ranked, self.rank_settings, language)
            shown = split_muted(items)[0]
            digest_texts = assemble_digest(texts, batch, shown, top_n, language)
            if digest_texts.counts.extractive_fallback:
                self.stats.texts.extractive_fallback = (
                    self.stats.texts.extractive_fallback or 0
                ) + digest_texts.counts.extractive_fallback
            self.publish(day, items, digest_texts, None, language)
        pages = assemble_styles(batch, listed, styles, lang, self.stats)
        write_style_pages(
            cfg.out_dir,
            day,
            pages,
            sources=fetcher.sources_for(wanted) if fetcher else {},
            templates_dir=cfg.resolve(styles.templates_dir) if styles.templates_dir else None,
            max_authors=cfg.output.max_authors,
        )
        self.progress("write", len(batch.texts), len(batch.texts))
        self._record_usage()

    def publish(
        self,
        day: date,
        ranked: list[Ranked],
        texts: TextBatch | None,
        reason: str | None = None,
        language: str | None = None,
    ) -> Path:
        language = language or self.cfg.output.language
        listed, muted = split_muted(ranked)  # a dropped paper is counted and explained, never listed
        digest, markdown, path = publish_digest(
            self.store,
            self.cfg.output,
            self.cfg.out_dir,
            list(self.cfg.sources.categories),
            day,
            listed,
            texts or EMPTY_BATCH,
            len(ranked),
            language,
            reason,
            skipped=tuple(self.stats.feed_skipped),
            muted=summarize_mutes(muted),
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
        pool = prepare_day(self.store, self.rank_settings, day)
        ranked = self.write_day(pool, run_id, refresh) if pool.announcements else []
        if not ranked:
            self.publish_empty(day, run_id, note)
        return self.day_result(day, ranked, note)

    def publish_empty(self, day: date, run_id: int | None, note: EmptyNote | None) -> None:
        self.store.save_ranks(day, [], run_id)
        self.progress("rank", 0, 0)
        for language in self.cfg.languages:
            self.publish(day, [], None, empty_reason(day, note, language), language)

    def day_result(self, day: date, ranked: list[Ranked], note: EmptyNote | None) -> DayResult:
        main = self.cfg.output.language
        reason = None if ranked else empty_reason(day, note, main)
        path = digest_path(self.cfg.out_dir, day, main)
        listed, muted = split_muted(ranked)
        return DayResult(
            day,
            path,
            len(ranked),
            min(len(listed), self.cfg.output.top_n),
            reason,
            self.stats,
            reader=self.cfg.reader_name,
            muted=summarize_mutes(muted),
        )

    def publish_stored_day(self, day: date) -> Path:
        """The digest of a day already in the store (ranked if it was not), for `publish` and re-sends:
        everything comes from the cache, so it costs no model call that was answered before."""
        ranked = self.store.load_ranked(day) or self.rank(day)
        texts = self.write(split_muted(ranked)[0]) if ranked else None
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
        # Several readers: each reader's channels under the reader's name.
        prefix = f"{self.cfg.reader_name}/" if self._root is not None else ""
        self.stats.delivery.update({prefix + r.channel: DeliveryRecord(r.ok, r.detail) for r in results})
        return results
