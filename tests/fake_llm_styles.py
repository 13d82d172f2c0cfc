"""The fake OpenAI-compatible server (tests/fake_llm.py) taught the style tasks: real HTTP, answers derived
from the request so tests can predict them.

    from tests.fake_llm_styles import FakeStyleLLM   # the fake_style_llm fixture: see tests/conftest.py

A style request is recognised by its response_format name ("paperradar_style_review") or, without a
schema, by its system prompt. The answer is built from the <paper> block: the first word of the title
(a name the paper uses) and the first numbers with units of the abstract, quoted verbatim, in the
requested language. Scripted faults are FakeLLM's, plus one kind of our own:

    Fault("wrong_number", task="style_review")  -> the first quoted number becomes `wrong_number` ("400万")

so a test can watch the faithfulness guard catch a number the paper never gave.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from paperradar.llm.config import LLMConfig
from paperradar.llm.default_plugins.openai import OpenAIBackend
from paperradar.models import Paper, SourceText
from paperradar.sources.fulltext import fit_to_budget, parse_html
from paperradar.write.styles.tasks import StyleBackend
from tests.fake_llm import _BLOCK, Call, FakeLLM, Fault

SAMPLE = Path(__file__).parent.parent / "paperradar" / "sample" / "cs-ir-sample.jsonl.gz"

_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:%|\s(?:million|billion)\b|x\b)")
_SYSTEM_MARKERS = {
    "daily highlights page": "highlight",
    "structured review": "review",
    "conversation of 8 to 14 turns": "dialogue",
}
# Sentence frames per language; {w} is the title's first word, {n} a number from the abstract.
_S = {
    "zh": {
        "para": "该论文提出了名为{w}的方法，用来解决多任务推荐中模型容量与推理成本之间的矛盾。",
        "point": "第{i}步：逐步完成该方法的关键环节。",
        "result": "在线实验带来{n}的提升",
        "q": "这篇论文对我们的业务有什么意义？请用简单的话说明。",
        "a": "简单来说，{w}让模型只启用需要的部分，所以成本更低，效果提升{n}。",
        "end": "我明白了，也就是说{w}用更少的计算得到更好的推荐效果，对吗？",
        "phrase": "这项研究说明可以用较低的成本改进推荐效果。",
        "title": "{w}：面向推荐的可扩展方法",
    },
    "ja": {
        "para": "この論文は{w}という手法を提案し、マルチタスク推薦におけるモデル容量と推論コストの両立という課題を解決する。",
        "point": "ステップ{i}：手法の重要な部分を順に実行する。",
        "result": "オンライン実験で{n}の改善",
        "q": "この論文は私たちの事業にとってどんな意味がありますか。簡単に教えてください。",
        "a": "簡単に言うと、{w}は必要な部分だけを動かすので、コストが低く、効果は{n}向上しました。",
        "end": "なるほど、つまり{w}は少ない計算でより良い推薦を実現するということですね。",
        "phrase": "この研究は低いコストで推薦の効果を改善できることを示しています。",
        "title": "{w}：推薦のためのスケーラブルな手法",
    },
    "en": {
        "para": "This paper proposes {w}, a method that resolves the tension between model capacity and "
        "inference cost in multi-task recommendation.",
        "point": "Step {i}: carry out a key part of the method in order.",
        "result": "an online gain of {n}",
        "q": "What does this paper mean for our business? Please explain it simply.",
        "a": "Simply put, {w} only runs the parts it needs, so it costs less, and quality improved by {n}.",
        "end": "I see: so {w} gets better recommendations with less computation, right?",
        "phrase": "This work shows recommendation quality can improve at a lower cost.",
        "title": "{w}",
    },
}


def _style_of(call: Call) -> str | None:
    if call.task.startswith("style_"):
        return call.task.removeprefix("style_")
    system = str((call.body.get("messages") or [{}])[0].get("content", ""))
    return next((style for marker, style in _SYSTEM_MARKERS.items() if marker in system), None)


@dataclass
class FakeStyleLLM(FakeLLM):
    wrong_number: str = "400万"  # what Fault("wrong_number") puts in place of the paper's first number

    def answer(self, call: Call, fault: Fault | None) -> dict[str, Any]:
        style = _style_of(call)
        if style is None:
            return super().answer(call, fault)
        lang = "en" if fault and fault.kind == "wrong_language" else call.language
        blocks = _BLOCK.findall(call.body["messages"][1]["content"])
        _, text = blocks[0] if blocks else ("", "")
        title = next(
            (line.removeprefix("Title: ") for line in text.split("\n") if line.startswith("Title:")), ""
        )
        abstract = next((line for line in text.split("\n") if line.startswith("Abstract:")), "")
        word = (title.split() or ["?"])[0].rstrip(":")
        numbers = _NUMBER.findall(abstract) or ["0"]
        if fault and fault.kind == "wrong_number":
            numbers[0] = self.wrong_number
        s = {k: v.format(w=word, n=numbers[0], i="{i}") for k, v in _S[lang].items()}
        second = numbers[1] if len(numbers) > 1 else numbers[0]
        if style == "highlight":
            return {
                "topic": "recsys" if "Recommend" in title else "search",
                "emoji": "🎯" if "Recommend" in title else "🔍",
                "explanation": s["para"],
                "points": [s["point"].format(i=i) for i in (1, 2, 3)],
                "key_result": s["result"],
            }
        if style == "review":
            other = _S[lang]["result"].format(n=second)
            fields = [
                "background",
                "method_overview",
                "technical_details",
                "novelty",
                "setup",
                "implementation",
                "efficiency",
                "applicability",
                "significance",
                "outlook",
            ]
            return {
                "summary": s["para"] + "\n\n" + s["para"],
                "contributions": [s["para"], s["point"].format(i=1)],
                "results": f"{s['para']} {s['result']}，{other}。"
                if lang != "en"
                else f"{s['result']}; {other}.",
                "comparison": s["para"],
                **dict.fromkeys(fields, s["para"]),
            }
        turns = []
        for i in range(9):  # executive first and last: the executive restates the paper at the end
            speaker = "executive" if i % 2 == 0 else "mentor"
            turns.append({"speaker": speaker, "text": s["q"] if speaker == "executive" else s["a"]})
        turns[-1]["text"] = s["end"]
        return {
            "title": s["title"],
            "turns": turns,
            **dict.fromkeys(
                ("overview", "differentiation", "core_technology", "validation", "debate", "future"),
                s["para"],
            ),
            "phrases": [s["phrase"]] * 3,
            "keywords": ["multi-task recommendation", "mixture of experts", "sparse routing"],
        }


@pytest.fixture
def fake_style_llm() -> Iterator[FakeStyleLLM]:
    server = FakeStyleLLM().start()
    try:
        yield server
    finally:
        server.stop()


# --- shared by the style tests ---------------------------------------------------------------------------

FULLTEXT_FIXTURES = Path(__file__).parent / "fixtures" / "fulltext"


def sample_papers(*ids: str) -> list[Paper]:
    """Real papers from the bundled cs.IR sample (title, authors and abstract as arXiv published them)."""
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
        rows = {r["id"]: r for r in map(json.loads, fh)}
    out = []
    for pid in ids:
        r = rows[pid]
        stamp = r.get("submitted_utc")
        submitted = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) if stamp else None
        cats = r.get("categories") or r.get("listings") or []
        out.append(
            Paper(r["id"], r["title"], r["authors"], r["abstract"], categories=cats, published=submitted)
        )
    return out


def style_backend(fake: FakeLLM, sources: dict[str, SourceText] | None = None, **over: Any) -> StyleBackend:
    endpoints = [{"base_url": fake.url, "model": fake.model, "timeout": 5}]
    inner = OpenAIBackend(
        LLMConfig(backend="openai", endpoints=endpoints, **over), interests="", backoff=0.01
    )
    return StyleBackend(inner, sources=sources)


def smes_source(max_tokens: int = 3000) -> SourceText:
    """The SMES full text as prepare_sources would give it, from the HTML fixture."""
    full = parse_html((FULLTEXT_FIXTURES / "2602.09386v1.html").read_text(encoding="utf-8"))
    return SourceText(
        fit_to_budget(full, max_tokens), "html", tuple(full.check_texts()), tuple(full.affiliations)
    )
