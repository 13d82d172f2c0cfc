"""RELIABILITY figures (issue 12), each from real `paperradar` processes against misbehaving loopback servers
(tests/misbehaving_server.py) and real files:

  - peak RSS of a run fed a 1.5 GB gzip bomb as its feed, as its LLM answers, and as one line of an
    imported .jsonl.gz (goal < 300 MB, with a documented exit code);
  - the longest hang against trickling servers (feed body, feed headers, a webhook, an SMTP greeting)
    against the configured deadline (goal: <= deadline + 5 s);
  - internal errors (exit 1) over a set of environment faults (goal 0).

Run alone (`python bench/reliability.py`) or from bench/run.py. Each child's peak RSS is its own (wait4).
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.misbehaving_server import BadHTTP, TrickleSMTP, gzip_bomb  # noqa: E402

BOMB = 3 << 29  # 1.5 GiB inflated
SAMPLE = ROOT / "paperradar" / "sample" / "cs-ir-sample.jsonl.gz"


def child(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, preexec: Callable[[], None] | None = None
) -> tuple[int, float, float, str]:
    """`paperradar ARGS` in its own process: (exit code, wall seconds, peak RSS in MB, stderr)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperradar", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024, err


def folder(base: Path, name: str, extra: str = "", store: str = "radar.db", out: str = "out") -> Path:
    path = base / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    (path / "paperradar.toml").write_text(
        f'[store]\npath = "{store}"\n[output]\nfolder = "{out}"\n{extra}', encoding="utf-8"
    )
    return path


def arxiv(url: str, rss: str, **extra: object) -> str:
    settings: dict[str, object] = {"api_url": f"{url}/ok/api", "request_delay": 0.0, **extra}
    lines = ["[sources]", 'categories = ["cs.IR"]', f'rss_url = "{url}/{rss}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def jsonl_bomb(path: Path) -> None:
    """One JSON line whose abstract inflates to 1.5 GiB (gzip members of 16 MiB, as the server's bomb)."""
    member = gzip.compress(b"a" * (1 << 24), 9)
    with path.open("wb") as fh:
        fh.write(gzip.compress(b'{"id": "2602.00001", "title": "good", "abstract": "ok"}\n'))
        fh.write(gzip.compress(b'{"id": "2602.00002", "title": "bomb", "abstract": "'))
        for _ in range(BOMB >> 24):
            fh.write(member)
        fh.write(gzip.compress(b'"}\n'))


def bombs(base: Path, bad: BadHTTP) -> dict[str, object]:
    out: dict[str, object] = {}
    code, wall, rss, err = child(["-q", "run"], folder(base, "feed-bomb", arxiv(bad.url, "gzip-bomb/rss/")))
    out["feed_bomb"] = {
        "exit": code,
        "peak_rss_mb": round(rss, 1),
        "wall_s": round(wall, 2),
        "error": err.strip()[:160],
    }
    llm = (
        '[llm]\nbackend = "openai"\nmax_retries = 0\n[[llm.endpoints]]\n'
        f'base_url = "{bad.url}/gzip-bomb/v1"\nmodel = "m"\ntimeout = 60.0\n'
    )
    code, wall, rss, err = child(["-q", "run", "--sample"], folder(base, "llm-bomb", llm))
    out["llm_bomb"] = {"exit": code, "peak_rss_mb": round(rss, 1), "wall_s": round(wall, 2)}
    llm = llm.replace("/gzip-bomb/v1", "/endless/v1")
    code, wall, rss, err = child(["-q", "run", "--sample"], folder(base, "llm-endless", llm))
    out["llm_endless_body"] = {"exit": code, "peak_rss_mb": round(rss, 1), "wall_s": round(wall, 2)}
    work = folder(base, "jsonl-bomb")
    jsonl_bomb(work / "bomb.jsonl.gz")
    code, wall, rss, err = child(["-q", "import", "bomb.jsonl.gz"], work)
    out["jsonl_bomb"] = {
        "exit": code,
        "peak_rss_mb": round(rss, 1),
        "wall_s": round(wall, 2),
        "error": err.strip()[:160],
    }
    out["worst_peak_rss_mb"] = max(v["peak_rss_mb"] for v in out.values() if isinstance(v, dict))  # type: ignore[index]
    out["goal_rss_mb"] = 300
    # Baseline in the same run: the same `run --sample` without any model (what the process needs anyway).
    out["baseline_run_sample_rss_mb"] = round(
        child(["-q", "run", "--sample"], folder(base, "baseline"))[2], 1
    )
    return out


def trickles(base: Path, bad: BadHTTP) -> dict[str, object]:
    """Deadlines far below the defaults so the bench is quick. The hang is the process's wall time minus the
    same command's against a server that answers at once (start-up, the store, rendering: measured in the
    same run, as these machines are noisy); the goal is hang <= deadline + 5 s."""
    out: dict[str, object] = {}
    cfg = arxiv(bad.url, "ok/rss/", request_deadline=4.0, stage_deadline=10.0, max_retries=4)
    feed_baseline = child(["-q", "run"], folder(base, "feed-ok", cfg))[1]
    for path in ("trickle", "trickle-head"):
        cfg = arxiv(bad.url, f"{path}/rss/", request_deadline=4.0, stage_deadline=10.0, max_retries=4)
        code, wall, _, _ = child(["-q", "run"], folder(base, path, cfg))
        out[f"feed_{path.replace('-', '_')}"] = {
            "exit": code,
            "wall_s": round(wall, 2),
            "baseline_s": round(feed_baseline, 2),
            "hang_s": round(wall - feed_baseline, 2),
            "deadline_s": 10.0,
        }
    # Delivery: a digest exists (the sample day, made before any channel is configured), then it is sent to
    # a trickling webhook / SMTP server. Baseline: the same publish to a webhook that answers at once.
    with TrickleSMTP(interval=1.0) as smtp:
        work = folder(base, "deliver")
        child(["-q", "run", "--sample"], work)
        delivery = (
            "[delivery]\nretries = 3\ndeadline = 10.0\ntimeout = 30.0\n"
            '[delivery.webhook]\nurl_env = "PAPERRADAR_BENCH_HOOK"\n'
            f'[delivery.mail]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
            'from_addr = "radar@example.org"\nto = ["reader@example.org"]\n'
        )
        with (work / "paperradar.toml").open("a", encoding="utf-8") as fh:
            fh.write(delivery)
        baseline = child(["-q", "publish", "webhook"], work, {"PAPERRADAR_BENCH_HOOK": f"{bad.url}/ok/hook"})[
            1
        ]
        env = {"PAPERRADAR_BENCH_HOOK": f"{bad.url}/trickle/hook"}
        for channel in ("webhook", "mail"):
            code, wall, _, _ = child(["-q", "publish", channel], work, env)
            out[f"{channel}_trickle"] = {
                "exit": code,
                "wall_s": round(wall, 2),
                "baseline_s": round(baseline, 2),
                "hang_s": round(wall - baseline, 2),
                "deadline_s": 10.0,
            }
    hangs = [v["hang_s"] - v["deadline_s"] for v in out.values() if isinstance(v, dict)]  # type: ignore[index]
    out["worst_hang_over_deadline_s"] = round(max(hangs), 2)
    out["goal_over_deadline_s"] = 5.0
    return out


def faults(base: Path, bad: BadHTTP) -> dict[str, object]:
    """Environment faults a user can cause or meet; each must end in a documented code, never 1."""
    results: dict[str, int] = {}
    sample = folder(base, "sample-db")
    child(["-q", "run", "--sample"], sample)
    db = sample / "radar.db"

    def run(name: str, args: list[str], work: Path, **kw: object) -> None:
        results[name] = child(args, work, **kw)[0]  # type: ignore[arg-type]

    for rss in ("redirect-loop", "bad-gzip", "cut-gzip", "gzip-bomb", "silent", "trickle"):
        cfg = arxiv(bad.url, f"{rss}/rss/", request_deadline=2.0, stage_deadline=4.0, max_retries=1)
        run(f"feed: {rss}", ["-q", "run"], folder(base, f"f-{rss}", cfg))
    cfg = arxiv(bad.url, "ok/rss/", api_url=f"{bad.url}/api-no-progress/query")
    run(
        "API paging without progress",
        ["-q", "fetch", "--from", "2026-02-01", "--to", "2026-02-02"],
        folder(base, "paging", cfg),
    )
    work = folder(base, "store-under-file", store="data/radar.db")
    (work / "data").write_text("a file")
    run("store path under a file", ["-q", "run", "--sample"], work)
    work = folder(base, "out-is-file")
    (work / "out").write_text("a file")
    run("output folder is a file", ["-q", "run", "--sample"], work)
    run("date far outside arXiv's range", ["-q", "run", "--date", "9999-12-31"], folder(base, "far-date"))
    work = folder(base, "jsonl-huge-field")
    (work / "big.jsonl").write_text(
        '{"id": "2602.00001", "title": "t", "abstract": "' + "a" * 400_000 + '"}\n'
    )
    run("import: a 400 kB abstract", ["-q", "import", "big.jsonl"], work)
    work = folder(base, "bibtex-bomb")
    bib = '@string{m0 = "xxxxxxxx"}\n' + "".join(
        f"@string{{m{i} = m{i - 1} # m{i - 1}}}\n" for i in range(1, 32)
    )
    (work / "lib.bib").write_text(bib + "@article{k, title = m31}\n")
    run("library import: doubling @string macros", ["-q", "library", "import", "lib.bib"], work)
    # A read-only database (and folder): the immutable attribute as root, modes otherwise.
    work = folder(base, "read-only", store="ro/radar.db")
    (work / "ro").mkdir()
    shutil.copy(db, work / "ro" / "radar.db")
    ro = [work / "ro" / "radar.db", work / "ro"]
    as_root = os.geteuid() == 0
    for p in ro:
        subprocess.run(["chattr", "+i", str(p)], check=True) if as_root else p.chmod(0o555)
    try:
        run("read-only database: search", ["-q", "search", "ranking"], work)
        run("read-only database: show", ["-q", "show", "2602.09386"], work)
        run("read-only database: run", ["-q", "run", "--sample"], work)
    finally:
        for p in reversed(ro):
            subprocess.run(["chattr", "-i", str(p)], check=True) if as_root else p.chmod(0o755)
    work = folder(base, "disk-full")
    shutil.copy(db, work / "radar.db")
    size = db.stat().st_size

    def full() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    run("disk full (RLIMIT_FSIZE) during import", ["-q", "import", str(SAMPLE)], work, preexec=full)
    work = folder(base, "locked", "[store]\n")  # a second [store] would be invalid: lock_wait set below
    (work / "paperradar.toml").write_text(
        '[store]\npath = "radar.db"\nlock_wait = 1.0\n[output]\nfolder = "out"\n'
    )
    sys_path = str(ROOT)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from paperradar.store import Store; s = Store('radar.db'); "
            "s.acquire_lock(verb='run'); print('held', flush=True); time.sleep(30)",
        ],
        cwd=work,
        env={**os.environ, "PYTHONPATH": sys_path},
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
    run("import while another run holds the lock", ["-q", "import", str(SAMPLE)], work)
    holder.kill()
    holder.wait()
    return {
        "faults": len(results),
        "internal_errors": sum(1 for code in results.values() if code == 1),
        "exit_codes": results,
        "goal_internal_errors": 0,
    }


def bench_reliability() -> dict[str, object]:
    gzip_bomb(BOMB)
    with BadHTTP() as bad, tempfile.TemporaryDirectory() as tmp:
        bad.trickle_interval = 1.0
        base = Path(tmp)
        return {"bombs": bombs(base, bad), "trickles": trickles(base, bad), "faults": faults(base, bad)}


if __name__ == "__main__":
    print(json.dumps(bench_reliability(), indent=2, ensure_ascii=False))
