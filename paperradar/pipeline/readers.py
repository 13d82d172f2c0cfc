"""One day for several readers of one archive: intake once, the model asked once per text.

Every reader is ranked on their own (their categories, keywords, library, ratings, muted topics), but the
model work is pooled: first every reader's interest scores in one queue (the only answers that depend on
the reader: their cache key names the reader's profile), then the union of every reader's company
questions, titles, summaries and style texts in one queue, where a text two readers need in the same
language is asked once (llm/texts.py deduplicates by paper, task and language). Then each reader gets their
own digests, style pages and delivery from that one batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, replace
from datetime import date

from paperradar.llm.seam import WriteRequest
from paperradar.models import AuthorBlockCounts, EmptyNote, Paper, Ranked
from paperradar.pipeline.day import DayResult, Pipeline, WritePlan
from paperradar.publish.digest import empty_reason
from paperradar.rank.day import interest_requests
from paperradar.write.styles.stored import count_unverified, stored_data
from paperradar.write.styles.tasks import STYLE_TASKS


def process_readers(
    pipe: Pipeline,
    day: date,
    run_id: int | None,
    note: EmptyNote | None = None,
    refresh: Iterable[str] = (),
    only: str | None = None,
) -> DayResult:
    """The day for every reader of `pipe`'s config (or only the reader `only`). With one reader this is
    exactly `Pipeline.process_day`; with several, the result of the first carries every reader's own
    result in `per_reader`."""
    pipes = pipe.reader_pipes(only)
    if len(pipes) == 1:
        return pipes[0].process_day(day, run_id, note, refresh)
    refresh = frozenset(refresh)
    rankings = _rank_all(pipe, pipes, day, run_id, refresh)
    _write_all(pipe, [(p, r) for p, r in zip(pipes, rankings, strict=True) if r], day, run_id, refresh)
    results = []
    for reader, ranked in zip(pipes, rankings, strict=True):
        if not ranked:
            for language in reader.cfg.languages:
                reader.publish(day, [], None, empty_reason(day, note, language), language)
        results.append(reader.day_result(day, ranked, note))
    first = replace(results[0], per_reader=results)
    return first


def deliver_readers(pipe: Pipeline, result: DayResult) -> None:
    """Each reader's digest to that reader's own channels; every reader's results on its own DayResult."""
    if not result.per_reader:
        result.deliveries = pipe.deliver()
        return
    for reader_result in result.per_reader:
        reader = pipe.for_reader(reader_result.reader)
        reader_result.deliveries = reader.deliver()
    result.deliveries = [d for r in result.per_reader for d in r.deliveries]


def _rank_all(
    pipe: Pipeline, pipes: list[Pipeline], day: date, run_id: int | None, refresh: frozenset[str]
) -> list[list[Ranked]]:
    """Every reader's ranking; their interest questions asked first, together, in one queue."""
    requests: list[WriteRequest] = []
    for reader in pipes:
        if pipe.backend.supports("interest", reader.cfg.output.language):
            requests += interest_requests(reader.store, reader.rank_settings, day)
    interest = None
    if requests:
        batch = pipe.texts(run_id, refresh).ask_many(requests)
        interest = batch.counts_of(["interest"])
    # Each reader's ranking now reads its scores back from the store: asked again, they would be asked twice.
    again = refresh - {"interest"}
    blocks: list[AuthorBlockCounts] = []
    rankings = []
    for reader in pipes:
        pipe.stats.author_blocks = None
        rankings.append(reader.rank(day, run_id, again, ask_companies=False))
        blocks += _author_blocks(pipe)
    pipe.stats.interest = interest if interest is not None else pipe.stats.interest
    pipe.stats.author_blocks = _sum_blocks(blocks)
    return rankings


def _write_all(
    pipe: Pipeline,
    readers: list[tuple[Pipeline, list[Ranked]]],
    day: date,
    run_id: int | None,
    refresh: frozenset[str],
) -> None:
    """The union of every reader's model work in ONE queue, then each reader's digests and pages."""
    if not readers:
        return
    plans: list[WritePlan] = [reader.plan_write(ranked) for reader, ranked in readers]
    wanted: dict[str, Paper] = {}
    for plan in plans:
        wanted.update((p.arxiv_id, p) for p in plan.fulltext)
    fetcher = pipe.fulltext_fetcher(list(wanted.values()))
    texts = pipe.styled_texts(fetcher, run_id, refresh)
    batch = texts.ask_many([req for plan in plans for req in plan.requests])
    for (reader, ranked), plan in zip(readers, plans, strict=True):
        reader.finish_write(day, ranked, plan, batch, texts, fetcher)
    # The faithfulness count over every style text of the day, not only the last reader's pages.
    styled = [stored_data(t) for (_, task, _), t in batch.texts.items() if task in STYLE_TASKS]
    pipe.stats.faithfulness = count_unverified(styled)


def _author_blocks(pipe: Pipeline) -> list[AuthorBlockCounts]:
    found = pipe.stats.author_blocks
    return [found] if found is not None else []


def _sum_blocks(blocks: list[AuthorBlockCounts]) -> AuthorBlockCounts | None:
    """The author-block step over every reader's top papers (a paper in two readers' tops counts twice)."""
    if not blocks:
        return None
    total = AuthorBlockCounts()
    for item in blocks:
        for f in fields(AuthorBlockCounts):
            value = getattr(item, f.name)
            if isinstance(value, int):
                setattr(total, f.name, getattr(total, f.name) + value)
    total.note = next((b.note for b in blocks if b.note), None)
    return total
