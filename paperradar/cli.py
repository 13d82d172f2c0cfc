"""Command line: a thin layer over the library. Expected errors print one line with what to do; --debug
shows the traceback. Exit codes: 0 ok, 1 internal error, 2 usage/config, 3 network, 4 data, 5 partial,
6 database busy."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from paperradar import __version__
from paperradar.config import Config, load_config, template_text
from paperradar.errors import (
    EXIT_FAILURE,
    EXIT_PARTIAL,
    DataError,
    PaperradarError,
    UsageError,
)
from paperradar.models import Digest
from paperradar.pipeline import DayResult, Pipeline, run_pipeline
from paperradar.publish.export import export_records, write_export
from paperradar.sources.ids import parse_arxiv_id
from paperradar.store import Store

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

EPILOG = """\b
Examples:
  paperradar init                         write a commented paperradar.toml
  paperradar run --sample                 the whole pipeline on the bundled real cs.IR sample, offline
  paperradar run                          today's arXiv announcements → out/digests/<day>.<lang>.md
  paperradar run --date 2026-02-10        re-make a stored day (no network when it is stored)
  paperradar fetch --from 2026-02-01 --to 2026-02-07   backfill through the arXiv API
  paperradar import listings.jsonl.gz     import a Kaggle snapshot / listings JSONL or saved Atom XML
  paperradar export --date 2026-02-10 --format csv -o day.csv
  paperradar search "generative retrieval"
  paperradar show 2602.09386
  paperradar library import my.bib        your Zotero/Mendeley/Scholar library: personal ranking
  paperradar rate 2602.09386 up           ratings change the next ranking
  paperradar eval --picks picks.jsonl --listings listings.jsonl.gz --train-until 2026-02-28
  paperradar serve                        local web UI on 127.0.0.1:8765: days, search, why, up/down ratings

\b
Exit codes: 0 ok · 1 internal error (a bug: please report) · 2 usage or config · 3 network ·
4 bad or missing data · 5 partly done · 6 another run holds the database
"""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(value: object) -> Text:
    """Paper text for the terminal: never rich markup ('[/red]' in an author list is a name, not a tag),
    never control characters (an ESC sequence in a title must not retitle or recolour the terminal)."""
    return Text(_CONTROL.sub("", str(value)))


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-02-10", param, ctx)


DATE = DateType()


class State:
    def __init__(self, config_path: str | None, debug: bool, quiet: bool):
        self.config_path = config_path
        self.debug = debug
        self.quiet = quiet
        self._cfg: Config | None = None

    @property
    def cfg(self) -> Config:
        if self._cfg is None:
            self._cfg = load_config(self.config_path)
        return self._cfg

    def store(self) -> Store:
        return Store(self.cfg.db_path)

    def writer(self) -> Store:
        """The store for a command that writes (fetch, import, rank, write, publish, export): it queues behind
        a running `paperradar run` instead of racing it and paying for the same LLM answers twice."""
        store = Store(self.cfg.db_path)
        store.acquire_lock(wait=True)
        return store

    @contextlib.contextmanager
    def progress(self) -> Iterator[Any]:
        """A callback drawing one rich bar per pipeline step (quiet or non-terminal: nothing drawn)."""
        if self.quiet or not err.is_terminal:
            yield None
            return
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            tasks: dict[str, Any] = {}

            def report(step: str, done: int, total: int | None, detail: str = "") -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total, detail=detail)
                bar.update(tasks[step], completed=done, total=total, detail=detail)

            yield report


pass_state = click.make_pass_decorator(State)


@click.group(
    epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}
)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="PAPERRADAR_CONFIG",
    help="Config file (default: $PAPERRADAR_CONFIG, else ./paperradar.toml, else built-in defaults).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.version_option(__version__, prog_name="paperradar")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, debug: bool, quiet: bool) -> None:
    """paperradar: watches arXiv, ranks what matters to you, explains it in your language, publishes it."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s: %(message)s"
    )
    ctx.obj = State(config_path, debug, quiet)


@cli.command()
@click.option(
    "--path",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("paperradar.toml"),
    show_default=True,
    help="Where to write the config.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--print", "print_only", is_flag=True, help="Print the commented defaults instead of writing.")
@click.option(
    "--github-actions",
    "github_actions",
    is_flag=True,
    help="Also write .github/workflows/paperradar.yml: a daily run published to GitHub Pages.",
)
def init(path: Path, force: bool, print_only: bool, github_actions: bool) -> None:
    """Write a commented paperradar.toml with every key and its default."""
    if github_actions:
        _init_github_actions(path, force)
        return
    if print_only:
        click.echo(template_text(), nl=False)
        return
    if path.exists() and not force:
        raise UsageError(
            f"{path} already exists", hint="pass --force to overwrite it, or --path for another file"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template_text(), encoding="utf-8")
    out.print(
        f"wrote {path} — edit it, then run `paperradar run` (or `paperradar run --sample` to try it offline)"
    )


def _init_github_actions(config_path: Path, force: bool) -> None:
    from paperradar.publish.github_actions import secret_names, write_workflow

    cfg = load_config(config_path) if config_path.exists() else load_config(None)
    root = config_path.resolve().parent
    names = secret_names(cfg)
    try:
        written = write_workflow(root, secrets=names, force=force)
    except FileExistsError as exc:
        raise UsageError(str(exc), hint="pass --force to overwrite it") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out.print(f"wrote {written}")
    if names:
        out.print(f"add these repository secrets (Settings › Secrets › Actions): {', '.join(names)}")
    out.print("and set Settings › Pages › Source to “GitHub Actions”")


@cli.command()
@click.option(
    "--sample", is_flag=True, help="Use the bundled real cs.IR sample (2026-02-09 … 02-17), no network."
)
@click.option(
    "--date", "day", type=DATE, help="The announcement day (default: today's feed, or the sample's last day)."
)
@click.option(
    "--refresh",
    multiple=True,
    metavar="TASK",
    help="Recompute this task on purpose (summary, title, interest, company); repeatable.",
)
@click.option(
    "--wait", is_flag=True, help="If another run holds the database, wait for it instead of exiting."
)
@pass_state
def run(state: State, sample: bool, day: date | None, refresh: tuple[str, ...], wait: bool) -> None:
    """Run every stage for one day: fetch → store → rank → write → publish (→ deliver, if configured)."""
    with state.store() as store, state.progress() as progress:
        result = run_pipeline(
            state.cfg, store, day=day, sample=sample, refresh=refresh, progress=progress, wait=wait
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
            f"`paperradar publish {failed[0].channel} --date {result.day}`",
            markup=False,
        )
        sys.exit(EXIT_PARTIAL)


@cli.command()
@click.option("--from", "date_from", type=DATE, help="Backfill from this submission date (API search).")
@click.option("--to", "date_to", type=DATE, help="…to this date, inclusive.")
@pass_state
def fetch(state: State, date_from: date | None, date_to: date | None) -> None:
    """Fetch today's announcements (RSS + API look-ups), or backfill a date range through the API."""
    with state.writer() as store, state.progress() as progress:
        pipe = Pipeline(state.cfg, store, progress)
        if date_from or date_to:
            if not (date_from and date_to):
                raise UsageError("--from and --to go together", hint="e.g. --from 2026-02-01 --to 2026-02-07")
            if date_to < date_from:
                raise UsageError(f"--to {date_to} is before --from {date_from}", hint="swap them")
            count = pipe.intake_range(date_from, date_to)
            out.print(f"fetched {count} papers submitted {date_from} … {date_to} (listing days estimated)")
        else:
            feed = pipe.intake_feed()
            if feed.day is None or not feed.announcements:
                out.print(feed.note or "arXiv announced nothing in this feed today")
            else:
                out.print(
                    f"fetched {len(feed.announcements)} announcements for {feed.day}; "
                    f"{pipe.stats.get('api_lookups', 0)} completed through the API"
                )


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--skip-bad", is_flag=True, help="Skip malformed lines (reported) instead of stopping at the first."
)
@pass_state
def import_(state: State, file: Path, skip_bad: bool) -> None:
    """Import papers from JSONL (Kaggle arxiv snapshot or listing files, .gz or not) or saved Atom XML."""
    with state.writer() as store, state.progress() as progress:
        counts = Pipeline(state.cfg, store, progress).import_file(
            file, errors="skip" if skip_bad else "raise"
        )
    out.print(
        f"imported {counts['papers']} papers from {file} ({counts['inserted']} new, {counts['updated']} updated, "
        f"{counts['announcements']} listing entries)"
    )


def _resolve_day(store: Store, day: date | None) -> date:
    if day is not None:
        return day
    days = store.announcement_days()
    if not days:
        raise DataError(
            "the store holds no announcements yet",
            hint="run `paperradar fetch` or `paperradar import FILE` first",
        )
    return days[-1]


@cli.command()
@click.option("--date", "day", type=DATE, help="Announcement day (default: the latest stored).")
@click.option(
    "--refresh", multiple=True, metavar="TASK", help="Re-ask the model on purpose (interest, company)."
)
@pass_state
def rank(state: State, day: date | None, refresh: tuple[str, ...]) -> None:
    """Rank a stored day: keywords, companies, heuristic interest score, configured order."""
    with state.writer() as store:
        day = _resolve_day(store, day)
        pipe = Pipeline(state.cfg, store)
        ranked = pipe.rank_day(day, refresh=refresh)
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


@cli.command()
@click.option("--date", "day", type=DATE, help="Announcement day (default: the latest stored).")
@click.option("--refresh", multiple=True, metavar="TASK", help="Recompute this task's texts.")
@pass_state
def write(state: State, day: date | None, refresh: tuple[str, ...]) -> None:
    """Write summaries/titles for a ranked day's top N (cached: nothing is computed twice)."""
    with state.writer() as store:
        day = _resolve_day(store, day)
        pipe = Pipeline(state.cfg, store)
        ranked = store.load_ranked(day) or pipe.rank_day(day)
        pipe.write_day(ranked, refresh=refresh)
    c = pipe.stats["texts"]
    out.print(
        f"{day}: {c['written']} texts written, {c['cached']} from cache, {c['declined']} not possible without an LLM"
    )


@cli.command()
@click.option("--date", "day", type=DATE, help="Announcement day (default: the latest stored).")
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
        day = _resolve_day(store, day)
        pipe = Pipeline(cfg, store)
        ranked = store.load_ranked(day) or pipe.rank_day(day)
        items = ranked if everything else ranked[: cfg.output.top_n]
        texts = pipe.write_day(items) if items else {}
    from datetime import datetime

    digest = Digest(
        day,
        cfg.output.language,
        list(cfg.sources.categories),
        datetime.now(cfg.tz),
        list(cfg.output.order),
        len(items),
        len(ranked),
        items,
        texts,
    )
    records = export_records(digest)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8", newline="") as fh:
            write_export(records, fmt, fh)  # type: ignore[arg-type]
        err.print(f"wrote {len(records)} records to {output}")
    else:
        write_export(records, fmt, sys.stdout)  # type: ignore[arg-type]


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@pass_state
def search(state: State, query: tuple[str, ...], limit: int) -> None:
    """Full-text search of the archive (title, abstract, authors). Words are matched literally."""
    with state.store() as store:
        hits = store.search(" ".join(query), limit)
    if not hits:
        out.print("no match")
        return
    table = Table("id", "title", "authors", box=None)
    for paper, _score in hits:
        authors = ", ".join(paper.authors[:3]) + (" et al." if len(paper.authors) > 3 else "")
        table.add_row(paper.versioned_id, plain(paper.title), plain(authors))
    out.print(table)


@cli.command()
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
        listings = store.conn.execute(
            "SELECT day, category, kind FROM announcements WHERE arxiv_id = ? ORDER BY day", (key,)
        ).fetchall()
        ranks = store.conn.execute(
            "SELECT day, rank, keyword_count, interest_score, interest_reason FROM ranks WHERE arxiv_id = ? ORDER BY day",
            (key,),
        ).fetchall()
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
    for row in listings:
        out.print(f"listed {row['day']} in {row['category']} ({row['kind']})")
    for row in ranks:
        out.print(
            plain(
                f"ranked #{row['rank']} on {row['day']}: {row['keyword_count']} keywords, "
                f"interest {row['interest_score']} — {row['interest_reason']}"
            )
        )


def _report_day(state: State, result: DayResult) -> None:
    if result.empty_reason:
        out.print(f"no new papers announced for {result.day}: {result.empty_reason}")
    else:
        out.print(f"{result.day}: {result.announced} papers announced, top {result.listed} in the digest")
    _report_llm(result.stats)
    out.print(f"digest: {result.digest_path}")


def _report_llm(stats: dict[str, Any]) -> None:
    """The run's LLM bill: calls, tokens, cost; and what fell back to extractive/heuristic output."""
    usage = stats.get("llm")
    if not usage:
        return
    cost = f", cost {usage['cost']:.4f}" if usage.get("cost") is not None else ""
    est = " (some estimated)" if usage.get("estimated_calls") else ""
    out.print(
        f"LLM {usage['model']}: {usage['calls']} calls ({usage['failed_calls']} failed, {usage['retries']} "
        f"retries), {usage['tokens_in']:,} tokens in / {usage['tokens_out']:,} out{est}{cost}"
    )
    failed = sum(stats.get(k, {}).get("failed", 0) for k in ("interest", "texts", "company"))
    skipped = sum(stats.get(k, {}).get("skipped", 0) for k in ("interest", "texts", "company"))
    if failed or skipped:
        out.print(
            f"  {failed} answers failed (retried next run), {skipped} skipped; those papers keep "
            "extractive/heuristic fields, labelled"
        )


def _register_verbs() -> None:
    """The publish and reader verbs live in their own modules (cli_publish, cli_reader); importing them
    attaches their commands to `cli`."""
    from paperradar import cli_publish, cli_reader  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    _register_verbs()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="paperradar", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except PaperradarError as exc:
        if debug:
            err.print_exception()
        err.print(f"error: {exc.message}", markup=False)
        if exc.hint:
            err.print(f"hint: {exc.hint}", markup=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; everything already processed is kept in the store")
        sys.exit(130)
    except Exception as exc:
        if debug:
            err.print_exception()
        err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False)
        err.print(
            "hint: this is a bug in paperradar; run again with --debug and report the traceback", markup=False
        )
        sys.exit(EXIT_FAILURE)
    sys.exit(0)
