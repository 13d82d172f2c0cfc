"""The LLM tasks of the highlight, review and dialogue styles, on top of the run's chat backend.

`StyleBackend(inner)` is a Backend: the tasks "style:highlight", "style:review" and "style:dialogue" go
through `inner`'s chat transport and repair loop (ChatBackend._ask: one repair request with the error, then
Declined), so they share its endpoints, concurrency, rate limits, budget and usage counters; every other
task is passed to `inner` unchanged. Composition rather than a subclass: the pipeline builds one backend
per run (its budget spans the run) and this wraps that very object, whichever chat backend it is
(OpenAI-compatible or llama.cpp).

Prompts live in write/styles/prompt_templates/ and are versioned by hash like llm/prompt_templates/. Paper text (title,
abstract, the full text fitted to a token budget) travels only inside one <paper id="..."> data block.
Each validated answer is checked for faithfulness against the paper (write/checks/faithful.py) and stored as
JSON: {"style", "model", "data", "source": html|pdf|abstract, "faithful": {"checked", "unverified": [...]}}.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache, partial
from importlib import resources
from typing import Any

import jinja2

from paperradar.llm.chat import ChatBackend
from paperradar.llm.client import CallDeclined
from paperradar.llm.prompts import Prompt, defuse, safe_id
from paperradar.llm.schemas import LANGUAGE_NAMES
from paperradar.llm.seam import (
    Backend,
    CallProgress,
    Declined,
    FollowUp,
    InterestProfile,
    WriteRequest,
    WriteResult,
)
from paperradar.llm.texts import write_then
from paperradar.models import GeneratedText, Paper, SourceProvider, SourceText, Usage
from paperradar.text.style_labels import TOPIC_KEYS
from paperradar.text.tokens import estimate_tokens
from paperradar.write.checks.faithful import Report, check_faithfulness
from paperradar.write.styles.schemas import LIMITS, parse_style_answer, prose_fields, response_schema

log = logging.getLogger(__name__)

STYLE_TASKS = ("style:highlight", "style:review", "style:dialogue")
# Bump when the code around the prompts changes what is sent or how answers are checked.
STYLE_PROMPT_VERSION = "2"
# Styles whose prompt carries the full text (the highlight works from the abstract: cheaper, and enough).
FULLTEXT_STYLES = frozenset({"review", "dialogue"})
# What each style's prompt carries besides the title and abstract: only what the style uses (the
# highlight names no authors and no venue, so it is sent neither).
STYLE_INPUTS = {
    "highlight": frozenset({"affiliations"}),
    "review": frozenset({"authors", "affiliations", "comment", "fulltext"}),
    "dialogue": frozenset({"authors", "affiliations", "comment", "fulltext"}),
}

_env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


@cache
def prompt_source(name: str) -> str:
    return resources.files("paperradar.write.styles").joinpath("prompt_templates", name).read_text("utf-8")


@cache
def _compiled(name: str) -> jinja2.Template:
    return _env.from_string(prompt_source(name))  # compiling costs ~10 ms: once per template per process


def _defuse_lines(text: str) -> str:
    """defuse() per line: the full text keeps its section layout, and no line can close the data block."""
    return "\n".join(d for d in (defuse(line) for line in text.splitlines()) if d)


def render_prompt(style: str, paper: Paper, language: str, source: SourceText | None = None) -> Prompt:
    pid = safe_id(paper.arxiv_id)
    use_full = style in FULLTEXT_STYLES and source is not None and bool(source.text)
    affiliations = list(paper.affiliations) or list(source.affiliations if source else ())
    inputs = STYLE_INPUTS.get(style, frozenset())
    data = {
        "id": pid,
        "title": defuse(paper.title),
        "authors": defuse(", ".join(paper.authors[:12]) + (" et al." if len(paper.authors) > 12 else ""))
        if "authors" in inputs
        else "",
        "affiliations": defuse("; ".join(affiliations)) if "affiliations" in inputs else "",
        "comment": defuse(paper.comment or "") if "comment" in inputs else "",
        "abstract": defuse(paper.abstract),
        "fulltext": _defuse_lines(source.text) if use_full and source else "",
        "source": source.origin if use_full and source else "abstract",
    }
    ctx = {
        "language": LANGUAGE_NAMES.get(language, language),
        "topics": ", ".join(TOPIC_KEYS),
        "limits": LIMITS,  # the validator's limits, stated in the prompt in words
        "p": data,
    }
    system = _compiled(f"{style}.system.j2").render(ctx).strip()
    user = _compiled("paper.user.j2").render(ctx).strip()
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return Prompt(messages, [pid], estimate_tokens(system) + estimate_tokens(user) + 8)


def style_template_hash(style: str, language: str, params: Mapping[str, Any], fulltext_tokens: int) -> str:
    """Changes with the prompts, the language, the request params and the full-text budget."""
    blob = json.dumps(
        {
            "v": STYLE_PROMPT_VERSION,
            "style": style,
            "language": language,
            "system": prompt_source(f"{style}.system.j2"),
            "user": prompt_source("paper.user.j2"),
            "params": dict(params),
            "fulltext_tokens": fulltext_tokens if style in FULLTEXT_STYLES else 0,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def check_answer(data: dict[str, Any], paper: Paper, source: SourceText | None, language: str) -> Report:
    """Faithfulness of every prose field of an answer against everything we know the paper says."""
    # Authors too: a text that credits "Dillon Davis et al." names people the paper names.
    sources = [paper.title, paper.abstract, paper.comment or "", *paper.authors, *paper.affiliations]
    if source is not None:
        sources += [*source.checks, source.text, *source.affiliations]
    text = "\n".join(value for _, value in prose_fields(data))
    return check_faithfulness(text, sources, language)


class StyleBackend:
    """A Backend that adds the style tasks to a chat backend (see the module doc)."""

    def __init__(
        self,
        inner: Backend,
        *,
        sources: Mapping[str, SourceText] | SourceProvider | None = None,
        fulltext_tokens: int = 6000,
    ):
        self.inner = inner
        self.name = inner.name
        # arxiv_id -> its text, or a provider that fetches it while other calls run (sources/fulltext.py)
        self.sources: dict[str, SourceText] = {}
        self.provider: SourceProvider | None = None
        if isinstance(sources, Mapping):
            self.sources = dict(sources)
        elif sources is not None:
            self.provider = sources
        self.fulltext_tokens = fulltext_tokens
        self._hashes: dict[tuple[str, str], str] = {}

    @property
    def usage(self) -> Usage | None:
        return self.inner.usage

    def on_progress(self, callback: Callable[[CallProgress], None] | None) -> None:
        self.inner.on_progress(callback)

    @property
    def chat(self) -> ChatBackend | None:
        return self.inner if isinstance(self.inner, ChatBackend) else None

    # -- the seam -------------------------------------------------------------------------------------
    def supports(self, task: str, language: str) -> bool:
        if task in STYLE_TASKS:
            return self.chat is not None and language in LANGUAGE_NAMES
        return self.inner.supports(task, language)

    def text_language(self, task: str, language: str, profile: InterestProfile | None = None) -> str:
        if task in STYLE_TASKS:
            return language
        if profile is None:
            return self.inner.text_language(task, language)
        return self.inner.text_language(task, language, profile=profile)

    def template_hash(self, task: str, language: str, profile: InterestProfile | None = None) -> str:
        if task not in STYLE_TASKS:
            if profile is None:
                return self.inner.template_hash(task, language)
            return self.inner.template_hash(task, language, profile=profile)
        # Asked for every request and every answer of the day: the hash of the prompt sources, once.
        found = self._hashes.get((task, language))
        if found is None:
            params = self.chat.params if self.chat is not None else {}
            found = style_template_hash(task.split(":", 1)[1], language, params, self.fulltext_tokens)
            self._hashes[(task, language)] = found
        return found

    def write(
        self, requests: list[WriteRequest], on_result: Callable[[int, WriteResult], None] | None = None
    ) -> list[WriteResult]:
        chat = self.chat
        if chat is not None:
            # One queue: the style tasks run in the chat backend's own session beside every other request.
            handlers = {task: partial(self._one, chat) for task in STYLE_TASKS}
            return chat.write(requests, on_result, handlers)
        results: list[WriteResult] = [None] * len(requests)
        others = [i for i, r in enumerate(requests) if r.task not in STYLE_TASKS]
        if others:
            inner_report = None if on_result is None else (lambda j, result: on_result(others[j], result))
            answered = self.inner.write([requests[i] for i in others], on_result=inner_report)
            for i, result in zip(others, answered, strict=True):
                results[i] = result
        return results

    def write_staged(
        self,
        requests: list[WriteRequest],
        on_result: Callable[[int, WriteResult], None] | None,
        follow: FollowUp,
    ) -> list[WriteResult]:
        chat = self.chat
        if chat is None:
            return write_then(self, requests, on_result, follow)
        handlers = {task: partial(self._one, chat) for task in STYLE_TASKS}
        return chat.write_staged(requests, on_result, follow, handlers)

    # -- the calls ------------------------------------------------------------------------------------
    async def _source(self, paper: Paper) -> SourceText | None:
        if self.provider is not None:
            return await self.provider.get(paper)
        return self.sources.get(paper.arxiv_id)

    async def _one(self, chat: ChatBackend, req: WriteRequest) -> WriteResult:
        if not self.supports(req.task, req.language):
            return None
        style = req.task.split(":", 1)[1]
        # A review or dialogue waits for its paper's full text; nothing else waits for it.
        source = await self._source(req.paper) if style in FULLTEXT_STYLES else None
        prompt = render_prompt(style, req.paper, req.language, source)
        from_abstract = source is None or not source.text  # the review then has a shorter schema
        sent = prompt.messages[1]["content"]
        try:
            data = await chat._ask(
                prompt,
                f"style_{style}",  # the wire name: response_format names allow [A-Za-z0-9_-] only
                response_schema(style, from_abstract),
                lambda text: parse_style_answer(style, text, req.language, sent, from_abstract=from_abstract),
            )
        except CallDeclined as d:
            return Declined(d.reason, d.detail)
        except Exception as exc:  # a bug must not lose the other answers of the run
            log.exception("style task %s for %s failed unexpectedly", req.task, req.paper.arxiv_id)
            return Declined("failed", f"internal error: {type(exc).__name__}: {exc}")
        report = check_answer(data, req.paper, source, req.language)
        content = {
            "style": style,
            "model": self.name,  # so a page rendered from the stored JSON alone can say who wrote it
            "data": data,
            "source": source.origin if source is not None and source.text else "abstract",
            "faithful": report.as_dict(),
        }
        return GeneratedText(
            arxiv_id=req.paper.arxiv_id,
            version=req.paper.version,
            task=req.task,
            language=req.language,
            content=json.dumps(content, ensure_ascii=False),
            mode=self.name,
            template_hash=self.template_hash(req.task, req.language),
            created_at=datetime.now(UTC).replace(microsecond=0),
        )
