"""What the LLM backend tests set up: papers to ask about (`papers(n)`, synthetic; `real_papers(n)`, real
cs.IR abstracts from tests/fixtures/llm_abstracts.jsonl), `reqs` turning them into write requests, and
`backend`, an OpenAIBackend pointed at a fake server (tests/fake_llm.py) with the reader PROFILE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from paperradar.llm.config import LLMConfig
from paperradar.llm.default_plugins.openai import OpenAIBackend
from paperradar.llm.seam import WriteRequest
from paperradar.models import Paper
from tests.fake_llm import FakeLLM

PROFILE = "Industrial recommendation: retrieval, ranking, CTR prediction, generative recommendation."
FIXTURE = Path(__file__).parent / "fixtures" / "llm_abstracts.jsonl"


def real_papers(n: int = 16) -> list[Paper]:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    return [Paper(r["id"], r["title"], r["authors"], r["abstract"], comment=r["comment"]) for r in rows[:n]]


def papers(n: int) -> list[Paper]:
    return [
        Paper(f"2602.{i:05d}", f"Paper {i}: Ranking Things", ["A"], f"We study ranking {i}. It works.")
        for i in range(n)
    ]


def backend(
    fake: FakeLLM, *, timeout: float = 5, extra_endpoints: list[dict[str, Any]] = (), **over: Any
) -> OpenAIBackend:  # type: ignore[assignment]
    endpoints = [{"base_url": fake.url, "model": fake.model, "timeout": timeout}, *extra_endpoints]
    cfg = LLMConfig(backend="openai", endpoints=endpoints, **over)
    return OpenAIBackend(cfg, interests=PROFILE, backoff=0.01)


def reqs(ps: list[Paper], task: str, lang: str = "zh") -> list[WriteRequest]:
    return [WriteRequest(p, task, lang) for p in ps]
