"""A polite HTTP client for arXiv: one request at a time, spaced, identified, and retried with care.

arXiv asks API users for one request every 3 seconds and a User-Agent that says who is calling; a
client that ignores this gets 429/503 answers or a blocked address. Every network call paperradar
makes to arXiv goes through PoliteClient so these rules live in one place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx

from paperradar import __version__
from paperradar.errors import NetworkError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 300.0  # never sleep longer than this for one retry, whatever Retry-After says
PROJECT_URL = "https://github.com/paperradar/paperradar"
OFFLINE_HINT = (
    "check the network connection (and any proxy settings); to work offline use `paperradar run --sample`"
)
BUSY_HINT = (
    "arXiv is busy or rate-limiting this address; wait a few minutes and run again "
    "(raising [sources].max_retries makes paperradar keep trying longer)"
)


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
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped at MAX_WAIT."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT by definition
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_WAIT)


def _short(url: str, limit: int = 200) -> str:
    # A 200-id lookup URL is kilobytes long; the start of it is enough to tell which request failed.
    return url if len(url) <= limit else url[: limit - 3] + "..."


class PoliteClient:
    """Wraps one httpx.Client. Not thread-safe: arXiv wants one request at a time anyway.

    `request_count` counts request attempts (retries included). `sleep` and `clock` are injectable so
    tests can check the waits without spending them.
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
    ) -> None:
        self.delay = max(0.0, float(delay))
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff = max(1.0, float(backoff))
        self.user_agent = user_agent(contact)
        self._sleep = sleep
        self._clock = clock
        self._last_start: float | None = None
        self.request_count = 0
        self._client = httpx.Client(
            timeout=self.timeout,
            follow_redirects=True,
            headers={"User-Agent": self.user_agent},
        )

    # -- politeness -------------------------------------------------------------------------------
    def _wait_before_request(self, at_least: float = 0.0) -> None:
        """Sleep so this request starts >= delay after the previous one, and >= at_least from now."""
        wait = at_least
        if self._last_start is not None and self.delay > 0:
            wait = max(wait, self._last_start + self.delay - self._clock())
        if wait > 0:
            self._sleep(min(wait, MAX_WAIT))

    def _backoff_wait(self, retry: int) -> float:
        # 3 s, 6 s, 12 s, ... with the default 3 s delay: exponential, but never below arXiv's spacing.
        return min(max(self.delay, 1.0) * self.backoff**retry, MAX_WAIT)

    # -- requests ---------------------------------------------------------------------------------
    def get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET with retries; NetworkError (HTTPStatusError for a 4xx) when it cannot succeed."""
        shown = _short(str(httpx.URL(url, params=dict(params)) if params else url))
        attempts = self.max_retries + 1
        next_wait = 0.0
        last = ""
        offline = False
        for attempt in range(attempts):
            self._wait_before_request(next_wait)
            self._last_start = self._clock()
            self.request_count += 1
            retry_after: float | None = None
            try:
                response = self._client.get(url, params=params)
            except httpx.TimeoutException as exc:
                # A connect timeout usually means no route to arXiv; a read timeout means arXiv is slow.
                last = f"timed out after {self.timeout:g} s ({type(exc).__name__})"
                offline = isinstance(exc, httpx.ConnectTimeout)
            except httpx.ConnectError as exc:  # refused, DNS failure, unreachable network
                last, offline = f"cannot connect: {str(exc) or type(exc).__name__}", True
            except httpx.TransportError as exc:  # dropped connection, protocol error mid-response
                last, offline = f"{type(exc).__name__}: {exc}", False
            else:
                status = response.status_code
                if status < 400:
                    return response
                reason = response.reason_phrase or ""
                last, offline = f"HTTP {status} {reason}".rstrip(), False
                if status not in RETRY_STATUSES:
                    raise _status_error(status, reason, shown, response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt + 1 < attempts:
                next_wait = self._backoff_wait(attempt)
                if retry_after is not None:
                    next_wait = max(next_wait, retry_after)
                log.warning(
                    "GET %s failed (%s); retry %d of %d in %.1f s",
                    shown,
                    last,
                    attempt + 1,
                    self.max_retries,
                    next_wait,
                )
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        raise NetworkError(
            f"GET {shown} failed after {tries}: {last}", hint=OFFLINE_HINT if offline else BUSY_HINT
        )

    def close(self) -> None:
        self._client.close()

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
