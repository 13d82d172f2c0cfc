"""Registers the LLM writing backends with the plugin manager (add this module to DEFAULT_PLUGINS).

The factories import their modules only when called, so listing backends costs nothing and the optional
llama-cpp-python dependency is never imported unless "llamacpp" is chosen.
"""

from __future__ import annotations

from typing import Any

from paperradar.write.hookspecs import hookimpl


def _openai(config: object | None = None, **kwargs: Any) -> Any:
    from paperradar.write.openai_backend import OpenAIBackend

    return OpenAIBackend(config, **kwargs)


def _llamacpp(config: object | None = None, **kwargs: Any) -> Any:
    from paperradar.write.llamacpp_backend import LlamaCppBackend

    return LlamaCppBackend(config, **kwargs)


@hookimpl
def register_backends(register):  # type: ignore[no-untyped-def]
    register("openai", _openai)
    register("llamacpp", _llamacpp)
