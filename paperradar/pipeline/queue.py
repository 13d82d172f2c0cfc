"""The day's model work as one queue in one session: the interest question for the pool first; the moment
its answers are in, the final order, the author blocks of the top, then the company question, every
language's titles and summaries and every style page join the same queue.

While the interest round runs, the slots it leaves idle are not wasted: papers whose place in the top is
certain before any score is known (the configured order puts keyword hits first, so a paper with more hits
than all but a few others is in the top 20 whatever the model says) get their longest texts started.
Only certain work is started early, so it never costs a call the run would not make; with the reader's
personal ranking (which weighs the scores) nothing is certain and nothing starts early.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from paperradar.config import Config
from paperradar.llm import TASKS
from paperradar.llm.estimate import expected_output
from paperradar.llm.seam import StagedWriter, WriteRequest, run_sync
from paperradar.llm.texts import ManyBatch, TextService
from paperradar.models import Ranked, RunStats
from paperradar.rank.affiliations import AuthorBlockSource
from paperradar.rank.config import RankSettings
from paperradar.rank.day import DayPool, certain_places, companies_from_html, order_day
from paperradar.rank.model_scores import company_requests, interest_requests, interests_from
from paperradar.sources.fulltext import FullTextFetcher
from paperradar.store import Store
from paperradar.write.digest_texts import digest_requests
from paperradar.write.styles.config import style_task
from paperradar.write.styles.day import fulltext_wanted, style_requests, style_requests_at
from paperradar.write.styles.tasks import FULLTEXT_STYLES


@dataclass
class DayWork:
    """What the queue produced: the final order and every answer of the day."""

    ranked: list[Ranked] = field(default_factory=list)
    batch: ManyBatch = field(default_factory=ManyBatch)
    early: int = 0  # requests started before the top was known (certain papers only)


def run_day_queue(
    texts: TextService,
    store: Store,
    cfg: Config,
    settings: RankSettings,
    pool: DayPool,
    stats: RunStats,
    *,
    author_blocks: AuthorBlockSource | None,
    fetcher: FullTextFetcher | None,
) -> DayWork:
    """Rank the day with the model's interest scores and write all its texts, in one queue. `texts` carries
    the style-aware backend; `fetcher` (online runs) fetches full texts and author blocks one at a time."""
    lang, top_n = settings.language, settings.top_n
    backend = texts.backend
    work = DayWork()
    first = interest_requests(texts, pool.pool, lang)
    if isinstance(backend, StagedWriter) and first:
        slots = cfg.llm.concurrency - math.ceil(len(first) / cfg.llm.batch_size)
        early = early_requests(pool, certain_places(store, settings, pool), cfg, slots)
        if fetcher is not None and cfg.styles.fulltext:
            long_styles = {style_task(style) for style in FULLTEXT_STYLES}
            fetcher.wanted |= {r.paper.arxiv_id for r in early if r.task in long_styles}
        work.early = len(early)
        first += early

    async def then(answers: ManyBatch) -> Sequence[WriteRequest]:
        interests = interests_from(answers, pool.pool, pool.interests, lang, stats)
        work.ranked = ordered = order_day(store, settings, pool, interests)
        top = ordered[:top_n]
        if author_blocks is not None:
            settle = _settle(top, pool, settings, author_blocks, stats)
            if fetcher is not None and author_blocks.client is not None:
                await fetcher.exclusive(settle)  # the arXiv client, one request at a time, off the loop
            else:
                settle()  # the cache only: quick
        if fetcher is not None:
            fetcher.wanted |= {p.arxiv_id for p in fulltext_wanted(ordered, cfg.styles, backend, lang)}
        return (
            company_requests(top, lang)
            + digest_requests(ordered, top_n, cfg.languages)
            + style_requests(ordered, cfg.styles, lang)
        )

    work.batch = texts.ask_staged(first, lambda r: r.task == "interest", then)
    if not work.ranked:  # nothing was asked at all (no interest question): then() ran with what is stored
        run_sync(then(work.batch))
    return work


def _settle(
    top: list[Ranked], pool: DayPool, settings: RankSettings, source: AuthorBlockSource, stats: RunStats
) -> Callable[[], None]:
    return lambda: companies_from_html(top, pool, settings, source, stats)


def early_requests(pool: DayPool, places: dict[str, int], cfg: Config, slots: int) -> list[WriteRequest]:
    """The longest texts of papers certain to be in the top, as many calls as the interest round leaves
    slots idle (more would queue ahead of the day's long follow-ups)."""
    if slots <= 0 or not places:
        return []
    certain = sorted(
        (r for r in pool.ranked() if r.paper.arxiv_id in places), key=lambda r: places[r.paper.arxiv_id]
    )
    requests = style_requests_at(places, pool.papers, cfg.styles, cfg.output.language)
    requests += digest_requests(certain, len(certain), cfg.languages)
    jobs: dict[tuple[str, str, str], list[WriteRequest]] = {}
    for req in requests:
        # A zh/ja title and summary are one call (the brief); everything else one call each.
        brief = req.task in TASKS and req.language != "en"
        jobs.setdefault((req.paper.arxiv_id, req.language, "brief" if brief else req.task), []).append(req)
    longest = sorted(jobs.items(), key=lambda kv: -expected_output(kv[0][2]))
    return [req for _, group in longest[:slots] for req in group]
