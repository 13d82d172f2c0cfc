"""Real local servers for the delivery tests, and the digests they deliver.

- `SMTPServer`: aiosmtpd on 127.0.0.1, port 0, in its own event-loop thread; plain, STARTTLS or implicit
  TLS with a throw-away CA made by trustme; scripted replies (451, 550…) and a login check.
- `WebhookServer`: a loopback HTTP server that records every request and answers from a script.
- digests built from the real cs.IR records in tests/fixtures (via tests.publish_fixtures), and a
  hostile one from tests/fixtures/deliver/hostile.json, as the messages channels send (`message_for`,
  `zh_message`, `big_message`, `hostile_message`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from paperradar.models import GeneratedText
from paperradar.publish import render_digest
from paperradar.publish.deliver import DigestMessage, from_digest
from tests.publish_fixtures import build_digest, many_papers

HOSTILE = json.loads((Path(__file__).parent / "fixtures" / "deliver" / "hostile.json").read_text("utf-8"))
SMTP_USER = "digest@example.com"
SMTP_PASSWORD = "pw-Kx9!vQ2#zzT7"
# Shaped like real webhook URLs: the token is in the path (Slack, Discord, Feishu) or the query (WeCom).
SLACK_PATH = "/services/T0SECRET/B0SECRET/XoXoSeCrEtToKeN1234567890"
WECOM_PATH = "/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


# -- TLS ---------------------------------------------------------------------------------------------------
@dataclass
class TLS:
    ca: trustme.CA
    ca_file: Path  # PEM the client trusts
    server_context: ssl.SSLContext


def make_tls(folder: Path) -> TLS:
    """A fresh CA and a server certificate for 127.0.0.1/localhost (nothing is downloaded or reused)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ca_file = folder / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TLS(ca, ca_file, ctx)


# -- SMTP --------------------------------------------------------------------------------------------------
class Recorder:
    """aiosmtpd handler: keeps accepted mails; `rcpt_replies`/`data_replies` are answered first, in order
    ("250" entries let that command through), before the normal acceptance."""

    def __init__(self, rcpt_replies: Iterable[str] = (), data_replies: Iterable[str] = ()):
        self.rcpt_replies = list(rcpt_replies)
        self.data_replies = list(data_replies)
        self.mails: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_replies:
            reply = self.rcpt_replies.pop(0)
            if not reply.startswith("250"):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            reply = self.data_replies.pop(0)
            if not reply.startswith("250"):
                return reply
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def parsed(self, index: int = -1) -> EmailMessage:
        return message_from_bytes(self.mails[index][2], policy=default_policy)  # type: ignore[return-value]


class SMTPServer:
    """aiosmtpd on 127.0.0.1:0 in a thread. `starttls`: offer STARTTLS; `implicit_tls`: TLS from the start."""

    def __init__(
        self,
        handler: Recorder | None = None,
        *,
        tls: TLS | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        users: dict[str, str] | None = None,
    ):
        self.handler = handler or Recorder()
        self.tls, self.starttls, self.implicit_tls = tls, starttls, implicit_tls
        self.users = users or {}
        self.connections = 0
        self.logins: list[tuple[str, bool]] = []
        self.port = 0

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.users.get(data.login.decode()) == data.password.decode()
        self.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False)

    def _protocol(self) -> SMTP:
        self.connections += 1
        return SMTP(
            self.handler,
            hostname="localhost",
            tls_context=self.tls.server_context if (self.starttls and self.tls) else None,
            authenticator=self._authenticate if self.users else None,
            # Implicit TLS is TLS although aiosmtpd only knows about STARTTLS: allow AUTH on it.
            auth_require_tls=not self.implicit_tls,
            loop=self.loop,
        )

    def __enter__(self) -> SMTPServer:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        ssl_ctx = self.tls.server_context if (self.implicit_tls and self.tls) else None
        coro = self.loop.create_server(self._protocol, "127.0.0.1", 0, ssl=ssl_ctx)
        self.server = asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def _close() -> None:
            self.server.close()
            await self.server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(_close(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


# -- HTTP --------------------------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class WebhookServer:
    """Loopback HTTP server: records requests, answers `replies` in order, then `default`."""

    def __init__(self, replies: Iterable[Reply] = (), default: Reply | None = None):
        self.replies = list(replies)
        self.default = default or Reply()
        self.requests: list[Received] = []
        self._lock = threading.Lock()

    def url(self, path: str = SLACK_PATH) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer._lock:
                    outer.requests.append(
                        Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    reply = outer.replies.pop(0) if outer.replies else outer.default
                data = reply.body
                if isinstance(data, dict):
                    data = json.dumps(data).encode()
                elif isinstance(data, str):
                    data = data.encode()
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.status != 204:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if reply.status != 204:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        return Handler

    def __enter__(self) -> WebhookServer:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def dead_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- digests ---------------------------------------------------------------------------------------------
def message_for(digest: Any, max_authors: int = 4) -> DigestMessage:
    """The message the caller would build after writing the digest (messages are immutable: cached below)."""
    markdown = render_digest(digest, max_authors)
    return from_digest(digest, markdown, Path("out") / f"{digest.day}.md")


@functools.cache
def zh_message() -> DigestMessage:
    return message_for(build_digest("zh"))


@functools.cache
def big_message(n: int = 120, language: str = "zh") -> DigestMessage:
    return message_for(build_digest(language, papers=many_papers(n), top_n=n))


def hostile_digest(language: str = "zh") -> Any:
    digest = build_digest(language)
    items = []
    for i, item in enumerate(digest.items):
        paper = item.paper
        if i < len(HOSTILE["titles"]):
            paper = dataclasses.replace(paper, title=HOSTILE["titles"][i])
        interest = dataclasses.replace(item.interest, reason=HOSTILE["reason"])
        items.append(dataclasses.replace(item, paper=paper, interest=interest))
    first = items[0].paper
    texts = {k: dict(v) for k, v in digest.texts.items()}
    texts[first.arxiv_id]["summary"] = GeneratedText(
        first.arxiv_id, first.version, "summary", language, HOSTILE["summary"], "qwen2.5-7b", "t1"
    )
    texts[first.arxiv_id]["title"] = GeneratedText(
        first.arxiv_id, first.version, "title", language, HOSTILE["translated_title"], "qwen2.5-7b", "t1"
    )
    return dataclasses.replace(digest, items=items, texts=texts)


@functools.cache
def hostile_message(language: str = "zh") -> DigestMessage:
    return message_for(hostile_digest(language))
