"""The `llm` seam: what a writing backend is and which tasks it may be asked for.

A backend turns (paper, task, language) requests into GeneratedText, or None when it cannot do that task
honestly (the extractive backend cannot translate a title, so it does not pretend to). Caching is not the
backend's job: `paperradar.llm.write_texts` looks in the store first, so nothing is computed twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from paperradar.llm.config import LLMConfig
from paperradar.models import DeclineReason, GeneratedText, Paper, TextStatus, Usage, decline_status

# The tasks the digest needs. Later backends add more (interest, company) behind the same seam.
TASKS = ("summary", "title")


@dataclass(frozen=True, slots=True)
class InterestProfile:
    """Whose interest an "interest" request scores, when several readers share one backend and one queue:
    their interests text and output languages (the reason comes in each). `reader` is part of the cache
    key, so two readers never share an interest answer; it is "" for the reader named "default", whose
    answers keep the key they had before readers existed. Every other task is reader-independent."""

    interests: str
    languages: tuple[str, ...]
    reader: str = ""


@dataclass(frozen=True, slots=True)
class WriteRequest:
    paper: Paper
    task: str
    language: str  # the language the reader asked for
    profile: InterestProfile | None = None  # "interest" only: the reader it scores for (None: the backend's)


@dataclass(frozen=True, slots=True)
class Declined:
    """A backend's honest "no", with the reason (see models.DeclineReason) and a one-line detail. Never a
    made-up value in place of an answer."""

    reason: DeclineReason
    detail: str

    @property
    def status(self) -> TextStatus:
        return decline_status(self.reason)


@dataclass(frozen=True, slots=True)
class CallProgress:
    """Passed to the progress callback after every request starts or ends (for a rich progress bar)."""

    calls: int  # requests finished
    in_flight: int
    failed: int
    tokens: int
    planned: int  # first-attempt requests planned by the current write() (retries and repairs come on top)


WriteResult = GeneratedText | Declined | None  # None: the backend does not do this task at all


@runtime_checkable
class Backend(Protocol):
    """`name` is what the store records as the model ("extractive", or e.g. "deepseek-chat")."""

    name: str

    @property
    def usage(self) -> Usage | None:
        """What the backend spent so far (calls, tokens, cost); None for one that calls no model."""
        ...

    def on_progress(self, callback: Callable[[CallProgress], None] | None) -> None:
        """Called after every model request starts or ends (for a progress bar); a no-op without a model."""
        ...

    def supports(self, task: str, language: str) -> bool: ...

    def text_language(self, task: str, language: str, profile: InterestProfile | None = None) -> str:
        """The language the backend's text for this request is actually in (the cache key uses it).
        `profile`: the reader an interest request scores for (llm/texts.py passes it only for a request
        that carries one, so a backend that never scores interest may leave the parameter out)."""
        ...

    def template_hash(self, task: str, language: str, profile: InterestProfile | None = None) -> str:
        """Changes whenever the prompt, template or algorithm changes, so old cached texts are not reused;
        for an interest request, also with the reader's profile (`profile`, as in text_language)."""
        ...

    def write(
        self, requests: list[WriteRequest], on_result: Callable[[int, WriteResult], None] | None = None
    ) -> list[WriteResult]:
        """One result per request, in order. A backend that answers over time calls on_result(index,
        result) as each answer arrives (on the caller's thread), so the caller can store it at once."""
        ...


@dataclass(frozen=True, slots=True)
class FollowUp:
    """Requests known only once some of the first are answered (the day's top waits for the interest
    scores): when the first requests at `gate` (indices) are answered, `more()` is awaited while every
    other call goes on, and what it returns joins the same queue; their results follow the first ones'."""

    gate: frozenset[int]
    more: Callable[[], Coroutine[Any, Any, list[WriteRequest]]]


@runtime_checkable
class StagedWriter(Protocol):
    """A backend that can add follow-up requests to a write already under way (one queue, one session).
    Others are given the follow-ups after the first write returns."""

    def write_staged(
        self,
        requests: list[WriteRequest],
        on_result: Callable[[int, WriteResult], None] | None,
        follow: FollowUp,
    ) -> list[WriteResult]: ...


class BackendFactory(Protocol):
    """What a plugin registers: builds a backend from the [llm] section, the reader's interests text and
    output languages (an interest answer gives its reason in each)."""

    def __call__(
        self, config: LLMConfig, *, interests: str = "", languages: Sequence[str] = ()
    ) -> Backend: ...


_T = TypeVar("_T")


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """asyncio.run, also from code that already runs an event loop (a notebook, a Playwright session): then in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
