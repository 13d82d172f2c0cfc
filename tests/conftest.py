"""Shared fixtures. Tests run offline: arXiv is replayed by tests/arxiv_server.py on loopback."""

from __future__ import annotations

import ipaddress
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paperradar.store import Store

FIXTURES = Path(__file__).parent / "fixtures"

# Fixtures defined next to the servers and processes they start, registered here once so that no test
# module imports a fixture by name: arxiv_server, fake_llm, fake_style_llm, dialect_server, launcher.
pytest_plugins = [
    "tests.arxiv_server",
    "tests.fake_llm",
    "tests.fake_llm_styles",
    "tests.llm_dialect_server",
    "tests.process_rig",
]


# CI has no network: a test that looks up arxiv.org only waits out the retries (3+6+12+24 s) and proves
# nothing. Every name lookup of this process is checked; a test that tries to leave the machine fails and
# names the host. (Subprocesses started by tests are not covered: they get their URLs from loopback servers.)
_LOCAL_NAMES = {"localhost", "localhost.localdomain", ""}
_real_getaddrinfo = socket.getaddrinfo
_outside: list[str] = []


def _loopback_only(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    try:
        address = ipaddress.ip_address(name.strip("[]"))
        local = address.is_loopback or address.is_unspecified  # 0.0.0.0: a bind, not a way out
    except ValueError:
        local = name.lower() in _LOCAL_NAMES
    if not local:
        _outside.append(name)
        raise socket.gaierror(socket.EAI_NONAME, f"tests never leave the machine (looked up {name})")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _loopback_session() -> Iterator[None]:
    """Installed before any module fixture runs, so a fixture's own run is checked too."""
    socket.getaddrinfo = _loopback_only
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture(autouse=True)
def _no_network(_loopback_session: None) -> Iterator[None]:
    yield
    hosts = sorted(set(_outside))
    _outside.clear()
    assert not hosts, f"the test (or its fixtures) tried to reach {', '.join(hosts)}: use a loopback server"


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a paperradar.toml in tmp_path (db and output inside it) and return its path."""

    def _write(extra: str = "") -> Path:
        path = tmp_path / "paperradar.toml"
        path.write_text('[store]\npath = "radar.db"\n[output]\nfolder = "out"\n' + extra, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def sql() -> Iterator[Callable[[Store], sqlite3.Connection]]:
    """A raw SQLite connection to a Store's file, for tests that look under the store's API (the store keeps
    its own connection private). Autocommit; closed after the test."""
    opened: list[sqlite3.Connection] = []

    def connect(store: Store) -> sqlite3.Connection:
        conn = sqlite3.connect(store.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()
