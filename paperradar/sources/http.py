"""A polite HTTP client for arXiv: one request at a time, spaced, identified, and retried with care.

arXiv asks API users for one request every 3 seconds and a User-Agent that says who is calling; a
client that ignores this gets 429/503 answers or a blocked address. Every network call paperradar
makes to arXiv goes through PoliteClient so these rules live in one place.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from paperradar import __version__
from paperradar.errors import DataError, NetworkError
from paperradar.sources import resilience
from paperradar.sources.resilience import (
    Attempt,
    BadBody,
    BlockingClient,
    Deadline,
    Expired,
    GaveUp,
    Outcome,
    RetryPolicy,
    TooLarge,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 300.0  # never sleep longer than this for one retry, whatever Retry-After says
DEFAULT_MAX_BYTES = 256 * resilience.MIB  # any one response, decompressed, unless the caller says less
PROJECT_URL = "https://github.com/paperradar/paperradar"
OFFLINE_HINT = (
    "check the network connection (and any proxy settings); to work offline use `paperradar run --sample`"
)
BUSY_HINT = (
    "arXiv is busy or rate-limiting this address; wait a few minutes and run again "
    "(raising [sources].max_retries makes paperradar keep trying longer)"
)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one arXiv document may weigh, decompressed ([sources].max_*), and each stage's deadline."""

    feed: int = 64 * resilience.MIB
    api: int = 64 * resilience.MIB
    fulltext: int = 128 * resilience.MIB
    field_chars: int = 256 * 1024
    stage_deadline: float | None = None


class HTTPStatusError(NetworkError):
    """A 4xx answer that retrying will not fix. Carries the response: the arXiv API sends its error
    feed with HTTP 400, and api.py turns that into a DataError with the API's own message."""

    def __init__(self, message: str, hint: str | None, status: int, response: httpx.Response) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.response = response


def user_agent(contact: str = "") -> str:
    # Header values must be printable ASCII; a stray newline in the config must not break (or inject) headers.
    contact = "".join(ch for ch in contact if 32 < ord(ch) < 127)
    extra = f"; mailto:{contact}" if contact else ""
    return f"paperradar/{__version__} (+{PROJECT_URL}{extra})"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped at MAX_WAIT.
    (The client itself uses resilience.parse_retry_after: a longer wait than allowed is given up on.)"""
    seconds = resilience.parse_retry_after(value, now)
    return None if seconds is None else min(seconds, MAX_WAIT)


def _short(url: str, limit: int = 200) -> str:
    # A 200-id lookup URL is kilobytes long; the start of it is enough to tell which request failed.
    return url if len(url) <= limit else url[: limit - 3] + "..."


class PoliteClient:
    """Blocking GETs, one at a time. Not thread-safe: arXiv wants one request at a time anyway.

    `request_count` counts request attempts (retries included). `sleep` and `clock` are injectable so
    tests can check the waits without spending them. Each request has a total `request_deadline` (bytes
    trickling in do not extend it); inside `with client.stage(...)` all requests and waits share the
    stage's deadline too.
    """

    def __init__(
        self,
        *,
        delay: float = 3.0,
        timeout: float = 30.0,
        max_retries: int = 4,
        contact: str = "",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        backoff: float = 2.0,
        request_deadline: float | None = None,
        max_retry_after: float = MAX_WAIT,
        limits: Limits | None = None,
    ) -> None:
        self.delay = max(0.0, float(delay))
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff = max(1.0, float(backoff))
        self.request_deadline = request_deadline
        self.max_retry_after = max_retry_after
        self.limits = limits or Limits()
        self.user_agent = user_agent(contact)
        # 3 s, 6 s, 12 s, ... with the default 3 s delay: exponential, never below arXiv's spacing.
        self.policy = RetryPolicy(
            retries=self.max_retries,
            initial=max(self.delay, 1.0),
            multiplier=self.backoff,
            max_backoff=MAX_WAIT,
            floor=self.delay,
            max_retry_after=max_retry_after,  # past it: give up with a clear message, never sleep for days
        )
        self._sleep = sleep
        self._clock = clock
        self._last_end: float | None = None
        self._stage: Deadline | None = None
        self._stage_key = ""
        self.request_count = 0
        self._http = BlockingClient(
            timeout=self.timeout, headers={"User-Agent": self.user_agent}, follow_redirects=True
        )

    # -- politeness -------------------------------------------------------------------------------
    def _wait_before_request(self) -> None:
        """Sleep so this request starts >= delay after the previous one ended: counted from the end, the
        server sees the spacing whatever the time our side needs to connect (first requests are slower)."""
        if self._last_end is not None and self.delay > 0:
            wait = self._last_end + self.delay - self._clock()
            if wait > 0:
                self._sleep(min(wait, MAX_WAIT))

    @contextlib.contextmanager
    def stage(
        self, what: str, seconds: float | None = None, key: str = "[sources].stage_deadline"
    ) -> Iterator[None]:
        """Requests inside share one deadline of `seconds` (default: limits.stage_deadline); past it a
        NetworkError names `what`. A stage inside another keeps the outer one's deadline."""
        if self._stage is not None:
            yield
            return
        self._stage = Deadline(self.limits.stage_deadline if seconds is None else seconds, what, self._clock)
        self._stage_key = key
        try:
            yield
        finally:
            self._stage = None

    # -- requests ---------------------------------------------------------------------------------
    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_bytes: int | None = None,
        limit_key: str = "[sources].max_api_bytes",
    ) -> httpx.Response:
        """GET with retries; NetworkError (HTTPStatusError for a 4xx) when it cannot succeed, DataError
        when the body is larger than `max_bytes` decompressed or not the gzip it claims."""
        shown = _short(str(httpx.URL(url, params=dict(params)) if params else url))
        limit = max_bytes or DEFAULT_MAX_BYTES
        stage = self._stage
        if stage is not None and stage.expired:
            raise resilience.deadline_passed(stage.what, stage.seconds or 0.0, self._stage_key)
        offline = False

        def attempt() -> Attempt[httpx.Response]:
            nonlocal offline
            self._wait_before_request()
            self.request_count += 1
            deadline = stage.cap(self.request_deadline) if stage is not None else self.request_deadline
            try:
                try:
                    response = self._http.request(
                        "GET", url, params=params, deadline=deadline, max_bytes=limit
                    )
                finally:
                    self._last_end = self._clock()
            except Expired as exc:  # a server trickling bytes: per-read timeouts never fire
                offline = False
                return Attempt(Outcome.RETRY, detail=str(exc))
            except httpx.TimeoutException as exc:
                # A connect timeout usually means no route to arXiv; a read timeout means arXiv is slow.
                offline = isinstance(exc, httpx.ConnectTimeout)
                return Attempt(
                    Outcome.RETRY, detail=f"timed out after {self.timeout:g} s ({type(exc).__name__})"
                )
            except httpx.ConnectError as exc:  # refused, DNS failure, unreachable network
                offline = True
                return Attempt(Outcome.RETRY, detail=f"cannot connect: {str(exc) or type(exc).__name__}")
            except httpx.TooManyRedirects:
                raise NetworkError(
                    f"GET {shown}: too many redirects (a redirect loop)",
                    hint="the server sends requests round in circles; check the URL in [sources]",
                ) from None
            except httpx.TransportError as exc:  # dropped connection, protocol error mid-response
                offline = False
                return Attempt(Outcome.RETRY, detail=f"{type(exc).__name__}: {exc}")
            except TooLarge as exc:
                raise resilience.too_large("the response", shown, exc.limit, limit_key) from None
            except BadBody as exc:
                raise DataError(
                    f"GET {shown}: {exc}",
                    hint="the server or a proxy on the way sent a broken body; run again later",
                ) from None
            status = response.status_code
            if status < 400:
                return Attempt(Outcome.OK, response)
            reason = response.reason_phrase or ""
            offline = False
            if status not in RETRY_STATUSES:
                raise _status_error(status, reason, shown, response)
            wait = resilience.parse_retry_after(response.headers.get("Retry-After"))
            return Attempt(Outcome.RETRY, detail=f"HTTP {status} {reason}".rstrip(), retry_after=wait)

        def on_retry(failed: Attempt[httpx.Response], number: int, wait: float) -> None:
            log.warning(
                "GET %s failed (%s); retry %d of %d in %.1f s",
                shown,
                failed.detail,
                number,
                self.max_retries,
                wait,
            )

        policy = self.policy if stage is None else replace(self.policy, deadline=stage.remaining())
        result = policy.run(attempt, sleep=self._sleep, clock=self._clock, on_retry=on_retry)
        if result.last.outcome is Outcome.OK and result.last.value is not None:
            return result.last.value
        if result.gave_up is GaveUp.RETRY_AFTER:
            raise NetworkError(
                f"GET {shown}: {result.last.detail}, and the server asks to wait {result.wait:.0f} s before "
                f"trying again, more than [sources].max_retry_after = {self.max_retry_after:g} s; gave up",
                hint="what was stored so far is kept; run again later",
            )
        if result.gave_up is GaveUp.DEADLINE and stage is not None:
            raise resilience.deadline_passed(stage.what, stage.seconds or 0.0, self._stage_key)
        tries = f"{result.attempts} attempt{'s' if result.attempts != 1 else ''}"
        raise NetworkError(
            f"GET {shown} failed after {tries}: {result.last.detail}",
            hint=OFFLINE_HINT if offline else BUSY_HINT,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _status_error(status: int, reason: str, shown: str, response: httpx.Response) -> HTTPStatusError:
    hint = {
        400: "the server refused the request as malformed; check the ids or the query",
        403: "arXiv refused this client; set [sources].contact and keep [sources].request_delay at 3 s or more",
        404: "check [sources].rss_url / [sources].api_url and the category names",
    }.get(status, "check the URL in the configuration")
    what = f"HTTP {status} {reason}".rstrip()
    return HTTPStatusError(f"{what} from {shown}", hint, status, response)
