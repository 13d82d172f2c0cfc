"""The HTTP side of the OpenAI-compatible backend: async calls to /chat/completions over one or more
endpoints, with a global in-flight limit, per-endpoint rpm/tpm token buckets, retries with backoff that
honour Retry-After, content-filter detection, usage/cost accounting and the per-run budget.

Every error text that leaves this module goes through `redact`, so an API key never reaches an exception,
a log line or a stored Declined detail, even when a server echoes it back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import ssl
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

import httpx

from paperradar.errors import ConfigError
from paperradar.llm.config import EndpointConfig, LLMConfig
from paperradar.llm.seam import CallProgress
from paperradar.models import DeclineReason, Usage
from paperradar.sources import resilience
from paperradar.sources.resilience import (
    ACCEPT_ENCODING,
    Attempt,
    BadBody,
    Deadline,
    Expired,
    GaveUp,
    Outcome,
    RetryPolicy,
    TooLarge,
)
from paperradar.text.tokens import estimate_tokens

log = logging.getLogger("paperradar.llm")

MAX_RETRY_AFTER = 120.0  # a longer Retry-After (a daily quota) is not waited for: the call fails instead
# How providers say a content filter refused: OpenAI/Azure, DashScope (Qwen), DeepSeek, and Zhipu, whose
# 400 answer carries code 1301 and a Chinese message (tests/fixtures/llm_dialects/README.md cites each).
_FILTER_WORDS = (
    "content_filter",
    "content filter",
    "content management policy",
    "data_inspection_failed",
    "inappropriate content",
    "content_policy",
    "content exists risk",
    "敏感内容",
)
_FILTER_CODES = frozenset({"1301"})
# finish_reason values that mean the provider's moderation cut the answer (Zhipu: "sensitive").
_FILTER_FINISH = frozenset({"content_filter", "sensitive"})


class CallDeclined(Exception):
    """A call that will not produce an answer, with its reason: failed | invalid | budget (every later call
    too) | refused (content filter: this text only)."""

    def __init__(self, reason: DeclineReason, detail: str):
        super().__init__(detail)
        self.reason: DeclineReason = reason
        self.detail = detail


@dataclass(slots=True)
class ChatReply:
    content: str
    finish_reason: str
    tokens_in: int
    tokens_out: int
    estimated: bool  # token counts estimated from characters (the server sent no usage)
    schema_used: bool  # response_format json_schema was in effect


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class TokenBucket:
    """`rate` units per second, holding up to one second's worth (providers enforce per-minute limits in
    short windows, so bursts of a minute's worth get 429s). A request bigger than the bucket waits for a
    full bucket and leaves it in debt."""

    def __init__(self, per_minute: float):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self.stamp = time.monotonic()

    async def take(self, amount: float) -> None:
        while True:
            now = time.monotonic()
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
            self.stamp = now
            need = min(amount, self.capacity)
            if self.level >= need:
                self.level -= amount
                return
            await asyncio.sleep((need - self.level) / self.rate)


class Endpoint:
    def __init__(self, index: int, cfg: EndpointConfig, json_schema: str):
        self.index = index
        self.cfg = cfg
        self.key = _read_key(index, cfg)
        self.in_flight = 0
        self.disabled: str | None = None  # why this endpoint gets no more requests (bad key, unknown model)
        # After errors an endpoint cools down: others get the traffic meanwhile (if there are others).
        self.failures = 0
        self.cool_until = 0.0
        # "on" | "off" | "auto" (untried) | "ok" | "rejected"
        self.schema_mode = json_schema
        self.rpm = TokenBucket(cfg.rpm) if cfg.rpm else None
        self.tpm = TokenBucket(cfg.tpm) if cfg.tpm else None
        # One HTTP client per connection, leased for one exchange at a time (see `lease`).
        self._idle: list[httpx.AsyncClient] = []
        self._clients: list[httpx.AsyncClient] = []
        self._ssl: ssl.SSLContext | None = None

    def lease(self) -> httpx.AsyncClient:
        """A client with one keep-alive connection, not in use by any other exchange. httpcore's pool
        rescans every connection of a client on every request and response (quadratic in the concurrency:
        16 requests in flight on one pooled client answered 50-130 ms late on loopback, against ~50 ms
        with a client per connection); a client of one connection never has anything to scan."""
        if self._idle:
            return self._idle.pop()
        if self._ssl is None:
            # One TLS context for every connection of this endpoint: building one reads the CA bundle (~40 ms).
            self._ssl = httpx.create_ssl_context()
        client = httpx.AsyncClient(
            timeout=None,  # enforced per call with asyncio.timeout (a total deadline, not per read)
            verify=self._ssl,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"Accept-Encoding": ACCEPT_ENCODING},
        )
        self._clients.append(client)
        return client

    def give_back(self, client: httpx.AsyncClient) -> None:
        self._idle.append(client)

    async def close(self) -> None:
        clients, self._clients, self._idle = self._clients, [], []
        for client in clients:
            await client.aclose()

    @property
    def label(self) -> str:
        return f"[[llm.endpoints]] #{self.index + 1} ({self.cfg.base_url})"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def failed(self, retry_after: float | None) -> None:
        self.failures += 1
        pause = retry_after if retry_after is not None else min(30.0, 0.5 * 2 ** (self.failures - 1))
        self.cool_until = time.monotonic() + pause

    def use_schema(self) -> bool:
        return self.schema_mode in ("on", "auto", "ok")


def _read_key(index: int, cfg: EndpointConfig) -> str | None:
    if not cfg.api_key_env:
        return None
    key = os.environ.get(cfg.api_key_env, "").strip()
    if not key:
        raise ConfigError(
            f"environment variable {cfg.api_key_env} is not set",
            hint=f"export {cfg.api_key_env}=... (named by [llm].endpoints[{index}].api_key_env)",
        )
    resilience.register_secret(key)  # never in a log line, httpx/httpcore debug output included
    return key


def _error_info(resp: httpx.Response) -> tuple[str, str]:
    """(code, message) from an OpenAI-style error body, tolerating plain text and other shapes."""
    try:
        body = resp.json()
    except ValueError:
        return "", resp.text[:300]
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        code = str(err.get("code") or err.get("type") or body.get("code") or "")
        return code, str(err.get("message") or body.get("message") or err)[:300]
    return str(body.get("code", "")) if isinstance(body, dict) else "", str(err)[:300]


def is_content_filter(code: str, message: str) -> bool:
    text = f"{code} {message}".lower()
    return code.strip() in _FILTER_CODES or any(word in text for word in _FILTER_WORDS)


def is_schema_rejection(code: str, message: str) -> bool:
    text = f"{code} {message}".lower()
    return "response_format" in text or "json_schema" in text or "schema" in text


class ChatClient:
    """One per backend; `usage` accumulates over all its write() calls. Use `async with client.session()`
    around a batch of `chat` calls (httpx async clients belong to one event loop)."""

    def __init__(
        self,
        cfg: LLMConfig,
        *,
        progress: Callable[[CallProgress], None] | None = None,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        max_response_bytes: int | None = None,
    ):
        self.cfg = cfg
        self.endpoints = [Endpoint(i, e, cfg.json_schema) for i, e in enumerate(cfg.endpoints)]
        self.secrets = [e.key for e in self.endpoints if e.key]
        self.usage = Usage()
        self.progress = progress
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.max_response_bytes = max_response_bytes or cfg.max_response_bytes
        self.exhausted: str | None = None  # budget reason, once reached: no more calls this run
        # [llm].stage_deadline: the clock starts at the first call; past it, like a spent budget.
        self.deadline: Deadline | None = None
        self.planned = 0
        self._rr = itertools.count()
        self._sem: asyncio.Semaphore | None = None
        self._unsent = 0  # requests holding a slot whose bytes have not left yet
        self._reserved = 0  # estimated prompt tokens of requests in flight (counted against max_tokens)
        self.model = cfg.model
        price = cfg.prices.get(self.model)
        self.price = price
        if price is not None:
            self.usage.cost = 0.0
        if cfg.budget.max_cost is not None and price is None:
            raise ConfigError(
                f"[llm.budget].max_cost needs a price for model {self.model!r}",
                hint=f"add [llm.prices.{self.model}] with input_per_mtok and output_per_mtok",
            )

    # -- session --------------------------------------------------------------------------------------
    def session(self) -> _Session:
        return _Session(self)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    # -- budget ---------------------------------------------------------------------------------------
    def _cost(self, tokens_in: int, tokens_out: int) -> float:
        if self.price is None:
            return 0.0
        return (tokens_in * self.price.input_per_mtok + tokens_out * self.price.output_per_mtok) / 1e6

    def _check_budget(self, est_in: int) -> None:
        if self.deadline is None:
            self.deadline = Deadline(self.cfg.stage_deadline, "the model calls of this run")
        if self.exhausted is None and self.deadline.expired:
            self.exhausted = f"time limit [llm].stage_deadline={self.cfg.stage_deadline:g} s reached"
            log.warning("LLM calls stopped: %s; remaining texts keep their fallbacks", self.exhausted)
        if self.exhausted is None:
            b, u = self.cfg.budget, self.usage
            if b.max_calls is not None and u.calls + 1 > b.max_calls:
                self.exhausted = f"max_calls={b.max_calls} reached"
            elif b.max_tokens is not None and u.tokens + self._reserved + est_in > b.max_tokens:
                self.exhausted = f"max_tokens={b.max_tokens} would be exceeded ({u.tokens} used)"
            elif (
                b.max_cost is not None
                and (u.cost or 0.0) + self._cost(self._reserved + est_in, 0) > b.max_cost
            ):
                self.exhausted = f"max_cost={b.max_cost} would be exceeded ({u.cost or 0.0:.4f} spent)"
            if self.exhausted:
                log.warning("LLM budget exhausted: %s; remaining requests are skipped", self.exhausted)
        if self.exhausted:
            raise CallDeclined("budget", f"budget exhausted: {self.exhausted}")

    # -- endpoints ------------------------------------------------------------------------------------
    def _pick(self) -> Endpoint:
        alive = [e for e in self.endpoints if e.disabled is None]
        if not alive:
            reasons = "; ".join(f"{e.label}: {e.disabled}" for e in self.endpoints)
            raise CallDeclined("failed", f"no usable endpoint: {reasons}")
        now = time.monotonic()
        alive = [e for e in alive if e.cool_until <= now] or alive
        low = min(e.in_flight for e in alive)
        least = [e for e in alive if e.in_flight == low]
        return least[next(self._rr) % len(least)]

    def _notify(self) -> None:
        if self.progress is not None:
            u = self.usage
            in_flight = sum(e.in_flight for e in self.endpoints)
            self.progress(
                CallProgress(u.calls - in_flight, in_flight, u.failed_calls, u.tokens, self.planned)
            )

    def policy(self) -> RetryPolicy:
        """Exponential backoff with equal jitter (spreads the retries of a burst); Retry-After honoured up to
        MAX_RETRY_AFTER, a longer one fails the call."""
        return RetryPolicy(
            retries=self.cfg.max_retries,
            initial=self.backoff,
            max_backoff=self.backoff_max,
            jitter=True,
            max_retry_after=MAX_RETRY_AFTER,
        )

    # -- the call -------------------------------------------------------------------------------------
    async def chat(
        self,
        messages: list[dict[str, str]],
        task: str,
        schema: dict[str, Any] | None,
        est_in: int,
        timeout_factor: float = 1.0,
    ) -> ChatReply:
        """One answer, after retries. Raises CallDeclined (detail already redacted)."""
        assert self._sem is not None, "use `async with client.session()`"
        sem = self._sem

        async def attempt() -> Attempt[ChatReply]:
            sent: Callable[[], None] | None = None
            self._check_budget(est_in)
            async with sem:
                self._check_budget(est_in)  # others may have spent the budget while this one waited
                ep = self._pick()
                with_schema = schema is not None and ep.use_schema()
                body: dict[str, Any] = {"model": ep.cfg.model, "messages": messages, **ep.cfg.params}
                if with_schema:
                    body["response_format"] = {
                        "type": "json_schema",
                        "json_schema": {"name": f"paperradar_{task}", "strict": True, "schema": schema},
                    }
                ep.in_flight += 1
                self._reserved += est_in
                self.usage.calls += 1
                self.usage.task(task).calls += 1
                self._notify()
                try:
                    if ep.rpm:
                        await ep.rpm.take(1)
                    if ep.tpm:
                        await ep.tpm.take(est_in)
                    self._unsent += 1
                    outcome = await self._post(
                        ep,
                        body,
                        task,
                        est_in,
                        with_schema,
                        timeout_factor,
                        on_sent=(sent := self._once_sent()),
                    )
                finally:
                    if sent is not None:
                        sent()
                    ep.in_flight -= 1
                    self._reserved -= est_in
            await self._let_requests_out()
            if outcome.outcome is Outcome.OK:
                ep.failures, ep.cool_until = 0, 0.0
                self._notify()
                return outcome
            if outcome.outcome is Outcome.RETRY:
                ep.failed(outcome.retry_after)
            self.usage.failed_calls += 1
            self.usage.task(task).failed_calls += 1
            self._notify()
            return replace(outcome, detail=self.redact(outcome.detail))

        def on_retry(failed: Attempt[ChatReply], number: int, wait: float) -> None:
            log.info("LLM %s call failed (%s); retry %d in %.1fs", task, failed.detail, number, wait)
            self.usage.retries += 1

        result = await self.policy().arun(attempt, on_retry=on_retry)
        last = result.last
        if last.outcome is Outcome.OK and last.value is not None:
            return last.value
        if last.outcome is Outcome.SKIP:
            raise CallDeclined("refused", last.detail)
        if result.gave_up is GaveUp.RETRY_AFTER:
            raise CallDeclined(
                "failed", f"{last.detail} (Retry-After {result.wait:.0f}s is too long to wait)"
            )
        if result.gave_up is not None:
            raise CallDeclined("failed", f"gave up after {result.retries + 1} attempts: {last.detail}")
        raise CallDeclined("failed", last.detail)

    def _once_sent(self) -> Callable[[], None]:
        """Called when a request's bytes have left (or it failed before): it no longer holds back the
        processing of answers (`_let_requests_out`). Idempotent."""
        done = False

        def sent() -> None:
            nonlocal done
            if not done:
                done = True
                self._unsent -= 1

        return sent

    async def _let_requests_out(self) -> None:
        """Before an answer is validated, checked and stored, the requests that took the slots answers
        freed are sent: answers of one round arrive together, and each request passes through ~10 loop
        iterations (httpcore's locks and checkpoints) before its bytes leave, while an answer's processing
        takes 2-10 ms in one go; processed first, a round's answers would keep the next round's requests
        (and so the model) waiting 50-150 ms. Bounded: a request waiting on a slow connect does not hold
        the answers back for more than a few iterations."""
        for _ in range(_SEND_FIRST_ITERATIONS):
            await asyncio.sleep(0)
            if not self._unsent:
                return

    async def _post(
        self,
        ep: Endpoint,
        body: dict[str, Any],
        task: str,
        est_in: int,
        with_schema: bool,
        timeout_factor: float = 1.0,
        on_sent: Callable[[], None] | None = None,
    ) -> Attempt[ChatReply]:
        """One request: OK with the reply, RETRY (429/5xx/timeouts), AGAIN (the endpoint changed state:
        schema off, disabled), SKIP (content filter) or FATAL."""
        url = f"{ep.cfg.base_url}/chat/completions"
        retry, again, skip, fatal = Outcome.RETRY, Outcome.AGAIN, Outcome.SKIP, Outcome.FATAL
        client = ep.lease()
        request = client.build_request("POST", url, json=body, headers=ep.headers())
        if on_sent is not None:
            request.extensions["trace"] = _trace_sent(on_sent)
        timeout = ep.cfg.timeout * max(1.0, timeout_factor)
        try:
            # The timeout is a total deadline for the exchange, not per read: a trickling server ends too.
            deadline = self.deadline.cap(timeout) if self.deadline else timeout
            resp = await resilience.send(
                client, request, deadline=deadline, max_bytes=self.max_response_bytes
            )
        except (Expired, httpx.TimeoutException):
            return Attempt(retry, detail=f"no answer from {ep.cfg.base_url} within {timeout:g}s")
        except TooLarge as exc:
            return Attempt(
                fatal,
                detail=f"the answer from {ep.cfg.base_url} is larger than {exc.limit:,} bytes; refused "
                "(raise [llm].max_response_bytes if that is real)",
            )
        except BadBody as exc:
            return Attempt(retry, detail=f"{ep.cfg.base_url}: {exc}")
        except httpx.TransportError as exc:
            return Attempt(retry, detail=f"cannot reach {ep.cfg.base_url}: {type(exc).__name__}: {exc}")
        finally:
            # The body is read (or the exchange abandoned, its connection closed): free for the next one.
            ep.give_back(client)
        status = resp.status_code
        if status == 200:
            return self._reply(resp, task, est_in, body, with_schema, ep)
        code, message = _error_info(resp)
        what = f"HTTP {status} from {ep.cfg.base_url}: {message}"
        if status in (400, 403, 422) and is_content_filter(code, message):
            return Attempt(skip, detail=f"content filter: {message}")
        if (
            status in (400, 422)
            and with_schema
            and ep.schema_mode in ("auto", "rejected")
            and is_schema_rejection(code, message)
        ):
            ep.schema_mode = "rejected"
            log.info("%s rejects response_format json_schema; using text answers", ep.label)
            return Attempt(again, detail=what)
        if status in (400, 422) and with_schema and is_schema_rejection(code, message):
            return Attempt(
                fatal,
                detail=f"{what} (the endpoint rejects response_format json_schema: set [llm].json_schema = 'auto')",
            )
        if status in (401, 403):
            ep.disabled = (
                f"API key rejected (HTTP {status}); check the environment variable {ep.cfg.api_key_env}"
            )
            return Attempt(again, detail=ep.disabled)
        if status == 404:
            if "model" in f"{code} {message}".lower():
                ep.disabled = f"model {ep.cfg.model!r} not found; check [llm].endpoints[{ep.index}].model"
            else:
                ep.disabled = (
                    f"HTTP 404 at {url}; check [llm].endpoints[{ep.index}].base_url (often ends in /v1)"
                )
            return Attempt(again, detail=ep.disabled)
        if status == 429 and "insufficient_quota" in code:
            ep.disabled = f"quota exhausted: {message}"
            return Attempt(again, detail=ep.disabled)
        if status == 402:
            # DeepSeek's "Insufficient Balance": every later request of the run would be refused the same way.
            ep.disabled = f"{message or 'payment required'} (HTTP 402): top up the account behind {ep.label}"
            return Attempt(again, detail=ep.disabled)
        if status in (408, 409, 429) or status >= 500:
            return Attempt(retry, detail=what, retry_after=resilience.retry_after(resp.headers, resp.content))
        return Attempt(fatal, detail=what)

    def _reply(
        self,
        resp: httpx.Response,
        task: str,
        est_in: int,
        body: dict[str, Any],
        with_schema: bool,
        ep: Endpoint,
    ) -> Attempt[ChatReply]:
        kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "text/html" or resp.content.lstrip()[:1] == b"<":
            # A web UI or a proxy's page, not an API: nothing later in the run would go better.
            ep.disabled = (
                f"{ep.cfg.base_url}/chat/completions answered with an HTML page, not a chat completion; "
                f"check [llm].endpoints[{ep.index}].base_url (it usually ends in /v1)"
            )
            return Attempt(Outcome.AGAIN, detail=ep.disabled)
        try:
            data = _read_sse(resp.text) if kind == "text/event-stream" else resp.json()
            choice = data["choices"][0]
            message = choice.get("message") or {}
            content = message.get("content")
            finish = str(choice.get("finish_reason") or "")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return Attempt(Outcome.RETRY, detail=f"unreadable response body: {resp.text[:120]!r}")
        if finish in _FILTER_FINISH or message.get("refusal"):
            refusal = message.get("refusal") or f"finish_reason {finish}"
            return Attempt(Outcome.SKIP, detail=f"content filter: {refusal}")
        content = content if isinstance(content, str) else ""
        usage = data.get("usage") or {}
        estimated = not isinstance(usage.get("prompt_tokens"), int)
        tokens_in = est_in if estimated else int(usage["prompt_tokens"])
        tokens_out = estimate_tokens(content) if estimated else int(usage.get("completion_tokens") or 0)
        u, t = self.usage, self.usage.task(task)
        u.tokens_in += tokens_in
        u.tokens_out += tokens_out
        t.tokens_in += tokens_in
        t.tokens_out += tokens_out
        u.estimated_calls += estimated
        if u.cost is not None:
            u.cost += self._cost(tokens_in, tokens_out)
        return Attempt(Outcome.OK, ChatReply(content, finish, tokens_in, tokens_out, estimated, with_schema))


def _read_sse(text: str) -> dict[str, Any]:
    """A chat completion out of a server-sent event stream (some servers stream although stream=false was
    asked): the deltas' content joined, the last finish_reason, the usage when a chunk carries it."""
    parts: list[str] = []
    finish: object = None
    usage: object = None
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if not payload or payload == "[DONE]":
            continue
        chunk = json.loads(payload)
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta.get("content"), str):
                parts.append(delta["content"])
            finish = choice.get("finish_reason") or finish
        usage = chunk.get("usage") or usage
    if not parts and finish is None:
        raise ValueError("an event stream with no chat completion in it")
    return {"choices": [{"message": {"content": "".join(parts)}, "finish_reason": finish}], "usage": usage}


# Loop iterations an answer waits at most for the requests that took the freed slots (a request needs ~10).
_SEND_FIRST_ITERATIONS = 32
# httpcore's trace events after which a request's bytes have left, or never will.
_SENT_EVENTS = frozenset(
    (
        "http11.send_request_body.complete",
        "http11.send_request_body.failed",
        "http11.send_request_headers.failed",
        "connection.connect_tcp.failed",
    )
)


def _trace_sent(on_sent: Callable[[], None]) -> Callable[[str, dict[str, Any]], Coroutine[Any, Any, None]]:
    """An httpcore trace hook (the request extension "trace") that reports the moment the request is sent."""

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event in _SENT_EVENTS:
            on_sent()

    return trace


class _Session:
    def __init__(self, client: ChatClient):
        self.client = client

    async def __aenter__(self) -> ChatClient:
        c = self.client
        c._sem = asyncio.Semaphore(c.cfg.concurrency)
        return c

    async def __aexit__(self, *exc: object) -> None:
        for ep in self.client.endpoints:
            await ep.close()
