"""The daily GitHub Actions deployment survives the loss of its cache (issue 12, item 6), played locally
by tests/workflow_player.py: the workflow `init --github-actions` writes, its scripts run in bash as
written, `paperradar` is the real CLI (served in-process for speed), git is real (a bare repository
stands for GitHub), the LLM is the fake OpenAI-compatible server on loopback (the "paid" answers).

Days of the bundled sample are the scheduled runs. The reader rates a paper the way a deployment lets
them: through the data branch. Then the Actions cache is lost and the next run must restore the archive
from the data branch: no day, rating or model answer lost (figure: days lost, goal 0), none recomputed.
A cache older than the branch (the reader pushed since) gives way to the branch too; and a site with
fewer days than the last deployment is never deployed, nor its archive pushed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperradar.publish.github_actions import DATA_BRANCH, GUARD_SCRIPT, render_workflow
from tests.cli_runner import cli
from tests.fake_llm_styles import FakeStyleLLM
from tests.workflow_player import PaperradarShim, PlayResult, Runner

KEY = "sk-test-5f0e9d8c7b6a"
GH_STUB = """#!/bin/bash
# GitHub's CLI on a runner; here it records the call (the keepalive's REST request).
echo "$*" >> "{log}"
"""


def table(db: Path, name: str) -> set[tuple[object, ...]]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {tuple(r) for r in conn.execute(f"SELECT * FROM {name}")}
    finally:
        conn.close()


def column(db: Path, name: str, col: str) -> set[object]:
    """One column's values by name (the ranks table carries the reader first since several readers
    share an archive)."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute(f"SELECT {col} FROM {name}")}
    finally:
        conn.close()


def days(db: Path) -> set[str]:
    return column(db, "ranks", "day")


@pytest.fixture
def github(tmp_path: Path) -> Iterator[tuple[Runner, FakeStyleLLM, PaperradarShim]]:
    fake = FakeStyleLLM().start()
    fake.api_key = KEY
    shim = PaperradarShim(tmp_path / "bin", in_process=True)
    (tmp_path / "bin" / "gh").write_text(GH_STUB.format(log=tmp_path / "gh.log"), encoding="utf-8")
    (tmp_path / "bin" / "gh").chmod(0o755)
    workflow = render_workflow(secrets=["RADAR_TEST_KEY"])
    config = (
        '[store]\npath = "paperradar.db"\n[output]\nfolder = "out"\ntop_n = 4\n'
        "[styles]\nfulltext = false\nbands = []\n"
        '[llm]\nbackend = "openai"\nconcurrency = 4\n'
        f'[[llm.endpoints]]\nbase_url = "{fake.url}"\nmodel = "{fake.model}"\napi_key_env = "RADAR_TEST_KEY"\n'
    )
    runner = Runner(tmp_path / "github", workflow, {"RADAR_TEST_KEY": KEY}, tmp_path / "bin")
    runner.create_repository({"paperradar.toml": config, ".github/workflows/paperradar.yml": workflow})
    try:
        yield runner, fake, shim
    finally:
        shim.close()
        fake.stop()


def play(runner: Runner, day: str, **kwargs: object) -> PlayResult:
    result = runner.play(env={"PAPERRADAR_SIM_DAY": day}, **kwargs)  # type: ignore[arg-type]
    return result


def newest_cached_db(runner: Runner, into: Path) -> Path:
    """The database the last run saved to the cache (a copy: entries are immutable)."""
    into.mkdir(parents=True, exist_ok=True)
    entry = runner.cache_entries()[-1]
    for part in entry.iterdir():
        (into / part.name).write_bytes(part.read_bytes())
    return into / "paperradar.db"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_a_lost_cache_loses_no_day_rating_or_answer_and_fewer_days_are_never_deployed(
    github, tmp_path: Path
) -> None:
    runner, fake, _shim = github
    first = play(runner, "2026-02-09")
    assert first.deployed, first.log()
    assert "no paperradar-data branch yet" in first.step("durable copy").log
    assert sorted(p.name for p in (runner.deployed / "days").glob("*.html")) == ["2026-02-09.html"]
    assert (
        "PUT repos/reader/radar/actions/workflows/paperradar.yml/enable" in (tmp_path / "gh.log").read_text()
    )

    second = play(runner, "2026-02-10")
    assert second.deployed, second.log()
    assert "using the cache" in second.step("durable copy").log

    # The reader rates a paper through the data branch (the deployment's only way in): clone, import,
    # rate, export, push.
    mine = tmp_path / "reader"
    git(tmp_path, "clone", "-q", "-b", DATA_BRANCH, runner.origin.as_uri(), str(mine))
    (mine / "paperradar.toml").write_text('[store]\npath = "local.db"\n', encoding="utf-8")
    cfg = str(mine / "paperradar.toml")
    assert cli("--config", cfg, "import", "--archive", str(mine / "archive")) == 0
    rated = sorted(column(mine / "local.db", "ranks", "arxiv_id"))[0]
    assert cli("--config", cfg, "rate", rated, "up") == 0
    assert cli("--config", cfg, "export", "--archive", str(mine / "archive")) == 0
    (mine / "local.db").unlink()
    git(mine, "add", "-A", "archive")
    git(mine, "-c", "user.name=Reader", "-c", "user.email=r@example.org", "commit", "-qm", "rate")
    git(mine, "push", "-q", "origin", f"HEAD:refs/heads/{DATA_BRANCH}")

    # The cache is still there but older than the branch (the reader's push): the branch wins. (A re-run
    # of the same day: what matters here is which archive the run starts from.)
    third = play(runner, "2026-02-10")
    assert third.deployed, third.log()
    assert "::warning::the archive cache missed or is stale" in third.step("durable copy").log
    before = newest_cached_db(runner, tmp_path / "before")
    assert {r[1] for r in table(before, "ratings")} == {rated}
    calls_before = len(fake.chat_calls)

    # Lose the cache (evicted after 7 days unused, or past 10 GB): the next run starts from nothing
    # but the data branch.
    runner.evict(keep=0)
    fourth = play(runner, "2026-02-11")
    assert fourth.deployed, fourth.log()
    assert "::warning::the archive cache missed" in fourth.step("durable copy").log
    after = newest_cached_db(runner, tmp_path / "after")

    lost = days(before) - days(after)
    assert not lost and days(after) == days(before) | {"2026-02-11"}  # figure: days lost = 0
    assert table(after, "ratings") == table(before, "ratings")
    assert table(before, "texts") <= table(after, "texts")  # every answer kept, byte for byte, dates too
    assert table(before, "ranks") <= table(after, "ranks")
    old_ids = column(before, "ranks", "arxiv_id")
    new_calls = fake.chat_calls[calls_before:]
    assert new_calls and not any(f'<paper id="{i}">' in c.text for c in new_calls for i in old_ids)
    deployed = sorted(p.stem for p in (runner.deployed / "days").glob("*.html"))
    assert deployed == ["2026-02-09", "2026-02-10", "2026-02-11"]
    record = json.loads(
        git(tmp_path, "--git-dir", str(runner.origin), "show", f"{DATA_BRANCH}:deployed.json")
    )
    assert record == {"days": 3, "newest": "2026-02-11"}

    # The branch records a deployment bigger than anything the archive holds (days lost somewhere): the
    # run builds the site but refuses to deploy it, and does not push the smaller archive either.
    work = tmp_path / "edit"
    git(tmp_path, "clone", "-q", "-b", DATA_BRANCH, runner.origin.as_uri(), str(work))
    (work / "deployed.json").write_text('{"days": 9, "newest": "2026-02-20"}\n', encoding="utf-8")
    git(work, "-c", "user.name=R", "-c", "user.email=r@example.org", "commit", "-qam", "more days")
    git(work, "push", "-q", "origin", f"HEAD:refs/heads/{DATA_BRANCH}")
    tip = runner.branch_tip(DATA_BRANCH)
    refused = play(runner, "2026-02-11")
    assert not refused.deployed and refused.job_failed
    guard = refused.step("fewer days")
    assert guard.outcome == "failure" and "the site has 3 days, the last deployment had 9" in guard.log
    assert refused.step("durable copy (").outcome == "skipped" and runner.branch_tip(DATA_BRANCH) == tip
    assert sorted(p.stem for p in (runner.deployed / "days").glob("*.html"))[-1] == "2026-02-11"  # unchanged


@pytest.mark.parametrize(
    ("site_days", "last", "allow", "ok"),
    [
        (3, 2, "", True),
        (2, 2, "", True),
        (1, 2, "", False),
        (1, 2, "false", False),
        (1, 2, "true", True),
        (0, 0, "", True),
    ],
)
def test_the_guard_script(tmp_path: Path, site_days: int, last: int, allow: str, ok: bool) -> None:
    """The guard step's script alone: fewer days than the last deployment fail, unless a person allows it
    (the `allow_fewer_days` input of a manual run); on success the new count is recorded."""
    (tmp_path / "_site" / "days").mkdir(parents=True)
    for n in range(site_days):
        (tmp_path / "_site" / "days" / f"2026-02-{10 + n}.html").write_text("x", encoding="utf-8")
    data = tmp_path / ".paperradar-data"
    data.mkdir()
    if last:
        (data / "deployed.json").write_text(
            json.dumps({"days": last, "newest": "2026-02-11"}), encoding="utf-8"
        )
    env = {"PATH": os.environ["PATH"], "PAPERRADAR_DATA_DIR": str(data), "ALLOW_FEWER_DAYS": allow}
    proc = subprocess.run(
        ["bash", "-e", "-c", GUARD_SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    record = (
        json.loads((data / "deployed.json").read_text(encoding="utf-8"))
        if (data / "deployed.json").exists()
        else None
    )
    if ok:
        assert record == {"days": site_days, "newest": f"2026-02-{9 + site_days}" if site_days else None}
    else:
        assert record == {"days": last, "newest": "2026-02-11"} and "::error::" in proc.stdout
