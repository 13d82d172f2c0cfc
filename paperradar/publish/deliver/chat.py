"""Chat delivery: Slack, Discord, Feishu/Lark, WeCom and a generic JSON webhook, over httpx.

Each channel has a formatter (pure: message -> list of JSON payloads, split to the service's limits) and
shares one sender: retries on 429 (honouring Retry-After), 5xx and network errors; any other 4xx, or an
error code in a 200 answer (Feishu, WeCom), fails at once. Escaping, per markup:
- Slack mrkdwn: & < > become entities, so no `<!channel>`, `<@U…>` or `<url|text>` link survives.
  (Slack has no escape for * _ ~; those can only change the style of the text they are in.)
- Discord: Markdown punctuation is backslash-escaped, `@everyone`/`@here` get a zero-width space, and
  `allowed_mentions: {"parse": []}` means nothing in the message can ping anyone.
- Feishu lark_md: every markup character becomes an HTML numeric entity (`&#60;`), as Feishu documents,
  so `<at id=all></at>` shows as text.
- WeCom markdown documents no escape syntax: its markup characters (< > [ ] * `) are replaced by the
  full-width look-alikes, so `<@all>` or a `[link](…)` cannot form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from paperradar import __version__
from paperradar.publish.deliver.config import DeliveryConfig, FeishuConfig, WebhookConfig
from paperradar.publish.deliver.message import (
    DeliveryError,
    DigestMessage,
    MessageItem,
    Sleep,
    delivery_policy,
    read_secret,
)
from paperradar.sources import resilience
from paperradar.sources.resilience import (
    Attempt,
    BadBody,
    BlockingClient,
    Deadline,
    Expired,
    GaveUp,
    Outcome,
    Redactor,
    TooLarge,
    register_secret,
    retry_after,
)

log = logging.getLogger("paperradar.deliver")
Payload = dict[str, Any]

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 3000
DISCORD_MAX_EMBEDS = 10
DISCORD_MAX_EMBED_TOTAL = 6000
DISCORD_MAX_CONTENT = 2000
DISCORD_MAX_TITLE = 256
DISCORD_MAX_DESCRIPTION = 4096
FEISHU_MAX_BYTES = 20 * 1024 - 512  # "the request body may not exceed 20 KB"; room for timestamp + sign
WECOM_MAX_BYTES = 4096
# Seconds between two messages of one delivery, under each service's per-webhook rate limit
# (Slack ~1/s, Discord 5 per 2 s, Feishu 5/s, WeCom 20/min).
PACE = {"slack": 1.0, "discord": 0.5, "feishu": 0.25, "wecom": 3.1, "webhook": 0.0}


# -- escaping ------------------------------------------------------------------------------------------
def _line(text: object) -> str:
    return " ".join(str(text or "").split())  # one line: untrusted text never starts a block of its own


def slack_escape(text: object) -> str:
    return _line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_DISCORD_SPECIAL = re.compile(r"([\\*_~`|>#\-\[\]()<:])")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)


def discord_escape(text: object) -> str:
    return _MASS_MENTION.sub("@\u200b\\1", _DISCORD_SPECIAL.sub(r"\\\1", _line(text)))


_LARK_SPECIAL = frozenset("&<>~-!*/\\[]()#:+\"'`$_|{}@")


def lark_escape(text: object) -> str:
    return "".join(f"&#{ord(ch)};" if ch in _LARK_SPECIAL else ch for ch in _line(text))


_WECOM_LOOKALIKE = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "*": "＊", "`": "｀"})


def wecom_escape(text: object) -> str:
    return _line(text).translate(_WECOM_LOOKALIKE)


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29")  # a ")" would end a Markdown link target


def _fit(text: str, limit: int, render: Callable[[str], str], measure: Callable[[str], int] = len) -> str:
    """render(text), with `text` cut (and "…" added) until the result measures at most `limit`."""
    out = render(text)
    cut = len(text)
    while measure(out) > limit and cut > 0:
        cut = min(cut - 1, int(cut * limit / measure(out)))
        out = render(text[:cut].rstrip() + "…")
    return out


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _pack(units: list[Any], fits: Callable[[list[Any]], bool]) -> list[list[Any]]:
    """Greedy split of `units` into consecutive groups for which fits(group) holds (one unit always fits)."""
    groups: list[list[Any]] = [[]]
    for unit in units:
        if groups[-1] and not fits([*groups[-1], unit]):
            groups.append([])
        groups[-1].append(unit)
    return [g for g in groups if g] or [[]]


def _clip(text: str, n: int) -> str:
    text = _line(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _item_lines(
    item: MessageItem, lab: Mapping[str, str], esc: Callable[[object], str], bold: str
) -> list[str]:
    """The per-paper lines every markdown-ish channel shows, after the title; labels say what is heuristic.
    Fields are clipped so that the summary, cut last, always has room within a service's limits."""

    def b(label: str) -> str:  # a label in bold
        return f"{bold}{esc(label)}{bold}"

    lines = []
    if item.translated_title:
        lines.append(f"{b(lab['original_title'])}: {esc(_clip(item.title, 400))}")
    score = (
        f"{b(lab['interest'])}: {esc(lab['score'].format(score=item.score))} {esc(_clip(item.reason, 500))}"
    )
    lines.append(score + (f" {esc(lab['heuristic_label'])}" if item.heuristic_score else ""))
    if item.keywords:
        lines.append(f"{b(lab['keywords'])}: {esc(_clip(lab['keyword_sep'].join(item.keywords), 300))}")
    companies = _clip(lab["list_sep"].join(item.companies), 200)
    lines.append(f"{b(lab['company'])}: {esc(companies or lab['unknown'])}")
    return lines


def _summary_label(item: MessageItem, lab: Mapping[str, str]) -> str:
    return lab["summary"] + (f" {lab['extractive_label']}" if item.extractive_summary else "")


def _numbered_title(item: MessageItem, lab: Mapping[str, str]) -> str:
    return f"{item.rank}. {_clip(item.display_title, 400)}" + (
        f" {lab['untranslated_label']}" if item.untranslated else ""
    )


# -- Slack -----------------------------------------------------------------------------------------------
def _slack_item(item: MessageItem, lab: Mapping[str, str]) -> list[Payload]:
    title = slack_escape(_numbered_title(item, lab))
    head = f"*<{slack_escape(item.link)}|{title}>*" if item.link else f"*{title}*"
    text = _fit("\n".join([head, *_item_lines(item, lab, slack_escape, "*")]), SLACK_MAX_SECTION, lambda s: s)
    summary = _fit(
        item.summary or lab["no_summary"],
        SLACK_MAX_SECTION,
        lambda s: f"*{slack_escape(_summary_label(item, lab))}*\n{slack_escape(s)}",
    )

    def section(text: str) -> dict[str, Any]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}

    return [section(text), section(summary), {"type": "divider"}]


def _slack_context(text: object) -> Payload:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(text)}]}


def slack_payloads(message: DigestMessage) -> list[Payload]:
    header = {"type": "header", "text": {"type": "plain_text", "text": _line(message.title)[:150]}}
    intro = [header, _slack_context(message.header_line), {"type": "divider"}]
    units = [_slack_item(item, message.labels) for item in message.items]
    if not units:
        units = [[{"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(message.empty_text)}}]]
    # Items are never split across messages; continuation messages start with one "(2/3)" context block.
    groups: list[list[Payload]] = []
    for unit in units:
        room = SLACK_MAX_BLOCKS - (len(intro) if len(groups) <= 1 else 1)
        if groups and len(groups[-1]) + len(unit) <= room:
            groups[-1].extend(unit)
        else:
            groups.append(list(unit))
    payloads = []
    for i, blocks in enumerate(groups, 1):
        part = f" ({i}/{len(groups)})" if len(groups) > 1 else ""
        lead = intro if i == 1 else [_slack_context(message.title + part)]
        fallback = slack_escape(f"{message.title} {message.date_text}{part}")
        payloads.append(
            {"text": fallback, "blocks": [*lead, *blocks], "unfurl_links": False, "unfurl_media": False}
        )
    return payloads


# -- Discord ---------------------------------------------------------------------------------------------
def _discord_embed(item: MessageItem, lab: Mapping[str, str]) -> Payload:
    head = "\n".join(_item_lines(item, lab, discord_escape, "**"))
    room = DISCORD_MAX_DESCRIPTION - len(head) - 2
    summary = _fit(
        item.summary or lab["no_summary"],
        room,
        lambda s: f"**{discord_escape(_summary_label(item, lab))}**: {discord_escape(s)}",
    )
    embed: Payload = {
        "title": _fit(_numbered_title(item, lab), DISCORD_MAX_TITLE, discord_escape),
        "description": f"{head}\n\n{summary}",
        "footer": {"text": f"arXiv:{item.arxiv_id}" if item.arxiv_id else "arXiv"},
    }
    if item.link:
        embed["url"] = item.link
    return embed


def _embed_size(embed: Payload) -> int:
    return len(embed.get("title", "")) + len(embed.get("description", "")) + len(embed["footer"]["text"])


def discord_payloads(message: DigestMessage) -> list[Payload]:
    lab = message.labels
    embeds = [_discord_embed(item, lab) for item in message.items]
    groups = _pack(
        embeds,
        lambda g: len(g) <= DISCORD_MAX_EMBEDS and sum(map(_embed_size, g)) <= DISCORD_MAX_EMBED_TOTAL,
    )
    payloads = []
    for i, group in enumerate(groups, 1):
        part = f" ({i}/{len(groups)})" if len(groups) > 1 else ""
        if i == 1:
            content = f"**{discord_escape(message.title)}**{part}\n{discord_escape(message.header_line)}"
            if not message.items:
                content += "\n" + discord_escape(message.empty_text)
        else:
            content = f"**{discord_escape(message.title)}**{part}"
        payloads.append(
            {
                "content": content[:DISCORD_MAX_CONTENT],
                "embeds": group,
                # No @everyone, @here, role or user ping, whatever the text says.
                "allowed_mentions": {"parse": []},
            }
        )
    return payloads


# -- Feishu / Lark ---------------------------------------------------------------------------------------
def feishu_sign(secret: str, timestamp: int) -> str:
    """Feishu custom-bot signature: base64(HMAC-SHA256(key = f"{timestamp}\\n{secret}", message = b""))."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def _feishu_item(item: MessageItem, lab: Mapping[str, str]) -> Payload:
    title = lark_escape(_numbered_title(item, lab))
    head = f"**[{title}]({_md_url(item.link)})**" if item.link else f"**{title}**"
    lines = "\n".join([head, *_item_lines(item, lab, lark_escape, "**")])
    content = _fit(
        item.summary or lab["no_summary"],
        FEISHU_MAX_BYTES // 2,
        lambda s: f"{lines}\n**{lark_escape(_summary_label(item, lab))}**: {lark_escape(s)}",
        _utf8,
    )
    return {"tag": "div", "text": {"tag": "lark_md", "content": content}}


def _feishu_card(title: str, elements: list[Payload]) -> Payload:
    header = {"template": "blue", "title": {"tag": "plain_text", "content": _line(title)}}
    return {
        "msg_type": "interactive",
        "card": {"config": {"wide_screen_mode": True}, "header": header, "elements": elements},
    }


def _json_bytes(payload: Payload) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def feishu_payloads(message: DigestMessage) -> list[Payload]:
    """Interactive cards (unsigned: the signature is added per request, as it must be fresh)."""
    lab = message.labels
    intro: Payload = {"tag": "div", "text": {"tag": "lark_md", "content": lark_escape(message.header_line)}}
    units: list[list[Payload]] = [[_feishu_item(item, lab), {"tag": "hr"}] for item in message.items]
    if not units:
        units = [[{"tag": "div", "text": {"tag": "lark_md", "content": lark_escape(message.empty_text)}}]]
    probe = f"{message.title} (999/999)"
    groups = _pack(
        units,
        lambda g: (
            _json_bytes(_feishu_card(probe, [intro, {"tag": "hr"}, *(e for u in g for e in u)]))
            <= FEISHU_MAX_BYTES
        ),
    )
    payloads = []
    for i, group in enumerate(groups, 1):
        part = f" ({i}/{len(groups)})" if len(groups) > 1 else ""
        lead: list[Payload] = [intro, {"tag": "hr"}] if i == 1 else []
        payloads.append(_feishu_card(message.title + part, [*lead, *(e for u in group for e in u)]))
    return payloads


# -- WeCom -----------------------------------------------------------------------------------------------
def _wecom_item(item: MessageItem, lab: Mapping[str, str], limit: int) -> str:
    title = wecom_escape(_numbered_title(item, lab))
    head = f"**[{title}]({_md_url(item.link)})**" if item.link else f"**{title}**"
    lines = "\n".join([head, *_item_lines(item, lab, wecom_escape, "**")])
    return _fit(
        item.summary or lab["no_summary"],
        limit,
        lambda s: f"{lines}\n**{wecom_escape(_summary_label(item, lab))}**: {wecom_escape(s)}",
        _utf8,
    )


def wecom_payloads(message: DigestMessage) -> list[Payload]:
    """Group-robot markdown messages, each at most 4096 bytes of UTF-8 content."""
    lab = message.labels
    title = wecom_escape(message.title)
    first = f"# {title}\n{wecom_escape(message.header_line)}"
    reserve = max(_utf8(first), _utf8(f"**{title}** (999/999)")) + 2
    units = [_wecom_item(item, lab, WECOM_MAX_BYTES - reserve - 2) for item in message.items]
    if not units:
        units = [wecom_escape(message.empty_text)]
    groups = _pack(units, lambda g: _utf8("\n\n".join(g)) + reserve <= WECOM_MAX_BYTES)
    payloads = []
    for i, group in enumerate(groups, 1):
        part = f" ({i}/{len(groups)})" if len(groups) > 1 else ""
        lead = f"# {title}{part}\n{wecom_escape(message.header_line)}" if i == 1 else f"**{title}**{part}"
        payloads.append({"msgtype": "markdown", "markdown": {"content": "\n\n".join([lead, *group])}})
    return payloads


# -- generic JSON webhook -------------------------------------------------------------------------------
def webhook_payload(message: DigestMessage) -> Payload:
    """Raw (unescaped) text: JSON is the only encoding; the receiver escapes for whatever it renders."""
    return {
        "version": 1,
        "day": message.day.isoformat(),
        "language": message.language,
        "title": message.title,
        "count": len(message.items),
        "items": [asdict(item) for item in message.items],
        "empty_text": message.empty_text,
        "digest_markdown": message.markdown,
    }


# -- sending ---------------------------------------------------------------------------------------------
MAX_RESPONSE_BYTES = resilience.MIB  # a webhook's answer is a few bytes of JSON; more is not read


def _snippet(resp: httpx.Response) -> str:
    return _line(resp.text)[:200]


def _check_http(resp: httpx.Response) -> Attempt[None]:
    status = resp.status_code
    if 200 <= status < 300:
        return Attempt(Outcome.OK)
    reason = f"HTTP {status} {resp.reason_phrase}: {_snippet(resp)}".rstrip(": ")
    if status in (408, 429) or status >= 500:  # rate limited, or the service is having trouble
        # Discord puts retry_after in the body too; Feishu sends x-ogw-ratelimit-reset.
        return Attempt(Outcome.RETRY, detail=reason, retry_after=retry_after(resp.headers, resp.content))
    return Attempt(Outcome.FATAL, detail=reason)  # any other 4xx: the request itself is wrong


def _json_body(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _check_feishu(resp: httpx.Response) -> Attempt[None]:
    outcome = _check_http(resp)
    if outcome.outcome is not Outcome.OK:
        return outcome
    data = _json_body(resp)
    code = data.get("code", data.get("StatusCode", 0))
    if code in (0, None):
        return outcome
    reason = f"Feishu error {code}: {_line(data.get('msg') or data.get('StatusMessage'))}"
    if code == 11232:  # documented rate limiting of custom bots
        return Attempt(Outcome.RETRY, detail=reason)
    hints = {19021: "check secret_env and the machine's clock", 19024: "the bot's keyword filter rejected it"}
    return Attempt(Outcome.FATAL, detail=reason + (f" ({hints[code]})" if code in hints else ""))


def _check_wecom(resp: httpx.Response) -> Attempt[None]:
    outcome = _check_http(resp)
    if outcome.outcome is not Outcome.OK:
        return outcome
    data = _json_body(resp)
    code = data.get("errcode", 0)
    if code == 0:
        return outcome
    reason = f"WeCom error {code}: {_line(data.get('errmsg'))}"
    if code == 45009:  # over 20 messages a minute: the window is one minute
        return Attempt(Outcome.RETRY, detail=reason, retry_after=60.0)
    return Attempt(Outcome.RETRY if code == -1 else Outcome.FATAL, detail=reason)  # -1: "system busy"


def _post_one(
    client: BlockingClient,
    channel: str,
    url: str,
    build: Callable[[], Payload],
    check: Callable[[httpx.Response], Attempt[None]],
    dcfg: DeliveryConfig,
    sleep: Sleep,
    redactor: Redactor,
    deadline: Deadline,
) -> int:
    """POST one message until accepted. Returns the attempts made; raises DeliveryError (attempts set)."""
    host = urlsplit(url).hostname or "the server"

    def attempt() -> Attempt[None]:
        body = json.dumps(build(), ensure_ascii=False).encode("utf-8")
        try:
            response = client.request(
                "POST", url, content=body, deadline=deadline.remaining(), max_bytes=MAX_RESPONSE_BYTES
            )
        except (httpx.TransportError, Expired, BadBody) as exc:
            return Attempt(Outcome.RETRY, detail=f"could not reach {host} ({type(exc).__name__}: {exc})")
        except TooLarge as exc:
            return Attempt(Outcome.FATAL, detail=f"{host} answered with more than {exc.limit:,} bytes")
        return check(response)

    def on_retry(failed: Attempt[None], number: int, wait: float) -> None:
        log.info("%s: %s; retrying in %.1f s", channel, redactor(failed.detail), wait)

    policy = replace(delivery_policy(dcfg), deadline=deadline.remaining())
    result = policy.run(attempt, sleep=sleep, on_retry=on_retry)
    attempts, last = result.attempts, result.last
    if last.outcome is Outcome.OK:
        return attempts
    reason = redactor(last.detail)
    if result.gave_up is GaveUp.ATTEMPTS:
        raise DeliveryError(
            f"{channel}: {reason}; gave up after {attempts} attempts", "unavailable", attempts
        )
    if result.gave_up is GaveUp.RETRY_AFTER:
        raise DeliveryError(
            f"{channel}: {reason}; the server asks to wait {result.wait:.0f} s, more than max_retry_after",
            "unavailable",
            attempts,
        )
    if result.gave_up is GaveUp.DEADLINE or deadline.expired:
        raise DeliveryError(
            f"{channel}: {reason}; stopped at the delivery deadline of {deadline.seconds:g} s "
            "([delivery].deadline)",
            "unavailable",
            attempts,
        )
    raise DeliveryError(f"{channel}: {host} refused the message: {reason} (not retried)", "refused", attempts)


def _url_from_env(env: Mapping[str, str], name: str, channel: str, redactor: Redactor) -> str:
    url = read_secret(env, name, "webhook URL", channel, redactor)
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise DeliveryError(f"{channel}: environment variable {name} does not hold an http(s) URL", "config")
    return url


def send_chat(
    channel: str,
    message: DigestMessage,
    section: Any,
    dcfg: DeliveryConfig,
    *,
    env: Mapping[str, str],
    sleep: Sleep,
    redactor: Redactor,
) -> tuple[int, int, str]:
    """Send every message of `channel`. Returns (HTTP requests made, messages accepted, detail)."""
    headers = {"User-Agent": f"paperradar/{__version__}", "Content-Type": "application/json; charset=utf-8"}
    check = _check_http
    if isinstance(section, WebhookConfig):
        if section.url:
            redactor.add(section.url)
            register_secret(section.url)
        url = section.url or _url_from_env(env, section.url_env or "", channel, redactor)
        headers |= section.headers
        for name, var in section.headers_env.items():
            headers[name] = read_secret(env, var, f"value of the {name} header", channel, redactor)
        payloads = [webhook_payload(message)]
    else:
        url = _url_from_env(env, section.webhook_url_env, channel, redactor)
        formatter = {"slack": slack_payloads, "discord": discord_payloads, "feishu": feishu_payloads}
        payloads = formatter.get(channel, wecom_payloads)(message)
        check = {"feishu": _check_feishu, "wecom": _check_wecom}.get(channel, _check_http)
    secret = None
    if isinstance(section, FeishuConfig) and section.secret_env:
        secret = read_secret(env, section.secret_env, "signing secret", channel, redactor)

    def builder(payload: Payload) -> Callable[[], Payload]:
        if secret is None:
            return lambda: payload

        # A fresh timestamp per request: Feishu rejects signatures older than an hour, retries included.
        def signed() -> Payload:
            ts = int(time.time())
            return {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **payload}

        return signed

    attempts = sent = 0
    deadline = Deadline(dcfg.deadline, f"{channel} delivery")
    # No redirects: a redirect could carry the message (or a token in the URL) to another host.
    client = BlockingClient(timeout=dcfg.timeout, headers=headers, follow_redirects=False)
    try:
        for i, payload in enumerate(payloads):
            if i:
                sleep(PACE[channel])
            try:
                attempts += _post_one(
                    client, channel, url, builder(payload), check, dcfg, sleep, redactor, deadline
                )
            except DeliveryError as exc:
                if len(payloads) > 1:
                    exc.detail = (
                        f"{exc.detail} [message {i + 1} of {len(payloads)}; {sent} delivered before it]"
                    )
                exc.attempts += attempts
                exc.sent = sent
                raise
            sent += 1
    finally:
        client.close()
    host = urlsplit(url).hostname
    return attempts, sent, f"{channel}: {sent} message(s) delivered to {host}"
