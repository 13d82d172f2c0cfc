"""Days lost across a simulated cache miss of the GitHub Actions deployment (issue 12, item 6).

Plays the workflow `paperradar init --github-actions` writes with tests/workflow_player.py: each run's
scripts in bash as written, `paperradar` as a real process per call (the installed CLI), a bare git
repository for GitHub, the fake OpenAI-compatible server on loopback for the paid model. Schedule: the
bundled sample's days, one run each. Before the last runs the cache is lost in two ways: every entry
evicted (a full miss), or only the newest (a stale entry restored). Counts, against the archive the run
before the loss saved: days, ratings, model texts and ranks lost; model calls made again for papers
already answered; days of the deployed site. The same archive with the cache-only workflow of
paperradar ≤ e761de2 would have lost every earlier day (a miss started from an empty database).

    python -m bench.reliability_deploy [--in-process]   # ~1 min a run per day in subprocess mode here
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paperradar.publish.github_actions import DATA_BRANCH, render_workflow
from tests.fake_llm_styles import FakeStyleLLM
from tests.workflow_player import PaperradarShim, Runner

DAYS = ["2026-02-09", "2026-02-10", "2026-02-11", "2026-02-12", "2026-02-13"]
KEY = "sk-bench-0000"


def _rows(db: Path, table: str) -> set[tuple[object, ...]]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {tuple(r) for r in conn.execute(f"SELECT * FROM {table}")}
    finally:
        conn.close()


def _cached_db(runner: Runner, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    for part in runner.cache_entries()[-1].iterdir():
        (into / part.name).write_bytes(part.read_bytes())
    return into / "paperradar.db"


def _rate_through_the_branch(runner: Runner, mine: Path) -> Path:
    """The reader rates a paper the way a deployment lets them: clone the data branch, import, rate,
    export, push. Returns their database: the archive as it stands before the loss."""

    def run(*args: str, cwd: Path = mine) -> None:
        subprocess.run(args, cwd=cwd, check=True, capture_output=True)

    run("git", "clone", "-q", "-b", DATA_BRANCH, runner.origin.as_uri(), str(mine), cwd=mine.parent)
    (mine / "paperradar.toml").write_text('[store]\npath = "local.db"\n', encoding="utf-8")
    paperradar = [sys.executable, "-m", "paperradar"]
    run(*paperradar, "import", "--archive", "archive")
    rated = sorted({r[1] for r in _rows(mine / "local.db", "ranks")})[:2]
    run(*paperradar, "rate", rated[0], "up")
    run(*paperradar, "rate", rated[1], "down")
    run(*paperradar, "export", "--archive", "archive")
    run("git", "add", "-A", "archive")
    run("git", "-c", "user.name=Reader", "-c", "user.email=r@example.org", "commit", "-qm", "ratings")
    run("git", "push", "-q", "origin", f"HEAD:refs/heads/{DATA_BRANCH}")
    return mine / "local.db"


def scenario(root: Path, loss: str, in_process: bool, workflow: str | None = None) -> dict[str, object]:
    """Runs DAYS[:3], rates two papers through the data branch, loses the cache (`full`: every entry;
    `stale`: all but the oldest), runs DAYS[3:]; counts what the archive lost."""
    fake = FakeStyleLLM().start()
    fake.api_key = KEY
    shim = PaperradarShim(root / "bin", in_process=in_process)
    (root / "bin" / "gh").write_text("#!/bin/bash\nexit 0\n", encoding="utf-8")
    (root / "bin" / "gh").chmod(0o755)
    old = workflow is not None  # another workflow (the cache-only one of earlier versions): no data branch
    workflow = workflow or render_workflow(secrets=["RADAR_TEST_KEY"])
    config = (
        '[store]\npath = "paperradar.db"\n[output]\nfolder = "out"\n[styles]\nfulltext = false\nbands = []\n'
        '[llm]\nbackend = "openai"\nconcurrency = 4\n'
        f'[[llm.endpoints]]\nbase_url = "{fake.url}"\nmodel = "{fake.model}"\napi_key_env = "RADAR_TEST_KEY"\n'
    )
    runner = Runner(root / "github", workflow, {"RADAR_TEST_KEY": KEY}, root / "bin")
    runner.create_repository({"paperradar.toml": config, ".github/workflows/paperradar.yml": workflow})
    started = time.perf_counter()
    try:
        for day in DAYS[:3]:
            result = runner.play(env={"PAPERRADAR_SIM_DAY": day})
            assert result.deployed, result.log()
        before = (
            _cached_db(runner, root / "before") if old else _rate_through_the_branch(runner, root / "reader")
        )
        calls = len(fake.chat_calls)
        runner.evict(keep=0 if loss == "full" else 1)
        notes = []
        for day in DAYS[3:]:
            result = runner.play(env={"PAPERRADAR_SIM_DAY": day})
            if not old:
                notes.append(result.step("durable copy").log.strip().splitlines()[-1])
            assert result.deployed, result.log()
        after = _cached_db(runner, root / "after")
        old_ids = {r[1] for r in _rows(before, "ranks")}
        again = sum(1 for c in fake.chat_calls[calls:] for i in old_ids if f'<paper id="{i}">' in c.text)
        day_rows = {t: ({r[0] for r in _rows(before, t)}, {r[0] for r in _rows(after, t)}) for t in ["ranks"]}
        return {
            "loss": loss,
            "days_before": len(day_rows["ranks"][0]),
            "days_after": len(day_rows["ranks"][1]),
            "days_lost": len(day_rows["ranks"][0] - day_rows["ranks"][1]),
            "texts_lost": len(_rows(before, "texts") - _rows(after, "texts")),
            "ranks_lost": len(_rows(before, "ranks") - _rows(after, "ranks")),
            "ratings_lost": len(_rows(before, "ratings") - _rows(after, "ratings")),
            "model_calls_repeated": again,
            "deployed_days": len(list((runner.deployed / "days").glob("*.html"))),
            "restore_notes": notes,
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        shim.close()
        fake.stop()


def main() -> None:  # pragma: no cover - a manual bench
    parser = argparse.ArgumentParser()
    parser.add_argument("--in-process", action="store_true", help="serve the CLI in-process (fast)")
    parser.add_argument("--workflow", type=Path, help="play this workflow file instead (e.g. an older one)")
    args = parser.parse_args()
    workflow = args.workflow.read_text(encoding="utf-8") if args.workflow else None
    results = []
    for loss in ("full", "stale"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(scenario(Path(tmp), loss, args.in_process, workflow))
    print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
