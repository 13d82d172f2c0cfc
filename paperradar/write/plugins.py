"""Loads the backend plugins: the built-in ones first, then any installed under the "paperradar" entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from paperradar.write import hookspecs

DEFAULT_PLUGINS = ("paperradar.write.extractive_backend", "paperradar.write.llm_plugin")

pm = pluggy.PluginManager("paperradar")
pm.add_hookspecs(hookspecs)
_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    import importlib

    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name)
    pm.load_setuptools_entrypoints("paperradar")
    _loaded = True


def backend_factories() -> dict[str, Callable[..., Any]]:
    _load()
    found: dict[str, Callable[..., Any]] = {}

    def register(name: str, factory: Callable[..., Any]) -> None:
        found[name] = factory

    pm.hook.register_backends(register=register)
    return found
