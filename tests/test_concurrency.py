"""Two `paperradar run` on one database at once: the second exits 6 with a one-line error (or, with --wait,
queues behind the first and then finishes); the database stays intact and the digest is the one a single
run writes. Real processes (forked from the warm launcher of tests/process_rig.py), real SQLite."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.process_rig import (
    DAY,
    TOP_N,
    Child,
    Launcher,
    Rig,
    check_database,
    db_rows,
    mask_generated,
    output_files,
)

DIGEST = f"out/digests/{DAY}.zh.md"


@pytest.fixture
def slow_rig(launcher: Launcher):
    # 0.1 s per model answer: the first run holds the database for about a second while it writes.
    rig = Rig(launcher, latency=0.1, n_papers=30)
    try:
        yield rig
    finally:
        rig.close()


def start(rig: Rig, folder: Path, name: str, *extra: str) -> Child:
    argv = ["--config", str(folder / "paperradar.toml"), "-q", "run", *extra]
    return rig.launcher.start(argv, folder, folder / f"{name}.out", err=folder / f"{name}.err")


def wait_for_llm_calls(rig: Rig, child: Child, n: int = 1) -> None:
    deadline = time.monotonic() + 30
    while len(rig.llm.chat_calls) < n:
        assert child.poll() is None, f"the first run ended early: {child.output}"
        assert time.monotonic() < deadline
        time.sleep(0.005)


def runs_table(folder: Path) -> list[tuple[str, str | None]]:
    import sqlite3

    conn = sqlite3.connect(folder / "radar.db")
    try:
        return conn.execute("SELECT status, error FROM runs ORDER BY id").fetchall()
    finally:
        conn.close()


def reference(rig: Rig, folder: Path) -> tuple[dict, dict]:
    rig.config(folder)
    child = start(rig, folder, "reference")
    assert child.wait() == 0, child.output
    return db_rows(folder), output_files(folder)


def test_second_run_exits_6_with_one_line_and_the_first_finishes(tmp_path: Path, slow_rig: Rig):
    folder = tmp_path / "shared"
    slow_rig.config(folder)
    first = start(slow_rig, folder, "first")
    wait_for_llm_calls(slow_rig, first)  # well inside the run: fetched, ranking with the model
    arxiv_before = len(slow_rig.arxiv.requests)
    second = start(slow_rig, folder, "second")
    assert second.wait(30) == 6
    assert first.poll() is None, "the first run finished before the second started: nothing was tested"
    err = (folder / "second.err").read_text(encoding="utf-8")
    out = (folder / "second.out").read_text(encoding="utf-8")
    lines = err.splitlines()
    # The one line names the holder (issue 12): its pid, verb and start time, from the lock file.
    holder = f"error: another paperradar run is using {folder / 'radar.db'}: pid {first.pid} (`paperradar run`, started "
    assert lines[0].startswith(holder), err
    assert len(lines) <= 2 and (len(lines) == 1 or (lines[1].startswith("hint:") and "--wait" in lines[1]))
    assert "Traceback" not in err and out == ""
    assert len(slow_rig.arxiv.requests) == arxiv_before  # the refused run touched nothing
    assert first.wait() == 0, first.output
    assert check_database(folder / "radar.db", tmp_path / "scratch") == []
    assert [status for status, _ in runs_table(folder)] == ["ok"]  # the refused run recorded no run

    ref_rows, ref_files = reference(slow_rig, tmp_path / "alone")
    assert db_rows(folder) == ref_rows
    files = output_files(folder)
    assert sorted(files) == sorted(ref_files)
    assert all(mask_generated(files[n]) == mask_generated(ref_files[n]) for n in files)
    assert files[DIGEST].decode().count("\n## ") == TOP_N


def test_second_run_with_wait_queues_then_finishes(tmp_path: Path, slow_rig: Rig):
    folder = tmp_path / "shared"
    slow_rig.config(folder)
    first = start(slow_rig, folder, "first")
    wait_for_llm_calls(slow_rig, first)
    calls_before = len(slow_rig.llm.chat_calls)
    second = start(slow_rig, folder, "second", "--wait")
    time.sleep(0.3)
    assert second.poll() is None and first.poll() is None  # queued, not refused
    assert first.wait() == 0, first.output
    digest = (folder / DIGEST).read_bytes()
    calls_first = len(slow_rig.llm.chat_calls)
    assert calls_first > calls_before
    arxiv_first = len(slow_rig.arxiv.requests)
    assert second.wait() == 0, second.output
    assert first.ended is not None and second.ended is not None and second.ended >= first.ended
    # the queued run started after the first one released the database: it found everything stored
    assert len(slow_rig.llm.chat_calls) == calls_first  # no model call repeated
    assert all(r.time >= first.started for r in slow_rig.arxiv.requests[arxiv_first:])
    assert (folder / DIGEST).read_bytes() == digest  # byte-identical, generated-at line included
    assert check_database(folder / "radar.db", tmp_path / "scratch") == []
    assert [status for status, _ in runs_table(folder)] == ["ok", "ok"]


def test_two_first_runs_at_once_on_a_new_database(tmp_path: Path, slow_rig: Rig):
    for round_no in range(4):  # the race is timing-dependent: several rounds make the old bug show
        folder = tmp_path / f"new-{round_no}"
        slow_rig.config(folder)
        a = start(slow_rig, folder, "a")
        b = start(slow_rig, folder, "b")
        codes = sorted([a.wait(), b.wait()])
        loser = next((c for c in (a, b) if c.code != 0), None)
        detail = Path(f"{loser.log}").with_suffix(".err").read_text() if loser else ""
        assert codes == [0, 6], f"round {round_no}: exit codes {codes}: {detail}"
        assert check_database(folder / "radar.db", tmp_path / "scratch") == []
        assert (folder / DIGEST).exists()
