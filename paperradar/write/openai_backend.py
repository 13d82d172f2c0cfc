"""LLM writing backend for any OpenAI-compatible chat endpoint (OpenAI, DeepSeek, Qwen/DashScope, vLLM,
llama.cpp server, Ollama...), and the task logic shared with the in-process llama.cpp backend.

Tasks: "title" (translate into zh/ja; English titles need no translation, so en is unsupported),
"summary" (3 to 5 sentences), "interest" (k papers per request; stored as {"score": n, "reason": "..."}),
"company" (from affiliation text; stored as {"company": ... or null, "evidence": "..."}).

`name` is the model name, which the store records with every text. All endpoints must serve the same
model (the config enforces it): they exist to spread load, and texts from different models must not share
a cache entry.

write() is synchronous for the pipeline and runs an asyncio loop inside. Each answer is validated; an
invalid one gets exactly one repair request with the error, then the request is Declined("failed").
A batch whose answer lacks some ids (or has bad items) is completed by asking for those papers singly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from paperradar.errors import ConfigError
from paperradar.models import GeneratedText
from paperradar.write.llm import Declined, WriteRequest, WriteResult
from paperradar.write.llm_client import (
    CallDeclined,
    ChatClient,
    ChatReply,
    Progress,
    Usage,
    _error_info,
    _read_key,
    is_schema_rejection,
    redact,
)
from paperradar.write.llm_config import LLMConfig
from paperradar.write.llm_prompts import Prompt, estimate_tokens, render, template_hash
from paperradar.write.schemas import (
    LANGUAGE_NAMES,
    AnswerError,
    check_interest,
    check_text,
    extract_json,
    interest_content,
    parse_answer,
    response_schema,
)

log = logging.getLogger("paperradar.llm")

LLM_TASKS = ("interest", "title", "summary", "company")
_REPAIR = (
    "Your answer could not be used: {error}. Reply again with only the JSON object the instructions ask for."
)
_CUT_OFF = "(an answer of {n} characters, cut off at the length limit; not repeated here)"
_T = TypeVar("_T")


def llm_section(config: object | None) -> LLMConfig:
    """The [llm] section from a full Config (cfg.llm), an LLMConfig, or the defaults."""
    if isinstance(config, LLMConfig):
        return config
    section = getattr(config, "llm", None)
    return section if isinstance(section, LLMConfig) else LLMConfig()


def reader_interests(config: object | None) -> str:
    reader = getattr(config, "reader", None)
    return str(getattr(reader, "interests", "") or "")


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """asyncio.run, also from code that already runs an event loop (a notebook): then in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class ChatBackend:
    """The task logic over an abstract chat call; subclasses provide `_call` and `_session`."""

    name: str
    usage: Usage

    def __init__(self, cfg: LLMConfig, interests: str, params: dict[str, Any]):
        self.cfg = cfg
        self.interests = interests
        self.params = params  # request params that change the output; part of the template hash

    # -- the seam -------------------------------------------------------------------------------------
    def supports(self, task: str, language: str) -> bool:
        if task not in LLM_TASKS or language not in LANGUAGE_NAMES:
            return False
        return not (task == "title" and language == "en")  # an English title needs no translation

    def text_language(self, task: str, language: str) -> str:
        return language

    def template_hash(self, task: str, language: str) -> str:
        extra: dict[str, Any] = {}
        if task in ("interest", "company"):
            extra["abstract_tokens"] = self.cfg.score_abstract_tokens
        if task == "interest":
            extra["profile"] = " ".join(self.interests.split())  # new interests: new scores
        return template_hash(task, language, self.params, extra)

    def write(
        self, requests: list[WriteRequest], on_result: Callable[[int, WriteResult], None] | None = None
    ) -> list[WriteResult]:
        if not requests:
            return []
        return run_sync(self._write_all(requests, on_result))

    # -- transport hooks ------------------------------------------------------------------------------
    async def _call(
        self,
        prompt: Prompt,
        task: str,
        schema: dict[str, Any] | None,
        messages: list[dict[str, str]] | None = None,
    ) -> ChatReply:
        raise NotImplementedError

    def _session(self) -> Any:
        raise NotImplementedError

    def _plan(self, calls: int) -> None:
        """Told how many first-attempt calls a write() makes (for progress)."""

    # -- jobs -----------------------------------------------------------------------------------------
    async def _write_all(
        self, requests: list[WriteRequest], on_result: Callable[[int, WriteResult], None] | None = None
    ) -> list[WriteResult]:
        results: list[WriteResult] = [None] * len(requests)
        jobs: list[tuple[Coroutine[Any, Any, None], list[int]]] = []
        groups: dict[str, dict[str, list[int]]] = {}  # language -> paper id -> request indices
        for i, req in enumerate(requests):
            if not self.supports(req.task, req.language):
                continue
            if req.task == "interest":
                groups.setdefault(req.language, {}).setdefault(req.paper.arxiv_id, []).append(i)
            else:
                jobs.append((self._single(requests, [i], results), [i]))
        batches = []
        for by_id in groups.values():
            owners = list(by_id.values())
            size = self.cfg.batch_size
            batches += [owners[k : k + size] for k in range(0, len(owners), size)]
        # Batches first: they take longest, so they should not be the tail of the run.
        jobs = [
            (self._batch(requests, b, results), [i for owners in b for i in owners]) for b in batches
        ] + jobs
        self._plan(len(jobs))
        async with self._session():
            await asyncio.gather(*(self._guard(job, owners, results, on_result) for job, owners in jobs))
        # A bug in one job must not lose the others' answers: whatever it left unset is failed, retried next run.
        return [
            Declined("failed", "internal error (see log)")
            if r is None and self.supports(q.task, q.language)
            else r
            for r, q in zip(results, requests, strict=True)
        ]

    async def _guard(
        self,
        job: Coroutine[Any, Any, None],
        owners: list[int],
        results: list[WriteResult],
        on_result: Callable[[int, WriteResult], None] | None,
    ) -> None:
        try:
            await job
        except Exception:
            log.exception("LLM job failed unexpectedly")
        if on_result is not None:
            for i in owners:
                if results[i] is not None:
                    on_result(i, results[i])

    async def _single(
        self, requests: list[WriteRequest], owners: list[int], results: list[WriteResult]
    ) -> None:
        req = requests[owners[0]]
        result = await self._answer_one(req)
        for i in owners:
            results[i] = self._retag(result, requests[i])

    async def _answer_one(self, req: WriteRequest) -> WriteResult:
        task, lang = req.task, req.language
        prompt = render(task, [req.paper], lang, self.interests, self.cfg.score_abstract_tokens)
        schema = response_schema(task, prompt.ids)
        source = req.paper.title if task == "title" else prompt.messages[1]["content"]

        def validate(text: str) -> str:
            if task == "interest":
                good, bad = check_interest(text, prompt.ids, lang, source)
                if bad:
                    raise AnswerError(next(iter(bad.values())))
                return interest_content(good[prompt.ids[0]])
            return check_text(task, parse_answer(task, text), lang, source)

        try:
            content = await self._ask(prompt, task, schema, validate)
        except CallDeclined as d:
            return Declined(d.status, d.detail)
        return self._text(req, content)

    async def _ask(
        self, prompt: Prompt, task: str, schema: dict[str, Any] | None, validate: Callable[[str], _T]
    ) -> _T:
        """An answer that passes `validate`, with one repair round-trip; else CallDeclined("failed")."""
        reply = await self._call(prompt, task, schema)
        try:
            return validate(reply.content)
        except AnswerError as exc:
            error = self._problem(reply, exc)
        log.info("LLM %s answer invalid (%s); asking once more", task, error)
        self.usage.repairs += 1
        # The whole answer goes back, so the model can fix the one field that failed; never a cut-off one
        # (a review cut at N characters came back as truncated JSON): an answer that hit the length limit
        # is not repeated, only said to be cut off (roles still alternate for strict chat templates).
        shown = reply.content if reply.finish_reason != "length" else _CUT_OFF.format(n=len(reply.content))
        repair = [
            *prompt.messages,
            {"role": "assistant", "content": shown},
            {"role": "user", "content": _REPAIR.format(error=error)},
        ]
        reply = await self._call(prompt, task, schema, repair)
        try:
            return validate(reply.content)
        except AnswerError as exc:
            raise CallDeclined(
                "failed", f"invalid answer after one repair: {self._problem(reply, exc)}", "invalid"
            ) from None

    @staticmethod
    def _problem(reply: ChatReply, exc: AnswerError) -> str:
        if reply.finish_reason == "length":
            return "the answer was cut off at the length limit; answer again, more briefly"
        return str(exc)

    async def _batch(
        self, requests: list[WriteRequest], owners: list[list[int]], results: list[WriteResult]
    ) -> None:
        if len(owners) == 1:
            await self._single(requests, owners[0], results)
            return
        first = [requests[o[0]] for o in owners]
        lang = first[0].language
        prompt = render(
            "interest", [r.paper for r in first], lang, self.interests, self.cfg.score_abstract_tokens
        )
        by_id = dict(zip(prompt.ids, owners, strict=True))
        schema = response_schema("interest", prompt.ids)
        good: dict[str, Any] = {}
        try:
            good, bad = await self._ask(
                prompt,
                "interest",
                schema,
                lambda text: check_interest(text, prompt.ids, lang, prompt.messages[1]["content"]),
            )
        except CallDeclined as d:
            if d.kind not in ("filter", "invalid"):
                # Budget or transport failure: singles would only fail the same way, k times over.
                for o in owners:
                    for i in o:
                        results[i] = Declined(d.status, d.detail)
                return
            # A content filter may object to one paper only; an unusable answer may be one paper's fault.
            bad = {pid: d.detail for pid in prompt.ids}
        for pid, item in good.items():
            for i in by_id[pid]:
                results[i] = self._text(requests[i], interest_content(item))
        if bad:
            log.info(
                "LLM interest batch: %d of %d papers retried singly (%s)",
                len(bad),
                len(prompt.ids),
                next(iter(bad.values())),
            )
            await asyncio.gather(*(self._single(requests, by_id[pid], results) for pid in bad))

    # -- results --------------------------------------------------------------------------------------
    def _text(self, req: WriteRequest, content: str) -> GeneratedText:
        return GeneratedText(
            arxiv_id=req.paper.arxiv_id,
            version=req.paper.version,
            task=req.task,
            language=self.text_language(req.task, req.language),
            content=content,
            mode=self.name,
            template_hash=self.template_hash(req.task, req.language),
            created_at=datetime.now(UTC).replace(microsecond=0),
        )

    def _retag(self, result: WriteResult, req: WriteRequest) -> WriteResult:
        """The same answer for a duplicate request of the same paper (e.g. two versions in one list)."""
        if isinstance(result, GeneratedText) and result.version != req.paper.version:
            return self._text(req, result.content)
        return result


class OpenAIBackend(ChatBackend):
    """`OpenAIBackend(config)` with config a full Config (uses cfg.llm and cfg.reader.interests) or an
    LLMConfig. `usage` accumulates over write() calls; `progress` gets a Progress after every request."""

    def __init__(
        self,
        config: object | None = None,
        *,
        interests: str | None = None,
        progress: Callable[[Progress], None] | None = None,
        backoff: float = 0.5,
    ):
        cfg = llm_section(config)
        if not cfg.endpoints:
            raise ConfigError(
                "the openai backend needs at least one endpoint",
                hint="add [[llm.endpoints]] with base_url, model and api_key_env to the config",
            )
        super().__init__(
            cfg, reader_interests(config) if interests is None else interests, dict(cfg.endpoints[0].params)
        )
        self.client = ChatClient(cfg, progress=progress, backoff=backoff)
        self.name = cfg.endpoints[0].model
        self.usage = self.client.usage

    @property
    def progress(self) -> Callable[[Progress], None] | None:
        return self.client.progress

    @progress.setter
    def progress(self, callback: Callable[[Progress], None] | None) -> None:
        """Settable after get_backend(): e.g. a rich progress bar's update function."""
        self.client.progress = callback

    async def _call(
        self,
        prompt: Prompt,
        task: str,
        schema: dict[str, Any] | None,
        messages: list[dict[str, str]] | None = None,
    ) -> ChatReply:
        msgs = messages or prompt.messages
        est = prompt.est_tokens + sum(estimate_tokens(m["content"]) for m in msgs[2:])
        return await self.client.chat(msgs, task, schema, est)

    def _session(self) -> Any:
        return self.client.session()

    def _plan(self, calls: int) -> None:
        self.client.planned = calls


# --- `paperradar llm check` ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    model: str
    latency_s: float | None  # of the successful call
    json_schema_ok: bool | None  # None: not tried (json_schema = "off") or no answer at all
    error: str | None  # one line saying what is wrong and which key to fix
    endpoint: str = ""
    # What to fix when error is set: url | key | model | timeout | config | http (exit codes: config-ish
    # problems are the user's to fix, http/timeout may be the provider's).
    problem: str | None = None


def check(config: object | None, endpoint: int = 0) -> CheckResult:
    """One small request to an endpoint (two if it rejects response_format json_schema)."""
    cfg = llm_section(config)
    if not cfg.endpoints:
        return CheckResult(
            cfg.model,
            None,
            None,
            "no [[llm.endpoints]] in the config; add one with base_url and model",
            problem="config",
        )
    ep = cfg.endpoints[endpoint]
    try:
        key = _read_key(endpoint, ep)
    except ConfigError as exc:
        return CheckResult(ep.model, None, None, f"{exc.message}; {exc.hint}", ep.base_url, "key")
    return run_sync(_check(cfg, endpoint, key))


async def _check(cfg: LLMConfig, index: int, key: str | None) -> CheckResult:
    ep = cfg.endpoints[index]
    where = f"[llm].endpoints[{index}]"
    url = f"{ep.base_url}/chat/completions"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": False,
    }
    use_schema = cfg.json_schema != "off"
    schema_ok: bool | None = None

    def done(error: str | None, latency: float | None = None, problem: str | None = None) -> CheckResult:
        text = redact(error, [key or ""]) if error else None
        return CheckResult(ep.model, latency, schema_ok, text, ep.base_url, problem)

    async with httpx.AsyncClient(timeout=None) as client:
        while True:
            body: dict[str, Any] = {
                "model": ep.model,
                "messages": [
                    {"role": "system", "content": 'Reply with JSON only: {"ok":true}'},
                    {"role": "user", "content": "ping"},
                ],
                **ep.params,
            }
            if use_schema:
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "check", "strict": True, "schema": schema},
                }
            start = time.monotonic()
            try:
                async with asyncio.timeout(ep.timeout):
                    resp = await client.post(url, json=body, headers=headers)
            except (TimeoutError, httpx.TimeoutException):
                return done(
                    f"no answer from {ep.base_url} within {ep.timeout:g}s; check {where}.base_url "
                    "or raise its timeout",
                    problem="timeout",
                )
            except httpx.ConnectError as exc:
                return done(f"cannot connect to {ep.base_url} ({exc}); check {where}.base_url", problem="url")
            except httpx.TransportError as exc:
                return done(
                    f"cannot reach {ep.base_url} ({type(exc).__name__}: {exc}); check {where}.base_url",
                    problem="url",
                )
            latency = time.monotonic() - start
            code, message = _error_info(resp)
            status = resp.status_code
            if status == 200:
                try:
                    content = resp.json()["choices"][0]["message"].get("content") or ""
                except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                    return done(
                        f"{url} answered 200 but not as a chat completion; check {where}.base_url",
                        problem="url",
                    )
                if use_schema:
                    try:
                        schema_ok = extract_json(content).get("ok") is True
                    except (AnswerError, AttributeError):
                        schema_ok = False
                return done(None, latency)
            if status in (400, 422) and use_schema and is_schema_rejection(code, message):
                schema_ok, use_schema = False, False
                continue
            if status in (401, 403):
                if not key:
                    return done(
                        f"HTTP {status}: the endpoint wants an API key; set {where}.api_key_env",
                        problem="key",
                    )
                return done(
                    f"API key rejected (HTTP {status}); check the environment variable {ep.api_key_env}",
                    problem="key",
                )
            if status == 404:
                if "model" in f"{code} {message}".lower():
                    return done(
                        f"model {ep.model!r} not found at {ep.base_url}; check {where}.model ({message})",
                        problem="model",
                    )
                return done(
                    f"HTTP 404 at {url}; check {where}.base_url (it usually ends in /v1)", problem="url"
                )
            return done(f"HTTP {status} from {ep.base_url}: {message}", problem="http")
