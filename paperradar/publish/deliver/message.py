"""What a delivery sends and how it fails: the message built from a digest, results and errors, secrets
read from the environment and redacted from logs, the retry policy. Shared by the mail and chat channels;
`paperradar.publish.deliver` sends."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from paperradar.models import Digest, GeneratedText, Ranked
from paperradar.publish.deliver.config import DeliveryConfig
from paperradar.sources.resilience import Redactor, RetryPolicy, register_secret
from paperradar.text.labels import format_date, labels

log = logging.getLogger("paperradar.deliver")
Sleep = Callable[[float], None]
Failure = Literal["config", "refused", "unavailable", "internal"]
# Loggers that may format a request URL (httpx logs "HTTP Request: POST <url>" at INFO). Filters on a logger
# do not apply to its children's records, so httpcore's children are listed one by one.
_LOGGERS = (
    "paperradar.deliver",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


@dataclass(frozen=True, slots=True)
class MessageItem:
    """One paper as the channels show it. Strings are raw (unescaped): each channel escapes for its markup."""

    rank: int
    arxiv_id: str
    title: str  # the original (English) title
    translated_title: str | None  # in the digest language; None when untranslated or the digest is English
    link: str | None  # http(s) only; None when the record had no usable link
    score: int
    reason: str
    summary: str | None
    companies: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # Honest output: which fields were made without a model, so every channel can label them.
    untranslated: bool = False
    extractive_summary: bool = False
    heuristic_score: bool = False

    @property
    def display_title(self) -> str:
        return self.translated_title or self.title


@dataclass(frozen=True, slots=True)
class DigestMessage:
    day: date
    language: str  # zh | ja | en
    title: str  # "ArXiv cs.IR 每日论文摘要"
    markdown: str  # the digest exactly as written to disk
    items: list[MessageItem]
    digest_path: Path | None = None
    announced: int = 0
    top_n: int = 0
    empty_text: str | None = None  # why there are no items, when there are none

    @property
    def labels(self) -> Mapping[str, str]:
        return labels(self.language)

    @property
    def date_text(self) -> str:
        return format_date(self.day, self.language)

    @property
    def count_text(self) -> str:
        lab = self.labels
        n = len(self.items)
        if n >= self.top_n:
            return lab["count_value"].format(n=n, top_n=self.top_n or n)
        return lab["count_value_short"].format(n=n, announced=self.announced, top_n=self.top_n)

    @property
    def header_line(self) -> str:
        """ "2026年02月17日 · 论文数量: 20 篇（Top 20）": the line under the title in every chat channel."""
        return f"{self.date_text} · {self.labels['count']}: {self.count_text}"


def safe_link(url: object) -> str | None:
    """`url` if it is an http(s) URL without spaces or control characters, else None (no javascript:)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ch in "<>\"'`" for ch in url):
        return None
    return url


def _text(digest: Digest, item: Ranked, task: str) -> GeneratedText | None:
    return digest.texts.get(item.paper.arxiv_id, {}).get(task)


def from_digest(digest: Digest, markdown: str, path: Path | str | None) -> DigestMessage:
    """The message for `digest`, rendered as `markdown` and written to `path`.

    Chooses texts the way the Markdown digest does (a translated title only when it is in the digest's
    language), so every channel says what the file says.
    """
    lab = labels(digest.language)
    items: list[MessageItem] = []
    for position, it in enumerate(digest.items, 1):
        title = _text(digest, it, "title")
        translated = (
            title.content.strip()
            if title is not None and title.language == digest.language and title.content.strip()
            else None
        )
        if digest.language == "en":
            translated = None  # the English original is the title: nothing was translated or is missing
        summary = _text(digest, it, "summary")
        items.append(
            MessageItem(
                rank=it.rank if it.rank > 0 else position,
                arxiv_id=it.paper.arxiv_id,
                title=it.paper.title,
                translated_title=translated,
                link=safe_link(quote(it.paper.abs_url, safe=":/")),
                score=it.interest.score,
                reason=it.interest.reason,
                summary=summary.content if summary is not None and summary.content.strip() else None,
                companies=tuple(dict.fromkeys(hit.name for hit in it.companies)),
                keywords=tuple(hit.keyword for hit in it.keyword_hits),
                untranslated=translated is None and digest.language != "en",
                extractive_summary=summary is not None and summary.mode == "extractive",
                heuristic_score=it.interest.mode == "heuristic",
            )
        )
    empty_text = None
    if not items:
        day = format_date(digest.day, digest.language)
        empty_text = (
            lab["empty_day_none_selected"].format(day=day, announced=digest.announced)
            if digest.announced > 0
            else lab["empty_day"].format(day=day)
        )
        if digest.empty_reason:
            empty_text += " " + lab["empty_reason"].format(reason=digest.empty_reason)
    return DigestMessage(
        day=digest.day,
        language=digest.language,
        title=lab["title"].format(categories=" ".join(digest.categories)),
        markdown=markdown,
        items=items,
        digest_path=Path(path) if path is not None else None,
        announced=digest.announced,
        top_n=digest.top_n,
        empty_text=empty_text,
    )


def from_records(
    day: date,
    language: str,
    markdown: str,
    records: Sequence[Mapping[str, Any]],
    path: Path | str | None = None,
    *,
    categories: Sequence[str] = ("cs.IR",),
    announced: int | None = None,
    top_n: int | None = None,
) -> DigestMessage:
    """The message from plain dicts (title, translated_title, link, score, reason, summary, company or
    companies, keywords; optional rank, arxiv_id, untranslated, extractive_summary, heuristic_score)."""
    items = []
    for position, rec in enumerate(records, 1):
        companies = rec.get("companies", rec.get("company")) or ()
        if isinstance(companies, str):
            companies = (companies,)
        translated = rec.get("translated_title") or None
        items.append(
            MessageItem(
                rank=int(rec.get("rank") or position),
                arxiv_id=str(rec.get("arxiv_id") or rec.get("id") or ""),
                title=str(rec.get("title") or ""),
                translated_title=str(translated) if translated else None,
                link=safe_link(rec.get("link")),
                score=int(rec.get("score") or 0),
                reason=str(rec.get("reason") or ""),
                summary=str(rec["summary"]) if rec.get("summary") else None,
                companies=tuple(str(c) for c in companies),
                keywords=tuple(str(k) for k in rec.get("keywords") or ()),
                untranslated=bool(rec.get("untranslated", not translated and language != "en")),
                extractive_summary=bool(rec.get("extractive_summary", False)),
                heuristic_score=bool(rec.get("heuristic_score", False)),
            )
        )
    lab = labels(language)
    return DigestMessage(
        day=day,
        language=language,
        title=lab["title"].format(categories=" ".join(categories)),
        markdown=markdown,
        items=items,
        digest_path=Path(path) if path is not None else None,
        announced=len(items) if announced is None else announced,
        top_n=len(items) if top_n is None else top_n,
        empty_text=None if items else lab["empty_day"].format(day=format_date(day, language)),
    )


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    channel: str
    ok: bool
    attempts: int  # connections (mail) or HTTP requests (chat) made, retries included
    detail: str  # one line for the user; never holds a secret
    messages: int = 0  # mails / webhook messages the server accepted
    # Why it failed: "config" (fix the config or environment; exit 2), "refused" (the server said no for
    # good), "unavailable" (still failing after retries), "internal" (a bug).
    failure: Failure | None = None


class DeliveryError(Exception):
    """Raised inside a channel to end its delivery; `deliver` turns it into a DeliveryResult."""

    def __init__(self, detail: str, failure: Failure, attempts: int = 0, sent: int = 0):
        super().__init__(detail)
        self.detail = detail
        self.failure: Failure = failure
        self.attempts = attempts
        self.sent = sent


class _RedactFilter(logging.Filter):
    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would anyway
            return True
        record.msg, record.args = self.redactor(message), None
        if record.exc_info:
            # Tracebacks are formatted later by handlers we do not own: format (and redact) them now.
            record.exc_text = self.redactor(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


@contextmanager
def redacting_logs(redactor: Redactor) -> Iterator[None]:
    """Redact secrets from records emitted on the delivery and HTTP loggers while the block runs."""
    flt = _RedactFilter(redactor)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for lg in loggers:
        lg.addFilter(flt)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(flt)


def read_secret(env: Mapping[str, str], name: str, what: str, channel: str, redactor: Redactor) -> str:
    """The value of environment variable `name`, registered for redaction; a config failure when unset."""
    value = (env.get(name) or "").strip()
    if not value:
        raise DeliveryError(
            f"{channel}: environment variable {name} is not set; it must hold the {what}", "config"
        )
    redactor.add(value)
    register_secret(value)  # and from every other log line of this process (httpx debug output included)
    return value


def delivery_policy(cfg: DeliveryConfig) -> RetryPolicy:
    """Retries on temporary failures: backoff, 2×backoff, 4×… capped at 60 s; a server's Retry-After is
    waited for up to max_retry_after, past it the channel gives up."""
    return RetryPolicy(
        retries=cfg.retries, initial=cfg.backoff, max_backoff=60.0, max_retry_after=cfg.max_retry_after
    )
