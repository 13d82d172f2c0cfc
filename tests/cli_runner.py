"""The CLI run in-process, as the console script runs it: `cli(*args)` calls paperradar.cli.main with those
arguments and returns the exit code it ends with (main always raises SystemExit). No click runner, no
subprocess: stdout/stderr go where pytest's capsys sees them."""

from __future__ import annotations

import contextlib
import io
import logging

import pytest

from paperradar.cli import main


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    return int(info.value.code or 0)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def run_cli(*args: str) -> tuple[int, str, str]:
    """`paperradar ...` in-process: exit code, stdout, and stderr plus the warnings logged (works in
    module-scoped fixtures, where capsys and caplog do not)."""
    out, err = io.StringIO(), io.StringIO()
    logged = _Lines()
    logger = logging.getLogger("paperradar")
    logger.addHandler(logged)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli(*args)
    finally:
        logger.removeHandler(logged)
    return code, out.getvalue(), err.getvalue() + "".join(f"{line}\n" for line in logged.lines)
