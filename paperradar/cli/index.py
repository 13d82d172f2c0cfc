"""`paperradar index`: build or update the search vector index (kept out of `paperradar run`)."""

from __future__ import annotations

import click

from paperradar.cli.common import State, err, pass_state
from paperradar.models import no_progress
from paperradar.rank.search import build_index


@click.command("index")
@click.option(
    "--refit", is_flag=True, help="tf-idf: fit a new vocabulary on today's archive (re-embeds all)."
)
@pass_state
def index_cmd(state: State, refit: bool) -> None:
    """Embed every paper not yet in the search vector index (new papers, new versions) with the
    configured embedder ([personal] embedder). The first run over a large archive is a backfill; later
    runs only add what changed. Search works without it, by exact words."""
    with state.store() as store, state.progress() as progress:
        report = build_index(store, state.cfg.personal, refit=refit, progress=progress or no_progress)
    what = "fitted a new vocabulary, " if report.refitted else ""
    err.print(
        f"index {report.model}: {report.papers} papers ({what}{report.embedded} embedded, {report.kept} kept) "
        f"in {report.seconds:.1f} s → {report.folder}"
    )
