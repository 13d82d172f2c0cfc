"""A Store that cannot write: for `paperradar mcp`, whose agents only read unless rating is enabled.

SQLite enforces it (the file is opened with mode=ro), so no code path of the MCP server, present or
future, can change the archive by accident. It neither migrates nor takes the run lock: a database of an
older schema is refused with the command that upgrades it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from paperradar.errors import DataError
from paperradar.store.archive import Store
from paperradar.store.migrations import SCHEMA_VERSION


class ReadOnlyStore(Store):
    # Store.__init__ is not called on purpose: it switches the journal mode and migrates (both writes).
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if not self.path.exists():
            raise DataError(
                f"no paperradar database at {self.path}",
                hint="run `paperradar run --sample` first, or point [store].path at your database",
            )
        try:
            self.conn = sqlite3.connect(
                f"file:{quote(str(self.path.resolve()))}?mode=ro",
                uri=True,
                isolation_level=None,
                timeout=30.0,
            )
            self.conn.row_factory = sqlite3.Row
            schema = self.conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{self.path} is not a usable paperradar database: {exc}") from None
        self._lock_file = None
        if schema != SCHEMA_VERSION:
            self.conn.close()
            newer = schema > SCHEMA_VERSION
            raise DataError(
                f"{self.path} has schema {schema}; this paperradar reads schema {SCHEMA_VERSION}",
                hint="upgrade paperradar"
                if newer
                else "run any paperradar command that writes (e.g. `paperradar rank`) once to upgrade it",
            )
