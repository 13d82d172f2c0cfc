"""The archive as a whole: `backup`, `restore`, and `export --archive` / `import --archive`.

`export` and `import` keep their day-level behaviour from cli/day.py; the commands here are the same
commands with an `--archive DIR` option added (registered in their place), so `paperradar export --help`
shows both uses in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from paperradar.cli import day
from paperradar.cli.common import State, out, pass_state
from paperradar.errors import DataError, UsageError
from paperradar.store import SCHEMA_VERSION
from paperradar.store.backup import backup_database, import_archive_into, restore_database


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@pass_state
def backup(state: State, path: Path, force: bool) -> None:
    """Copy the database to PATH (a file, or a folder to hold <name>-<UTC time>.db) with SQLite's online
    backup: safe while a run is writing; the copy is checked before it gets its name."""
    info = backup_database(state.cfg.db_path, path, overwrite=force)
    out.print(f"backup: {info.path} ({info.summary()})", markup=False)


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@pass_state
def restore(state: State, path: Path) -> None:
    """Replace the database with the backup PATH. PATH is checked first (a whole paperradar database, not
    damaged, not from a newer version); the current database is copied beside it before it is replaced."""
    db = state.cfg.db_path
    report = restore_database(path, db)
    out.print(f"restored {path} → {db} ({report.info.summary()})", markup=False)
    if report.kept:
        out.print(f"the previous database is kept at {report.kept}", markup=False)


def _given(ctx: click.Context, names: list[str]) -> list[str]:
    return [
        name
        for name in names
        if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)
    ]


def _export(archive_dir: Path | None, **day_options: Any) -> None:
    ctx = click.get_current_context()
    if archive_dir is None:
        ctx.invoke(day.export, **day_options)
        return
    mixed = _given(ctx, list(day_options))
    if mixed:
        raise UsageError(
            f"--archive exports every table; it does not take --{mixed[0].replace('_', '-')}",
            hint="run `paperradar export --archive DIR` on its own",
        )
    state = ctx.find_object(State)
    assert state is not None
    db = state.cfg.db_path
    if not db.is_file():
        raise DataError(f"there is no database at {db}", hint="check [store].path")
    with state.store() as store:
        report = store.export_archive(archive_dir)
    out.print(
        f"archive: {report.total_rows} rows of {len(report.rows)} tables → {archive_dir} "
        f"({report.files_written} files written, {report.files_removed} removed)",
        markup=False,
    )


export = click.Command(
    "export",
    params=[
        *day.export.params,
        click.Option(
            ["--archive", "archive_dir"],
            type=click.Path(file_okay=False, path_type=Path),
            help="Instead: the whole archive (every table) to this folder as sorted JSONL, deterministic "
            "and diff-friendly (for git); `import --archive` reads it back.",
        ),
    ],
    callback=_export,
    help=day.export.help,
)


def _import(file: Path | None, archive_dir: Path | None, replace: bool, skip_bad: bool) -> None:
    ctx = click.get_current_context()
    if archive_dir is None:
        if file is None:
            raise click.UsageError("Missing argument 'FILE' (or --archive DIR).")
        if replace:
            raise UsageError("--replace goes with --archive")
        ctx.invoke(day.import_, file=file, skip_bad=skip_bad)
        return
    if file is not None or skip_bad:
        raise UsageError("--archive DIR imports a whole archive; it takes no FILE and no --skip-bad")
    state = ctx.find_object(State)
    assert state is not None
    db = state.cfg.db_path
    report, replaced = import_archive_into(archive_dir, db, replace=replace)
    out.print(
        f"imported {report.total_rows} rows from {archive_dir} (schema {report.schema_version}"
        f"{'' if report.schema_version == SCHEMA_VERSION else f' → {SCHEMA_VERSION}'}) into {db}: "
        f"{replaced.info.summary()}",
        markup=False,
    )
    if replaced.kept:
        out.print(f"the previous database is kept at {replaced.kept}", markup=False)


import_ = click.Command(
    "import",
    params=[
        click.Argument(["file"], type=click.Path(path_type=Path), required=False),
        *(p for p in day.import_.params if p.name != "file"),
        click.Option(
            ["--archive", "archive_dir"],
            type=click.Path(file_okay=False, exists=True, path_type=Path),
            help="Instead of FILE: a folder written by `export --archive`, into a new or empty database.",
        ),
        click.Option(
            ["--replace"],
            is_flag=True,
            help="With --archive: replace a database that holds data (it is kept beside the new one).",
        ),
    ],
    callback=_import,
    help=day.import_.help,
)
