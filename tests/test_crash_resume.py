"""Crash-resume: `paperradar run` is killed with SIGKILL at 20 seeded random moments (start-up, fetch, rank,
LLM calls, publish) and then run to the end; the result must equal an uninterrupted run.

Each kill point is a fresh directory: one `run` killed at that moment, then `run` again until it exits 0.
What is checked after every kill and resume:
- the database survives: `PRAGMA integrity_check`, `foreign_key_check` and the FTS5 index's own
  integrity-check pass on a copy of what the killed process left (db + WAL, so the resume still meets a
  hot WAL);
- no paper lost, no duplicate row: papers, paper_versions, announcements, ranks, texts and digests equal
  the uninterrupted run's (volatile columns left out: first_seen / seen_at / created_at / run ids / the
  absolute digest path);
- no LLM call repeated whose answer was stored: every (task, paper, language) the resume asks the model
  for was not stored when the process died;
- final outputs byte-identical: digests, highlight and style pages and the full-text cache equal the
  uninterrupted run's bytes; the one line that may differ is the digest's "generated at" line (a clock
  time: two separate runs differ by design), and it must be the time the database records for that
  content, so the next re-run keeps the file byte-identical;
- no stray files (half-written temporary files) in the output folders.

The processes are real: each run is a separate OS process that receives SIGKILL. To keep 40+ runs inside
the test budget they are forked from a warm "zygote" process (tests/process_rig.py) (Python, paperradar, scikit-learn and the
lemma tables already loaded: a cold `python -m paperradar run` spends ~3.5 s on that before any work);
the uninterrupted reference also runs once as `python -m paperradar run` and must give the same result.
PAPERRADAR_CRASH_EXEC=1 runs every attempt through `python -m paperradar` instead (slow, same checks);
PAPERRADAR_CRASH_SEED / PAPERRADAR_CRASH_POINTS change the kill moments and their number.
"""

from __future__ import annotations

import os
import random
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.process_rig import (
    DAY,
    TABLES,
    TOP_N,
    Launcher,
    Rig,
    db_rows,
    generated_matches_record,
    inspect_database,
    mask_generated,
    output_files,
)

SEED = int(os.environ.get("PAPERRADAR_CRASH_SEED", "20260924"))
KILL_POINTS = int(os.environ.get("PAPERRADAR_CRASH_POINTS", "20"))


def asked(calls: list[Any]) -> list[tuple[str, str, str]]:
    """(task, arxiv_id, language) of every paper a model call asked about (an interest call asks for k)."""
    out = []
    for call in calls:
        task = call.task.replace("style_", "style:")
        out.extend((task, pid, call.language) for pid in call.ids)
    return out


# --------------------------------------------------------------------------------------------------------
# Kill points, planned from the uninterrupted run's timeline.
# --------------------------------------------------------------------------------------------------------
@dataclass
class Event:
    at: float  # seconds after the process started
    kind: str  # rss | api | html | llm:<task>


@dataclass
class KillPoint:
    phase: str
    anchor: int  # kill once this many requests (arXiv + LLM) have arrived…
    delay: float  # …plus this many seconds
    note: str = ""


def timeline(rig: Rig, mark: tuple[int, int], started: float) -> list[Event]:
    arx = rig.arxiv.requests[mark[0] :]
    llm = rig.llm.calls[mark[1] :]
    events = [
        Event(
            r.time - started, "rss" if r.path.startswith("/rss") else "html" if "/html/" in r.path else "api"
        )
        for r in arx
    ]
    events += [Event(c.start - started, f"llm:{c.task}") for c in llm]
    return sorted(events, key=lambda e: e.at)


def phase_of(prev: Event | None, nxt: Event | None) -> str:
    if prev is None:
        return "startup"
    if nxt is None:
        return "publish"
    if prev.kind in ("rss", "api") and nxt.kind in ("rss", "api"):
        return "fetch"
    if prev.kind == "api" or (prev.kind == "llm:interest" and nxt.kind != "llm:interest"):
        return "rank"  # keyword match, heuristic score… / ordering and saving the ranks
    if prev.kind in ("llm:title", "llm:summary") and not nxt.kind.startswith(("llm:title", "llm:summary")):
        return "publish"  # digest rendering, then full text for the styles
    return "llm"


QUOTA = {"startup": 2, "fetch": 3, "rank": 4, "llm": 7, "publish": 4}


def plan_kills(events: list[Event], duration: float, count: int, rng: random.Random) -> list[KillPoint]:
    gaps: dict[str, list[tuple[int, float, str]]] = {}
    bounds = [None, *events, None]
    for i in range(len(bounds) - 1):
        prev, nxt = bounds[i], bounds[i + 1]
        start = prev.at if prev else 0.0
        end = nxt.at if nxt else duration
        what = f"after {prev.kind} #{i}" if prev else "before the first request"
        gaps.setdefault(phase_of(prev, nxt), []).append((i, max(end - start, 0.0), what))
    total = sum(QUOTA.values())
    phases = [p for p, n in QUOTA.items() for _ in range(n) if p in gaps]
    while len(phases) < count:
        phases += phases[: count - len(phases)]
    phases = phases[:count] if count <= total else phases
    points = []
    for phase in phases:
        anchor, gap, what = rng.choice(gaps[phase])
        # After the last request the answers are stored, then pages written: aim past the storing.
        low = 0.3 if anchor == len(events) else 0.0
        delay = rng.uniform(low * gap, 0.85 * gap)
        points.append(KillPoint(phase, anchor, delay, f"{what} + {delay * 1000:.0f} ms"))
    return points


# --------------------------------------------------------------------------------------------------------
# Running, killing, resuming.
# --------------------------------------------------------------------------------------------------------
@dataclass
class Attempt:
    code: int
    killed: bool
    calls: list[Any]
    arxiv: int
    events: int
    seconds: float
    output: str
    started: float


def run_once(
    rig: Rig, folder: Path, name: str, kill: KillPoint | None = None, exec_: bool = False
) -> Attempt:
    cfg = folder / "paperradar.toml"
    mark = rig.mark()
    child = rig.launcher.start(
        ["--config", str(cfg), "-q", "run"], folder, folder / f"{name}.log", exec_=exec_
    )
    if kill is not None:
        while child.poll() is None and rig.events_since(mark) < kill.anchor:
            time.sleep(0.001)
        if child.poll() is None:
            if kill.delay:
                time.sleep(kill.delay)
            child.kill()
    code = child.wait()
    killed = code == -signal.SIGKILL
    return Attempt(
        code,
        killed,
        rig.llm.calls[mark[1] :],
        len(rig.arxiv.requests) - mark[0],
        rig.events_since(mark),
        (child.ended or time.monotonic()) - child.started,
        child.output,
        child.started,
    )


@dataclass
class Trial:
    point: KillPoint
    killed: bool = False
    tries: int = 0
    died_with: tuple[int, int] = (0, 0)  # (arXiv requests, LLM calls) the killed process had made
    stored_at_kill: int = 0
    repeated_stored: list[tuple[str, str, str]] = field(default_factory=list)
    lost_answers: int = 0  # answers the model gave but the killed process never stored (asked again)
    files_at_kill: int = 0  # output files (digest, pages, full-text cache) already written at the kill
    resume_killed: bool = False  # the resume was killed too
    only_generated_at: int = 0  # output files that differ from the reference only in the generated-at line
    problems: list[str] = field(default_factory=list)


def kill_and_resume(
    rig: Rig, base: Path, number: int, point: KillPoint, ref: Reference, again: KillPoint | None = None
) -> Trial:
    """Kill a fresh run at `point`, optionally kill its resume too (`again`), then run it to the end."""
    trial = Trial(point)
    current = point
    for attempt_no in range(4):  # a kill point the run outlived is retried, earlier
        folder = base / f"kill-{number:02d}-{attempt_no}"
        rig.config(folder)
        trial.tries += 1
        first = run_once(rig, folder, "killed", current)
        if first.killed:
            break
        if first.code != 0:
            trial.problems.append(f"run before the kill failed with {first.code}: {first.output[-500:]}")
            return trial
        current = KillPoint(point.phase, point.anchor, current.delay / 3, point.note + " (earlier)")
    else:
        trial.problems.append("the run always finished before the kill")
        return trial
    trial.killed = True
    trial.died_with = (first.arxiv, len(first.calls))
    trial.files_at_kill = len(output_files(folder))
    attempts = [first]
    kills = 1
    expected_runs: list[str] = []
    while True:
        # the database as the killed process left it
        seen = inspect_database(folder / "radar.db", folder / "tmp")
        trial.problems += [f"after kill {kills}: {p}" for p in seen.problems]
        stored = seen.stored
        if kills == 1:
            trial.stored_at_kill = len(stored)
        # The killed attempt's row in the runs log, if it got that far: one killed after it recorded its
        # end stays 'ok'; any other must be closed as 'interrupted' by the next run.
        if len(seen.runs) > len(expected_runs):
            expected_runs.append("ok" if seen.runs[-1] == "ok" else "interrupted")
        kill_now = again if kills == 1 else None
        attempt = run_once(rig, folder, f"resume-{kills}", kill_now)
        asked_now = asked(attempt.calls)
        repeated = sorted({k for k in asked_now if k in stored})
        trial.repeated_stored += repeated
        if repeated:
            trial.problems.append(f"resume {kills} asked the model again for stored answers: {repeated[:5]}")
        answered_before = {
            k
            for a in attempts
            for k, status in zip(asked(a.calls), _statuses(a.calls), strict=True)
            if status == 200
        }
        trial.lost_answers += len({k for k in asked_now if k in answered_before and k not in stored})
        attempts.append(attempt)
        if attempt.killed:
            kills += 1
            trial.resume_killed = True
            continue
        if attempt.code != 0:
            trial.problems.append(f"resume exited {attempt.code}: {attempt.output[-800:]}")
            return trial
        break

    final = inspect_database(folder / "radar.db", folder / "tmp")
    trial.problems += [f"after the resume: {p}" for p in final.problems]
    rows = db_rows(folder)
    for table in TABLES:
        if rows[table] != ref.rows[table]:
            missing = [r for r in ref.rows[table] if r not in rows[table]]
            extra = [r for r in rows[table] if r not in ref.rows[table]]
            trial.problems.append(
                f"table {table}: {len(rows[table])} rows vs {len(ref.rows[table])}; "
                f"missing {missing[:2]!r:.300} extra {extra[:2]!r:.300}"
            )
    # The runs log: one row per attempt; the killed ones must not stay 'running' for ever.
    if final.runs != [*expected_runs, "ok"]:
        trial.problems.append(f"runs table: {final.runs} (want {[*expected_runs, 'ok']})")
    files = output_files(folder)
    if sorted(files) != sorted(ref.files):
        trial.problems.append(
            f"output files differ: extra {sorted(set(files) - set(ref.files))}, "
            f"missing {sorted(set(ref.files) - set(files))}"
        )
    for name, data in files.items():
        want = ref.files.get(name)
        if want is None:
            continue
        if data != want:
            if mask_generated(data) != mask_generated(want):
                trial.problems.append(f"{name} differs from the uninterrupted run's")
            else:
                trial.only_generated_at += 1
    trial.problems += generated_matches_record(folder)
    return trial


def _statuses(calls: list[Any]) -> list[int]:
    return [c.status for c in calls for _ in c.ids]


@dataclass
class Reference:
    rows: dict[str, list[tuple[Any, ...]]]
    files: dict[str, bytes]
    events: list[Event]
    duration: float
    calls: int


def reference_run(rig: Rig, folder: Path, exec_: bool = False) -> Reference:
    rig.config(folder)
    mark = rig.mark()
    result = run_once(rig, folder, "reference", exec_=exec_)
    assert result.code == 0, result.output
    # fork time (zygote) and arrival times (servers) are both CLOCK_MONOTONIC on one machine
    events = timeline(rig, mark, result.started)
    return Reference(db_rows(folder), output_files(folder), events, result.seconds, len(result.calls))


def test_sigkill_at_20_moments_then_resume_equals_an_uninterrupted_run(tmp_path: Path, launcher: Launcher):
    rigs = [Rig(launcher), Rig(launcher)]
    try:
        # Uninterrupted: once through the warm launcher (its timeline plans the kills) and, at the same
        # time on the other rig, once as a cold `python -m paperradar run`; both must agree.
        with ThreadPoolExecutor(2) as pool:
            warm = pool.submit(reference_run, rigs[0], tmp_path / "reference")
            cold = pool.submit(reference_run, rigs[1], tmp_path / "reference-exec", True)
            ref, ref_exec = warm.result(), cold.result()
        assert ref.rows == ref_exec.rows
        assert sorted(ref.files) == sorted(ref_exec.files)
        for name, data in ref.files.items():
            assert mask_generated(data) == mask_generated(ref_exec.files[name]), name
        assert sum(1 for e in ref.events if e.kind.startswith("llm")) == ref.calls
        listed = len(re.findall(r"^## \d+\. ", ref.files[f"out/digests/{DAY}.zh.md"].decode(), flags=re.M))
        assert listed == TOP_N

        rng = random.Random(SEED)
        points = plan_kills(ref.events, ref.duration, KILL_POINTS, rng)
        # Every 4th trial also kills the resume (recovery interrupted in turn), a little after it starts.
        again = [
            KillPoint("resume", rng.randint(0, 8), rng.uniform(0.0, 0.1)) if i % 4 == 3 else None
            for i in range(len(points))
        ]

        def worker(which: int) -> list[tuple[int, Trial]]:  # one rig per thread: its request logs are its own
            return [
                (i, kill_and_resume(rigs[which], tmp_path, i, p, ref, again[i]))
                for i, p in enumerate(points)
                if i % 2 == which
            ]

        with ThreadPoolExecutor(2) as pool:
            done = [item for part in pool.map(worker, (0, 1)) for item in part]
        trials = [t for _, t in sorted(done, key=lambda item: item[0])]
    finally:
        for rig in rigs:
            rig.close()

    lines = [
        f"crash-resume: seed {SEED}, uninterrupted run {ref.duration:.2f} s, {ref.calls} LLM calls, "
        f"{len(ref.events) - ref.calls} arXiv requests"
    ]
    for i, t in enumerate(trials):
        lines.append(
            f"  kill {i + 1:2d} {t.point.phase:8s} {t.point.note:38s} died after {t.died_with[0]} arXiv / "
            f"{t.died_with[1]:2d} LLM requests, {t.stored_at_kill:2d} answers and {t.files_at_kill:2d} files stored"
            f"{', resume killed too' if t.resume_killed else ''}; {t.lost_answers} answers lost and asked "
            f"again; {t.only_generated_at} files differ only in generated-at; "
            f"{'ok' if not t.problems else 'FAILED'}"
        )
    survived = sum(1 for t in trials if t.killed and not t.problems)
    extra = sum(1 for t in trials if t.resume_killed and not t.problems)
    lines.append(f"kill points survived: {survived} / {len(trials)} (+ {extra} resumes killed as well)")
    lines.append(
        f"answers the model gave that a kill lost before they were stored (asked again): "
        f"{sum(t.lost_answers for t in trials)}; stored answers asked again: "
        f"{sum(len(t.repeated_stored) for t in trials)}"
    )
    print("\n".join(lines))
    problems = [
        f"kill {i + 1} ({t.point.phase}, {t.point.note}): {p}"
        for i, t in enumerate(trials)
        for p in t.problems
    ]
    assert not problems, "\n".join(problems)
    assert survived == len(trials) == KILL_POINTS
    if len(trials) >= sum(QUOTA.values()):
        assert {t.point.phase for t in trials} >= set(QUOTA)
