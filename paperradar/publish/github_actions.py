"""`paperradar init --github-actions`: a GitHub Actions workflow that runs the daily digest and publishes
the site to GitHub Pages.

Why the schedule is what it is: arXiv announces Sunday to Thursday at 20:00 US/Eastern (00:00 UTC in
summer, 01:00 UTC in winter), but paperradar's day is the date on arXiv's RSS feed, and that feed is
rebuilt "daily at midnight Eastern Standard Time" (recorded feeds show lastBuildDate 05:00 UTC) with a
Monday-to-Friday date (skipDays Saturday, Sunday). So the default "30 5 * * 1-5" runs half an hour after
the rebuild on the five feed days (13:30 in Shanghai). Earlier, at 01:30 UTC, the feed still holds the
previous day. GitHub's cron is UTC, runs can start late under load, and :30 avoids the top-of-hour rush.
A run that still finds yesterday's feed recomputes nothing: texts and ranks are cached in the archive.

The archive (SQLite) has two copies between runs, because the Actions cache alone is best effort
(entries unused for 7 days, or past 10 GB a repository, are evicted, and a miss used to start from an empty
database and deploy a one-day site):
- the cache (actions/cache): fast, saved every run, even after a failure, under a new key (entries are
  immutable), restored from the newest entry;
- the durable copy: `paperradar export --archive` (sorted JSONL per table, deterministic, diff-friendly)
  committed to a data branch (`paperradar-data`) at the end of every run. Git keeps it as long as the
  repository lives, with its history: every day's archive can be recovered.
A file next to the database (`<db>.archive-commit`, cached with it) names the data-branch commit the
database was last saved as. At the start of a run, the cache is used when that commit is still the tip of
the data branch (the cache is then the same archive, or newer when the last push failed); otherwise (a
miss, an older cache entry, or a tip you pushed yourself) the database is rebuilt from the data branch with
`paperradar import --archive`. The site is deployed only after its archive is pushed, and never when it has
fewer days than the last deployment (recorded in the data branch as deployed.json; a manual run may allow
it on purpose). The push is also repository activity, which keeps the schedule from being disabled after 60
quiet days; as a second measure the run re-enables its own workflow through the REST API, as
liskin/gh-workflow-keepalive does (GitHub does not define "activity" precisely).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from paperradar.llm.config import EndpointConfig
from paperradar.publish.deliver.config import DeliveryConfig

WORKFLOW_PATH = Path(".github") / "workflows" / "paperradar.yml"
DEFAULT_CRON = "30 5 * * 1-5"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-]+$")
_PYTHON = re.compile(r"^3\.\d{1,2}(\.\d{1,2})?$")
_REL_PATH = re.compile(
    r"^(?!/)(?!.*\.\.)[A-Za-z0-9._/\-]+$"
)  # relative, no "..", nothing YAML or shell reads
_INSTALL = re.compile(r"^[A-Za-z0-9._/\[\],=<>~!@+:\-]+$")
_BRANCH = re.compile(r"^(?!.*\.\.)(?!.*//)[A-Za-z0-9][A-Za-z0-9._/\-]{0,99}(?<![./])$")
DATA_BRANCH = "paperradar-data"
DATA_DIR = ".paperradar-data"  # the data branch's worktree inside the checkout (never committed to main)


def secret_names(endpoints: Sequence[EndpointConfig], delivery: DeliveryConfig) -> list[str]:
    """Names of the environment variables a run may need: the LLM endpoints' keys and delivery secrets."""
    names = [e.api_key_env for e in endpoints if e.api_key_env]
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


def _block(script: str, indent: int = 10) -> str:
    """A shell script as the body of a YAML `run: |` block."""
    pad = " " * indent
    return (
        "".join(pad + line if line.strip() else "\n" for line in script.strip("\n").splitlines(keepends=True))
        + "\n"
    )


# Every script reads what it needs from the environment (never ${{ }} inside a script: a value is then
# data to the shell, not code), and starts with `set -euo pipefail`.
RESTORE_SCRIPT = r"""
set -euo pipefail
db="$PAPERRADAR_DB"; dir="$PAPERRADAR_DATA_DIR"; branch="$PAPERRADAR_DATA_BRANCH"
found=0
git ls-remote --exit-code --heads origin "refs/heads/$branch" > /dev/null || found=$?
if [ "$found" -eq 0 ]; then
  git fetch --quiet --depth=1 origin "+refs/heads/$branch:refs/remotes/origin/$branch"
  git worktree add --quiet --detach "$dir" "origin/$branch"
  tip=$(git -C "$dir" rev-parse HEAD)
elif [ "$found" -eq 2 ]; then
  echo "no $branch branch yet: this run creates it"
  git worktree add --quiet --detach --no-checkout "$dir"
  git -C "$dir" checkout --quiet --orphan "$branch"
  git -C "$dir" rm -r -f --quiet --ignore-unmatch .
  tip=none
else
  echo "::error::cannot list the branches of origin (git ls-remote exit $found)"
  exit 1
fi
cached=none
if [ -f "$db.archive-commit" ]; then cached=$(cat "$db.archive-commit"); fi
if [ -f "$db" ] && [ "$cached" = "$tip" ]; then
  echo "the cached archive was saved as $branch commit $tip, still its tip: using the cache"
elif [ "$tip" = none ]; then
  echo "no durable copy yet: starting from the cache, or from an empty archive"
else
  echo "::warning::the archive cache missed or is stale (cache: $cached, $branch: $tip); restoring from $branch"
  rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
  paperradar import --archive "$dir/archive"
  echo "$tip" > "$db.archive-commit"
fi
"""

RUN_SCRIPT = r"""
status=0
paperradar run || status=$?
if [ "$status" -eq 5 ]; then
  echo "::warning::paperradar run finished, but a step failed (exit 5); see the log above"
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi
"""

GUARD_SCRIPT = r"""
set -euo pipefail
python - <<'PY'
import json, os, pathlib, sys
days = sorted(p.stem for p in pathlib.Path("_site/days").glob("*.html"))
record = pathlib.Path(os.environ["PAPERRADAR_DATA_DIR"], "deployed.json")
last = json.loads(record.read_text(encoding="utf-8"))["days"] if record.is_file() else 0
print(f"site: {len(days)} days (newest {days[-1] if days else 'none'}); last deployment: {last} days")
if len(days) < last:
    if os.environ.get("ALLOW_FEWER_DAYS") != "true":
        print(f"::error::the site has {len(days)} days, the last deployment had {last}: not deploying "
              "(did the archive lose days?). To deploy fewer days on purpose, run the workflow by hand "
              "with allow_fewer_days.")
        sys.exit(1)
    print(f"::warning::deploying {len(days)} days, fewer than the last deployment's {last} (allowed by hand)")
newest = days[-1] if days else None
record.write_text(json.dumps({"days": len(days), "newest": newest}) + "\n", encoding="utf-8")
PY
"""

SAVE_SCRIPT = r"""
set -euo pipefail
db="$PAPERRADAR_DB"; dir="$PAPERRADAR_DATA_DIR"; branch="$PAPERRADAR_DATA_BRANCH"
if [ ! -f "$db" ]; then
  echo "no archive to save"
  exit 0
fi
paperradar export --archive "$dir/archive"
if [ ! -f "$dir/README.md" ]; then
  cat > "$dir/README.md" <<'MD'
# paperradar data

The durable copy of this repository's paperradar archive, committed by the paperradar workflow after
every run: `archive/` is `paperradar export --archive` (sorted JSONL per table; `archive.json` lists the
files, their row counts and checksums), `deployed.json` the number of days of the last deployed site.
When the Actions cache misses, the workflow rebuilds the database from here. By hand:
`paperradar import --archive archive`. This branch is as public as the repository: it holds everything in
the archive, your ratings and library included.
MD
fi
cd "$dir"
git add -A .
if git diff --cached --quiet; then
  echo "the durable copy is unchanged"
else
  git -c user.name="github-actions[bot]" \
    -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
    commit --quiet -m "paperradar archive after run $GITHUB_RUN_ID ($(date -u +%Y-%m-%d))"
fi
git push --quiet origin "HEAD:refs/heads/$branch"
git rev-parse HEAD > "$GITHUB_WORKSPACE/$db.archive-commit"
echo "durable copy: $branch $(git rev-parse --short HEAD)"
"""

KEEPALIVE_SCRIPT = r"""
set -euo pipefail
workflow="${GITHUB_WORKFLOW_REF%%@*}"
gh api --method PUT "repos/$GITHUB_REPOSITORY/actions/workflows/${workflow##*/}/enable" --silent
echo "re-enabled ${workflow##*/}"
"""


def render_workflow(
    *,
    cron: str = DEFAULT_CRON,
    python: str = "3.11",
    secrets: Sequence[str] = (),
    db_path: str = "paperradar.db",
    install: str = ".",
    deliver: Sequence[str] = (),
    data_branch: str = DATA_BRANCH,
) -> str:
    """The workflow YAML. Secrets appear only as `${{ secrets.NAME }}` references, never as values."""
    fields = cron.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{cron!r} is not a 5-field cron expression (minute hour day month weekday, in UTC)")
    _check(python, _PYTHON, "Python version (like 3.11)")
    _check(db_path, _REL_PATH, "relative archive path")
    _check(install, _INSTALL, "pip requirement")
    _check(data_branch, _BRANCH, "branch name")
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
    cache_key = "paperradar-db-${{ github.run_id }}-${{ github.run_attempt }}"
    return f"""# paperradar: the daily arXiv digest, published to GitHub Pages.
# Written by `paperradar init --github-actions`; edit freely.
#
# Schedule: "{cron}" (UTC). arXiv's RSS feed, whose date is the digest's day, is rebuilt at midnight
# US Eastern Standard Time (05:00 UTC) for Monday to Friday; the default "{DEFAULT_CRON}" runs 30 minutes
# later on those days. (The announcement itself is at 20:00 US/Eastern, 00:00/01:00 UTC, but at that hour the feed
# still holds the previous day.) A run that finds a day it already did computes nothing twice.
#
# The archive: the Actions cache carries the database between runs, and every run also commits
# `paperradar export --archive` to the "{data_branch}" branch, the durable copy. When the cache misses
# (entries unused for 7 days are evicted) the database is rebuilt from that branch, so no day, rating or
# paid LLM answer is lost; a site with fewer days than the last deployment is never deployed. The
# branch is as public as this repository.
#
# Secrets: add each name below under Settings > Secrets and variables > Actions. Pages: set
# Settings > Pages > Source to "GitHub Actions". PAPERRADAR_DB must be [store].path of paperradar.toml.
name: paperradar

on:
  schedule:
    - cron: "{cron}"
  workflow_dispatch:
    inputs:
      allow_fewer_days:
        description: "Deploy even if the site has fewer days than the last deployment (days removed on purpose)"
        type: boolean
        default: false

permissions:
  contents: read

concurrency:  # one run at a time: two runs would race for the archive, its data branch and the deployment
  group: paperradar
  cancel-in-progress: false

env:
  PAPERRADAR_DB: {db_path}
  PAPERRADAR_DATA_BRANCH: {data_branch}
  PAPERRADAR_DATA_DIR: {DATA_DIR}

jobs:
  digest:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: write  # to push the archive's durable copy to the {data_branch} branch
      actions: write   # to re-enable this workflow's schedule (keepalive)
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
{pip_cache}      - name: Install paperradar
        # "." installs the checked-out repository (the code and paperradar.toml you commit); no release needed.
        run: python -m pip install "{install}"
      - name: Restore the archive (cache)
        uses: actions/cache/restore@v4
        with:
          path: {db_path}*
          key: {cache_key}
          restore-keys: |
            paperradar-db-
      - name: Restore the archive (durable copy) when the cache missed or is stale
        id: archive
        run: |
{_block(RESTORE_SCRIPT)}      - name: Run (fetch, rank, write, publish)
{env}        run: |
{_block(RUN_SCRIPT)}{deliver_steps}      - name: Build the site
        run: paperradar publish site --out _site
      - name: Refuse a site with fewer days than the last deployment
        id: guard
        env:
          ALLOW_FEWER_DAYS: ${{{{ inputs.allow_fewer_days }}}}
        run: |
{_block(GUARD_SCRIPT)}      - name: Save the archive's durable copy ({data_branch} branch)
        # After a failed run too (its paid answers are kept), but never after the guard refused the site.
        if: always() && steps.archive.outcome == 'success' && steps.guard.outcome != 'failure'
        run: |
{_block(SAVE_SCRIPT)}      - name: Save the archive (cache)
        # Saved even after a failure, so the next run resumes instead of recomputing.
        if: always() && hashFiles('{db_path}') != ''
        uses: actions/cache/save@v4
        with:
          path: {db_path}*
          key: {cache_key}
      - name: Keep the schedule alive
        if: always() && github.event_name == 'schedule'
        continue-on-error: true
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: |
{_block(KEEPALIVE_SCRIPT)}      - uses: actions/upload-pages-artifact@v3
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
    data_branch: str = DATA_BRANCH,
    force: bool = False,
) -> Path:
    """Write the workflow under the repository root `path` (or to `path` itself if it names a .yml file).

    `secrets`: environment variable names the run needs (see `secret_names(cfg)`), passed from repository
    secrets of the same name. Raises FileExistsError when the file exists and `force` is false.
    """
    path = Path(path)
    target = path if path.suffix in (".yml", ".yaml") else path / WORKFLOW_PATH
    text = render_workflow(
        cron=cron,
        python=python,
        secrets=secrets,
        db_path=db_path,
        install=install,
        deliver=deliver,
        data_branch=data_branch,
    )
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="\n")
    return target
