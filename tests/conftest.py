"""Shared fixtures. Tests run offline: arXiv is replayed by tests/arxiv_server.py on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a paperradar.toml in tmp_path (db and output inside it) and return its path."""

    def _write(extra: str = "") -> Path:
        path = tmp_path / "paperradar.toml"
        path.write_text('[store]\npath = "radar.db"\n[output]\nfolder = "out"\n' + extra, encoding="utf-8")
        return path

    return _write
