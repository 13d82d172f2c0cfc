"""One day for several readers of one archive: intake once, the model asked once per text.

Every reader is ranked on their own (their categories, keywords, library, ratings, muted topics), but the
model work is pooled in the day's ONE queue (pipeline/queue.py): every reader's interest questions first
(the only answers that depend on the reader: their cache key names the reader's profile), then the union of
every reader's company questions, titles, summaries and style texts, where a text two readers need (same
paper, task, language and model) is asked once (llm/texts.py). Then each reader gets their own digests,
style pages and delivery from that one batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from paperradar.models import EmptyNote, Ranked
from paperradar.pipeline.day import DayResult, Pipeline
from paperradar.pipeline.queue import run_day_queue
from paperradar.rank.day import prepare_day
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
    pools = [prepare_day(reader.store, reader.rank_settings, day) for reader in pipes]
    busy = [(reader, pool) for reader, pool in zip(pipes, pools, strict=True) if pool.announcements]
    rankings: dict[str, list[Ranked]] = {}
    if busy:
        texts, fetcher = pipe.day_texts(run_id, refresh)
        works = run_day_queue(texts, [r.queue_reader(pool) for r, pool in busy], pipe.cfg, fetcher=fetcher)
        for (reader, _), work in zip(busy, works, strict=True):
            reader.finish_day(day, work.ranked, work.batch, texts, fetcher, run_id)
            rankings[reader.cfg.reader_name] = work.ranked
        # The faithfulness count over every style text of the day, not only the last reader's pages.
        batch = works[0].batch
        styled = [stored_data(t) for (_, task, _), t in batch.texts.items() if task in STYLE_TASKS]
        pipe.stats.faithfulness = count_unverified(styled)
    results = []
    for reader in pipes:
        ranked = rankings.get(reader.cfg.reader_name, [])
        if not ranked:
            reader.publish_empty(day, run_id, note)
        results.append(reader.day_result(day, ranked, note))
    return replace(results[0], per_reader=results)


def deliver_readers(pipe: Pipeline, result: DayResult) -> None:
    """Each reader's digest to that reader's own channels; every reader's results on its own DayResult."""
    if not result.per_reader:
        result.deliveries = pipe.deliver()
        return
    for reader_result in result.per_reader:
        reader = pipe.for_reader(reader_result.reader)
        reader_result.deliveries = reader.deliver()
    result.deliveries = [d for r in result.per_reader for d in r.deliveries]
