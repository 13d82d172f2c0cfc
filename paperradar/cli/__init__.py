"""Command line: a thin layer over the library. Expected errors print one line with what to do; --debug
shows the traceback. Exit codes: 0 ok, 1 internal error, 2 usage/config, 3 network, 4 data, 5 partial,
6 database busy, 7 storage (disk full, read-only, not writable, a file in the way).

Verbs live in their own modules (day, init, publish, reader, llm) and are registered here, explicitly."""

from __future__ import annotations

import logging
import sys

import click

from paperradar import __version__
from paperradar.cli import archive, day, index, init, llm, publish, reader
from paperradar.cli.common import State, err
from paperradar.errors import EXIT_FAILURE, PaperradarError, environment_error
from paperradar.store import Store

EPILOG = """\b
Examples:
  paperradar init                         write a commented paperradar.toml
  paperradar run --sample                 the whole pipeline on the bundled real cs.IR sample, offline
  paperradar run                          today's arXiv announcements → out/digests/<day>.<lang>.md
  paperradar run --date 2026-02-10        re-make a stored day (no network when it is stored)
  paperradar fetch --from 2026-02-01 --to 2026-02-07   backfill through the arXiv API
  paperradar import listings.jsonl.gz     import a Kaggle snapshot / listings JSONL or saved Atom XML
  paperradar export --date 2026-02-10 --format csv -o day.csv
  paperradar index                        embed the archive once for search by meaning (then: new papers)
  paperradar search "generative retrieval"   by words and meaning; --exact: every word must occur
  paperradar show 2602.09386
  paperradar library import my.bib        your Zotero/Mendeley/Scholar library: personal ranking
  paperradar rate 2602.09386 up           ratings change the next ranking
  paperradar eval --picks picks.jsonl --listings listings.jsonl.gz --train-until 2026-02-28
  paperradar serve                        local web UI on 127.0.0.1:8765: days, search, why, up/down ratings

\b
Exit codes: 0 ok · 1 internal error (a bug: please report) · 2 usage or config · 3 network ·
4 bad or missing data · 5 partly done · 6 another run holds the database · 7 disk full, read-only or
unwritable path
"""


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


for command in (
    init.init,
    day.run,
    day.fetch,
    archive.import_,  # `import` from cli/day.py plus --archive DIR
    day.rank,
    day.write,
    publish.publish,
    archive.export,  # `export` from cli/day.py plus --archive DIR
    archive.backup,
    archive.restore,
    day.search,
    index.index_cmd,
    day.show,
    reader.library,
    reader.rate,
    reader.eval_cmd,
    reader.serve_cmd,
    reader.mcp_cmd,
    llm.llm,
):
    cli.add_command(command)


def _expected(exc: PaperradarError, debug: bool) -> None:
    if debug:
        err.print_exception()
    err.print(f"error: {exc.message}", markup=False)
    if exc.hint:
        err.print(f"hint: {exc.hint}", markup=False)
    sys.exit(exc.exit_code)


def main(argv: list[str] | None = None) -> None:
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
        _expected(exc, debug)
    except KeyboardInterrupt:
        err.print("interrupted; everything already processed is kept in the store")
        sys.exit(130)
    except Exception as exc:
        # The environment, not a bug: disk full, read-only or unwritable paths, a file where a folder goes.
        expected = environment_error(exc, Store.last_path)
        if expected is not None:
            _expected(expected, debug)
        if debug:
            err.print_exception()
        err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False)
        err.print(
            "hint: this is a bug in paperradar; run again with --debug and report the traceback", markup=False
        )
        sys.exit(EXIT_FAILURE)
    sys.exit(0)
