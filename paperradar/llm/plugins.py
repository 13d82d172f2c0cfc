"""Loads the backend plugins: the built-in ones (llm/default_plugins/) first, then any installed under the
"paperradar" entry point, as simonw/llm does."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import pluggy

from paperradar.errors import ConfigError
from paperradar.llm import hookspecs
from paperradar.llm.config import LLMConfig
from paperradar.llm.seam import Backend, BackendFactory

DEFAULT_PLUGINS = (
    "paperradar.llm.default_plugins.extractive",
    "paperradar.llm.default_plugins.openai",
    "paperradar.llm.default_plugins.llamacpp",  # llama_cpp itself is imported only when the backend is built
)

pm = pluggy.PluginManager("paperradar")
pm.add_hookspecs(hookspecs)
_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name)
    pm.load_setuptools_entrypoints("paperradar")
    _loaded = True


def backend_factories() -> dict[str, BackendFactory]:
    _load()
    found: dict[str, BackendFactory] = {}

    def register(name: str, factory: BackendFactory) -> None:
        found[name] = factory

    pm.hook.register_backends(register=register)
    return found


def get_backend(
    name: str, config: LLMConfig | None = None, *, interests: str = "", languages: Sequence[str] = ()
) -> Backend:
    """The backend called `name`, built from the [llm] section (defaults when None)."""
    factories = backend_factories()
    if name not in factories:
        known = ", ".join(sorted(factories)) or "none"
        raise ConfigError(f"unknown writing backend {name!r}", hint=f"installed backends: {known}")
    return factories[name](config or LLMConfig(), interests=interests, languages=languages)
