"""The `[delivery]` config section: where a published digest is sent (mail, chat webhooks).

Secrets never live in the config file. A mail password and every webhook URL (Slack, Discord, Feishu and
WeCom URLs embed the token that lets anyone post) are read from environment variables this section names:

    [delivery]
    retries = 3          # retries after the first attempt, on temporary failures only
    timeout = 30.0       # seconds per connection / request
    [delivery.mail]
    host = "smtp.example.com"
    security = "starttls"            # starttls (port 587) | ssl (465) | none (25, local relays only)
    username = "digest@example.com"
    password_env = "PAPERRADAR_SMTP_PASSWORD"
    from_addr = "paperradar <digest@example.com>"
    to = ["me@example.com"]
    [delivery.slack]
    webhook_url_env = "PAPERRADAR_SLACK_WEBHOOK"
"""

from __future__ import annotations

import re
import string
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from paperradar.text.env_names import check_env_name

# Placeholders a mail subject may use; anything else (including attribute access such as {day.year}) is an
# error at load time rather than a crash, or a leak of object internals, at send time.
SUBJECT_FIELDS = ("title", "day", "date", "count", "language")
DEFAULT_SUBJECT = "{title} {date}"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _check_address(value: str, key: str) -> str:
    value = value.strip()
    if "\r" in value or "\n" in value:
        raise ValueError(f"{key} must be one line")  # a newline would start a new mail header
    _, addr = parseaddr(value)
    if "@" not in addr or addr.startswith("@") or addr.endswith("@"):
        raise ValueError(
            f"{value!r} is not a mail address; use e.g. 'me@example.com' or 'Me <me@example.com>'"
        )
    return value


class MailConfig(_Section):
    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535)  # None: 587 / 465 / 25 by `security`
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    from_addr: str
    to: list[str] = Field(min_length=1)
    subject_template: str = DEFAULT_SUBJECT
    # A PEM bundle to trust instead of the system's, for a relay with a private CA. Never disables checks.
    ca_file: Path | None = None

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @field_validator("password_env")
    @classmethod
    def _check_password_env(cls, value: str | None) -> str | None:
        return check_env_name(value, "password_env") if value else None

    @field_validator("from_addr")
    @classmethod
    def _check_from(cls, value: str) -> str:
        return _check_address(value, "from_addr")

    @field_validator("to")
    @classmethod
    def _check_to(cls, value: list[str]) -> list[str]:
        return [_check_address(v, "to") for v in value]

    @field_validator("subject_template")
    @classmethod
    def _check_subject(cls, value: str) -> str:
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise ValueError(
                f"subject_template is not a valid template ({exc}); use e.g. {DEFAULT_SUBJECT!r}"
            ) from None
        bad = [f for f in fields if f not in SUBJECT_FIELDS]
        if bad:
            raise ValueError(
                f"subject_template uses {{{bad[0]}}}; the placeholders are "
                + ", ".join(f"{{{f}}}" for f in SUBJECT_FIELDS)
            )
        return value

    @model_validator(mode="after")
    def _check_auth(self) -> MailConfig:
        if self.username and not self.password_env:
            raise ValueError(
                "username is set but password_env is not; name the environment variable holding the password"
            )
        if self.username and self.security == "none":
            raise ValueError(
                "security = 'none' would send the password unencrypted; use 'starttls' or 'ssl', "
                "or remove username for an unauthenticated local relay"
            )
        return self


class _WebhookEnv(_Section):
    webhook_url_env: str

    @field_validator("webhook_url_env")
    @classmethod
    def _check_url_env(cls, value: str) -> str:
        return check_env_name(value, "webhook_url_env")


class SlackConfig(_WebhookEnv):
    pass


class DiscordConfig(_WebhookEnv):
    pass


class WeComConfig(_WebhookEnv):
    pass


class FeishuConfig(_WebhookEnv):
    # The bot's signing secret ("签名校验"), when the bot has signature checking on.
    secret_env: str | None = None

    @field_validator("secret_env")
    @classmethod
    def _check_secret_env(cls, value: str | None) -> str | None:
        return check_env_name(value, "secret_env") if value else None


class WebhookConfig(_Section):
    """A generic JSON webhook. `url` is allowed for endpoints whose URL holds no token; it is still
    treated as a secret in messages and logs."""

    url_env: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # Header name -> NAME of the environment variable holding its value (e.g. Authorization).
    headers_env: dict[str, str] = Field(default_factory=dict)

    @field_validator("url_env")
    @classmethod
    def _check_url_env(cls, value: str | None) -> str | None:
        return check_env_name(value, "url_env") if value else None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value.strip()):
            raise ValueError("url must be an http(s) URL")  # not echoed: it may hold a token
        return value.strip() if value else None

    @field_validator("headers", "headers_env")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
            if "\r" in text or "\n" in text:
                raise ValueError(f"header {name} must be one line")
        return value

    @model_validator(mode="after")
    def _check_one_url(self) -> WebhookConfig:
        if bool(self.url) == bool(self.url_env):
            raise ValueError("set exactly one of url_env (recommended) or url")
        for name, env in self.headers_env.items():
            check_env_name(env, f"headers_env.{name}")
        return self


class DeliveryConfig(_Section):
    mail: MailConfig | None = None
    slack: SlackConfig | None = None
    discord: DiscordConfig | None = None
    feishu: FeishuConfig | None = None
    wecom: WeComConfig | None = None
    webhook: WebhookConfig | None = None
    retries: int = Field(3, ge=0, le=10)  # after the first attempt; temporary failures only
    timeout: float = Field(30.0, gt=0, le=600)
    backoff: float = Field(2.0, ge=0, le=60)  # first wait; doubles each retry, at most 60 s
    # A server asking to wait longer than this (Retry-After) is reported instead of waited for.
    max_retry_after: float = Field(300.0, ge=0, le=3600)
    # One channel's whole delivery (every message, retry and wait; an SMTP session or a webhook answer that
    # trickles in byte by byte is cut here too), in seconds.
    deadline: float = Field(600.0, gt=0, le=86400)

    def configured(self) -> list[str]:
        """The channels that have a section, in a fixed order."""
        return [name for name in CHANNEL_NAMES if getattr(self, name) is not None]


CHANNEL_NAMES: tuple[str, ...] = ("mail", "slack", "discord", "feishu", "wecom", "webhook")

# For config_template.toml: every key commented out, so the default stays "deliver nowhere".
TEMPLATE = """
[delivery]
# Where `paperradar publish mail|slack|discord|feishu|wecom|webhook` sends the day's digest. The digest is
# always written to disk first; a failed delivery is reported, never lost work.
# Secrets (mail password, webhook URLs: they embed the token) are read from the environment variables named here.
retries = 3          # retries after the first attempt, on temporary failures (SMTP 4xx, HTTP 429/5xx, network)
timeout = 30.0       # seconds per connection or request
# backoff = 2.0      # first wait between retries in seconds; doubles each time
# max_retry_after = 300.0
# deadline = 600.0   # seconds for one channel's whole delivery, retries and waits included

# [delivery.mail]
# host = "smtp.example.com"
# security = "starttls"             # starttls (port 587) | ssl (465) | none (25: local relays, no login)
# port = 587
# username = "digest@example.com"
# password_env = "PAPERRADAR_SMTP_PASSWORD"
# from_addr = "paperradar <digest@example.com>"
# to = ["me@example.com"]
# subject_template = "{title} {date}"   # also {day} (ISO date), {count}, {language}

# [delivery.slack]
# webhook_url_env = "PAPERRADAR_SLACK_WEBHOOK"

# [delivery.discord]
# webhook_url_env = "PAPERRADAR_DISCORD_WEBHOOK"

# [delivery.feishu]                  # Feishu / Lark custom bot
# webhook_url_env = "PAPERRADAR_FEISHU_WEBHOOK"
# secret_env = "PAPERRADAR_FEISHU_SECRET"   # only when the bot has signature checking on

# [delivery.wecom]                   # WeCom (企业微信) group robot
# webhook_url_env = "PAPERRADAR_WECOM_WEBHOOK"

# [delivery.webhook]                 # any endpoint taking JSON {day, language, title, items, digest_markdown}
# url_env = "PAPERRADAR_WEBHOOK_URL"
# headers = { "X-Source" = "paperradar" }
# headers_env = { "Authorization" = "PAPERRADAR_WEBHOOK_AUTH" }
"""
