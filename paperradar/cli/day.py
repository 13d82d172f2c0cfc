"""The day's verbs: run, fetch, import, rank, write, export, search, show."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import cast

import click
from rich.table import Table

from paperradar.cli.common import (
    DATE,
    State,
    date_option,
    err,
    out,
    pass_state,
    plain,
    reader_option,
    refresh_option,
    resolve_day,
)
from paperradar.errors import EXIT_PARTIAL, DataError, UsageError
from paperradar.models import Digest, RunStats, TextCounts, no_progress
from paperradar.pipeline import DayResult, Pipeline, choose_day, run_pipeline
from paperradar.pipeline.estimate import estimate_day
from paperradar.publish.export import ExportFormat, export_records, write_export
from paperradar.rank.affiliations import describe as describe_author_blocks
from paperradar.rank.search import load_index, search_archive
from paperradar.sources.ids import parse_arxiv_id
from paperradar.sources.intake import import_file, intake_feed, intake_range
from paperradar.store import Store
from paperradar.store.views import paper_ranks
from paperradar.text.labels import muted_text


@click.command()
@click.option(
    "--sample", is_flag=True, help="Use the bundled real cs.IR sample (2026-02-09 … 02-17), no network."
)
@click.option(
    "--date", "day", type=DATE, help="The announcement day (default: today's feed, or the sample's last day)."
)
@refresh_option("Recompute this task on purpose (summary, title, interest, company); repeatable.")
@click.option(
    "--wait", is_flag=True, help="If another run holds the database, wait for it instead of exiting."
)
@click.option(
    "--estimate",
    is_flag=True,
    help="Print the day's model calls, tokens and cost (from [llm.prices]) without calling the model.",
)
@reader_option("Run for this reader of the config only (default: every reader, sharing every text).")
@pass_state
def run(
    state: State, sample: bool, day: date | None, refresh: tuple[str, ...], wait: bool, estimate: bool
) -> None:
    """Run every stage for one day: fetch → store → rank → write → publish (→ deliver, if configured)."""
    if estimate:
        _estimate(state, sample, day, refresh)
        return
    root = state.root_cfg
    if state.reader is not None:
        root.for_reader(state.reader)  # an unknown name stops here (exit 2), before the store is opened
    with Store(root.db_path) as store, state.progress() as progress:
        result = run_pipeline(
            root,
            store,
            day=day,
            sample=sample,
            refresh=refresh,
            progress=progress,
            wait=wait,
            reader=state.reader,
        )
    _report_day(state, result)
    for d in result.deliveries:
        if d.ok:
            out.print(f"delivered: {d.detail}", markup=False)
        else:
            err.print(f"error: delivery failed: {d.detail}", markup=False)
    failed = [d for d in result.deliveries if not d.ok]
    if failed:
        err.print(
            f"hint: the digest is kept at {result.digest_path}; retry with "
            f"`paperradar publish {failed[0].channel} --date {result.day}`"
            + (" --reader NAME" if result.per_reader else ""),
            markup=False,
        )
        sys.exit(EXIT_PARTIAL)


@click.command()
@click.option("--from", "date_from", type=DATE, help="Backfill from this submission date (API search).")
@click.option("--to", "date_to", type=DATE, help="…to this date, inclusive.")
@pass_state
def fetch(state: State, date_from: date | None, date_to: date | None) -> None:
    """Fetch today's announcements (RSS + API look-ups), or backfill a date range through the API."""
    with state.writer() as store, state.progress() as progress:
        pipe = Pipeline(state.root_cfg, store, progress)  # every reader's categories
        try:
            if date_from or date_to:
                if not (date_from and date_to):
                    raise UsageError(
                        "--from and --to go together", hint="e.g. --from 2026-02-01 --to 2026-02-07"
                    )
                if date_to < date_from:
                    raise UsageError(f"--to {date_to} is before --from {date_from}", hint="swap them")
                count = intake_range(
                    store, state.root_cfg.intake_sources, pipe.client, date_from, date_to, pipe.progress
                )
                out.print(
                    f"fetched {count} papers submitted {date_from} … {date_to} (listing days estimated)"
                )
                return
            feed = intake_feed(store, state.root_cfg.intake_sources, pipe.client, pipe.stats, pipe.progress)
        finally:
            pipe.close()
    if feed.day is None or not feed.announcements:
        out.print(feed.note or "arXiv announced nothing in this feed today")
    else:
        out.print(
            f"fetched {len(feed.announcements)} announcements for {feed.day}; "
            f"{pipe.stats.api_lookups or 0} completed through the API"
        )


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--skip-bad", is_flag=True, help="Skip malformed lines (reported) instead of stopping at the first."
)
@pass_state
def import_(state: State, file: Path, skip_bad: bool) -> None:
    """Import papers from JSONL (Kaggle arxiv snapshot or listing files, .gz or not) or saved Atom XML."""
    with state.writer() as store, state.progress() as progress:
        counts = import_file(
            store,
            file,
            errors="skip" if skip_bad else "raise",
            progress=progress or no_progress,
            src=state.cfg.sources,
        )
    out.print(
        f"imported {counts.papers} papers from {file} ({counts.inserted} new, {counts.updated} updated, "
        f"{counts.announcements} listing entries)"
    )


@click.command()
@date_option()
@refresh_option("Re-ask the model on purpose (interest, company).")
@pass_state
def rank(state: State, day: date | None, refresh: tuple[str, ...]) -> None:
    """Rank a stored day: keywords, companies, heuristic interest score, configured order."""
    with state.writer() as store:
        day = resolve_day(store, day)
        pipe = Pipeline(state.cfg, store)
        ranked = pipe.rank(day, refresh=refresh)
    _report_llm(pipe.stats)
    table = Table("rank", "id", "kw", "score", "company", "title", box=None)
    for r in ranked[: state.cfg.output.top_n]:
        table.add_row(
            str(r.rank),
            r.paper.arxiv_id,
            str(r.keyword_count),
            str(r.interest.score),
            plain(", ".join(c.name for c in r.companies) or "-"),
            plain(r.paper.title[:70]),
        )
    out.print(table)
    out.print(f"{len(ranked)} papers ranked for {day}")


@click.command()
@date_option()
@refresh_option("Recompute this task's texts.")
@pass_state
def write(state: State, day: date | None, refresh: tuple[str, ...]) -> None:
    """Write summaries/titles for a ranked day's top N (cached: nothing is computed twice)."""
    with state.writer() as store:
        day = resolve_day(store, day)
        pipe = Pipeline(state.cfg, store)
        ranked = store.load_ranked(day) or pipe.rank(day)
        pipe.write(ranked, refresh=refresh)
    c = pipe.stats.texts or TextCounts()
    out.print(
        f"{day}: {c.written} texts written, {c.cached} from cache, {c.declined} not possible without an LLM"
    )


@click.command()
@date_option()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "json", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
@click.option("--all", "everything", is_flag=True, help="Every ranked paper of the day, not just the top N.")
@pass_state
def export(state: State, day: date | None, fmt: str, output: Path | None, everything: bool) -> None:
    """Export a day's ranking with keyword hits, companies, scores and summaries (and their modes)."""
    cfg = state.cfg
    with state.writer() as store:
        day = resolve_day(store, day)
        pipe = Pipeline(cfg, store)
        ranked = store.load_ranked(day) or pipe.rank(day)
        items = ranked if everything else ranked[: cfg.output.top_n]
        batch = pipe.write(items) if items else None
    digest = Digest(
        day,
        cfg.output.language,
        list(cfg.sources.categories),
        datetime.now(cfg.tz),
        list(cfg.output.order),
        len(items),
        len(ranked),
        items,
        batch.texts if batch else {},
        missing=batch.missing if batch else {},
    )
    records = export_records(digest)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8", newline="") as fh:
            write_export(records, cast(ExportFormat, fmt), fh)
        err.print(f"wrote {len(records)} records to {output}")
    else:
        write_export(records, cast(ExportFormat, fmt), sys.stdout)


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--exact", is_flag=True, help="Exact words only: every word must occur (no similarity).")
@pass_state
def search(state: State, query: tuple[str, ...], limit: int, exact: bool) -> None:
    """Search the archive (title, abstract, authors) by words and by meaning: papers holding every word,
    fused with the nearest papers in the vector index (`paperradar index`). --exact: words only."""
    with state.store() as store:
        index = None if exact else load_index(store.path, state.cfg.personal)
        result = search_archive(store, " ".join(query), limit, exact=exact, index=index)
    for note in result.notes:
        err.print(f"note: {note}")
    if not result.hits:
        out.print("no match")
        return
    table = Table(
        "id", "title", "authors", *(["words", "meaning"] if result.mode == "hybrid" else []), box=None
    )
    for hit in result.hits:
        paper = hit.paper
        authors = ", ".join(paper.authors[:3]) + (" et al." if len(paper.authors) > 3 else "")
        ranks = [str(hit.exact_rank or "-"), str(hit.vector_rank or "-")] if result.mode == "hybrid" else []
        table.add_row(paper.versioned_id, plain(paper.title), plain(authors), *ranks)
    out.print(table)


@click.command()
@click.argument("arxiv_id")
@pass_state
def show(state: State, arxiv_id: str) -> None:
    """Show one stored paper: metadata, versions, listings and ranks."""
    key, _version = parse_arxiv_id(arxiv_id)
    with state.store() as store:
        paper = store.get_paper(key)
        if paper is None:
            raise DataError(
                f"{key} is not in the store", hint="`paperradar fetch` or `paperradar import` it first"
            )
        versions = store.paper_versions(key)
        listings = store.listings_of(key)
        ranks = list(reversed(paper_ranks(store, key)))  # oldest day first
    out.print(plain(paper.title))
    out.print(plain(f"{paper.abs_url}  versions: {', '.join(f'v{v}' for v in versions)}"))
    out.print(plain(f"authors: {', '.join(paper.authors)}"))
    out.print(plain(f"categories: {' '.join(paper.categories) or '-'}   published: {paper.published or '-'}"))
    if paper.comment:
        out.print(plain(f"comment: {paper.comment}"))
    if paper.journal_ref:
        out.print(plain(f"journal: {paper.journal_ref}"))
    out.print("")
    out.print(plain(paper.abstract))
    for ann in listings:
        out.print(f"listed {ann.day} in {ann.category} ({ann.kind})")
    for row in ranks:
        out.print(
            plain(
                f"ranked #{row.rank} on {row.day}: {row.keyword_count} keywords, "
                f"interest {row.interest_score} — {row.interest_reason}"
            )
        )


def _report_day(state: State, result: DayResult) -> None:
    for one in result.per_reader or [result]:
        who = f"reader {one.reader}: " if result.per_reader else ""
        if one.empty_reason:
            out.print(f"{who}no new papers announced for {one.day}: {one.empty_reason}", markup=False)
        else:
            out.print(
                f"{who}{one.day}: {one.announced} papers announced, top {one.listed} in the digest",
                markup=False,
            )
        if one.muted is not None:
            out.print(f"{who}muted: {muted_text(one.muted, 'en')}", markup=False)
        if result.per_reader:
            out.print(f"{who}digest: {one.digest_path}", markup=False)
    if result.stats.author_blocks is not None and result.stats.author_blocks.papers:
        out.print(f"company from arXiv HTML: {describe_author_blocks(result.stats.author_blocks)}")
    _report_llm(result.stats)
    if not result.per_reader:
        out.print(f"digest: {result.digest_path}")


def _report_llm(stats: RunStats) -> None:
    """The run's LLM bill: calls, tokens, cost; and what fell back to extractive/heuristic output."""
    usage = stats.llm
    if not usage:
        return
    cost = f", cost {usage.cost:.4f}" if usage.cost is not None else ""
    est = " (some estimated)" if usage.estimated_calls else ""
    out.print(
        f"LLM {stats.llm_model}: {usage.calls} calls ({usage.failed_calls} failed, {usage.retries} "
        f"retries), {usage.tokens_in:,} tokens in / {usage.tokens_out:,} out{est}{cost}"
    )
    total = stats.text_totals()
    parts = [
        f"{total.failed} failed (asked again next run)" if total.failed else "",
        f"{total.budget} over the budget (asked again next run)" if total.budget else "",
        f"{total.refused} refused by the provider's filter" if total.refused else "",
        f"{total.given_up} given up after repeated failures (`--refresh TASK` asks again)"
        if total.given_up
        else "",
    ]
    if total.missing:
        out.print(
            f"  {total.missing} answers missing: {', '.join(p for p in parts if p)}; "
            "those fields show extractive/heuristic text, labelled with why"
        )


def _estimate(state: State, sample: bool, day: date | None, refresh: tuple[str, ...]) -> None:
    """`run --estimate`: the day taken in as a run would (the sample, or the feed), ranked without a model
    and not saved, then its model work priced."""
    with state.writer() as store:
        pipe = Pipeline(state.root_cfg, store)
        pipe.keyless = True
        try:
            when, _ = choose_day(pipe, day, sample)
            est = estimate_day(pipe, when, state.reader)
        finally:
            pipe.close()
    out.print(f"{when}: {est.papers} papers announced; model {est.model} (nothing was asked of it)")
    table = Table("task", "calls", "stored", "tokens in", "tokens out", "cost", box=None)
    for row in [*est.rows, est.total]:
        cost = f"{row.cost:.4f}" if row.cost is not None else "-"
        table.add_row(
            row.task, str(row.calls), str(row.stored), f"{row.tokens_in:,}", f"{row.tokens_out:,}", cost
        )
    out.print(table)
    for note in est.notes:
        out.print(f"note: {note}")
