"""The one SQLite connection of a Store and the one transaction helper every write goes through.

`BEGIN IMMEDIATE` takes the write lock at the start, so two processes never both read, then both try to
write (which SQLite would refuse half-way). Never `executescript`: it commits whatever transaction is open.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any


class Database:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            # After SQLITE_FULL or an I/O error SQLite has already rolled back: a second ROLLBACK would
            # replace the real error by "cannot rollback - no transaction is active".
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @property
    def connection(self) -> sqlite3.Connection:
        """For the store's own repositories, inside a transaction they opened."""
        return self._conn

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """All rows of one query (outside any transaction: WAL readers see the last commit)."""
        return self._conn.execute(sql, params).fetchall()

    def cursor(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Rows one at a time, for big reads."""
        return self._conn.execute(sql, params)
