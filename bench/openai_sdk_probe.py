"""How the official openai SDK meets the recorded provider dialects: the evidence behind "Why the HTTP client
under the LLM backend is our own" in docs/ARCHITECTURE.md. Not part of `make bench` (openai is not a
dependency): run it from the repository root with a Python that has `openai` installed:

    PYTHONPATH=. python bench/openai_sdk_probe.py
"""

from __future__ import annotations

import asyncio
import time

import openai  # type: ignore[import-not-found]

from tests.llm_dialect_server import DialectServer

CASES = [
    "openai_json_schema",
    "deepseek_reasoner",
    "ollama_v1_think_in_content",
    "deepseek_402_insufficient_balance",
    "webui_200_html",
    "sse_unrequested",
    "transport_huge_loop",
    "transport_gzip",
    "no_usage",
    "azure_400_content_filter",
    "zhipu_1301_sensitive",
    "openai_429_rate_limit",
    "transport_cut",
]
PROMPT = [
    {"role": "system", "content": "x"},
    {"role": "user", "content": '<paper id="2508.05672">\nTitle: t\nAbstract: a\n</paper>'},
]


async def one(name: str) -> str:
    srv = DialectServer(name).start()
    client = openai.AsyncOpenAI(
        base_url=f"{srv.url}", api_key="sk-test-0123456789abcdef", max_retries=0, timeout=5
    )
    t = time.monotonic()
    try:
        r = await client.chat.completions.create(model=srv.model, messages=PROMPT)
        c = r.choices[0]
        extra = getattr(c.message, "model_extra", {}) or {}
        out = f"ok finish={c.finish_reason} content={str(c.message.content)[:40]!r} usage={r.usage and r.usage.completion_tokens} extra={list(extra)}"
    except Exception as e:
        out = f"{type(e).__name__}: {str(e)[:110]}"
    finally:
        srv.stop()
    return f"{name:38s} {time.monotonic() - t:5.2f}s {out}"


async def main() -> None:
    for n in CASES:
        print(await one(n))


if __name__ == "__main__":
    asyncio.run(main())
