"""Opening the archive so that it cannot be written: for `paperradar mcp` (agents only read unless rating is
enabled) and read-only verbs. SQLite enforces it (the file is opened with mode=ro), so no code path can
change the archive by accident. Nothing is migrated and no lock is taken: a database of another schema is
refused with the command that fixes it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from paperradar.errors import DataError
from paperradar.store.migrations import SCHEMA_VERSION


def open_read_only(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """`immutable`: the folder is not writable either, so SQLite must not even try to make its -shm file."""
    if not path.exists():
        raise DataError(
            f"no paperradar database at {path}",
            hint="run `paperradar run --sample` first, or point [store].path at your database",
        )
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(path.resolve()))}?mode=ro{'&immutable=1' if immutable else ''}",
            uri=True,
            isolation_level=None,
            timeout=30.0,
            check_same_thread=False,  # as the writable store: one thread at a time (llm.seam.run_sync)
        )
        conn.row_factory = sqlite3.Row
        schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise DataError(f"{path} is not a usable paperradar database: {exc}") from None
    if schema != SCHEMA_VERSION:
        conn.close()
        raise DataError(
            f"{path} has schema {schema}; this paperradar reads schema {SCHEMA_VERSION}",
            hint="upgrade paperradar"
            if schema > SCHEMA_VERSION
            else "run any paperradar command that writes (e.g. `paperradar rank`) once to upgrade it",
        )
    return conn
