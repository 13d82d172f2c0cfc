"""`paperradar llm check`: one small request to an endpoint, and a one-line diagnosis of what is wrong."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from paperradar.errors import ConfigError
from paperradar.llm.client import _error_info, _read_key, is_schema_rejection, redact
from paperradar.llm.config import LLMConfig
from paperradar.llm.schemas import AnswerError, extract_json
from paperradar.llm.seam import run_sync
from paperradar.sources import resilience


@dataclass(frozen=True, slots=True)
class CheckResult:
    model: str
    latency_s: float | None  # of the successful call
    json_schema_ok: bool | None  # None: not tried (json_schema = "off") or no answer at all
    error: str | None  # one line saying what is wrong and which key to fix
    endpoint: str = ""
    # What to fix when error is set: url | key | model | timeout | config | http (exit codes: config-ish
    # problems are the user's to fix, http/timeout may be the provider's).
    problem: str | None = None


def check(cfg: LLMConfig, endpoint: int = 0) -> CheckResult:
    """One small request to an endpoint (two if it rejects response_format json_schema)."""
    if not cfg.endpoints:
        return CheckResult(
            cfg.model,
            None,
            None,
            "no [[llm.endpoints]] in the config; add one with base_url and model",
            problem="config",
        )
    ep = cfg.endpoints[endpoint]
    try:
        key = _read_key(endpoint, ep)
    except ConfigError as exc:
        return CheckResult(ep.model, None, None, f"{exc.message}; {exc.hint}", ep.base_url, "key")
    return run_sync(_check(cfg, endpoint, key))


async def _check(cfg: LLMConfig, index: int, key: str | None) -> CheckResult:
    ep = cfg.endpoints[index]
    where = f"[llm].endpoints[{index}]"
    url = f"{ep.base_url}/chat/completions"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": False,
    }
    use_schema = cfg.json_schema != "off"
    schema_ok: bool | None = None

    def done(error: str | None, latency: float | None = None, problem: str | None = None) -> CheckResult:
        text = redact(error, [key or ""]) if error else None
        return CheckResult(ep.model, latency, schema_ok, text, ep.base_url, problem)

    async with httpx.AsyncClient(
        timeout=None, headers={"Accept-Encoding": resilience.ACCEPT_ENCODING}
    ) as client:
        while True:
            body: dict[str, Any] = {
                "model": ep.model,
                "messages": [
                    {"role": "system", "content": 'Reply with JSON only: {"ok":true}'},
                    {"role": "user", "content": "ping"},
                ],
                **ep.params,
            }
            if use_schema:
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "check", "strict": True, "schema": schema},
                }
            start = time.monotonic()
            request = client.build_request("POST", url, json=body, headers=headers)
            try:
                # A total deadline (not per read) and a cap on the decompressed answer, as for real calls.
                resp = await resilience.send(
                    client, request, deadline=ep.timeout, max_bytes=cfg.max_response_bytes
                )
            except (resilience.Expired, httpx.TimeoutException):
                return done(
                    f"no answer from {ep.base_url} within {ep.timeout:g}s; check {where}.base_url "
                    "or raise its timeout",
                    problem="timeout",
                )
            except resilience.TooLarge as exc:
                return done(
                    f"the answer from {ep.base_url} is larger than {exc.limit:,} bytes; check {where}.base_url",
                    problem="http",
                )
            except resilience.BadBody as exc:
                return done(f"{ep.base_url}: {exc}", problem="http")
            except httpx.ConnectError as exc:
                return done(f"cannot connect to {ep.base_url} ({exc}); check {where}.base_url", problem="url")
            except httpx.TransportError as exc:
                return done(
                    f"cannot reach {ep.base_url} ({type(exc).__name__}: {exc}); check {where}.base_url",
                    problem="url",
                )
            latency = time.monotonic() - start
            code, message = _error_info(resp)
            status = resp.status_code
            if status == 200:
                try:
                    content = resp.json()["choices"][0]["message"].get("content") or ""
                except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                    return done(
                        f"{url} answered 200 but not as a chat completion; check {where}.base_url",
                        problem="url",
                    )
                if use_schema:
                    try:
                        schema_ok = extract_json(content).get("ok") is True
                    except (AnswerError, AttributeError):
                        schema_ok = False
                served = await _served_models(client, ep.base_url, headers, ep.timeout)
                if served and ep.model not in served:
                    # llama.cpp's server answers whatever model is named: texts would be recorded under a
                    # model the server does not run. Where the server lists its models, say so.
                    shown = ", ".join(served[:5]) + (" …" if len(served) > 5 else "")
                    return done(
                        f"{ep.base_url} serves {shown}, not {ep.model!r}; set {where}.model to the model it runs "
                        "(texts are recorded under that name)",
                        latency,
                        problem="model",
                    )
                return done(None, latency)
            if status in (400, 422) and use_schema and is_schema_rejection(code, message):
                schema_ok, use_schema = False, False
                continue
            if status in (401, 403):
                if not key:
                    return done(
                        f"HTTP {status}: the endpoint wants an API key; set {where}.api_key_env",
                        problem="key",
                    )
                return done(
                    f"API key rejected (HTTP {status}); check the environment variable {ep.api_key_env}",
                    problem="key",
                )
            if status == 404:
                if "model" in f"{code} {message}".lower():
                    return done(
                        f"model {ep.model!r} not found at {ep.base_url}; check {where}.model ({message})",
                        problem="model",
                    )
                return done(
                    f"HTTP 404 at {url}; check {where}.base_url (it usually ends in /v1)", problem="url"
                )
            return done(f"HTTP {status} from {ep.base_url}: {message}", problem="http")


async def _served_models(
    client: httpx.AsyncClient, base_url: str, headers: dict[str, str], timeout: float
) -> list[str]:
    """The model ids GET /models lists (OpenAI, vLLM, Ollama, llama.cpp); empty when there is no such route."""
    try:
        resp = await resilience.send(
            client,
            client.build_request("GET", f"{base_url}/models", headers=headers),
            deadline=timeout,
            max_bytes=4 << 20,
        )
        data = resp.json() if resp.status_code == 200 else {}
    except (resilience.Expired, resilience.TooLarge, resilience.BadBody, httpx.HTTPError, ValueError):
        return []
    rows = data.get("data") if isinstance(data, dict) else None
    return [str(r["id"]) for r in rows or [] if isinstance(r, dict) and r.get("id")]
