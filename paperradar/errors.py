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
