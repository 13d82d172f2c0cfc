"""The CLI run in-process, as the console script runs it: `cli(*args)` calls paperradar.cli.main with those
arguments and returns the exit code it ends with (main always raises SystemExit). No click runner, no
subprocess: stdout/stderr go where pytest's capsys sees them."""

from __future__ import annotations

import pytest

from paperradar.cli import main


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    return int(info.value.code or 0)
