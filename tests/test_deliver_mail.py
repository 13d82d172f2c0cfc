"""Mail delivery against a real SMTP server (aiosmtpd on loopback): STARTTLS, implicit TLS, plain relay,
permanent and temporary refusals, login failures, certificate checks, escaping, redaction."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from paperradar.publish.deliver import DeliveryConfig, deliver
from paperradar.publish.deliver.mail import render_html
from tests.deliver_servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    TLS,
    Recorder,
    SMTPServer,
    dead_port,
    hostile_message,
    make_tls,
    zh_message,
)

ZH_SUBJECT = "ArXiv cs.IR 每日论文摘要 2026年02月17日"
ENV = {"SMTP_PASSWORD": SMTP_PASSWORD}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLS:
    return make_tls(tmp_path_factory.mktemp("tls"))


def mail_cfg(
    port: int, security: str, tls: TLS | None = None, *, login: bool = True, **extra: Any
) -> DeliveryConfig:
    mail: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "from_addr": "paperradar 日报 <digest@example.com>",
        "to": ["me@example.com", "Team <team@example.com>"],
    }
    if login:
        mail |= {"username": SMTP_USER, "password_env": "SMTP_PASSWORD"}
    if tls is not None:
        mail["ca_file"] = str(tls.ca_file)
    return DeliveryConfig.model_validate({"mail": mail | extra, "retries": 2, "backoff": 1.5})


def check_digest_mail(srv: SMTPServer, subject: str) -> None:
    assert len(srv.handler.mails) == 1
    sender, rcpts, _ = srv.handler.mails[0]
    assert sender == "digest@example.com" and rcpts == ["me@example.com", "team@example.com"]
    mail = srv.handler.parsed()
    assert mail.get_content_type() == "multipart/alternative"
    assert str(mail["Subject"]) == subject  # decoded from RFC 2047
    assert "=?utf-8?" in srv.handler.mails[0][2].decode("ascii").lower()  # and it was encoded on the wire
    parts = {part.get_content_type(): part for part in mail.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    text, page = parts["text/plain"].get_content(), parts["text/html"].get_content()
    assert text.startswith("# ArXiv cs.IR 每日论文摘要") and "**英文标题**" in text
    assert "<h1>ArXiv cs.IR 每日论文摘要</h1>" in page and '<meta charset="utf-8">' in page
    assert mail["Auto-Submitted"] == "auto-generated" and mail["Message-ID"].endswith("@example.com>")


def test_starttls_with_login_delivers_multipart_mail(tls: TLS) -> None:
    with SMTPServer(tls=tls, starttls=True, users={SMTP_USER: SMTP_PASSWORD}) as srv:
        result = deliver("mail", zh_message(), mail_cfg(srv.port, "starttls", tls), env=ENV)
    assert result.ok, result.detail
    assert (result.attempts, result.messages, result.failure) == (1, 1, None)
    assert srv.logins == [(SMTP_USER, True)]
    check_digest_mail(srv, ZH_SUBJECT)


def test_implicit_tls_delivers_and_escapes_hostile_html(tls: TLS) -> None:
    with SMTPServer(tls=tls, implicit_tls=True, users={SMTP_USER: SMTP_PASSWORD}) as srv:
        cfg = mail_cfg(srv.port, "ssl", tls, subject_template="{title} · {day} · {count}")
        result = deliver("mail", hostile_message(), cfg, env=ENV)
    assert result.ok, result.detail
    mail = srv.handler.parsed()
    assert str(mail["Subject"]) == "ArXiv cs.IR 每日论文摘要 · 2026-02-17 · 5"
    parts = {part.get_content_type(): part.get_content() for part in mail.iter_parts()}
    page = parts["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page and "<img" not in page and "<iframe" not in page
    assert 'href="javascript' not in page
    assert "&lt;script&gt;" in parts["text/plain"]  # the Markdown file's own escaping, sent as is


def test_ja_subject_round_trips(tls: TLS) -> None:
    msg = dataclasses.replace(zh_message(), language="ja", title="ArXiv cs.IR 毎日の論文ダイジェスト")
    with SMTPServer(tls=tls, starttls=True, users={SMTP_USER: SMTP_PASSWORD}) as srv:
        assert deliver("mail", msg, mail_cfg(srv.port, "starttls", tls), env=ENV).ok
    assert str(srv.handler.parsed()["Subject"]) == "ArXiv cs.IR 毎日の論文ダイジェスト 2026年02月17日"


def test_plain_local_relay_without_login() -> None:
    with SMTPServer() as srv:
        result = deliver("mail", zh_message(), mail_cfg(srv.port, "none", login=False), env={})
    assert result.ok and result.attempts == 1
    check_digest_mail(srv, ZH_SUBJECT)


@pytest.mark.parametrize(
    "handler",
    [
        Recorder(rcpt_replies=["550 5.7.1 Relaying denied for this sender"] * 2),  # at RCPT TO
        Recorder(data_replies=["554 5.7.1 Message rejected as spam"]),  # at DATA
    ],
    ids=["rcpt-550", "data-554"],
)
def test_permanent_refusal_is_reported_without_retry(handler: Recorder) -> None:
    sleeps: list[float] = []
    reason = (handler.rcpt_replies or handler.data_replies)[0]
    with SMTPServer(handler) as srv:
        result = deliver(
            "mail", zh_message(), mail_cfg(srv.port, "none", login=False), env={}, sleep=sleeps.append
        )
    assert not result.ok and result.failure == "refused"
    assert result.attempts == 1 and srv.connections == 1 and sleeps == []
    assert reason in result.detail and result.detail.startswith("mail:") and "not retried" in result.detail
    assert handler.mails == []


def test_temporary_failure_is_retried_with_backoff(tls: TLS) -> None:
    sleeps: list[float] = []
    handler = Recorder(data_replies=["451 4.3.0 Mailbox temporarily unavailable"])
    with SMTPServer(handler, tls=tls, starttls=True, users={SMTP_USER: SMTP_PASSWORD}) as srv:
        result = deliver(
            "mail", zh_message(), mail_cfg(srv.port, "starttls", tls), env=ENV, sleep=sleeps.append
        )
    assert result.ok, result.detail
    assert result.attempts == 2 and srv.connections == 2 and sleeps == [1.5]
    assert len(handler.mails) == 1  # delivered once, on the second connection


def test_temporary_failures_give_up_after_the_retries() -> None:
    sleeps: list[float] = []
    handler = Recorder(data_replies=["421 4.7.0 Try again later"] * 5)
    with SMTPServer(handler) as srv:
        result = deliver(
            "mail", zh_message(), mail_cfg(srv.port, "none", login=False), env={}, sleep=sleeps.append
        )
    assert not result.ok and result.failure == "unavailable"
    assert result.attempts == 3 and sleeps == [1.5, 3.0]
    assert "421 4.7.0 Try again later" in result.detail and "3 attempts" in result.detail


def test_login_failure_says_so_and_never_shows_the_password(
    tls: TLS, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps: list[float] = []
    with SMTPServer(tls=tls, starttls=True, users={SMTP_USER: "another-password"}) as srv:
        result = deliver(
            "mail", zh_message(), mail_cfg(srv.port, "starttls", tls), env=ENV, sleep=sleeps.append
        )
    assert not result.ok and result.failure == "refused" and result.attempts == 1 and sleeps == []
    assert "authentication failed" in result.detail and SMTP_USER in result.detail
    assert "535" in result.detail and "$SMTP_PASSWORD" in result.detail
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert SMTP_PASSWORD not in result.detail + ours
    assert srv.handler.mails == []


def test_starttls_is_never_downgraded(tls: TLS) -> None:
    with SMTPServer() as srv:  # a server that offers no STARTTLS
        result = deliver("mail", zh_message(), mail_cfg(srv.port, "starttls", tls), env=ENV)
    assert not result.ok and result.failure == "refused"
    assert "does not offer STARTTLS" in result.detail and srv.handler.mails == []


def test_untrusted_certificate_is_refused(tls: TLS) -> None:
    with SMTPServer(tls=tls, implicit_tls=True, users={SMTP_USER: SMTP_PASSWORD}) as srv:
        result = deliver("mail", zh_message(), mail_cfg(srv.port, "ssl"), env=ENV)  # no ca_file: system CAs
    assert not result.ok and result.failure == "refused"
    assert "not trusted" in result.detail and "ca_file" in result.detail and srv.handler.mails == []


def test_unreachable_server_is_retried_then_reported() -> None:
    sleeps: list[float] = []
    port = dead_port()
    result = deliver("mail", zh_message(), mail_cfg(port, "none", login=False), env={}, sleep=sleeps.append)
    assert not result.ok and result.failure == "unavailable"
    assert result.attempts == 3 and sleeps == [1.5, 3.0]
    assert result.detail.startswith("mail: could not reach 127.0.0.1:") and "refused" in result.detail.lower()


def test_missing_password_variable_is_a_config_failure(tls: TLS) -> None:
    result = deliver("mail", zh_message(), mail_cfg(dead_port(), "starttls", tls), env={})
    assert (result.ok, result.failure, result.attempts) == (False, "config", 0)
    assert "SMTP_PASSWORD is not set" in result.detail


def test_html_rendering_never_passes_raw_html() -> None:
    page = render_html(
        "# T <b>x</b>\n\n<script>alert(1)</script>\n\n[a](javascript:alert(1)) [ok](https://arxiv.org/abs/1)",
        title="<T>",
        language='zh"><script>',
    )
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<title>&lt;T&gt;</title>" in page
    assert 'href="javascript' not in page and '<a href="https://arxiv.org/abs/1">ok</a>' in page


def test_text_part_is_the_digest_file(tmp_path: Path, tls: TLS) -> None:
    msg = zh_message()
    with SMTPServer(tls=tls, starttls=True, users={SMTP_USER: SMTP_PASSWORD}) as srv:
        assert deliver("mail", msg, mail_cfg(srv.port, "starttls", tls), env=ENV).ok
    text = next(p for p in srv.handler.parsed().iter_parts() if p.get_content_type() == "text/plain")
    assert text.get_content().replace("\r\n", "\n") == msg.markdown
