"""`paperradar init`: the commented config file (and the GitHub Actions workflow)."""

from __future__ import annotations

from pathlib import Path

import click

from paperradar.cli.common import out
from paperradar.config import load_config, template_text
from paperradar.errors import UsageError


@click.command()
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
    names = secret_names(cfg.llm.endpoints, cfg.delivery)
    try:
        # The workflow caches and restores the database at [store].path (relative to the repository root).
        store_path = cfg.store.path.as_posix() if not cfg.store.path.is_absolute() else "paperradar.db"
        if cfg.store.path.is_absolute():
            out.print(
                f"note: [store].path is absolute; the workflow uses {store_path} in the repository instead"
            )
        written = write_workflow(root, secrets=names, db_path=store_path, force=force)
    except FileExistsError as exc:
        raise UsageError(str(exc), hint="pass --force to overwrite it") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out.print(f"wrote {written}")
    if names:
        out.print(f"add these repository secrets (Settings › Secrets › Actions): {', '.join(names)}")
    out.print("and set Settings › Pages › Source to “GitHub Actions”")
