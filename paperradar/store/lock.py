"""The run lock: one writing paperradar process per database, on filelock (the kernel's flock on Unix).

The lock file also says who holds it: pid, host, start time and verb, written when the lock is taken and
cleared when it is released. A second writer is told who to wait for; `--wait` queues behind the holder for
a bounded time and says so. A holder that dies (SIGKILL, OOM, power loss) releases the kernel lock with its
process, so the next writer takes over at once: the record it finds is stale, and is reported as such (the
store then marks that run 'interrupted').
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from paperradar.errors import BusyError, StorageError

log = logging.getLogger(__name__)
LOCK_WAIT = 7200.0  # the longest `--wait` queues behind another run, unless [store].lock_wait says otherwise


class RunLock:
    def __init__(self, path: Path, database: Path) -> None:
        from filelock import FileLock  # imported by writers only: read-only verbs start faster

        self.path = path
        self.database = database
        self._lock = FileLock(path)

    def acquire(self, wait: bool | float, verb: str) -> None:
        from filelock import Timeout

        patience = 0.0 if wait is False else LOCK_WAIT if wait is True else max(0.0, float(wait))
        try:
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                holder = holder_text(self.path)
                if not patience:
                    raise BusyError(
                        f"another paperradar run is using {self.database}: {holder}",
                        hint="wait for it to finish, or pass --wait to queue behind it",
                    ) from None
                # Never wait silently: a queued `import` or `run --wait` says whom it waits for.
                log.warning("%s is in use by %s; waiting up to %g s for it", self.database, holder, patience)
                try:
                    self._lock.acquire(timeout=patience)
                except Timeout:
                    raise BusyError(
                        f"waited {patience:g} s for {self.database}, still in use by {holder_text(self.path)}",
                        hint="if that process hangs, stop it (kill PID); [store].lock_wait sets how long to wait",
                    ) from None
        except OSError as exc:
            raise StorageError(
                f"cannot create the lock file {self.path}: {exc.strerror or exc}",
                hint="commands that write need the folder of [store].path writable by this user "
                "(search and show work without it)",
            ) from None
        stale = read_holder(self.path)
        if stale is not None and stale.get("pid") != os.getpid():
            log.warning(
                "%s was left by %s, which ended without releasing it (killed or crashed); taken over",
                self.path,
                describe(stale),
            )
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "verb": verb,
        }
        self._write(orjson.dumps(record))

    def release(self) -> None:
        self._write(b"")  # no holder: a record found later means its writer crashed
        self._lock.release()

    def _write(self, data: bytes) -> None:
        # r+ (not w): the same inode the lock is on, never a new file a waiter could lock beside ours.
        with contextlib.suppress(OSError), self.path.open("r+b") as fh:
            fh.write(data)
            fh.truncate()


def read_holder(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes()[:4096] or b"null")
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: object) -> bool | None:
    if not isinstance(pid, int) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, as another user's process
        return True
    return True


def describe(record: dict[str, Any]) -> str:
    verb, pid, started = record.get("verb", "?"), record.get("pid", "?"), record.get("started", "?")
    text = f"pid {pid} (`paperradar {verb}`, started {started}"
    if record.get("host") not in (None, socket.gethostname()):
        text += f" on {record['host']}"
    return text + ")"


def holder_text(path: Path) -> str:
    """Who holds the lock, in words, for messages."""
    record = read_holder(path)
    if record is None:
        return "another process (it left no holder record)"
    text = describe(record)
    if record.get("host") == socket.gethostname() and _alive(record.get("pid")) is False:
        # A flock lock dies with its process: if it is still held, a process the holder started holds it.
        text += ", which no longer runs; a process it started may still hold the lock"
    return text
