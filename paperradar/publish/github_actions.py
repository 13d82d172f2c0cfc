"""`paperradar init --github-actions`: a GitHub Actions workflow that runs the daily digest and publishes
the site to GitHub Pages.

Why the schedule is what it is: arXiv announces Sunday to Thursday at 20:00 US/Eastern (00:00 UTC in
summer, 01:00 UTC in winter), but paperradar's day is the date on arXiv's RSS feed, and that feed is
rebuilt "daily at midnight Eastern Standard Time" (recorded feeds show lastBuildDate 05:00 UTC) with a
Monday-to-Friday date (skipDays Saturday, Sunday). So the default "30 5 * * 1-5" runs half an hour after
the rebuild on the five feed days (13:30 in Shanghai). Earlier, at 01:30 UTC, the feed still holds the
previous day. GitHub's cron is UTC, runs can start late under load, and :30 avoids the top-of-hour rush.
A run that still finds yesterday's feed recomputes nothing: texts and ranks are cached in the archive.

The archive (SQLite) is carried between runs with actions/cache: restored from the newest entry, saved
under a new key each run (cache entries are immutable), even when the run failed half-way, so the next run
resumes instead of paying for the same LLM calls again. GitHub evicts cache entries unused for 7 days; after
such a gap the first run starts from an empty archive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

WORKFLOW_PATH = Path(".github") / "workflows" / "paperradar.yml"
DEFAULT_CRON = "30 5 * * 1-5"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-]+$")
_PYTHON = re.compile(r"^3\.\d{1,2}(\.\d{1,2})?$")
_REL_PATH = re.compile(
    r"^(?!/)(?!.*\.\.)[A-Za-z0-9._/\-]+$"
)  # relative, no "..", nothing YAML or shell reads
_INSTALL = re.compile(r"^[A-Za-z0-9._/\[\],=<>~!@+:\-]+$")


def secret_names(cfg: Any) -> list[str]:
    """Names of the environment variables a run may need, from a Config: LLM keys and delivery secrets."""
    names: list[str] = []
    for endpoint in getattr(getattr(cfg, "llm", None), "endpoints", None) or []:
        if getattr(endpoint, "api_key_env", None):
            names.append(endpoint.api_key_env)
    delivery = getattr(cfg, "delivery", None)
    for channel in ("mail", "slack", "discord", "feishu", "wecom", "webhook"):
        section = getattr(delivery, channel, None)
        for attr in ("password_env", "webhook_url_env", "secret_env", "url_env"):
            if section is not None and getattr(section, attr, None):
                names.append(getattr(section, attr))
        names.extend((getattr(section, "headers_env", None) or {}).values())
    return list(dict.fromkeys(names))


def _check(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.match(value):
        raise ValueError(f"{value!r} is not a valid {what}")
    return value


def _env_block(secrets: Iterable[str], indent: int) -> str:
    pad = " " * indent
    lines = [f"{pad}{name}: ${{{{ secrets.{name} }}}}" for name in secrets]
    return f"{' ' * (indent - 2)}env:\n" + "\n".join(lines) + "\n" if lines else ""


def render_workflow(
    *,
    cron: str = DEFAULT_CRON,
    python: str = "3.11",
    secrets: Sequence[str] = (),
    db_path: str = "paperradar.db",
    install: str = ".",
    deliver: Sequence[str] = (),
) -> str:
    """The workflow YAML. Secrets appear only as `${{ secrets.NAME }}` references, never as values."""
    fields = cron.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{cron!r} is not a 5-field cron expression (minute hour day month weekday, in UTC)")
    _check(python, _PYTHON, "Python version (like 3.11)")
    _check(db_path, _REL_PATH, "relative archive path")
    _check(install, _INSTALL, "pip requirement")
    for name in secrets:
        if not _ENV_NAME.match(name):  # not echoed: it may be a key pasted where its name belongs
            raise ValueError("secret names must be environment variable names, like DEEPSEEK_API_KEY")
    for channel in deliver:
        _check(channel, re.compile(r"^(mail|slack|discord|feishu|wecom|webhook)$"), "delivery channel")
    secrets = list(dict.fromkeys(secrets))
    env = _env_block(secrets, 10)
    # pip's cache is keyed on pyproject.toml, which only exists when installing the checked-out repository.
    pip_cache = (
        "          cache: pip\n          cache-dependency-path: pyproject.toml\n" if install == "." else ""
    )
    deliver_steps = "".join(
        f"""      - name: Deliver ({channel})
        continue-on-error: true   # the digest is published either way; a failed delivery shows as a warning
{env}        run: paperradar publish {channel}
"""
        for channel in deliver
    )
    return f"""# paperradar: the daily arXiv digest, published to GitHub Pages.
# Written by `paperradar init --github-actions`; edit freely.
#
# Schedule: "{cron}" (UTC). arXiv's RSS feed, whose date is the digest's day, is rebuilt at midnight
# US Eastern Standard Time (05:00 UTC) for Monday to Friday; the default "{DEFAULT_CRON}" runs 30 minutes
# later on those days. (The announcement itself is at 20:00 US/Eastern, 00:00/01:00 UTC, but at that hour the feed
# still holds the previous day.) A run that finds a day it already did computes nothing twice.
#
# Secrets: add each name below under Settings > Secrets and variables > Actions. Pages: set
# Settings > Pages > Source to "GitHub Actions".
name: paperradar

on:
  schedule:
    - cron: "{cron}"
  workflow_dispatch:

permissions:
  contents: read

concurrency:  # one run at a time: two runs would race for the archive cache and the Pages deployment
  group: paperradar
  cancel-in-progress: false

jobs:
  digest:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
{pip_cache}      - name: Install paperradar
        # "." installs the checked-out repository (the code and paperradar.toml you commit); no release needed.
        run: python -m pip install "{install}"
      - name: Restore the archive
        uses: actions/cache/restore@v4
        with:
          path: {db_path}*
          key: paperradar-db-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}
          restore-keys: |
            paperradar-db-
      - name: Run (fetch, rank, write, publish)
{env}        run: |
          status=0
          paperradar run || status=$?
          if [ "$status" -eq 5 ]; then
            echo "::warning::paperradar run finished, but a step failed (exit 5); see the log above"
          elif [ "$status" -ne 0 ]; then
            exit "$status"
          fi
{deliver_steps}      - name: Save the archive
        # Saved even after a failure, so the next run resumes instead of recomputing.
        if: always() && hashFiles('{db_path}') != ''
        uses: actions/cache/save@v4
        with:
          path: {db_path}*
          key: paperradar-db-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}
      - name: Build the site
        run: paperradar publish site --out _site
      - uses: actions/upload-pages-artifact@v3
        with:
          path: _site

  deploy:
    needs: digest
    runs-on: ubuntu-latest
    permissions:
      pages: write     # to deploy to Pages
      id-token: write  # to prove the deployment comes from this workflow (OIDC)
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


def write_workflow(
    path: Path,
    *,
    cron: str = DEFAULT_CRON,
    python: str = "3.11",
    secrets: Sequence[str] = (),
    db_path: str = "paperradar.db",
    install: str = ".",
    deliver: Sequence[str] = (),
    force: bool = False,
) -> Path:
    """Write the workflow under the repository root `path` (or to `path` itself if it names a .yml file).

    `secrets`: environment variable names the run needs (see `secret_names(cfg)`), passed from repository
    secrets of the same name. Raises FileExistsError when the file exists and `force` is false.
    """
    path = Path(path)
    target = path if path.suffix in (".yml", ".yaml") else path / WORKFLOW_PATH
    text = render_workflow(
        cron=cron, python=python, secrets=secrets, db_path=db_path, install=install, deliver=deliver
    )
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="\n")
    return target
