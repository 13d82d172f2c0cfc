"""Mail delivery: the digest as multipart/alternative (the Markdown as text, rendered HTML) over SMTP.

The HTML part is rendered by markdown-it-py with raw HTML disabled, so a `<script>` in a title arrives as
the text `&lt;script&gt;` however the Markdown was escaped upstream. STARTTLS is required when configured
(a server that does not offer it is an error, never a silent downgrade) and certificates are always
verified. Temporary refusals (SMTP 4xx, dropped or refused connections) are retried with backoff; a
permanent refusal (5xx) is reported at once with the server's reason.
"""

from __future__ import annotations

import html
import logging
import smtplib
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import replace
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr

from markdown_it import MarkdownIt

from paperradar.publish.deliver.config import DeliveryConfig, MailConfig
from paperradar.publish.deliver.message import (
    DeliveryError,
    DigestMessage,
    Sleep,
    delivery_policy,
    read_secret,
)
from paperradar.sources.resilience import Attempt, Deadline, GaveUp, Outcome, Redactor

log = logging.getLogger("paperradar.deliver")

# commonmark preset, raw HTML off: inline and block HTML in the source is output as escaped text.
# markdown-it also refuses javascript:/vbscript:/file:/data: link targets (validateLink).
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_STYLE = (
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Hiragino Sans',"
    "'Microsoft YaHei',sans-serif;line-height:1.6;max-width:760px;margin:0 auto;padding:16px;color:#222"
)


class _Temporary(Exception):
    """Worth another try later: SMTP 4xx, a refused or dropped connection, a timeout."""


class _Permanent(Exception):
    """Trying again will not help: SMTP 5xx, bad credentials, an untrusted certificate, no STARTTLS."""


def render_html(markdown: str, *, title: str, language: str) -> str:
    """A complete HTML document for the digest. Every string in it is escaped by markdown-it or here."""
    body = _MARKDOWN.render(markdown)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(language, quote=True)}">\n'
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>\n"
        f'<body style="{_STYLE}">\n{body}</body>\n</html>\n'
    )


def subject_for(message: DigestMessage, cfg: MailConfig) -> str:
    subject = cfg.subject_template.format(
        title=message.title,
        day=message.day.isoformat(),
        date=message.date_text,
        count=len(message.items),
        language=message.language,
    )
    # One line: a newline in a header would end it (and the policy would refuse the message anyway).
    return " ".join(subject.split())


def build_email(message: DigestMessage, cfg: MailConfig) -> EmailMessage:
    """The mail: UTF-8 subject (RFC 2047 encoded by the policy), a text and an HTML alternative."""
    email = EmailMessage(policy=SMTP_POLICY)
    email["Subject"] = subject_for(message, cfg)
    email["From"] = cfg.from_addr
    email["To"] = ", ".join(cfg.to)
    email["Date"] = formatdate(usegmt=True)
    domain = parseaddr(cfg.from_addr)[1].rpartition("@")[2] or "paperradar.invalid"
    email["Message-ID"] = make_msgid(domain=domain)  # a domain, or make_msgid asks DNS for our FQDN
    # RFC 3834: an automatic mail; asks vacation responders and the like not to answer it.
    email["Auto-Submitted"] = "auto-generated"
    text = message.markdown if message.markdown.strip() else (message.empty_text or message.title)
    # base64 keeps the message 7-bit clean for any relay (no 8BITMIME needed) and is compact for CJK text.
    email.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    email.add_alternative(
        render_html(text, title=message.title, language=message.language),
        subtype="html",
        charset="utf-8",
        cte="base64",
    )
    return email


def _tls_context(cfg: MailConfig) -> ssl.SSLContext:
    # Verification stays on; a private CA is trusted by naming its bundle, never by turning checks off.
    return ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"{code} {text}".split())


def _classify(code: int, text: bytes | str, what: str) -> Exception:
    reason = f"{what}: the server answered {_reply(code, text)}"
    return _Temporary(reason) if 400 <= code < 500 else _Permanent(reason)


@contextmanager
def _cut_at(smtp: smtplib.SMTP, seconds: float | None) -> Iterator[threading.Event]:
    """Shut the session's socket down when `seconds` pass: smtplib's timeout applies per read, so a server
    trickling a byte at a time would hold the session forever. The event tells the deadline fired."""
    fired = threading.Event()

    def cut() -> None:
        fired.set()
        sock = smtp.sock
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read: it sees end-of-file

    timer = threading.Timer(max(0.0, seconds or 0.0), cut) if seconds is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield fired
    finally:
        if timer is not None:
            timer.cancel()


def _session(
    smtp: smtplib.SMTP,
    email: EmailMessage,
    sender: str,
    recipients: list[str],
    cfg: MailConfig,
    password: str | None,
) -> dict[str, tuple[int, bytes]]:
    host, port = cfg.host, cfg.effective_port
    where = f"{host}:{port}"
    # smtplib sets the TLS server name (_host) only when the constructor connects; we connect later, under
    # the deadline watchdog, so it is set here for SMTP_SSL and STARTTLS to verify the certificate against.
    smtp._host = host  # type: ignore[attr-defined]
    smtp.connect(host, port)
    with smtp:
        if cfg.security == "starttls":
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise _Permanent(
                    f"{where} does not offer STARTTLS, so the mail was not sent in clear; "
                    "use security = 'ssl' (port 465) if the server speaks TLS from the start"
                )
            smtp.starttls(context=_tls_context(cfg))
            smtp.ehlo()
        if cfg.username:
            try:
                smtp.login(cfg.username, password or "")
            except smtplib.SMTPAuthenticationError as exc:
                if 400 <= exc.smtp_code < 500:
                    raise _Temporary(
                        f"login at {where}: the server answered {_reply(exc.smtp_code, exc.smtp_error)}"
                    ) from None
                raise _Permanent(
                    f"authentication failed for user {cfg.username!r} at {where}: "
                    f"{_reply(exc.smtp_code, exc.smtp_error)}; check username and the password in ${cfg.password_env}"
                ) from None
            except smtplib.SMTPNotSupportedError:
                raise _Permanent(
                    f"{where} offers no login (AUTH); remove username for a relay that needs none"
                ) from None
        return smtp.send_message(email, from_addr=sender, to_addrs=recipients)


def _send_once(
    email: EmailMessage,
    sender: str,
    recipients: list[str],
    cfg: MailConfig,
    dcfg: DeliveryConfig,
    password: str | None,
    deadline: Deadline,
) -> dict[str, tuple[int, bytes]]:
    """One connection: TLS, login, MAIL/RCPT/DATA. Returns the recipients refused while others accepted."""
    host, port = cfg.host, cfg.effective_port
    where = f"{host}:{port}"
    if deadline.expired:
        raise _Temporary(f"{where}: the delivery deadline of {dcfg.deadline:g} s passed")
    # Connect inside the watchdog (smtplib reads the greeting in connect()), so a trickled greeting is cut too.
    if cfg.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(timeout=dcfg.timeout, context=_tls_context(cfg))
    else:
        smtp = smtplib.SMTP(timeout=dcfg.timeout)
    try:
        with _cut_at(smtp, deadline.remaining()) as fired:
            try:
                return _session(smtp, email, sender, recipients, cfg, password)
            except smtplib.SMTPServerDisconnected:
                if fired.is_set():
                    raise _Temporary(
                        f"{where} did not finish the session within the delivery deadline of {dcfg.deadline:g} s"
                    ) from None
                raise
    except (_Temporary, _Permanent):
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {addr: _reply(code, text) for addr, (code, text) in exc.recipients.items()}
        reasons = "; ".join(f"{addr}: {reason}" for addr, reason in codes.items())
        if all(400 <= code < 500 for code, _ in exc.recipients.values()):
            raise _Temporary(f"{where} refused the recipients for now ({reasons})") from None
        raise _Permanent(f"{where} refused the recipients ({reasons})") from None
    except smtplib.SMTPSenderRefused as exc:
        raise _classify(exc.smtp_code, exc.smtp_error, f"{where} refused the sender {exc.sender}") from None
    except smtplib.SMTPDataError as exc:
        raise _classify(exc.smtp_code, exc.smtp_error, f"{where} refused the message") from None
    except smtplib.SMTPConnectError as exc:
        raise _classify(exc.smtp_code, exc.smtp_error, f"{where} refused the connection") from None
    except smtplib.SMTPResponseException as exc:
        raise _classify(exc.smtp_code, exc.smtp_error, f"{where}") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise _Temporary(f"{where} closed the connection ({exc})") from None
    except ssl.SSLCertVerificationError as exc:
        raise _Permanent(
            f"the TLS certificate of {where} is not trusted ({exc.verify_message}); "
            "for a relay with a private CA set ca_file in [delivery.mail]"
        ) from None
    except ssl.SSLError as exc:
        raise _Permanent(
            f"TLS with {where} failed ({exc.reason or exc}); check security and port "
            "(starttls is usually port 587, ssl port 465)"
        ) from None
    except smtplib.SMTPException as exc:
        raise _Permanent(f"{where}: {exc}") from None
    except OSError as exc:  # refused, unreachable, timed out, DNS: the relay may be back later
        raise _Temporary(f"could not reach {where} ({exc.strerror or type(exc).__name__})") from None


def send_mail(
    message: DigestMessage,
    cfg: MailConfig,
    dcfg: DeliveryConfig,
    *,
    env: Mapping[str, str],
    sleep: Sleep,
    redactor: Redactor,
) -> tuple[int, int, str]:
    """Send the digest mail. Returns (connections made, mails accepted, detail); raises DeliveryError."""
    password = None
    if cfg.username and cfg.password_env:
        password = read_secret(env, cfg.password_env, "SMTP password", "mail", redactor)
    email = build_email(message, cfg)
    sender = parseaddr(cfg.from_addr)[1]
    recipients = [parseaddr(addr)[1] for addr in cfg.to]
    deadline = Deadline(dcfg.deadline, "mail delivery")

    def attempt() -> Attempt[dict[str, tuple[int, bytes]]]:
        try:
            return Attempt(Outcome.OK, _send_once(email, sender, recipients, cfg, dcfg, password, deadline))
        except _Temporary as exc:
            return Attempt(Outcome.RETRY, detail=redactor(exc))
        except _Permanent as exc:
            return Attempt(Outcome.FATAL, detail=redactor(exc))

    def on_retry(failed: Attempt[dict[str, tuple[int, bytes]]], number: int, wait: float) -> None:
        log.info(
            "mail: %s; retrying in %.1f s (attempt %d of %d)",
            failed.detail,
            wait,
            number + 1,
            dcfg.retries + 1,
        )

    policy = replace(delivery_policy(dcfg), deadline=deadline.remaining())
    result = policy.run(attempt, sleep=sleep, on_retry=on_retry)
    attempts, last = result.attempts, result.last
    if last.outcome is Outcome.FATAL:
        raise DeliveryError(f"mail: {last.detail} (not retried)", "refused", attempts)
    if result.gave_up is GaveUp.DEADLINE:
        raise DeliveryError(
            f"mail: {last.detail}; stopped at the delivery deadline of {dcfg.deadline:g} s ([delivery].deadline)",
            "unavailable",
            attempts,
        )
    if last.outcome is not Outcome.OK or last.value is None:
        raise DeliveryError(
            f"mail: {last.detail}; gave up after {attempts} attempts", "unavailable", attempts
        )
    refused = last.value
    if refused:
        # Others accepted the mail: retrying would send them a second copy, so report and stop.
        reasons = "; ".join(f"{addr}: {_reply(code, text)}" for addr, (code, text) in refused.items())
        raise DeliveryError(
            f"mail: sent to {len(recipients) - len(refused)} of {len(recipients)} recipients; refused: {reasons}",
            "refused",
            attempts,
            sent=1,
        )
    return attempts, 1, f"mail: sent to {len(recipients)} recipient(s) via {cfg.host}:{cfg.effective_port}"
