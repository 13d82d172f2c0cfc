"""A fake OpenAI-compatible server for the LLM tests: real HTTP on 127.0.0.1 (port 0), in a thread.

    from tests.fake_llm import FakeLLM, Fault   # the fake_llm fixture is registered in tests/conftest.py

    def test_x(fake_llm: FakeLLM) -> None:
        fake_llm.add(Fault("429", retry_after=1), Fault("500", times=2, task="summary"))
        ... base_url=fake_llm.url, model=fake_llm.model ...
        assert fake_llm.calls[0].body["messages"][0]["role"] == "system"

Answers are derived from the request, so tests can predict them: the prompt's <paper id="..."> blocks are
parsed; an interest batch gets score 1 + crc32(id) % 5 per paper with a reason in the requested language
(with `score_by_profile`, crc32 of the id and the <profile> text: two readers score differently); an interest
call for several readers (<profile id="p1"> blocks, llm/panel.py) gets, per paper, an entry per profile id
with that score and a reason in each language the prompt lists for that profile;
a title gets the original first word plus a Chinese/Japanese phrase; a summary three sentences; a company
answer names a known company found in the "Affiliations:" line. `usage` is filled (prompt_tokens =
characters / 4). With response_format json_schema the content is bare JSON, else JSON in a ```json fence
after a line of prose (as chatty models do).

Faults are scripted with `add(Fault(...))`: the first matching fault with times left is applied to a
request (times=None: forever). Kinds: 429 (Retry-After), 500, hang (sleep `delay` then answer), malformed,
truncated (finish_reason "length", half the JSON), content_filter (style openai | dashscope |
finish_reason), drop_id, extra_id, wrong_language, score (items get `value`; in a panel, `profile` picks
one profile's entry), drop_profile (a panel item loses `profile`'s entry, default the last), rename_profile
(that entry comes back under the unknown id "p99"), reject_schema (400 when
response_format json_schema is sent), 401 (echoes the key it got, to test redaction), 404 (unknown model),
no_usage (an answer without `usage`).
Every request is recorded in `calls`; `max_in_flight` is the highest concurrency seen.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

_BLOCK = re.compile(r'<paper id="([^"]*)">\n(.*?)\n</paper>', re.S)
_REASONS_ASKED = re.compile(r'"(zh|ja|en)":"<one sentence in')
_PROFILE = re.compile(r"<profile>\n(.*?)\n</profile>", re.S)
_PANEL_PROFILE = re.compile(r'<profile id="([^"]*)">\n(.*?)\n</profile>', re.S)
_PANEL_LANGUAGES = re.compile(r"^- ([^:\n]+): (.*)$", re.M)
_KNOWN_COMPANIES = (
    "Kuaishou",
    "Alibaba",
    "Tencent",
    "ByteDance",
    "Google",
    "Meta",
    "Amazon",
    "Baidu",
    "Microsoft",
    "Huawei",
    "Meituan",
    "JD.com",
    "Spotify",
    "Netflix",
)
_REASON = {
    "zh": "该论文与读者关注的推荐排序方向的相关程度为{score}分。",
    "ja": "この論文は読者の推薦ランキングの関心に対して{score}点の関連があります。",
    "en": "This paper is rated {score} for the reader's interest in recommendation and ranking.",
}
_TITLE = {
    "zh": "{w}：面向推荐系统的研究标题译文",
    "ja": "{w}：推薦システムに関する研究のタイトル",
    "en": "{t}",
}
_SUMMARY = {
    "zh": "该论文（{id}）提出了一种新的推荐方法。作者在多个公开数据集上进行了实验。结果表明该方法优于现有基线。",
    "ja": "この論文（{id}）は新しい推薦手法を提案する。著者は複数の公開データセットで実験を行った。結果は既存手法を上回ることを示している。",
    "en": "This paper ({id}) proposes a new recommendation method. The authors run experiments on public datasets. "
    "Results show it outperforms existing baselines.",
}


@dataclass
class Fault:
    kind: str
    times: int | None = 1  # None: every matching request
    match: str | None = None  # only requests whose prompt text contains this
    task: str | None = (
        None  # only requests for this task (interest | title | summary | brief | company | check)
    )
    item: str | None = None  # item-level kinds (score, drop_id): only this paper id
    retry_after: float | None = None  # 429: Retry-After header in seconds
    retry_after_ms: float | None = None  # 429: retry-after-ms header
    delay: float = 2.0  # hang: seconds before answering
    style: str = "openai"  # content_filter: openai | dashscope | finish_reason
    value: int = 7  # score: the score to give
    profile: str | None = None  # panel kinds (score, drop_profile, rename_profile): only this profile id


@dataclass
class Call:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    task: str
    language: str
    ids: list[str]
    start: float
    status: int = 0
    fault: str | None = None
    end: float = 0.0

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))

    @property
    def is_repair(self) -> bool:
        return len(self.body.get("messages", [])) > 2


@dataclass
class FakeLLM:
    model: str = "fake-model"
    api_key: str | None = None  # when set, requests must send "Authorization: Bearer <api_key>"
    latency: float = 0.0  # seconds before every answer
    score_by_profile: bool = False  # interest scores depend on the reader's profile text too
    faults: list[Fault] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    max_in_flight: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> FakeLLM:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops SYNs under a burst of connections (1 s stalls)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True, name="fake-llm"
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    @property
    def chat_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/chat/completions")]

    def _take_fault(self, call: Call, has_schema: bool) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times is not None and f.times <= 0:
                    continue
                if (f.task and f.task != call.task) or (f.match and f.match not in call.text):
                    continue
                if f.kind == "reject_schema" and not has_schema:
                    continue
                if f.times is not None:
                    f.times -= 1
                return f
        return None

    # -- answers --------------------------------------------------------------------------------------
    def answer(self, call: Call, fault: Fault | None) -> dict[str, Any]:
        lang = "en" if fault and fault.kind == "wrong_language" else call.language
        blocks = _BLOCK.findall(call.body["messages"][1]["content"]) if len(call.body["messages"]) > 1 else []
        if call.task == "interest" and _PANEL_PROFILE.search(call.body["messages"][0]["content"]):
            return self.panel_answer(call, fault, [pid for pid, _ in blocks])
        if call.task == "interest":
            system = call.body["messages"][0]["content"]
            profile = _PROFILE.search(system)
            # Several output languages: the prompt asks for {"reasons": {"zh": ..., "ja": ...}} instead.
            wanted = _REASONS_ASKED.findall(system)
            text = profile.group(1) if profile else ""
            items: list[dict[str, Any]] = [
                {"id": pid, "score": self.score(pid, text), "reason": ""} for pid, _ in blocks
            ]
            for it in items:
                if fault and fault.kind == "score" and (fault.item is None or fault.item == it["id"]):
                    it["score"] = fault.value
                if wanted:
                    del it["reason"]
                    it["reasons"] = {
                        code: _REASON["en" if lang == "en" else code].format(score=it["score"])
                        for code in wanted
                    }
                else:
                    it["reason"] = _REASON[lang].format(score=it["score"])
            if fault and fault.kind == "drop_id" and items:
                drop = fault.item or items[-1]["id"]
                items = [it for it in items if it["id"] != drop]
            if fault and fault.kind == "extra_id":
                items.append({"id": "9999.99999", "score": 3, "reason": _REASON[lang].format(score=3)})
            return {"items": items}
        pid, body = blocks[0] if blocks else ("", "")
        title = body.split("\n", 1)[0]
        if call.task == "title":
            return {"title": _TITLE[lang].format(w=(title.split() or ["?"])[0].rstrip(":"), t=title)}
        if call.task == "summary":
            return {"summary": _SUMMARY[lang].format(id=pid)}
        if call.task == "brief":
            return {
                "title": _TITLE[lang].format(w=(title.split() or ["?"])[0].rstrip(":"), t=title),
                "summary": _SUMMARY[lang].format(id=pid),
            }
        if call.task == "company":
            aff = next((line for line in body.split("\n") if line.startswith("Affiliations:")), "")
            for name in _KNOWN_COMPANIES:
                if name in aff:
                    part = next(p for p in aff.removeprefix("Affiliations:").split(";") if name in p)
                    return {"company": name, "evidence": part.strip()}
            return {"company": None, "evidence": ""}
        return {"ok": True}

    def score(self, paper_id: str, profile: str) -> int:
        """The score the fake gives `paper_id` for a reader whose <profile> block holds `profile`."""
        key = f"{paper_id}\n{profile}" if self.score_by_profile else paper_id
        return 1 + zlib.crc32(key.encode()) % 5

    def panel_answer(self, call: Call, fault: Fault | None, ids: list[str]) -> dict[str, Any]:
        """Several readers' scores at once: the profiles and each one's languages as the prompt lists them."""
        system = call.body["messages"][0]["content"]
        profiles = dict(_PANEL_PROFILE.findall(system))
        languages = {
            pid.strip(): re.findall(r'"(zh|ja|en)"', codes) for pid, codes in _PANEL_LANGUAGES.findall(system)
        }
        kind = fault.kind if fault else ""
        items: list[dict[str, Any]] = []
        for paper in ids:
            entries: dict[str, Any] = {}
            for pid, text in profiles.items():
                score = self.score(paper, text)
                hit = fault is not None and fault.item in (None, paper) and fault.profile in (None, pid)
                if kind == "score" and hit:
                    score = fault.value if fault else score
                reasons = {
                    code: _REASON["en" if kind == "wrong_language" else code].format(score=score)
                    for code in languages.get(pid, [])
                }
                entries[pid] = {"score": score, "reasons": reasons}
            if fault and kind in ("drop_profile", "rename_profile") and fault.item in (None, paper):
                gone = fault.profile or list(entries)[-1]
                entry = entries.pop(gone, None)
                if kind == "rename_profile" and entry is not None:
                    entries["p99"] = entry
            items.append({"id": paper, "profiles": entries})
        if fault and kind == "drop_id" and items:
            drop = fault.item or items[-1]["id"]
            items = [it for it in items if it["id"] != drop]
        if fault and kind == "extra_id" and items:
            items.append({"id": "9999.99999", "profiles": items[0]["profiles"]})
        return {"items": items}


def _detect(body: dict[str, Any]) -> tuple[str, str]:
    """(task, language) of a chat request, from the schema name or the system prompt."""
    system = str((body.get("messages") or [{}])[0].get("content", ""))
    name = str(((body.get("response_format") or {}).get("json_schema") or {}).get("name", ""))
    if name.startswith("paperradar_"):
        task = name.removeprefix("paperradar_")
    elif "<profile>" in system or '<profile id="' in system:
        task = "interest"  # one reader's, or several readers' at once
    elif "Translate the title" in system and "summarize" in system:
        task = "brief"  # title and summary in one answer (zh/ja digests)
    elif "Translate the title" in system:
        task = "title"
    elif "Summarize" in system:
        task = "summary"
    elif "company" in system:
        task = "company"
    else:
        task = "check"
    lang = "zh" if "Simplified Chinese" in system else "ja" if "Japanese" in system else "en"
    return task, lang


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms Nagle stalls
    server_fake: FakeLLM

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def do_GET(self) -> None:
        fake = self.server_fake
        if self.path.rstrip("/").endswith("/v1/models"):
            self._send(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, {"error": {"message": "body is not JSON"}})
            return
        task, lang = _detect(body) if "messages" in body else ("embeddings", "en")
        ids = (
            _BLOCK.findall(str((body.get("messages") or [{}, {}])[1].get("content", "")))
            if task != "check"
            else []
        )
        call = Call(
            self.path,
            body,
            {k.lower(): v for k, v in self.headers.items()},
            task,
            lang,
            [i for i, _ in ids],
            time.monotonic(),
        )
        with fake._lock:
            fake.calls.append(call)
            fake._in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
        try:
            status, payload, headers = self._handle(fake, call, body)
            call.status = status
            self._send(status, payload, headers)
        finally:
            call.end = time.monotonic()
            with fake._lock:
                fake._in_flight -= 1

    def _handle(self, fake: FakeLLM, call: Call, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if fake.latency:
            time.sleep(fake.latency)
        auth = call.headers.get("authorization", "")
        if fake.api_key is not None and auth != f"Bearer {fake.api_key}":
            got = auth.removeprefix("Bearer ")
            return (
                401,
                {"error": {"message": f"Incorrect API key provided: {got}", "code": "invalid_api_key"}},
                {},
            )
        if self.path == "/v1/embeddings":
            return 200, _embeddings(body), {}
        if self.path != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {self.path}"}}, {}
        if body.get("model") != fake.model:
            msg = f"The model `{body.get('model')}` does not exist or you do not have access to it."
            return 404, {"error": {"message": msg, "code": "model_not_found"}}, {}
        has_schema = (body.get("response_format") or {}).get("type") == "json_schema"
        fault = fake._take_fault(call, has_schema)
        call.fault = fault.kind if fault else None
        kind = fault.kind if fault else ""
        if kind == "429":
            headers = {}
            if fault and fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            if fault and fault.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{fault.retry_after_ms:g}"
            return 429, {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}, headers
        if kind == "500":
            return 500, {"error": {"message": "The server had an error processing your request."}}, {}
        if kind == "401":
            got = auth.removeprefix("Bearer ")
            return (
                401,
                {"error": {"message": f"Incorrect API key provided: {got}", "code": "invalid_api_key"}},
                {},
            )
        if kind == "404":
            return 404, {"error": {"message": "The model does not exist", "code": "model_not_found"}}, {}
        if kind == "reject_schema":
            msg = "response_format type 'json_schema' is not supported by this model"
            return (
                400,
                {"error": {"message": msg, "type": "invalid_request_error", "param": "response_format"}},
                {},
            )
        if kind == "content_filter" and fault:
            if fault.style == "dashscope":
                err = {
                    "code": "data_inspection_failed",
                    "message": "Input data may contain inappropriate content.",
                    "type": "data_inspection_failed",
                }
                return 400, {"error": err}, {}
            if fault.style == "openai":
                msg = "The response was filtered due to the prompt triggering content management policy."
                return 400, {"error": {"message": msg, "code": "content_filter", "param": "prompt"}}, {}
        if kind == "hang" and fault:
            time.sleep(fault.delay)
        answer = json.dumps(fake.answer(call, fault), ensure_ascii=False)
        finish = "stop"
        if kind == "malformed":
            answer = answer[: len(answer) // 2] + ",, ]]"
        if kind == "truncated":
            answer, finish = answer[: len(answer) // 2], "length"
        content: str | None = (
            answer if has_schema or kind == "truncated" else f"Here is the answer:\n```json\n{answer}\n```"
        )
        if kind == "content_filter":
            content, finish = None, "content_filter"
        prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        usage = {
            "prompt_tokens": math.ceil(prompt / 4),
            "completion_tokens": math.ceil(len(content or "") / 4),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
        reply = {"id": "chatcmpl-fake", "object": "chat.completion", "model": fake.model, "choices": [choice]}
        if kind != "no_usage":
            reply["usage"] = usage
        return 200, reply, {}


def embedding(text: str, dims: int = 64) -> list[float]:
    """A deterministic unit vector for `text` (sha256 stretched to `dims` values)."""
    raw = b"".join(hashlib.sha256(f"{i}:{text}".encode()).digest() for i in range(math.ceil(dims / 32)))
    vec = [(b - 127.5) / 127.5 for b in raw[:dims]]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _embeddings(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("input", [])
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    data = [
        {"object": "embedding", "index": i, "embedding": embedding(str(t), int(body.get("dimensions") or 64))}
        for i, t in enumerate(inputs)
    ]
    tokens = sum(math.ceil(len(str(t)) / 4) for t in inputs)
    return {
        "object": "list",
        "data": data,
        "model": body.get("model"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    try:
        yield server
    finally:
        server.stop()
