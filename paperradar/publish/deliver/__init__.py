"""Delivery: send a published digest by mail or to chat webhooks (Slack, Discord, Feishu/Lark, WeCom, JSON).

The digest is written to disk before anything here runs, so a delivery can only fail to notify, never lose
work: `deliver()` reports every failure in a `DeliveryResult` instead of raising. Secrets (the mail password,
webhook URLs, which embed their token, signing secrets, header values) come from environment variables named
in `[delivery]` and are redacted from results and from log records emitted while a delivery runs.

Text from papers and models is hostile by assumption: each channel escapes it for its own markup, and mass
mentions (Slack `<!channel>`, Discord `@everyone`, Feishu `<at id=all>`) cannot be triggered by it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence

from paperradar.publish.deliver.chat import send_chat
from paperradar.publish.deliver.config import CHANNEL_NAMES, DeliveryConfig
from paperradar.publish.deliver.mail import send_mail
from paperradar.publish.deliver.message import (
    DeliveryError,
    DeliveryResult,
    DigestMessage,
    MessageItem,
    Sleep,
    from_digest,
    from_records,
    redacting_logs,
)
from paperradar.sources.resilience import Redactor

__all__ = [
    "CHANNEL_NAMES",
    "DeliveryConfig",
    "DeliveryResult",
    "DigestMessage",
    "MessageItem",
    "Redactor",
    "deliver",
    "deliver_all",
    "from_digest",
    "from_records",
]


log = logging.getLogger("paperradar.deliver")


def deliver(
    channel: str,
    message: DigestMessage,
    dcfg: DeliveryConfig,
    *,
    env: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
) -> DeliveryResult:
    """Send `message` to `channel` ("mail", "slack", "discord", "feishu", "wecom", "webhook").

    `dcfg` is the `[delivery]` section. Never raises for a delivery failure: the result
    says what happened. `env` replaces os.environ (secrets) and `sleep` time.sleep (backoff, pacing).
    """
    if channel not in CHANNEL_NAMES:
        raise ValueError(f"unknown delivery channel {channel!r}; use one of {', '.join(CHANNEL_NAMES)}")
    section = getattr(dcfg, channel, None)
    if section is None:
        return DeliveryResult(
            channel,
            False,
            0,
            f"{channel}: not configured; add a [delivery.{channel}] section",
            failure="config",
        )
    env = os.environ if env is None else env
    redactor = Redactor()
    with redacting_logs(redactor):
        try:
            if channel == "mail":
                attempts, sent, detail = send_mail(
                    message, section, dcfg, env=env, sleep=sleep, redactor=redactor
                )
            else:
                attempts, sent, detail = send_chat(
                    channel, message, section, dcfg, env=env, sleep=sleep, redactor=redactor
                )
            result = DeliveryResult(channel, True, attempts, redactor(detail), sent)
        except DeliveryError as exc:
            result = DeliveryResult(channel, False, exc.attempts, redactor(exc.detail), exc.sent, exc.failure)
        except Exception as exc:  # a bug must not stop the other channels, nor print a secret in a traceback
            log.exception("%s: unexpected error while delivering", channel)
            detail = f"{channel}: unexpected error {type(exc).__name__}: {exc}"
            result = DeliveryResult(channel, False, 0, redactor(detail), failure="internal")
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "%s (attempts: %d)", result.detail, result.attempts)
    return result


def deliver_all(
    message: DigestMessage,
    dcfg: DeliveryConfig,
    channels: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
) -> list[DeliveryResult]:
    """Deliver to `channels` (default: every configured one), one after the other; one result each."""
    names = list(channels) if channels is not None else dcfg.configured()
    return [deliver(name, message, dcfg, env=env, sleep=sleep) for name in names]
