"""Real `paperradar` processes for the tests that kill, race or inspect them (test_crash_resume,
test_concurrency, test_secrets):

- `Launcher` (and the module-scoped `launcher` fixture, registered in tests/conftest.py): starts
  `paperradar` runs as separate OS processes, forked from a warm "zygote" (`Zygote`) that has Python,
  paperradar, scikit-learn and the lemma tables already loaded, or as a cold `python -m paperradar`
  (`exec_child`; PAPERRADAR_CRASH_EXEC=1 makes every start cold). Each start returns a `Child` to poll,
  wait for or SIGKILL by pid.
- `Rig`: arXiv on loopback (feed, API, HTML full text) and the fake style LLM, both recording their
  requests, and `Rig.config` writing a paperradar.toml pointed at them.
- What a run left behind, in comparable form: `db_rows` (tables without volatile columns),
  `inspect_database`/`check_database` (integrity, foreign keys and FTS checks on a copy of db + WAL),
  `output_files`, `mask_generated`, `generated_matches_record`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.arxiv_server import ArxivServer, Reply, synthetic_day
from tests.fake_llm_styles import FULLTEXT_FIXTURES, FakeStyleLLM

ROOT = Path(__file__).resolve().parent.parent
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
