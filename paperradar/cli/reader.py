"""The reader's verbs: library import, ratings, `eval`, the local web UI."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from paperradar.cli.common import DATE, State, out, pass_state, reader_option
from paperradar.errors import DataError, UsageError
from paperradar.rank.personal.library import import_library
from paperradar.sources.api import ArxivAPI
from paperradar.sources.ids import parse_arxiv_id
from paperradar.sources.intake import polite_client

if TYPE_CHECKING:
    from paperradar.sources.zotero import ZoteroClient


@click.group()
def library() -> None:
    """The reader's library: papers that personal ranking treats as liked."""


@library.command("import")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--offline", is_flag=True, help="No arXiv API look-up for ids the store does not hold.")
@reader_option()
@pass_state
def library_import(state: State, files: tuple[Path, ...], offline: bool) -> None:
    """Import BibTeX (Zotero, Mendeley, Google Scholar), CSL-JSON (Zotero) or a list of arXiv ids/URLs."""
    paths = [Path(f) for f in files] or [state.cfg.resolve(Path(p)) for p in state.cfg.personal.library]
    if not paths:
        raise UsageError(
            "no library file given", hint="paperradar library import FILE.bib (or set [personal].library)"
        )
    src = state.cfg.sources
    with state.writer() as store, contextlib.ExitStack() as stack:
        api = None
        if not offline:
            api = ArxivAPI(stack.enter_context(polite_client(src)), src.api_url, src.batch_size)
        items, report = import_library(store, paths, api)
    out.print(
        f"library: {len(items)} items ({report.resolved_by_id} by arXiv id, {report.resolved_by_title} by title, "
        f"{report.fetched_from_api} fetched from arXiv, {report.not_on_arxiv} not on arXiv, "
        f"{report.duplicates} duplicates merged)"
    )
    if report.missing_on_api:
        out.print(f"arXiv did not know: {', '.join(report.missing_on_api[:10])}")


@library.command("sync")
@click.option(
    "--full", is_flag=True, help="Read the whole library again, not only what changed since the last sync."
)
@click.option("--offline", is_flag=True, help="No arXiv API look-up for ids the store does not hold.")
@reader_option()
@pass_state
def library_sync(state: State, full: bool, offline: bool) -> None:
    """Read your Zotero library ([zotero] in the config) into the library: what changed since the last sync."""
    from paperradar.rank.personal.library_sync import sync_zotero

    src = state.cfg.sources
    with _zotero(state) as client, state.writer() as store, contextlib.ExitStack() as stack:
        api = None
        if not offline:
            api = ArxivAPI(stack.enter_context(polite_client(src)), src.api_url, src.batch_size)
        report = sync_zotero(store, client, api, full)
    where = report.library + (f" collection {report.scope}" if report.scope else "")
    if report.not_modified:
        out.print(f"zotero {where}: unchanged since version {report.since} (304 Not Modified)")
        return
    since = f" changed since version {report.since}" if report.since is not None else ""
    out.print(
        f"zotero {where}: {report.received} items{since} in {report.pages} pages; {report.stored} stored, "
        f"{report.removed} removed, {report.not_references} notes/attachments skipped; {report.no_abstract} "
        f"without an abstract kept ({report.no_abstract_filled} completed from arXiv, "
        f"{report.no_abstract_title_only} by title only); now at version {report.version}"
    )
    if not report.stable:
        out.print("Zotero changed while it was read: the next sync reads these changes again")


@library.command("save")
@click.argument("arxiv_id")
@click.option(
    "--language",
    type=click.Choice(["zh", "ja", "en"]),
    help="The summary's language (default: [output].language).",
)
@reader_option()
@pass_state
def library_save(state: State, arxiv_id: str, language: str | None) -> None:
    """Save a paper to Zotero: arXiv metadata and link, paperradar's summary as a note ([zotero].save_collection)."""
    from paperradar.rank.personal.library_sync import save_to_zotero

    key, _version = parse_arxiv_id(arxiv_id)
    with _zotero(state, need_key=True) as client, state.writer() as store:
        report = save_to_zotero(store, client, key, language or state.cfg.output.language)
    where = f" in collection {report.collection}" if report.collection else ""
    if not report.created:
        out.print(f"{key} is already in Zotero as {report.item_key}{where}; nothing written")
        return
    note = f", with paperradar's summary ({report.summary_by}) as a note" if report.summary_by else ""
    retried = f" (the library had changed: {report.conflicts} retry)" if report.conflicts else ""
    out.print(f"saved {key} to Zotero as {report.item_key}{where}{note}{retried}")


@contextlib.contextmanager
def _zotero(state: State, need_key: bool = False) -> Iterator[ZoteroClient]:
    from paperradar.sources.zotero import ZoteroClient

    if state.cfg.zotero is None:
        raise UsageError(
            "no [zotero] section in the config",
            hint="add library_id (and api_key_env) under [zotero]; see `paperradar init --print`",
        )
    client = ZoteroClient.from_config(state.cfg.zotero, dict(os.environ), need_key=need_key)
    try:
        yield client
    finally:
        client.close()


@click.command("mcp")
@click.option("--http", "http", is_flag=True, help="Serve streamable HTTP on 127.0.0.1 instead of stdio.")
@click.option("--port", type=click.IntRange(0, 65535), help="Port for --http (default: [mcp].http_port).")
@reader_option("The reader whose digests, ratings and library the assistant sees (default: the first).")
@pass_state
def mcp_cmd(state: State, http: bool, port: int | None) -> None:
    """The archive for AI assistants (Model Context Protocol): search, digests, papers, ratings."""
    from paperradar.mcp_server.server import run_server  # the SDK loads only for this command

    run_server(state.cfg, http=http, port=port)


@click.command()
@click.argument("arxiv_id")
@click.argument("value", type=click.Choice(["up", "down", "clear"]))
@reader_option()
@pass_state
def rate(state: State, arxiv_id: str, value: str) -> None:
    """Rate a paper: up / down (used by the next ranking), clear (forget the rating)."""
    key, _version = parse_arxiv_id(arxiv_id)
    with state.store() as store:
        if store.get_paper(key) is None:
            raise DataError(
                f"{key} is not in the store", hint="`paperradar fetch` or `paperradar import` it first"
            )
        store.rate(key, {"up": 1, "down": -1, "clear": 0}[value])
    out.print(f"{key}: {value} (used by the next ranking)")


@click.command("eval")
@click.option(
    "--picks",
    "picks_path",
    type=click.Path(path_type=Path),
    help="Picks JSONL (without it: your own ratings in the archive over the last --weeks weeks).",
)
@click.option(
    "--pools", "pools_path", type=click.Path(path_type=Path), help="Pools JSONL (metadata in the store)."
)
@click.option(
    "--listings", type=click.Path(path_type=Path), help="Build the pools from a listings JSONL instead."
)
@click.option(
    "--category",
    "categories",
    multiple=True,
    default=["cs.IR"],
    show_default=True,
    help="With --listings: the category whose days make the pools (repeat for several).",
)
@click.option("--train-until", type=DATE, help="With --picks: picks on or before it are the history.")
@click.option("--judge-until", type=DATE, help="Judge pools up to this day only (validation splits).")
@click.option(
    "--weeks",
    type=click.IntRange(1, 52),
    default=4,
    show_default=True,
    help="Without --picks: judge the days of the last N weeks.",
)
@click.option("--until", type=DATE, help="Without --picks: the last day of those weeks (default: today).")
@click.option(
    "--history",
    "refresh",
    type=click.Choice(["week", "day", "window"]),
    default="week",
    show_default=True,
    help="Without --picks: a judged day's history is everything before its week, the day, or the window.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@reader_option()
@pass_state
def eval_cmd(
    state: State,
    picks_path: Path | None,
    pools_path: Path | None,
    listings: Path | None,
    categories: tuple[str, ...],
    train_until: date | None,
    judge_until: date | None,
    weeks: int,
    until: date | None,
    refresh: str,
    as_json: bool,
) -> None:
    """How well the ranking serves you: with no file, your up-ratings of the last --weeks weeks, each day
    ranked by paperradar and the four baselines with only what came before it; with --picks, replay a
    picks file against pools (--pools or --listings) after --train-until."""
    import json

    if picks_path is None:
        if pools_path or listings or train_until or judge_until:
            raise UsageError(
                "--pools, --listings, --train-until and --judge-until go with --picks FILE",
                hint="without --picks, eval judges your own ratings: paperradar eval [--weeks N] [--until DAY]",
            )
        _eval_own(state, weeks, until, refresh, as_json)
        return
    if train_until is None:
        raise UsageError("--picks needs --train-until DAY (picks on or before it are the history)")
    from paperradar.evaluate import (
        build_pools,
        default_rankers,
        evaluate,
        format_table,
        read_picks,
        read_pools,
    )
    from paperradar.rank.personal import get_embedder

    if (pools_path is None) == (listings is None):
        raise UsageError("give exactly one of --pools FILE or --listings FILE")
    picks = read_picks(picks_path)
    if pools_path:
        pools = read_pools(pools_path)
    else:
        assert listings is not None
        pools = [pool for c in dict.fromkeys(categories) for pool in build_pools(listings, picks, c)[0]]
    cfg = state.cfg
    rankers = default_rankers(
        cfg.personal, cfg.keywords.groups, cfg.keywords.aliases, get_embedder(cfg.personal)
    )
    with state.store() as store:
        report = evaluate(
            store,
            picks,
            pools,
            train_until,
            rankers,
            judge_until=judge_until,
            categories=sorted({*cfg.sources.categories, *(p.category for p in pools if p.category)}),
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        out.print(format_table(report), markup=False)


def _eval_own(state: State, weeks: int, until: date | None, refresh: str, as_json: bool) -> None:
    """`paperradar eval` with no file: the store's ratings (the reader's, when several share it)."""
    import json

    from paperradar.evaluate.own import evaluate_own, format_own, rankers_for

    cfg = state.cfg
    with state.store() as store:
        result = evaluate_own(
            store,
            cfg.sources.categories,
            rankers_for(cfg.personal, cfg.keywords),
            weeks=weeks,
            until=until,
            refresh=refresh,
        )
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        out.print(format_own(result), markup=False)


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback exposes your archive (there is no login).",
)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--open", "open_browser", is_flag=True, help="Open the UI in the default browser.")
@reader_option()
@pass_state
def serve_cmd(state: State, host: str, port: int, open_browser: bool) -> None:
    """Local web UI: days, search, paper pages with the why, up/down ratings used by the next run."""
    from paperradar.serve import serve  # starlette/uvicorn load only for this command

    serve(state.cfg.db_path, host=host, port=port, open_browser=open_browser, config=state.cfg)
