"""The plugin seam for writing backends (extractive, OpenAI-compatible, llama.cpp; others plug in the same way).

A plugin is any module or object with a `register_backends` hook implementation; installed packages expose
them through the "paperradar" entry-point group, like simonw/llm's plugins.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from paperradar.llm.seam import BackendFactory

hookspec = pluggy.HookspecMarker("paperradar")
hookimpl = pluggy.HookimplMarker("paperradar")


@hookspec
def register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    """Call register(name, factory) for each backend; factory(llm_config, interests=...) returns a Backend."""
