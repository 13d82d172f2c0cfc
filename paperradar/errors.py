"""Expected errors. Each carries the exit code the CLI returns and a hint that says what to do.

The CLI prints `error: <message>` and, when present, `hint: <hint>` on one line each; a traceback only
with --debug. Exit codes are part of the interface and documented in README.md.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # unexpected (a bug): the only case that prints a traceback without --debug
EXIT_USAGE = 2  # bad command line or configuration
EXIT_NETWORK = 3  # a remote service could not be reached or kept failing
EXIT_DATA = 4  # input data (feed, XML, JSONL, store) is malformed or missing
EXIT_PARTIAL = 5  # the run finished and published, but some step failed (e.g. delivery)
EXIT_BUSY = 6  # another paperradar run holds the database
EXIT_STORAGE = 7  # the machine refused: disk full, read-only or unwritable path, a file where a folder goes


class PaperradarError(Exception):
    exit_code = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class ConfigError(PaperradarError):
    exit_code = EXIT_USAGE


class UsageError(PaperradarError):
    exit_code = EXIT_USAGE


class NetworkError(PaperradarError):
    exit_code = EXIT_NETWORK


class DataError(PaperradarError):
    exit_code = EXIT_DATA


class BusyError(PaperradarError):
    exit_code = EXIT_BUSY


class StorageError(PaperradarError):
    """Local storage refused what paperradar had to do: the disk is full, a file or the database is
    read-only, a path is not writable, or a file stands where a folder should be. Not a bug: the message
    names the path and the fix."""

    exit_code = EXIT_STORAGE


_KEEP = "what was already stored is kept; run again once this is fixed"


def environment_error(exc: BaseException, database: object = None) -> PaperradarError | None:
    """The expected error an OSError or sqlite3 error from the environment stands for (None when `exc` is
    something else, i.e. a bug). `database` is the archive's path, named in database errors."""
    import errno
    import sqlite3

    if isinstance(exc, OSError) and exc.errno is not None:
        path = exc.filename if exc.filename is not None else "a file"
        table = {
            errno.ENOSPC: (
                "no space left on the device",
                "free disk space, or point the path at another disk",
            ),
            errno.EDQUOT: ("the disk quota is used up", "free space in your quota, or choose another disk"),
            errno.EFBIG: (
                "the file is too large for this system (a file size limit)",
                "raise the limit (ulimit -f)",
            ),
            errno.EROFS: ("the file system is read-only", "point the path at a writable folder"),
            errno.EACCES: ("permission denied", "make it writable by this user, or choose another path"),
            errno.EPERM: ("operation not permitted", "make it writable by this user, or choose another path"),
            errno.ENOTDIR: (
                "a part of this path is a file, not a folder",
                "move that file away, or choose another path in the config",
            ),
            errno.EEXIST: (
                "a file is in the way where a folder should be",
                "move it away, or choose another path",
            ),
            errno.EISDIR: ("this is a folder where a file should be", "move it away, or choose another path"),
            errno.EIO: ("input/output error (a failing disk or a lost network mount?)", "check the disk"),
        }
        if exc.errno in table:
            what, fix = table[exc.errno]
            return StorageError(f"{path}: {what}", hint=f"{fix}; {_KEEP}")
        return None
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        db = str(database) if database is not None else "the database"
        text = str(exc)
        if name == "SQLITE_FULL" or "disk is full" in text:
            return StorageError(
                f"{db}: the disk is full", hint=f"free disk space, or move [store].path; {_KEEP}"
            )
        if name.startswith("SQLITE_IOERR"):
            return StorageError(
                f"{db}: {text}: the disk may be full, over a file size limit, or failing",
                hint=f"free disk space and check the disk; {_KEEP}",
            )
        if name.startswith("SQLITE_READONLY"):
            return StorageError(
                f"{db} is read-only",
                hint="read-only commands (search, show) work on it; to write, make the file and its "
                "folder writable by this user",
            )
        if name.startswith("SQLITE_CANTOPEN"):
            return StorageError(
                f"cannot open or create the database {db}",
                hint="check that its folder exists, is a folder, and is writable ([store].path)",
            )
        if "cannot rollback" in text or "cannot commit" in text:
            return StorageError(
                f"{db}: a write failed and SQLite already undid it ({text}); the disk may be full",
                hint=f"free disk space and check the disk; {_KEEP}",
            )
        if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return BusyError(
                f"{db} stayed locked by another program ({text})", hint="close it, then run again"
            )
        if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
            return DataError(f"{db} is damaged: {text}", hint="restore it from a copy, or move it away")
    return None
