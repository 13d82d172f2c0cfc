"""One resilience layer for every remote call paperradar makes: arXiv (sources/http.py), the LLM endpoints
(llm/client.py), chat webhooks (publish/deliver/chat.py) and SMTP (publish/deliver/mail.py).

- `RetryPolicy`: how many retries, how long between them (exponential backoff, optional jitter, a floor),
  how long a server may ask us to wait (Retry-After past `max_retry_after`: give up at once with a clear
  message instead of sleeping for days) and a total `deadline` for all attempts and waits together.
  `run` (blocking) and `arun` (asyncio) drive one call site's attempts; each attempt returns an `Attempt`
  with a typed `Outcome`, and the result says whether and why the policy gave up (`GaveUp`).
- `retry_after` / `parse_retry_after`: one parser for what servers say about waiting: Retry-After in
  delta-seconds or as an HTTP date, `retry-after-ms` (OpenAI/Azure), Feishu's `x-ogw-ratelimit-reset`,
  and Discord's `retry_after` body field. NaN, infinities and negative numbers are refused (None).
- `Deadline`: a clock for a stage ("arXiv intake", "full text", one channel's delivery).
- `send` / `BlockingClient`: one HTTP request with a total deadline (a server trickling a byte every few
  seconds never resets it, unlike httpx's per-read timeouts) and a cap on the *decompressed* body, decoded
  here from the raw bytes with bounded zlib output so a gzip bomb never inflates past the cap.

Library: tenacity (jd/tenacity), not stamina. stamina is an opinionated layer over tenacity for "retry on
these exceptions"; paperradar needs what sits underneath it: waits computed from the previous attempt's
result (Retry-After), stop rules that see the next wait before sleeping (refuse a ten-day Retry-After, stop
at a deadline), outcomes that are values rather than exceptions, and an injectable sleep (tests and the
delivery API pass their own; stamina only offers a global testing switch). tenacity has all of these for
both blocking and asyncio code, is maintained, and is what stamina itself depends on.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import random
import re
import time
import zlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import httpx
import orjson

if TYPE_CHECKING:
    import tenacity

from paperradar.errors import DataError, NetworkError

log = logging.getLogger(__name__)
T = TypeVar("T")

MIB = 1 << 20
_STEP = 1 << 16  # decompressed bytes produced per zlib call: the most a bomb can add before the cap check


# -- outcomes ----------------------------------------------------------------------------------------------
class Outcome(enum.Enum):
    """What one attempt came to."""

    OK = "ok"  # done: the value is the answer
    RETRY = "retry"  # transient (429, 5xx, timeout, dropped connection): wait, try again, spends a retry
    AGAIN = "again"  # the caller changed its own state (endpoint disabled, schema off): at once, for free
    SKIP = "skip"  # refused for this input only (a content filter): no retry, the next input may pass
    FATAL = "fatal"  # retrying cannot help (4xx, bad credentials)


class GaveUp(enum.Enum):
    """Why a policy stopped retrying."""

    ATTEMPTS = "attempts"  # every retry spent
    RETRY_AFTER = "retry_after"  # the server asked for a longer wait than max_retry_after
    DEADLINE = "deadline"  # the next wait would end past the deadline


@dataclass(frozen=True, slots=True)
class Attempt(Generic[T]):
    outcome: Outcome
    value: T | None = None
    detail: str = ""  # why it failed, for messages and logs
    retry_after: float | None = None  # what the server asked for, in seconds (from `retry_after`)


@dataclass(frozen=True, slots=True)
class RetryResult(Generic[T]):
    last: Attempt[T]
    attempts: int  # calls made, AGAIN ones included
    retries: int  # RETRY outcomes that were retried
    gave_up: GaveUp | None = None  # set when the last attempt was RETRY (or AGAIN) and the policy stopped
    wait: float = 0.0  # the wait that was refused, for GaveUp.RETRY_AFTER / DEADLINE messages


# -- Retry-After -------------------------------------------------------------------------------------------
def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After value: delta-seconds or an HTTP date (a past date is 0). None when
    missing or unusable, including NaN, infinities and negative numbers."""
    if not value or not value.strip():
        return None
    value = value.strip()
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    if value[:1].isdigit() or value[:1] in "+-.":
        return None  # a number we refused above, not a date
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after(
    headers: Mapping[str, str], body: bytes | None = None, now: datetime | None = None
) -> float | None:
    """How long the server asked us to wait, from the first of: `retry-after-ms` (OpenAI, Azure),
    `Retry-After`, Feishu's `x-ogw-ratelimit-reset` (seconds), Discord's JSON body field `retry_after`."""
    ms = headers.get("retry-after-ms")
    if ms is not None and (value := _seconds(ms.strip())) is not None:
        return value / 1000.0
    for name in ("retry-after", "x-ogw-ratelimit-reset"):
        if (value := parse_retry_after(headers.get(name), now)) is not None:
            return value
    # OpenAI says when its rate limit resets only as a duration: "900ms", "1s", "6m0s".
    for name in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"):
        if (value := _duration(headers.get(name))) is not None:
            return value
    if body and body.lstrip()[:1] == b"{":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        field = data.get("retry_after") if isinstance(data, dict) else None
        if isinstance(field, int | float) and not isinstance(field, bool):
            return float(field) if math.isfinite(field) and field >= 0 else None
    return None


_DURATION = re.compile(
    r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$"
)


def _duration(value: str | None) -> float | None:
    """Seconds of a Go-style duration ("900ms", "1.5s", "6m0s", "1h2m"); None when it is not one."""
    if not value or not (m := _DURATION.match(value.strip())) or not any(m.groups()):
        return None
    h, mins, secs, ms = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mins * 60 + secs + ms / 1000


# -- deadlines ---------------------------------------------------------------------------------------------
class Deadline:
    """`seconds` from now on `clock`; None seconds means no deadline."""

    def __init__(self, seconds: float | None, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.what = what
        self._clock = clock
        self._end = None if seconds is None else clock() + seconds

    def remaining(self) -> float | None:
        return None if self._end is None else max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        return self._end is not None and self._clock() >= self._end

    def cap(self, seconds: float | None) -> float | None:
        """The smaller of `seconds` and what is left (None = unbounded)."""
        left = self.remaining()
        if left is None:
            return seconds
        return left if seconds is None else min(seconds, left)


# -- the policy --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 3  # after the first attempt
    initial: float = 1.0  # the first backoff wait
    multiplier: float = 2.0
    max_backoff: float = 60.0
    floor: float = 0.0  # no wait is shorter, Retry-After included (arXiv's 3 s spacing)
    jitter: bool = False  # equal jitter on backoff, a little on Retry-After: spreads a burst's retries
    max_retry_after: float | None = 300.0  # a longer Retry-After is not waited for: give up
    deadline: float | None = None  # seconds for all attempts and waits together

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` + 1 when the server said nothing (0-based)."""
        wait = min(self.max_backoff, self.initial * self.multiplier**retry)
        if self.jitter:
            wait = wait / 2 + random.uniform(0, wait / 2)
        return max(self.floor, wait)

    def wait_for(self, retry: int, server_asked: float | None) -> float:
        if server_asked is None:
            return self.backoff(retry)
        extra = random.uniform(0, min(0.5, 0.1 * server_asked + 0.01)) if self.jitter else 0.0
        return max(self.floor, server_asked) + extra

    # Both runners share the tenacity configuration; only the sleep and the attempt differ.
    def _retrying(self, clock: Callable[[], float], on_retry: OnRetry[T] | None) -> _Run[T]:
        return _Run(self, clock, on_retry)

    def run(
        self,
        attempt: Callable[[], Attempt[T]],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_retry: OnRetry[T] | None = None,
    ) -> RetryResult[T]:
        """Call `attempt` until it is not RETRY/AGAIN or the policy gives up. Exceptions propagate."""
        import tenacity  # lazily: commands that never go online start faster

        state = self._retrying(clock, on_retry)

        def nap(seconds: float) -> None:
            if seconds > 0:
                sleep(seconds)

        result: RetryResult[T] = tenacity.Retrying(sleep=nap, **state.kwargs())(state.wrap(attempt))
        return result

    async def arun(
        self,
        attempt: Callable[[], Awaitable[Attempt[T]]],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_retry: OnRetry[T] | None = None,
    ) -> RetryResult[T]:
        import tenacity

        state = self._retrying(clock, on_retry)

        async def nap(seconds: float) -> None:
            if seconds > 0:
                await sleep(seconds)

        async def call() -> RetryResult[T]:
            result = await attempt()
            return state.record(result)

        result: RetryResult[T] = await tenacity.AsyncRetrying(sleep=nap, **state.kwargs())(call)
        return result


OnRetry = Callable[[Attempt[T], int, float], None]  # (failed attempt, retry number 1.., wait in seconds)


class _Run(Generic[T]):
    """The counters of one run() / arun(): tenacity counts AGAIN attempts too, retries here count only
    RETRY outcomes; the deadline is measured on the caller's clock (tests inject a fake one)."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float], on_retry: OnRetry[T] | None):
        self.policy = policy
        self.clock = clock
        self.on_retry = on_retry
        self.start = clock()
        self.attempts = 0
        self.retries = 0
        self.gave_up: GaveUp | None = None
        self.refused_wait = 0.0

    def record(self, attempt: Attempt[T]) -> RetryResult[T]:
        self.attempts += 1
        return RetryResult(attempt, self.attempts, self.retries)

    def wrap(self, attempt: Callable[[], Attempt[T]]) -> Callable[[], RetryResult[T]]:
        return lambda: self.record(attempt())

    @staticmethod
    def _last(rs: tenacity.RetryCallState) -> Attempt[T]:
        assert rs.outcome is not None
        result: RetryResult[T] = rs.outcome.result()
        return result.last

    def _should_retry(self, rs: tenacity.RetryCallState) -> bool:
        if rs.outcome is None or rs.outcome.failed:
            return False  # an exception: tenacity re-raises it
        return self._last(rs).outcome in (Outcome.RETRY, Outcome.AGAIN)

    def _wait(self, rs: tenacity.RetryCallState) -> float:
        last = self._last(rs)
        if last.outcome is Outcome.AGAIN:
            return 0.0
        return self.policy.wait_for(self.retries, last.retry_after)

    def _stop(self, rs: tenacity.RetryCallState) -> bool:
        last, wait, policy = self._last(rs), rs.upcoming_sleep, self.policy
        if last.outcome is Outcome.RETRY:
            if self.retries >= policy.retries:
                self.gave_up = GaveUp.ATTEMPTS
            elif (
                last.retry_after is not None
                and policy.max_retry_after is not None
                and last.retry_after > policy.max_retry_after
            ):
                self.gave_up, self.refused_wait = GaveUp.RETRY_AFTER, last.retry_after
        elif self.attempts > 50 + policy.retries:  # AGAIN is free, but not endless
            self.gave_up = GaveUp.ATTEMPTS
        if (
            self.gave_up is None
            and policy.deadline is not None
            and self.clock() + wait - self.start > policy.deadline
        ):
            self.gave_up, self.refused_wait = GaveUp.DEADLINE, wait
        return self.gave_up is not None

    def _before_sleep(self, rs: tenacity.RetryCallState) -> None:
        last = self._last(rs)
        if last.outcome is Outcome.RETRY:
            self.retries += 1
            if self.on_retry is not None:
                self.on_retry(last, self.retries, rs.upcoming_sleep)

    def _gave_up(self, rs: tenacity.RetryCallState) -> RetryResult[T]:
        return RetryResult(self._last(rs), self.attempts, self.retries, self.gave_up, self.refused_wait)

    def kwargs(self) -> dict[str, Any]:
        return {
            "retry": self._should_retry,
            "wait": self._wait,
            "stop": self._stop,
            "before_sleep": self._before_sleep,
            "retry_error_callback": self._gave_up,
        }


# -- bounded HTTP ------------------------------------------------------------------------------------------
ACCEPT_ENCODING = "gzip, deflate"  # decoded here, with bounded output; br/zstd would need their own guards
_HOP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class TooLarge(Exception):
    """The (decompressed) body passed its cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the response is larger than {limit:,} bytes (decompressed)")
        self.limit = limit


class BadBody(Exception):
    """The body is not what its Content-Encoding says (bad or cut-off gzip, an unknown encoding)."""


class Expired(Exception):
    """The request's total deadline passed (however often bytes trickled in)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within the {seconds:g} s deadline")
        self.seconds = seconds


class _Body:
    """Collects a body up to `limit` decompressed bytes, inflating gzip/deflate _STEP bytes at a time."""

    def __init__(self, encoding: str, limit: int) -> None:
        codings = [
            c.strip().lower() for c in encoding.split(",") if c.strip().lower() not in ("", "identity")
        ]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise BadBody(f"unsupported Content-Encoding {encoding!r} (asked for {ACCEPT_ENCODING})")
        self.coding = codings[0] if codings else None
        self.limit = limit
        self.out = bytearray()
        self.fed = 0
        self._new()

    def _new(self, raw_deflate: bool = False) -> None:
        wbits = -zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS | (16 if self.coding != "deflate" else 0)
        self._inflate = zlib.decompressobj(wbits)

    def _add(self, piece: bytes) -> None:
        if len(self.out) + len(piece) > self.limit:
            raise TooLarge(self.limit)
        self.out += piece

    def feed(self, data: bytes) -> None:
        if self.coding is None:
            self._add(data)
            return
        first = self.fed == 0
        self.fed += len(data)
        while True:
            try:
                piece = self._inflate.decompress(data, _STEP)
            except zlib.error as exc:
                if first and self.coding == "deflate" and not self.out:
                    self._new(raw_deflate=True)  # servers send raw deflate under this name, as httpx allows
                    first = False
                    continue
                raise BadBody(f"the body is not the {self.coding} data it claims ({exc})") from None
            first = False
            self._add(piece)
            data = self._inflate.unconsumed_tail
            if self._inflate.eof and self._inflate.unused_data.strip(b"\0"):
                data = self._inflate.unused_data  # a further gzip member
                self._new()
            if not data and len(piece) < _STEP:
                return

    def finish(self) -> bytes:
        if self.coding is not None and self.fed and not self._inflate.eof:
            raise BadBody(f"the {self.coding} body is cut off")
        return bytes(self.out)


async def send(
    client: httpx.AsyncClient, request: httpx.Request, *, deadline: float | None, max_bytes: int
) -> httpx.Response:
    """Send `request`; the whole exchange (headers and body) within `deadline` seconds, the decompressed
    body at most `max_bytes`. Returns a fully read response (its content decoded, the Content-Encoding
    header dropped). Raises Expired, TooLarge, BadBody, or httpx's errors."""
    try:
        async with asyncio.timeout(deadline):
            response = await client.send(request, stream=True)
            try:
                length = response.headers.get("content-length", "")
                body = _Body(response.headers.get("content-encoding", ""), max_bytes)
                if body.coding is None and length.isdigit() and int(length) > max_bytes:
                    raise TooLarge(max_bytes)
                # aclosing: a refused body closes its generator now, not when a later loop finalizes it.
                raw = cast(AsyncGenerator[bytes, None], response.aiter_raw())  # httpx's is a generator
                async with contextlib.aclosing(raw) as chunks:
                    async for chunk in chunks:
                        body.feed(chunk)
                content = body.finish()
            finally:
                await response.aclose()
    except TimeoutError:
        raise Expired(deadline or 0.0) from None
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_HEADERS]
    keep = {k: v for k, v in response.extensions.items() if k in ("http_version", "reason_phrase")}
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        history=response.history,
        extensions=keep,
    )


class BlockingClient:
    """Blocking requests through `send`, over an httpx.AsyncClient on a private event loop: asyncio's
    timeout is what bounds a whole request (httpx's own timeouts apply per read), and using it from
    blocking code needs a loop of its own."""

    def __init__(self, *, timeout: float, headers: Mapping[str, str], follow_redirects: bool) -> None:
        import anyio

        self._loop = asyncio.new_event_loop()
        # httpcore loads anyio's asyncio backend at the first request (~0.2 s): pay it now, so the first
        # request's time (and arXiv's spacing, counted from its start) is the request's own.
        self._loop.run_until_complete(anyio.sleep(0))
        self._client = httpx.AsyncClient(
            timeout=timeout,
            headers={"Accept-Encoding": ACCEPT_ENCODING, **headers},
            follow_redirects=follow_redirects,
            max_redirects=10,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        deadline: float | None,
        max_bytes: int,
    ) -> httpx.Response:
        if self._loop.is_closed():
            raise RuntimeError("this client is closed")
        request = self._client.build_request(method, url, params=params, content=content)
        return self._run(send(self._client, request, deadline=deadline, max_bytes=max_bytes))

    def _run(self, coro: Awaitable[T]) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._loop.run_until_complete(coro)
        # Called from async code (a loop runs in this thread): run ours in a helper thread instead.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(self._loop.run_until_complete, coro).result()

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._client.aclose())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()


# -- what a failed request means ---------------------------------------------------------------------------
def too_large(what: str, url: str, limit: int, key: str) -> DataError:
    return DataError(
        f"{what} from {url} is larger than {limit:,} bytes once decompressed; refused",
        hint=f"if this is real data, raise {key}",
    )


def deadline_passed(what: str, seconds: float, key: str) -> NetworkError:
    return NetworkError(
        f"{what} did not finish within its {seconds:g} s deadline; what was stored so far is kept",
        hint=f"run again later, or raise {key}",
    )


# -- secrets in logs ---------------------------------------------------------------------------------------
REDACTED = "[redacted]"


class Redactor:
    """Replaces every known secret (and the forms it takes inside URLs and messages) by "[redacted]"."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self._ordered: list[str] = []
        for secret in secrets:
            self.add(secret)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def add(self, secret: str | None) -> None:
        from urllib.parse import quote, unquote, urlsplit

        if not secret or len(secret) < 4:
            return  # a 1-3 character "secret" would redact ordinary words; such a secret is no secret anyway
        forms = {secret, quote(secret, safe=""), quote(secret), unquote(secret)}
        parts = urlsplit(secret)
        if parts.scheme and parts.netloc:
            # Token-bearing URLs: an error message may quote only the path or the query of the URL.
            forms |= {secret.split("://", 1)[1], parts.path, parts.query}
            # Single segments too, when token-like (long, or with digits): not "services" or "webhooks".
            values = parts.path.split("/") + [kv.split("=", 1)[-1] for kv in parts.query.split("&")]
            forms |= {v for v in values if len(v) >= 16 or (len(v) >= 8 and any(c.isdigit() for c in v))}
        self._secrets |= {f for f in forms if f and len(f) >= 4 and f != "/"}
        self._ordered = sorted(self._secrets, key=len, reverse=True)  # a URL before its path

    def __call__(self, text: object) -> str:
        out = str(text)
        for secret in self._ordered:
            if secret in out:
                out = out.replace(secret, REDACTED)
        return out


SECRETS = Redactor()  # every secret this process has read (API keys, SMTP passwords, webhook URLs)
_base_factory: Callable[..., logging.LogRecord] | None = None


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _base_factory is not None
    record = _base_factory(*args, **kwargs)
    if SECRETS:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would anyway
            return record
        record.msg, record.args = SECRETS(message), None
        if record.exc_info:
            # Tracebacks are formatted later by handlers we do not own: format (and redact) them now.
            record.exc_text = SECRETS(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
    return record


def register_secret(secret: str | None) -> None:
    """Never log `secret`: every log record made from now on, on any logger (httpx and httpcore debug
    lines included) and at any level, has it replaced by "[redacted]" before any handler sees it."""
    global _base_factory
    SECRETS.add(secret)
    if _base_factory is None and SECRETS:
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_factory)
