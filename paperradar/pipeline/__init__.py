"""The daily job, one direction: sources → store → rank → write → publish (→ deliver).

This package only orchestrates: `run_pipeline` picks the day, takes the run lock and keeps the run record;
`Pipeline` (day.py) calls each stage in order with that stage's own settings; estimate.py prices a day's
model work without calling the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from paperradar.config import Config
from paperradar.errors import DataError
from paperradar.models import EmptyNote, Progress
from paperradar.pipeline.day import DayResult, Pipeline
from paperradar.pipeline.readers import deliver_readers, process_readers
from paperradar.rank.day import announced
from paperradar.sources.http import PoliteClient
from paperradar.sources.intake import ARXIV_TZ, intake_feed, intake_sample
from paperradar.store import Store

__all__ = ["DayResult", "Pipeline", "choose_day", "process_readers", "run_pipeline"]


def choose_day(pipe: Pipeline, day: date | None, sample: bool) -> tuple[date, EmptyNote | None]:
    """The day a run is about, its announcements taken in (the bundled sample, or arXiv's feed when the
    store does not hold the day), and why it is empty when intake says so. Intake covers every reader's
    categories at once."""
    cfg, store = pipe.cfg, pipe.store
    note: EmptyNote | None = None
    everyone = replace(pipe.rank_settings, categories=tuple(cfg.intake_categories))
    if sample:
        pipe.offline = True
        days = intake_sample(store, cfg.intake_categories)
        if day is None:
            day = days[-1]
        elif day not in days and day.weekday() < 5:
            note = EmptyNote("reason_sample_range", (("first", str(days[0])), ("last", str(days[-1]))))
    elif day is None or (day.weekday() < 5 and not announced(store, everyone, day)):
        feed = intake_feed(store, cfg.intake_sources, pipe.client, pipe.stats, pipe.progress)
        if day is None:
            day = feed.day or datetime.now(ARXIV_TZ).date()
            note = EmptyNote("reason_feed_empty") if not feed.announcements else None
        elif feed.day != day:
            raise DataError(
                f"no announcements for {day} in the store, and arXiv's feed is for {feed.day or 'no day'}",
                hint=f"the feed only carries the latest day; backfill with `paperradar fetch --from {day} --to {day}`",
            )
    return day, note


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
    reader: str | None = None,
) -> DayResult:
    """`paperradar run`: choose the day, take in its announcements, then rank, write and publish it for
    every reader of the config (or only `reader`), and deliver each reader's digest."""
    store.acquire_lock(wait=cfg.store.lock_wait if wait else False, verb="run --sample" if sample else "run")
    pipe = Pipeline(cfg, store, progress, client)
    if reader is not None:
        cfg.for_reader(reader)  # an unknown name stops here, before any work
    run_id = store.start_run("run --sample" if sample else "run", day)
    pipe.fetch_author_blocks = not sample  # the daily run talks to arXiv anyway; re-ranks read the cache
    try:
        day, note = choose_day(pipe, day, sample)
        result = process_readers(pipe, day, run_id, note, refresh, reader)
        deliver_readers(pipe, result)
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
