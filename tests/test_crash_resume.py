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
the test budget they are forked from a warm "zygote" process (Python, paperradar, scikit-learn and the
lemma tables already loaded: a cold `python -m paperradar run` spends ~3.5 s on that before any work);
the uninterrupted reference also runs once as `python -m paperradar run` and must give the same result.
PAPERRADAR_CRASH_EXEC=1 runs every attempt through `python -m paperradar` instead (slow, same checks);
PAPERRADAR_CRASH_SEED / PAPERRADAR_CRASH_POINTS change the kill moments and their number.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.arxiv_server import ArxivServer, Reply, synthetic_day
from tests.fake_llm_styles import FULLTEXT_FIXTURES, FakeStyleLLM

ROOT = Path(__file__).resolve().parent.parent
SEED = int(os.environ.get("PAPERRADAR_CRASH_SEED", "20260924"))
KILL_POINTS = int(os.environ.get("PAPERRADAR_CRASH_POINTS", "20"))
EXEC_ONLY = os.environ.get("PAPERRADAR_CRASH_EXEC") == "1"
DAY = "2026-09-24"
CATEGORIES = ["cs.IR", "cs.LG"]
N_PAPERS = 40  # 34 kept after the replacement filter; 2 API look-ups of 20
TOP_N = 8
LLM_LATENCY = 0.02  # seconds per answer, so LLM calls are in flight when the kill comes
GENERATED_LINE = re.compile(r"^\*\*(生成时间|生成日時|Generated)\*\*: .*$", re.M)

# --------------------------------------------------------------------------------------------------------
# A warm process that forks one child per `paperradar` invocation. The child is an ordinary OS process
# running paperradar.cli.main(argv) exactly as `python -m paperradar` does (own stdout/stderr file, own
# working directory and environment); the test kills it with SIGKILL by pid. The zygote itself is
# single-threaded and never opens a database, so forking it is safe.
# --------------------------------------------------------------------------------------------------------
ZYGOTE_SRC = r"""
import json, os, select, sys, time
import paperradar.cli, paperradar.pipeline
for name in ("paperradar.llm.default_plugins.openai", "paperradar.write.styles.tasks", "paperradar.write.styles",
             "paperradar.sources.fulltext", "paperradar.publish.deliver", "paperradar.publish.deliver.chat",
             "sklearn.feature_extraction.text"):
    try:
        __import__(name)
    except Exception:
        pass
try:  # the lemma tables load on first use (~0.6 s)
    from paperradar.rank import KeywordMatcher
    KeywordMatcher({"g": ["recommendation models", "ranking"]}).match("Scalable ranking models")
except Exception:
    pass
print(json.dumps({"ready": os.getpid()}), flush=True)
children = set()
while True:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        children.discard(pid)
        print(json.dumps({"exit": pid, "code": os.waitstatus_to_exitcode(status), "at": time.monotonic()}),
              flush=True)
    ready, _, _ = select.select([sys.stdin], [], [], 0.002 if children else 0.2)
    if not ready:
        continue
    line = sys.stdin.readline()
    if not line:
        break
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            out = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, 1)
            os.dup2(out if job.get("err") is None else os.open(job["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
            os.chdir(job["cwd"])
            os.environ.update(job.get("env") or {})
            try:
                paperradar.cli.main(job["argv"])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    children.add(pid)
    print(json.dumps({"pid": pid, "at": time.monotonic()}), flush=True)
"""


@dataclass
class Child:
    pid: int
    started: float  # time.monotonic() (same clock as the servers' logs)
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    zygote: Zygote | None = None
    code: int | None = None
    ended: float | None = None

    def poll(self) -> int | None:
        if self.code is None:
            if self.popen is not None:
                code = self.popen.poll()
                if code is not None:
                    self.code, self.ended = code, time.monotonic()
            elif self.zygote is not None:
                got = self.zygote.exit_of(self.pid)
                if got is not None:
                    self.code, self.ended = got
        return self.code

    def wait(self, timeout: float = 90.0) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"paperradar (pid {self.pid}) did not finish in {timeout:.0f} s")
            time.sleep(0.002)
        assert self.code is not None
        return self.code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


class Zygote:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PAPERRADAR_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE_SRC],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        self._lock = threading.Lock()
        self._exits: dict[int, tuple[int, float]] = {}
        self._pids: list[tuple[int, float]] = []
        self._cond = threading.Condition()
        assert self.proc.stdout is not None
        first = json.loads(self.proc.stdout.readline() or b'{"ready": 0}')
        assert first.get("ready"), "the zygote did not start"
        threading.Thread(target=self._read, daemon=True, name="zygote-reader").start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            msg = json.loads(raw)
            with self._cond:
                if "pid" in msg:
                    self._pids.append((msg["pid"], msg["at"]))
                else:
                    self._exits[msg["exit"]] = (msg["code"], msg["at"])
                self._cond.notify_all()

    def start(
        self,
        argv: list[str],
        cwd: Path,
        log: Path,
        env: dict[str, str] | None = None,
        err: Path | None = None,
    ) -> Child:
        job = {
            "argv": argv,
            "cwd": str(cwd),
            "log": str(log),
            "env": env or {},
            "err": str(err) if err else None,
        }
        with self._lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
            with self._cond:
                if not self._cond.wait_for(lambda: self._pids, timeout=30):
                    raise AssertionError("the zygote did not fork")
                pid, started = self._pids.pop(0)
        return Child(pid, started, log, zygote=self)

    def exit_of(self, pid: int) -> tuple[int, float] | None:
        with self._cond:
            return self._exits.get(pid)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def exec_child(
    argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None, err: Path | None = None
) -> Child:
    """The same run as `python -m paperradar ...` (a cold interpreter)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("PAPERRADAR_CONFIG", None)
    out = log.open("wb")
    errf = err.open("wb") if err else subprocess.STDOUT
    started = time.monotonic()
    popen = subprocess.Popen(
        [sys.executable, "-m", "paperradar", *argv],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=errf,
    )
    out.close()
    if err:
        errf.close()  # type: ignore[union-attr]
    return Child(popen.pid, started, log, popen=popen)


class Launcher:
    """Starts paperradar processes: forked from the zygote, or `python -m paperradar` (exec=True)."""

    def __init__(self, exec_only: bool = EXEC_ONLY) -> None:
        self.exec_only = exec_only
        self.zygote = None if exec_only else Zygote()

    def start(
        self,
        argv: list[str],
        cwd: Path,
        log: Path,
        env: dict[str, str] | None = None,
        err: Path | None = None,
        exec_: bool = False,
    ) -> Child:
        if exec_ or self.zygote is None:
            return exec_child(argv, cwd, log, env, err)
        return self.zygote.start(argv, cwd, log, env, err)

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()


@pytest.fixture(scope="module")
def launcher() -> Iterator[Launcher]:
    lau = Launcher()
    try:
        yield lau
    finally:
        lau.close()


# --------------------------------------------------------------------------------------------------------
# One "rig": arXiv on loopback (feed, API, HTML full text) and the fake LLM, both recording requests.
# --------------------------------------------------------------------------------------------------------
BANDS = (
    "[[styles.bands]]\nstyle = 'highlight'\ntop = 3\n[[styles.bands]]\nstyle = 'review'\ntop = 2\n"
    "[[styles.bands]]\nstyle = 'dialogue'\ntop = 1\n"
)


class Rig:
    def __init__(self, launcher: Launcher, latency: float = LLM_LATENCY, n_papers: int = N_PAPERS):
        self.launcher = launcher
        self.arxiv = ArxivServer().start()
        synthetic_day(n_papers, CATEGORIES).install(self.arxiv)
        html = (FULLTEXT_FIXTURES / "2602.09386v1.html").read_bytes()
        self.arxiv.route("/html/", Reply(body=html, content_type="text/html"), prefix=True)
        self.llm = FakeStyleLLM(latency=latency).start()
        # A killed client resets its connections; http.server would print a traceback for each.
        for server in (self.arxiv._httpd, self.llm._server):
            server.handle_error = lambda request, client_address: None  # type: ignore[method-assign,union-attr]

    def config(self, folder: Path, extra: str = "", llm_extra: str = "") -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "paperradar.toml"
        path.write_text(
            '[store]\npath = "radar.db"\n'
            f'[output]\nfolder = "out"\ntop_n = {TOP_N}\n'
            f'[sources]\ncategories = {json.dumps(CATEGORIES)}\nrss_url = "{self.arxiv.rss_url}"\n'
            f'api_url = "{self.arxiv.api_url}"\nhtml_url = "{self.arxiv.url}/html"\npdf_url = "{self.arxiv.url}/pdf"\n'
            'request_delay = 0.0\nbatch_size = 20\nmax_retries = 1\ncontact = "radar@example.org"\n'
            f"[styles]\n{BANDS}"
            f'[llm]\nbackend = "openai"\nconcurrency = 4\nbatch_size = 4\n{llm_extra}'
            f'[[llm.endpoints]]\nbase_url = "{self.llm.url}"\nmodel = "{self.llm.model}"\n{extra}',
            encoding="utf-8",
        )
        return path

    def events_since(self, mark: tuple[int, int]) -> int:
        return len(self.arxiv.requests) - mark[0] + len(self.llm.calls) - mark[1]

    def mark(self) -> tuple[int, int]:
        return len(self.arxiv.requests), len(self.llm.calls)

    def close(self) -> None:
        self.arxiv.stop()
        self.llm.stop()


# --------------------------------------------------------------------------------------------------------
# What a run left behind, in comparable form.
# --------------------------------------------------------------------------------------------------------
VOLATILE = {
    "papers": ("first_seen",),
    "paper_versions": ("seen_at",),
    "ranks": ("run_id",),
    "texts": ("created_at", "run_id"),
    "digests": ("generated_at",),
}
TABLES = ["papers", "paper_versions", "announcements", "ranks", "texts", "ratings", "digests"]


def db_rows(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(folder / "radar.db")
    try:
        out = {}
        for table in TABLES:
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            keep = [c for c in cols if c not in VOLATILE.get(table, ())]
            rows = conn.execute(f"SELECT {', '.join(keep)} FROM {table}").fetchall()
            if table == "digests":  # the stored path is absolute: compare it relative to the run's folder
                i = keep.index("path")
                rows = [(*r[:i], str(Path(r[i]).relative_to(folder)), *r[i + 1 :]) for r in rows]
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


@dataclass
class Inspection:
    problems: list[str]
    stored: set[tuple[str, str, str]]  # (task, arxiv_id, language) of every stored model answer
    runs: list[str]  # the runs log's statuses, oldest first


def inspect_database(db: Path, scratch: Path) -> Inspection:
    """What a (killed) process left, read from a copy of db + WAL: the original keeps its hot WAL for the
    resume, and nothing here can create, recover or checkpoint the real file."""
    if not db.exists():
        return Inspection([], set(), [])
    scratch.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):
        src = Path(f"{db}{suffix}")
        if src.exists():
            shutil.copyfile(src, scratch / f"copy.db{suffix}")
    conn = sqlite3.connect(scratch / "copy.db")
    problems = []
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            problems.append(f"integrity_check: {result[:5]}")
        fks = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fks:
            problems.append(f"foreign_key_check: {fks[:5]}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "papers_fts" in tables:
            try:
                conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                problems.append(f"fts integrity-check: {exc}")
        stored: set[tuple[str, str, str]] = set()
        if "texts" in tables:  # else killed before the schema was made
            stored = {
                tuple(r)
                for r in conn.execute("SELECT task, arxiv_id, language FROM texts WHERE status = 'ok'")
            }
        runs = [r[0] for r in conn.execute("SELECT status FROM runs ORDER BY id")] if "runs" in tables else []
    finally:
        conn.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return Inspection(problems, stored, runs)


def check_database(db: Path, scratch: Path) -> list[str]:
    return inspect_database(db, scratch).problems


def asked(calls: list[Any]) -> list[tuple[str, str, str]]:
    """(task, arxiv_id, language) of every paper a model call asked about (an interest call asks for k)."""
    out = []
    for call in calls:
        task = call.task.replace("style_", "style:")
        out.extend((task, pid, call.language) for pid in call.ids)
    return out


def output_files(folder: Path) -> dict[str, bytes]:
    files = {}
    for sub in ("out", "fulltext"):
        base = folder / sub
        if base.exists():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    files[str(path.relative_to(folder))] = same_server(path.read_bytes())
    return files


def mask_generated(data: bytes) -> bytes:
    return GENERATED_LINE.sub("**generated**: <time>", data.decode("utf-8")).encode("utf-8")


def same_server(data: bytes) -> bytes:
    """The full-text cache records the URL it read: the two rigs' loopback servers have different ports."""
    return re.sub(rb"http://127\.0\.0\.1:\d+/", b"http://127.0.0.1:PORT/", data)


def generated_matches_record(folder: Path) -> list[str]:
    """The digest's generated-at line shows the time the database keeps for that content."""
    problems = []
    conn = sqlite3.connect(folder / "radar.db")
    try:
        for day, lang, stamp, path in conn.execute("SELECT day, language, generated_at, path FROM digests"):
            text = Path(path).read_text(encoding="utf-8")
            line = GENERATED_LINE.search(text)
            local = datetime.fromisoformat(stamp).astimezone(ZoneInfo("Asia/Shanghai"))
            if line is None or local.strftime("%H:%M:%S") not in line.group(0):
                problems.append(f"{day}.{lang}: file says {line and line.group(0)!r}, database {stamp}")
    finally:
        conn.close()
    return problems


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
