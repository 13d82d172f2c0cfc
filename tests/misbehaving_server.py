"""Loopback servers that misbehave the way real ones (and attackers) do, for the resilience tests and
`bench/reliability.py`. Plain sockets, so every byte on the wire is under the test's control.

HTTP (`BadHTTP`): the first path segment picks the behaviour, the rest is free, so one server can stand in for
arXiv (`{url}/trickle/rss/`), an LLM endpoint (`{url}/gzip-bomb/v1`) or a webhook:
  ok/...            200 with `ok_body` (default b"ok")
  gzip-bomb/...     200, Content-Encoding: gzip, a body that inflates to `bomb_bytes` (default 1.5 GB)
  endless/...       200, chunked, 64 KiB chunks for as long as the client reads
  trickle/...       200 headers, then a one-byte chunk every `trickle_interval` seconds, never ending
  trickle-head/...  the status line and headers one byte at a time, never ending
  redirect-loop/... 302 to itself, forever
  bad-gzip/...      200, Content-Encoding: gzip, a body that is not gzip
  cut-gzip/...      200, Content-Encoding: gzip, a gzip body cut in the middle
  echo-auth/...     401 whose header X-Echo-Authorization repeats the request's Authorization (some proxies
                    and debugging endpoints do this; httpx logs response headers at debug level)
  silent/...        accepts the connection, reads the request, never answers
  api-no-progress/  an arXiv API Atom page claiming 10^9 results that always holds the same one entry

SMTP (`TrickleSMTP`): accepts, then sends the "220" greeting one byte every `interval` seconds, forever.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import socketserver
import threading
import time
import zlib
from functools import cache
from typing import Any

GB = 1 << 30
ATOM_NO_PROGRESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title>arXiv Query</title>
  <opensearch:totalResults>1000000000</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/abs/2602.09386v1</id>
    <updated>2026-02-10T12:00:00Z</updated>
    <published>2026-02-10T12:00:00Z</published>
    <title>The same paper, again</title>
    <summary>Every page of this search holds this one entry.</summary>
    <author><name>A. Author</name></author>
    <arxiv:primary_category term="cs.IR"/>
    <category term="cs.IR"/>
  </entry>
</feed>
"""


@cache
def gzip_bomb(inflated: int) -> bytes:
    """`inflated` zero bytes as gzip, about a thousandth of that on the wire: 16 MiB members, concatenated
    (RFC 1952 allows any number of members; compressing 1.5 GB once would take half a minute)."""
    member = 1 << 24
    whole, rest = divmod(inflated, member)
    return _gzip(bytes(member), 9) * whole + (_gzip(bytes(rest), 9) if rest else b"")


def _gzip(data: bytes, level: int = 6) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return packer.compress(data) + packer.flush()


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if not chunk:
                return
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split(" ")[:2]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        owner = self.server.owner
        owner.requests.append((method, path, headers))
        behaviour = path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
        with contextlib.suppress(OSError):  # the client gave up: that is what these behaviours are for
            getattr(self, "do_" + behaviour.replace("-", "_"), self.do_unknown)(sock, path, headers)

    def _send(self, sock: socket.socket, status: str, headers: dict[str, str], body: bytes = b"") -> None:
        headers = {"Connection": "close", **headers}  # one request per connection: never a stale keep-alive
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)

    def _running(self) -> bool:
        return not self.server.owner.stopping.is_set()

    def do_unknown(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        self._send(sock, "404 Not Found", {"Content-Length": "0", "Connection": "close"})

    def do_ok(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        body = self.server.owner.ok_body
        ctype = self.server.owner.ok_type
        self._send(sock, "200 OK", {"Content-Type": ctype, "Content-Length": str(len(body))}, body)

    def do_gzip_bomb(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        body = gzip_bomb(self.server.owner.bomb_bytes)
        owner = self.server.owner
        self._send(
            sock,
            "200 OK",
            {"Content-Type": owner.ok_type, "Content-Encoding": "gzip", "Content-Length": str(len(body))},
            body,
        )

    def do_endless(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        self._send(sock, "200 OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
        while self._running():
            sock.sendall(chunk)

    def do_trickle(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        self._send(
            sock, "200 OK", {"Content-Type": self.server.owner.ok_type, "Transfer-Encoding": "chunked"}
        )
        while self._running():
            sock.sendall(b"1\r\n \r\n")  # one byte, as its own chunk: every read gets something
            self.server.owner.stopping.wait(self.server.owner.trickle_interval)

    def do_trickle_head(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        for byte in itertools.chain(b"HTTP/1.1 200 OK\r\nX-Slow: ", itertools.repeat(ord("a"))):
            if not self._running():
                return
            sock.sendall(bytes([byte]))
            self.server.owner.stopping.wait(self.server.owner.trickle_interval)

    def do_redirect_loop(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        self._send(sock, "302 Found", {"Location": path, "Content-Length": "0"})

    def do_bad_gzip(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        body = b"<html>this is not gzip</html>"
        self._send(sock, "200 OK", {"Content-Encoding": "gzip", "Content-Length": str(len(body))}, body)

    def do_cut_gzip(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        whole = _gzip(b"<rss>" + b"x" * 100_000 + b"</rss>")
        body = whole[: len(whole) // 2]
        self._send(sock, "200 OK", {"Content-Encoding": "gzip", "Content-Length": str(len(body))}, body)

    def do_echo_auth(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        body = b'{"error": {"message": "bad key", "code": "invalid_api_key"}}'
        echo = {"X-Echo-Authorization": headers.get("authorization", "")}
        self._send(
            sock,
            "401 Unauthorized",
            {"Content-Type": "application/json", "Content-Length": str(len(body)), **echo},
            body,
        )

    def do_silent(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        self.server.owner.stopping.wait()

    def do_api_no_progress(self, sock: socket.socket, path: str, headers: dict[str, str]) -> None:
        body = ATOM_NO_PROGRESS
        ctype = "application/atom+xml; charset=utf-8"
        self._send(sock, "200 OK", {"Content-Type": ctype, "Content-Length": str(len(body))}, body)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: Any


class BadHTTP:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.stopping = threading.Event()
        self.bomb_bytes = 3 * GB // 2
        self.trickle_interval = 0.5
        self.ok_body = b"ok"
        self.ok_type = "application/octet-stream"
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> BadHTTP:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


class _SMTPTrickle(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        owner = self.server.owner  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            for byte in itertools.chain(b"220 ", itertools.repeat(ord("s"))):
                if owner.stopping.is_set():
                    return
                self.request.sendall(bytes([byte]))
                owner.stopping.wait(owner.interval)


class TrickleSMTP:
    """An SMTP server whose greeting never ends: one byte every `interval` seconds."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _SMTPTrickle)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> TrickleSMTP:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)
