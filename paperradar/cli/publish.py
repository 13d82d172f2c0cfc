"""`paperradar publish`: the digest of a stored day, the static site, mail and chat channels."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from paperradar.cli.common import State, date_option, err, out, pass_state, reader_option, resolve_day
from paperradar.errors import EXIT_PARTIAL, EXIT_USAGE, UsageError
from paperradar.models import LANGUAGES
from paperradar.pipeline import Pipeline
from paperradar.publish.deliver import deliver, from_digest
from paperradar.store import Store


@click.group(invoke_without_command=True)
@date_option()
@reader_option("Whose digest, site or delivery (default: the config's first reader).")
@click.pass_context
def publish(ctx: click.Context, day: date | None) -> None:
    """Render the Markdown digest of a ranked day; subcommands publish elsewhere (site, mail, chat)."""
    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    with state.writer() as store:
        path = Pipeline(state.cfg, store).publish_stored_day(resolve_day(store, day))
    out.print(f"digest: {path}")


def _publish_to(state: State, channel: str, day: date | None) -> None:
    with state.writer() as store:
        day = resolve_day(store, day)
        pipe = Pipeline(state.cfg, store)
        pipe.publish_stored_day(day)
        assert pipe.last_digest is not None
        digest, markdown, path = pipe.last_digest
    result = deliver(channel, from_digest(digest, markdown, path), state.cfg.delivery)
    if result.ok:
        out.print(f"{channel}: delivered {day} ({result.detail})", markup=False)
        return
    err.print(f"error: {channel}: {result.detail}", markup=False)
    err.print(f"hint: the digest is kept at {path}", markup=False)
    sys.exit(EXIT_USAGE if result.failure == "config" else EXIT_PARTIAL)


def _channel_command(channel: str, what: str) -> None:
    @publish.command(channel, help=f"Send a day's digest to {what} (configured in [delivery.{channel}]).")
    @date_option()
    @reader_option("Whose digest, to whose channel (default: the config's first reader).")
    @pass_state
    def command(state: State, day: date | None) -> None:
        _publish_to(state, channel, day)


for _channel, _what in [
    ("mail", "e-mail (SMTP)"),
    ("slack", "Slack"),
    ("discord", "Discord"),
    ("feishu", "Feishu / Lark"),
    ("wecom", "WeCom (企业微信)"),
    ("webhook", "a JSON webhook"),
]:
    _channel_command(_channel, _what)


@publish.command("site")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to build the site (default: <output folder>/site).",
)
@click.option(
    "--jekyll",
    "jekyll_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also export Jekyll posts (front matter: layout, title, date, arxiv_id, tags, lang) here.",
)
@click.option("--base-url", help="Absolute URL the site is served from (for the feeds' links).")
@click.option("--title", help="Site title (default: arXiv <categories>).")
@click.option("--lang", "langs", multiple=True, type=click.Choice(LANGUAGES), help="Languages (repeatable).")
@click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty folder paperradar did not create (or over files it did not write).",
)
@click.option(
    "--ranking/--no-ranking",
    default=True,
    show_default=True,
    help="The index's 'how paperradar ranked for you' panel (your up-ratings of the last 4 weeks).",
)
@reader_option("Build this reader's site only (default: every reader's, each in the reader's folder).")
@pass_state
def publish_site(
    state: State,
    out_dir: Path | None,
    jekyll_dir: Path | None,
    base_url: str | None,
    title: str | None,
    langs: tuple[str, ...],
    force: bool,
    ranking: bool,
) -> None:
    """Static site: days with themed sections, a page per paper, tags, companies, archive, search, feeds.
    With [[readers]], one site per reader (their ranking, their feeds) in the reader's own folder."""

    root = state.root_cfg
    names = [state.reader] if state.reader is not None else root.reader_names()
    if out_dir is not None and len(names) > 1:
        raise UsageError(
            "--out names one folder, and the config has several readers",
            hint="add --reader NAME (each reader's site goes to their own folder without --out)",
        )
    for name in names:
        state.reader = name
        _build_site(state, out_dir, jekyll_dir, base_url, title, langs, force, ranking)


def _build_site(
    state: State,
    out_dir: Path | None,
    jekyll_dir: Path | None,
    base_url: str | None,
    title: str | None,
    langs: tuple[str, ...],
    force: bool,
    ranking: bool,
) -> None:
    """One reader's site (their ranks, muted papers left out or last, their feeds) in their own folder."""
    from paperradar.publish.jekyll import export_jekyll
    from paperradar.publish.site import build_site

    cfg = state.cfg
    languages = list(langs) or cfg.languages
    title = title or f"arXiv {' '.join(cfg.sources.categories)}"
    if len(state.root_cfg.reader_names()) > 1:
        title = f"{title} · {cfg.reader_name}"
    target = out_dir or cfg.out_dir / "site"
    with state.store() as store:
        panel = _ranking_panel(state, store) if ranking else None
        report = build_site(
            store,
            target,
            languages,
            title,
            base_url,
            tz=cfg.tz,
            force=force,
            top_n=cfg.output.top_n,  # papers below it have no title or summary by design: the site says so
            give_up_after=cfg.llm.give_up_after,
            ranking=panel,
        )
        out.print(
            f"site: {report.pages} pages ({report.changed} changed) in {report.seconds:.1f}s → {target / 'index.html'}"
        )
        if report.adopted:
            out.print(f"site: {target} was built by an older paperradar; adopted (manifest written)")
        if jekyll_dir:
            jekyll = export_jekyll(
                store,
                jekyll_dir,
                languages,
                site_title=title,
                tz=cfg.tz,
                force=force,
                top_n=cfg.output.top_n,
                give_up_after=cfg.llm.give_up_after,
            )
            out.print(f"jekyll: {jekyll.posts} posts ({jekyll.changed} changed) → {jekyll_dir}")


def _ranking_panel(state: State, store: Store) -> dict[str, Any]:
    """The panel data (evaluate/own_panel.py), shared with `paperradar serve` through its cache file."""
    from paperradar.evaluate.own_panel import PanelCache, PanelInputs, cached_panel
    from paperradar.publish.site_eval import NOTHING_TO_SHOW

    cfg = state.cfg
    inputs = PanelInputs(list(cfg.sources.categories), cfg.personal, cfg.keywords)
    panel, cached = cached_panel(store, inputs, PanelCache(PanelCache.beside(cfg.db_path)))
    how = "cached" if cached else f"computed in {panel['seconds']} s"
    if panel.get("message_key") in NOTHING_TO_SHOW:
        out.print(f"ranking panel left out: {panel['message']}", markup=False)
    else:
        out.print(
            f"ranking panel: paperradar recall@10 {panel['rows'][0]['recall@10']:.2f} over "
            f"{panel['judged_days']} days, {panel['up_ratings']} up-ratings ({how})",
            markup=False,
        )
    return panel
