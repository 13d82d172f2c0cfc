"""The day's model work as one queue in one session: the interest question for the pool first; the moment
its answers are in, the final order, the author blocks of the top, then the company question, every
language's titles and summaries and every style page join the same queue.

While the interest round runs, the slots it leaves idle are not wasted, and one round more waits for the
slots its answers free: papers whose place in the top is certain before any score is known (the configured
order puts keyword hits first, so a paper with more hits than all but a few others is in the top 20
whatever the model says) get their longest texts started. Only certain work is started early, so it never
costs a call the run would not make; with the reader's personal ranking (which weighs the scores) nothing
is certain and nothing starts early.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from paperradar.config import Config
from paperradar.llm.chat import ChatBackend
from paperradar.llm.estimate import expected_output
from paperradar.llm.seam import Backend, StagedWriter, WriteRequest, run_sync
from paperradar.llm.texts import ManyBatch, TextService, batch_language
from paperradar.models import Ranked, RunStats
from paperradar.rank.affiliations import AuthorBlockSource
from paperradar.rank.config import RankSettings
from paperradar.rank.day import DayPool, certain_places, companies_from_html, order_day
from paperradar.rank.model_scores import company_requests, interest_requests, interests_from
from paperradar.rank.muted import split_muted
from paperradar.sources.fulltext import FullTextFetcher
from paperradar.store import Store
from paperradar.write.digest_texts import digest_requests
from paperradar.write.styles.config import style_task
from paperradar.write.styles.day import fulltext_wanted, style_requests, style_requests_at
from paperradar.write.styles.tasks import FULLTEXT_STYLES, StyleBackend


@dataclass
class DayWork:
    """What the queue produced for one reader: the final order and every answer of the day (the answers
    are the whole queue's, shared by every reader in it)."""

    ranked: list[Ranked] = field(default_factory=list)
    batch: ManyBatch = field(default_factory=ManyBatch)
    early: int = 0  # requests started before the top was known (certain papers only)


@dataclass
class QueueReader:
    """One reader's part of the day's queue: their view of the store, resolved config, rank settings,
    day pool and statistics, and where their top papers' author blocks come from."""

    store: Store
    cfg: Config
    settings: RankSettings
    pool: DayPool
    stats: RunStats
    author_blocks: AuthorBlockSource | None
    work: DayWork = field(default_factory=DayWork)


def run_day_queue(
    texts: TextService,
    readers: Sequence[QueueReader],
    cfg: Config,
    *,
    fetcher: FullTextFetcher | None,
) -> list[DayWork]:
    """Rank the day with the model's interest scores and write all its texts, in one queue, for every
    reader in `readers` (one per reader, same order). `texts` carries the style-aware backend; `fetcher`
    (online runs) fetches full texts and author blocks one at a time; `cfg` gives the queue's size.

    Several readers share the queue: every reader's interest questions go first (each names its reader's
    profile, so answers never mix); then the union of their follow-ups, where a text two readers need (same
    paper, task, language and model) is one request (TextService.ask_staged asks it once)."""
    backend = texts.backend
    first: list[WriteRequest] = []
    for reader in readers:
        first += interest_requests(
            texts, reader.pool.scored, reader.settings.language, reader.settings.profile
        )
    if isinstance(backend, StagedWriter) and first:
        # The slots the interest round leaves idle, and one round more: the requests of that extra round
        # wait for a slot and take it the moment an interest answer frees one, so the slots do not stand
        # idle while the answers are checked and the day's order is settled.
        slots = 2 * cfg.llm.concurrency - _interest_calls(backend, first, cfg)
        for reader in readers:
            places = certain_places(reader.store, reader.settings, reader.pool)
            early = early_requests(reader.pool, places, reader.cfg, slots)
            if fetcher is not None and reader.cfg.styles.fulltext:
                long_styles = {style_task(style) for style in FULLTEXT_STYLES}
                fetcher.wanted |= {r.paper.arxiv_id for r in early if r.task in long_styles}
            reader.work.early = len(early)
            slots -= len(_jobs(early))
            first += early

    ran: list[bool] = []

    async def then(answers: ManyBatch) -> Sequence[WriteRequest]:
        ran.append(True)
        out: list[WriteRequest] = []
        for reader in readers:
            out += await _follow_ups(reader, answers, backend, fetcher)
        return out

    batch = texts.ask_staged(first, lambda r: r.task == "interest", then)
    if not ran:  # nothing was asked at all (no interest question): the order from what is stored
        run_sync(then(batch))
    for reader in readers:
        reader.work.batch = batch
    return [reader.work for reader in readers]


async def _follow_ups(
    reader: QueueReader, answers: ManyBatch, backend: Backend, fetcher: FullTextFetcher | None
) -> list[WriteRequest]:
    """One reader's order from the interest answers, their top's author blocks, and what their day asks
    next: the company question, titles and summaries, style pages (over the papers they list: a dropped
    muted paper gets no text)."""
    cfg, settings, pool, stats = reader.cfg, reader.settings, reader.pool, reader.stats
    lang, top_n = settings.language, settings.top_n
    language = batch_language(lang, settings.profile)
    interests = interests_from(answers, pool.scored, pool.interests, language, stats)
    reader.work.ranked = ordered = order_day(reader.store, settings, pool, interests)
    listed = split_muted(ordered)[0]
    top = listed[:top_n]
    if reader.author_blocks is not None:
        settle = _settle(top, pool, settings, reader.author_blocks, stats)
        if fetcher is not None and reader.author_blocks.client is not None:
            await fetcher.exclusive(settle)  # the arXiv client, one request at a time, off the loop
        else:
            settle()  # the cache only: quick
    if fetcher is not None:
        fetcher.wanted |= {p.arxiv_id for p in fulltext_wanted(listed, cfg.styles, backend, lang)}
    return (
        company_requests(top, lang)
        + digest_requests(listed, top_n, cfg.languages)
        + style_requests(listed, cfg.styles, lang)
    )


def _settle(
    top: list[Ranked], pool: DayPool, settings: RankSettings, source: AuthorBlockSource, stats: RunStats
) -> Callable[[], None]:
    return lambda: companies_from_html(top, pool, settings, source, stats)


def _interest_calls(backend: Backend, interest: list[WriteRequest], cfg: Config) -> int:
    """How many calls the interest questions take: the chat backend's own plan (several readers share
    calls), or one per batch where the backend does not say."""
    chat = backend.chat if isinstance(backend, StyleBackend) else backend
    if isinstance(chat, ChatBackend):
        return len(chat.plan_jobs(interest))
    return math.ceil(len(interest) / cfg.llm.batch_size)


def _jobs(requests: list[WriteRequest]) -> dict[tuple[str, str, str], list[WriteRequest]]:
    """Requests by the call that asks them: a zh/ja title and summary are one call (the brief),
    everything else one call each (the chat backend's own rule)."""
    jobs: dict[tuple[str, str, str], list[WriteRequest]] = {}
    for req in requests:
        call = ChatBackend.prompt_task(req.task, req.language)
        jobs.setdefault((req.paper.arxiv_id, req.language, call), []).append(req)
    return jobs


def early_requests(pool: DayPool, places: dict[str, int], cfg: Config, slots: int) -> list[WriteRequest]:
    """The longest texts of papers certain to be in the top, at most `slots` calls: what the interest round
    leaves idle plus one round that waits for its slots (more would queue ahead of the day's long
    follow-ups)."""
    if slots <= 0 or not places:
        return []
    certain = sorted(
        (r for r in pool.ranked() if r.paper.arxiv_id in places), key=lambda r: places[r.paper.arxiv_id]
    )
    requests = style_requests_at(places, pool.papers, cfg.styles, cfg.output.language)
    requests += digest_requests(certain, len(certain), cfg.languages)
    longest = sorted(_jobs(requests).items(), key=lambda kv: -expected_output(kv[0][2]))
    return [req for _, group in longest[:slots] for req in group]
