"""Replays how real OpenAI-compatible providers answer: real HTTP on 127.0.0.1 (port 0), in a thread.

    from tests.llm_dialect_server import DialectServer   # dialect_server fixture: see tests/conftest.py

    def test_x(dialect_server) -> None:
        server = dialect_server("deepseek_reasoner")          # tests/fixtures/llm_dialects/<name>.json
        ... base_url=server.url, model=server.model ...
        assert server.chat_calls[0].body["model"] == server.model

Where tests/fake_llm.py answers the way our code expects, this server answers the way a provider does:
each fixture file (see tests/fixtures/llm_dialects/README.md for the cases and their sources) scripts the
replies of one dialect per route ("POST /v1/chat/completions", "GET /v1/models"), with their status,
headers, body and transport. A reply may carry:

    when       {"json_schema": bool, "text_contains": str, "model_served": bool}: only matching requests
    times      how many requests it answers (absent: every matching request)
    transport  {"delay": s, "gzip": true, "cut_at": fraction, "sse": true, "repeat": {"text": .., "bytes": n}}

The first reply whose `when` matches and has times left answers. Strings in a body may hold markers:
<<ANSWER>> (a valid paperradar answer derived from the request by tests/fake_llm.py, as compact JSON),
<<ANSWER_HEAD>> / <<ANSWER_TAIL>> (its two halves), <<MODEL>> (the model the request named),
<<SERVED_MODEL>> (the fixture's model) and <<REPEAT>> (transport.repeat's text, repeated to n bytes).
Every request is recorded in `calls`.
"""

from __future__ import annotations

import copy
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.fake_llm import Call, FakeLLM, _detect

FIXTURES = Path(__file__).parent / "fixtures" / "llm_dialects"
_ANSWERER = FakeLLM()  # never started: only its answer derivation is used


@dataclass
class Reply:
    """One scripted answer of a dialect."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    body: Any = None  # JSON (markers substituted), or for SSE a list of chunk objects
    raw: str | None = None  # a body sent as is (an HTML page, plain text)
    when: dict[str, Any] = field(default_factory=dict)
    times: int | None = None
    transport: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> Reply:
        known = {"status", "headers", "content_type", "body", "raw", "when", "times", "transport", "comment"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown reply keys {sorted(unknown)} in {spec}")
        spec = {k: v for k, v in spec.items() if k != "comment"}
        return cls(**spec)


@dataclass
class Dialect:
    name: str
    model: str
    served_models: list[str]
    routes: dict[str, list[Reply]]
    not_found: Reply
    sources: list[str]

    @classmethod
    def load(cls, name: str) -> Dialect:
        data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        if not data.get("sources"):
            raise ValueError(f"fixture {name} names no source")
        routes = {route: [Reply.parse(r) for r in replies] for route, replies in data["routes"].items()}
        not_found = Reply.parse(
            data.get("not_found") or {"status": 404, "raw": "Not Found", "content_type": "text/plain"}
        )
        model = str(data["model"])
        return cls(
            name, model, list(data.get("served_models") or [model]), routes, not_found, data["sources"]
        )


@dataclass
class Request:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    task: str
    language: str
    start: float
    status: int = 0
    end: float = 0.0

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))

    @property
    def has_schema(self) -> bool:
        return (self.body.get("response_format") or {}).get("type") == "json_schema"

    @property
    def is_repair(self) -> bool:
        return len(self.body.get("messages", [])) > 2


class DialectServer:
    def __init__(self, dialect: Dialect | str):
        self.dialect = dialect if isinstance(dialect, Dialect) else Dialect.load(dialect)
        self.calls: list[Request] = []
        self._used: dict[int, int] = {}  # id(reply) -> times used
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> DialectServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True, name=f"dialect-{self.dialect.name}"
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def root(self) -> str:
        """The server without the /v1 prefix (what a base_url missing its /v1 points at)."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    @property
    def model(self) -> str:
        return self.dialect.model

    @property
    def chat_calls(self) -> list[Request]:
        return [c for c in self.calls if c.path.endswith("/chat/completions")]

    # -- replies --------------------------------------------------------------------------------------
    def pick(self, request: Request) -> Reply:
        replies = self.dialect.routes.get(f"{request.method} {request.path}")
        if replies is None:
            return self.dialect.not_found
        with self._lock:
            for reply in replies:
                used = self._used.get(id(reply), 0)
                if reply.times is not None and used >= reply.times:
                    continue
                if not self._matches(reply.when, request):
                    continue
                self._used[id(reply)] = used + 1
                return reply
        raise AssertionError(f"fixture {self.dialect.name}: no reply for {request.method} {request.path}")

    def _matches(self, when: dict[str, Any], request: Request) -> bool:
        if "json_schema" in when and bool(when["json_schema"]) != request.has_schema:
            return False
        if "text_contains" in when and str(when["text_contains"]) not in request.text:
            return False
        served = request.body.get("model") in self.dialect.served_models
        return not ("model_served" in when and bool(when["model_served"]) != served)

    def markers(self, request: Request, reply: Reply) -> dict[str, str]:
        out = {"<<MODEL>>": str(request.body.get("model", "")), "<<SERVED_MODEL>>": self.model}
        if request.method == "POST" and request.body.get("messages"):
            call = Call(request.path, request.body, request.headers, request.task, request.language, [], 0.0)
            answer = json.dumps(_ANSWERER.answer(call, None), ensure_ascii=False, separators=(",", ":"))
            half = len(answer) // 2
            out |= {"<<ANSWER>>": answer, "<<ANSWER_HEAD>>": answer[:half], "<<ANSWER_TAIL>>": answer[half:]}
        repeat = reply.transport.get("repeat")
        if repeat:
            text = str(repeat["text"])
            out["<<REPEAT>>"] = text * (int(repeat["bytes"]) // len(text.encode()) + 1)
        return out


def _substitute(value: Any, markers: dict[str, str]) -> Any:
    if isinstance(value, str):
        for marker, text in markers.items():
            value = value.replace(marker, text)
        return value
    if isinstance(value, list):
        return [_substitute(v, markers) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, markers) for k, v in value.items()}
    return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_owner: DialectServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        owner = self.server_owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        task, lang = _detect(body) if body.get("messages") else ("", "")
        request = Request(
            method,
            self.path.split("?", 1)[0],
            body if isinstance(body, dict) else {},
            {k.lower(): v for k, v in self.headers.items()},
            task,
            lang,
            time.monotonic(),
        )
        with owner._lock:
            owner.calls.append(request)
        reply = owner.pick(request)
        request.status = reply.status
        try:
            self._send(request, reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)
        finally:
            request.end = time.monotonic()

    def _send(self, request: Request, reply: Reply) -> None:
        transport = reply.transport
        if transport.get("delay"):
            time.sleep(float(transport["delay"]))
        markers = self.server_owner.markers(request, reply)
        body = _substitute(copy.deepcopy(reply.body), markers)
        if transport.get("sse"):
            self._send_sse(reply, body)
            return
        data = reply.raw.encode() if reply.raw is not None else json.dumps(body, ensure_ascii=False).encode()
        headers = dict(reply.headers)
        if transport.get("gzip"):
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if transport.get("cut_at") is not None:
            # Content-Length promised the whole body; the connection closes part-way (a proxy or
            # server restart mid-answer).
            self.wfile.write(data[: int(len(data) * float(transport["cut_at"]))])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def _send_sse(self, reply: Reply, chunks: list[Any]) -> None:
        """An event stream (as servers send for stream=true), closed after `data: [DONE]`."""
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/event-stream")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def dialect_server() -> Iterator[Callable[[str], DialectServer]]:
    """A factory: dialect_server("ollama_v1_reasoning_field") starts a replaying server; all stop at teardown."""
    started: list[DialectServer] = []

    def start(name: str) -> DialectServer:
        server = DialectServer(name).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
