"""The `llm` seam: what a writing backend is and which tasks it may be asked for.

A backend turns (paper, task, language) requests into GeneratedText, or None when it cannot do that task
honestly (the extractive backend cannot translate a title, so it does not pretend to). Caching is not the
backend's job: `paperradar.write.write_texts` looks in the store first, so nothing is computed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from paperradar.errors import ConfigError
from paperradar.models import GeneratedText, Paper

# The tasks the digest needs. Later backends add more (interest, company) behind the same seam.
TASKS = ("summary", "title")


@dataclass(frozen=True, slots=True)
class WriteRequest:
    paper: Paper
    task: str
    language: str  # the language the reader asked for


@dataclass(frozen=True, slots=True)
class Declined:
    """A backend's honest "no": `failed` is retried on the next run, `skipped` (content filter, budget
    exhausted) is recorded with its reason. Never a made-up value in place of an answer."""

    status: str  # failed | skipped
    detail: str


WriteResult = GeneratedText | Declined | None  # None: the backend does not do this task at all


@runtime_checkable
class Backend(Protocol):
    """`name` is what the store records as the model ("extractive", or e.g. "deepseek-chat")."""

    name: str

    def supports(self, task: str, language: str) -> bool: ...

    def text_language(self, task: str, language: str) -> str:
        """The language the backend's text for this request is actually in (the cache key uses it)."""
        ...

    def template_hash(self, task: str, language: str) -> str:
        """Changes whenever the prompt, template or algorithm changes, so old cached texts are not reused."""
        ...

    def write(
        self, requests: list[WriteRequest], on_result: Callable[[int, WriteResult], None] | None = None
    ) -> list[WriteResult]:
        """One result per request, in order. A backend that answers over time calls on_result(index,
        result) as each answer arrives (on the caller's thread), so the caller can store it at once."""
        ...


def get_backend(name: str, config: object | None = None) -> Backend:
    from paperradar.write.plugins import backend_factories

    factories = backend_factories()
    if name not in factories:
        known = ", ".join(sorted(factories)) or "none"
        raise ConfigError(f"unknown writing backend {name!r}", hint=f"installed backends: {known}")
    return factories[name](config)
