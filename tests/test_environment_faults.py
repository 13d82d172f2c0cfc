"""Issue 12, items 4 and 5: a partial day instead of a refused one, and the environment's faults (disk full,
read-only database, a file where a folder goes, redirect loops, broken gzip, far dates) as documented exit
codes with one line naming the path or URL, never "internal error". Real files, real SQLite, loopback servers.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from paperradar.errors import EXIT_STORAGE, StorageError, environment_error
from paperradar.models import Paper
from paperradar.store import Store
from tests.arxiv_server import ArxivServer, Reply, synthetic_day
from tests.cli_runner import run_cli
from tests.misbehaving_server import BadHTTP

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20


def config(folder: Path, extra: str = "", store: str = "radar.db", out: str = "out") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "paperradar.toml"
    path.write_text(f'[store]\npath = "{store}"\n[output]\nfolder = "{out}"\n{extra}', encoding="utf-8")
    return path


def sources(url: str, rss: str = "rss/", api: str = "api/query") -> str:
    return (
        f'[sources]\ncategories = ["cs.IR"]\nrss_url = "{url}/{rss}"\napi_url = "{url}/{api}"\n'
        f'html_url = "{url}/html"\n'  # author blocks from the same server (a 404 each: no company found)
        "request_delay = 0.0\nmax_retries = 0\nrequest_deadline = 5.0\n"
    )


def one_line_error(err: str) -> list[str]:
    lines = [line for line in err.splitlines() if line.startswith(("error:", "hint:"))]
    assert "internal error" not in err and "Traceback" not in err, err
    return lines


# -- partial days ----------------------------------------------------------------------------------------
def test_one_malformed_item_is_skipped_and_the_day_goes_on(tmp_path: Path) -> None:
    day = synthetic_day(12, ["cs.IR"])
    bad = day.papers[3].arxiv_id
    feed = day.rss().decode()
    # Every place the feed says the id of one item is broken (guid, description, link): no arXiv id left.
    feed = feed.replace(f"oai:arXiv.org:{bad}v", "oai:arXiv.org:broken-").replace(f"arXiv:{bad}v", "arXiv:x")
    feed = feed.replace(f"https://arxiv.org/abs/{bad}", "https://example.org/nothing")
    with ArxivServer() as server:
        day.install(server)
        server.route("/rss/cs.IR", Reply(body=feed.encode(), content_type="application/rss+xml"))
        cfg = config(tmp_path, sources(server.url))
        code, _, err = run_cli("--config", str(cfg), "-q", "run")
    assert code == 0, err
    digest = (tmp_path / "out" / "digests" / f"{day.day}.zh.md").read_text(encoding="utf-8")
    line = next(x for x in digest.splitlines() if x.startswith("**已跳过**"))
    assert line.startswith("**已跳过**: 1 条格式有误的记录（RSS item ") and "has no arXiv id" in line
    assert f"arxiv.org/abs/{day.papers[0].arxiv_id}" in digest  # the good items are all there
    conn = sqlite3.connect(tmp_path / "radar.db")
    (stats,) = conn.execute("SELECT stats FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    conn.close()
    skipped = json.loads(stats)["feed_skipped"]
    assert len(skipped) == 1 and "has no arXiv id" in skipped[0]


# -- the environment -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad() -> Iterator[BadHTTP]:
    with BadHTTP() as server:
        server.bomb_bytes = 64 * MIB
        yield server


@pytest.mark.parametrize(
    ("rss", "code", "words"),
    [
        ("redirect-loop/rss/", 3, "redirect loop"),
        ("bad-gzip/rss/", 4, "not the gzip data it claims"),
        ("cut-gzip/rss/", 4, "gzip body is cut off"),
        ("gzip-bomb/rss/", 4, "larger than 1,048,576 bytes once decompressed"),
    ],
)
def test_remote_faults_are_documented_exit_codes(
    tmp_path: Path, bad: BadHTTP, rss: str, code: int, words: str
) -> None:
    cfg = config(tmp_path, sources(bad.url, rss=rss) + "max_feed_bytes = 1048576\n")
    got, _, err = run_cli("--config", str(cfg), "-q", "run")
    lines = one_line_error(err)
    assert got == code and words in lines[0] and f"{bad.url}/{rss}cs.IR" in lines[0], err


def test_a_file_where_the_store_folder_should_be(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    cfg = config(tmp_path, store="data/radar.db")
    code, _, err = run_cli("--config", str(cfg), "-q", "run", "--sample")
    lines = one_line_error(err)
    assert code == EXIT_STORAGE and str(tmp_path / "data") in lines[0] and "move" in lines[1], err


def test_a_file_where_the_output_folder_should_be(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    cfg = config(tmp_path)
    code, _, err = run_cli("--config", str(cfg), "-q", "run", "--sample")
    lines = one_line_error(err)
    assert code == EXIT_STORAGE and str(tmp_path / "out") in lines[0], err


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1985-06-01"])
def test_a_date_far_outside_arxivs_range_is_a_usage_error(tmp_path: Path, day: str) -> None:
    cfg = config(tmp_path)
    code, _, err = run_cli("--config", str(cfg), "-q", "run", "--sample", "--date", day)
    assert code == 2 and "outside arXiv's range" in err and "Traceback" not in err, err


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Paths this process cannot write. As root (permissions do not bind root) the immutable attribute."""
    as_root = os.geteuid() == 0
    for path in paths:
        if as_root:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
                pytest.skip("chattr +i is not available here")
        else:
            path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path in reversed(paths):
            if as_root:
                subprocess.run(["chattr", "-i", str(path)], check=True)
            else:
                path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    code, _, err = run_cli("--config", str(config(folder)), "-q", "run", "--sample")
    assert code == 0, err
    return folder / "radar.db"


@pytest.mark.parametrize("folder_too", [False, True], ids=["file", "file-and-folder"])
def test_read_only_database_serves_search_and_show_and_refuses_writes(
    tmp_path: Path, sample_db: Path, folder_too: bool
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "radar.db"
    db.write_bytes(sample_db.read_bytes())
    cfg = config(tmp_path, store="ro/radar.db")
    with read_only(db, *([folder] if folder_too else [])):
        code, out, err = run_cli("--config", str(cfg), "search", "generative retrieval")
        assert code == 0 and "2602.13581" in out, err
        code, out, err = run_cli("--config", str(cfg), "show", "2602.09386")
        assert code == 0 and "SMES" in out, err
        code, _, err = run_cli("--config", str(cfg), "-q", "run", "--sample")
        lines = one_line_error(err)
        assert code == EXIT_STORAGE and str(folder) in lines[0], err


def test_sqlite_full_is_a_storage_error_not_cannot_rollback(tmp_path: Path) -> None:
    store = Store(tmp_path / "radar.db")
    # SQLite's own "disk full", at 40 pages of 4 KiB; max_page_count is per connection, so it is set on the
    # store's own (private) one.
    conn = store._conn
    conn.execute("PRAGMA max_page_count = 40")
    papers = [Paper(f"2602.{i:05d}", "title " * 20, ["A. Author"], "abstract " * 200) for i in range(500)]
    with pytest.raises(sqlite3.OperationalError) as info:
        store.save_papers(papers)
    assert "cannot rollback" not in str(info.value)  # the real error, not the failed ROLLBACK after it
    expected = environment_error(info.value, store.path)
    assert isinstance(expected, StorageError) and str(store.path) in expected.message
    assert "disk is full" in expected.message and expected.exit_code == EXIT_STORAGE
    conn.execute("PRAGMA max_page_count = 1000000")
    assert store.save_papers(papers[:3]).inserted == 3  # the store is usable again
    store.close()


def test_disk_full_during_a_run_is_exit_7(tmp_path: Path, sample_db: Path) -> None:
    """A real process at its file size limit (RLIMIT_FSIZE): writes fail like on a full disk."""
    cfg = config(tmp_path)
    (tmp_path / "radar.db").write_bytes(sample_db.read_bytes())

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        size = (tmp_path / "radar.db").stat().st_size
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "paperradar",
            "-q",
            "--config",
            str(cfg),
            "import",
            str(ROOT / "paperradar/sample/cs-ir-sample.jsonl.gz"),
        ],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = one_line_error(proc.stderr)
    assert proc.returncode == EXIT_STORAGE, proc.stderr
    assert str(tmp_path / "radar.db") in lines[0] and re.search(r"disk|full|size limit", lines[0]), lines


# -- secrets ---------------------------------------------------------------------------------------------
def test_debug_logs_never_print_an_api_key_the_server_echoes(tmp_path: Path, bad: BadHTTP) -> None:
    key = "sk-test-0123456789abcdefSECRET"
    cfg = config(
        tmp_path,
        f'[llm]\nbackend = "openai"\n[[llm.endpoints]]\nbase_url = "{bad.url}/echo-auth/v1"\n'
        'model = "m"\napi_key_env = "PAPERRADAR_TEST_KEY"\ntimeout = 5.0\n',
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PAPERRADAR_TEST_KEY": key}
    proc = subprocess.run(
        [sys.executable, "-m", "paperradar", "--debug", "--config", str(cfg), "llm", "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    echoed = [r for r in bad.requests if r[1].startswith("/echo-auth/")]
    assert echoed and echoed[-1][2]["authorization"] == f"Bearer {key}"  # the server did echo it back
    assert "X-Echo-Authorization" in proc.stderr and "[redacted]" in proc.stderr  # httpcore logged it...
    assert key not in proc.stderr and key not in proc.stdout  # ...redacted
