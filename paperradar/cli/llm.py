"""`paperradar llm check`: is the configured endpoint reachable, is the key right, does the model exist."""

from __future__ import annotations

import sys

import click

from paperradar.cli.common import State, err, out, pass_state
from paperradar.errors import EXIT_NETWORK, EXIT_USAGE, UsageError
from paperradar.llm.check import check


@click.group()
def llm() -> None:
    """The configured LLM endpoint(s)."""


@llm.command("check")
@click.option("--endpoint", type=int, default=None, help="Only this endpoint (0-based index).")
@pass_state
def llm_check(state: State, endpoint: int | None) -> None:
    """Call each configured endpoint once: model, latency, whether JSON-schema output works."""
    cfg = state.cfg
    if cfg.llm.backend != "openai" or not cfg.llm.endpoints:
        raise UsageError(
            "no OpenAI-compatible endpoint is configured",
            hint='set [llm] backend = "openai" and add an [[llm.endpoints]] table (see `paperradar init --print`)',
        )
    indexes = [endpoint] if endpoint is not None else list(range(len(cfg.llm.endpoints)))
    worst = 0
    for i in indexes:
        if not 0 <= i < len(cfg.llm.endpoints):
            raise UsageError(
                f"--endpoint {i} does not exist", hint=f"there are {len(cfg.llm.endpoints)} endpoints"
            )
        result = check(cfg.llm, i)
        if result.error:
            err.print(f"error: endpoint {i} ({result.endpoint}): {result.error}", markup=False)
            worst = max(
                worst, EXIT_USAGE if result.problem in ("url", "key", "model", "config") else EXIT_NETWORK
            )
        else:
            schema = "yes" if result.json_schema_ok else "no (JSON is taken from the text instead)"
            out.print(
                f"ok endpoint {i} ({result.endpoint}): model {result.model}, {result.latency_s:.2f}s, "
                f"json_schema: {schema}",
                markup=False,
            )
    if worst:
        sys.exit(worst)
