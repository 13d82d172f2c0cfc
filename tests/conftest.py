"""Shared fixtures. Tests run offline: arXiv is replayed by tests/arxiv_server.py on loopback."""

from __future__ import annotations

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
