"""What a model must answer for the highlight, review and dialogue styles, and how an answer is checked.

Same rules as write/schemas.py: the answer is parsed (bare JSON, a ```json fence or prose around it),
validated by a pydantic model, then checked against the request (every prose field in the language asked
for, the dialogue's shape). The error text goes back to the model in the one repair request.
Metadata (id, authors, affiliations, dates, categories, the reference line, the reading time) is never
asked of the model: we have it, and a model could only get it wrong.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paperradar.llm.schemas import AnswerError, extract_json, language_problem
from paperradar.text.style_labels import TOPIC_KEYS
from paperradar.text.style_labels import text as label


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# Every limit the validator enforces, stated once: the prompts say them in words (the templates receive
# this table) and the response schema in each field's description (OpenAI's strict subset drops length
# keywords, so a description is how a constrained decoder's model learns them).
LIMITS = {
    "points": (0, 5),  # highlight: the method's steps or pillars
    "contributions": (1, 8),  # review
    "turns": (8, 14),  # dialogue
    "phrases": (3, 6),  # dialogue: sentences for a meeting
    "keywords": (3, 8),  # dialogue: English search keywords
}


def _prose(description: str, min_length: int = 1) -> Any:
    return Field(min_length=min_length, description=description)


def _items(name: str, description: str) -> Any:
    low, high = LIMITS[name]
    described = f"{low} to {high} items: {description}"
    if low == 0:  # optional: an answer without the list is an empty list
        return Field(default_factory=list, max_length=high, description=described)
    return Field(min_length=low, max_length=high, description=described)


class HighlightAnswer(_Answer):
    topic: Literal[TOPIC_KEYS]  # type: ignore[valid-type]
    emoji: str = Field(min_length=1, max_length=8, description="one emoji, no letters or digits")
    explanation: str = _prose("one paragraph: the problem and how the paper solves it", 20)
    points: list[str] = _items("points", "the method's steps or pillars, short; [] when it has none")
    key_result: str = _prose("the main result as one short phrase, with its number when the paper gives one")

    @field_validator("emoji")
    @classmethod
    def _one_emoji(cls, value: str) -> str:
        if any(ch.isalnum() for ch in value) or len(value.split()) != 1:
            raise ValueError("emoji must be one emoji character, no letters or digits")
        return value


class ReviewAnswer(_Answer):
    summary: str = _prose("2-3 short paragraphs for a non-specialist", 20)  # 簡単に説明すると
    background: str = _prose("background and motivation")  # 1.1 背景と動機
    contributions: list[str] = _items("contributions", "the main contributions")  # 1.2 主要な貢献
    method_overview: str = _prose("the method in outline")  # 2.1
    technical_details: str = _prose("how it works: architecture, training, objectives")  # 2.2
    novelty: str = _prose("what is new compared with prior work")  # 2.3
    setup: str = _prose("datasets, metrics, baselines, settings")  # 3.1
    results: str = _prose("the main results with the paper's numbers")  # 3.2
    comparison: str = _prose("comparison with existing methods, with the numbers")  # 3.3
    implementation: str = _prose("how easy it is to implement or reproduce")  # 4.1
    efficiency: str = _prose("computational cost and latency")  # 4.2
    applicability: str = _prose("where it can be applied")  # 4.3
    significance: str = _prose("why the paper matters")  # 5.1
    outlook: str = _prose("open problems and future directions")  # 5.2


# The review's sections an abstract cannot support: a review written from the abstract alone is not asked
# for them (a model paid to write "the abstract does not state..." five times); the page says why instead.
NEEDS_FULLTEXT = ("technical_details", "setup", "comparison", "implementation", "efficiency")


class ReviewFromAbstract(_Answer):
    """The review's shorter schema, for a paper whose full text could not be had."""

    summary: str = _prose("2-3 short paragraphs for a non-specialist", 20)
    background: str = _prose("background and motivation")
    contributions: list[str] = _items("contributions", "the main contributions")
    method_overview: str = _prose("the method in outline")
    novelty: str = _prose("what is new compared with prior work")
    results: str = _prose("the main results with the paper's numbers")
    applicability: str = _prose("where it can be applied")
    significance: str = _prose("why the paper matters")
    outlook: str = _prose("open problems and future directions")


class Turn(_Answer):
    speaker: Literal["executive", "mentor"]
    text: str = _prose("one turn of the conversation")


class DialogueAnswer(_Answer):
    title: str = _prose("the paper's title in the output language")
    turns: list[Turn] = _items(
        "turns",
        "the executive speaks first; the executive's last turn restates the paper in their own words and "
        "is the last turn, or is followed by one closing turn of the mentor",
    )
    overview: str = _prose("what the paper is and where it stands")  # 1 概要と位置づけ
    differentiation: str = _prose("how it differs from earlier work")  # 2 先行研究との差別化ポイント
    core_technology: str = _prose("its core technical elements")  # 3 中核となる技術的要素
    validation: str = _prose("how it was validated and what came out")  # 4 有効性の検証方法と成果
    debate: str = _prose("open questions, limits and risks")  # 5 研究を巡る議論と課題
    future: str = _prose("what to study or try next")  # 6 今後の調査・学習の方向性
    phrases: list[str] = _items(
        "phrases", "sentences the executive can say in a meeting"
    )  # 会議で使えるフレーズ集
    keywords: list[str] = _items("keywords", "English search keywords for related work, not the title")


STYLE_ANSWERS: dict[str, type[_Answer]] = {
    "highlight": HighlightAnswer,
    "review": ReviewAnswer,
    "dialogue": DialogueAnswer,
}


def answer_model(style: str, from_abstract: bool = False) -> type[_Answer]:
    """The schema of a style's answer; the review has a shorter one when only the abstract was sent."""
    return ReviewFromAbstract if style == "review" and from_abstract else STYLE_ANSWERS[style]


# Fields not in the output language by design (checked separately or not prose).
_NOT_PROSE = {"topic", "emoji", "keywords", "speaker"}


def prose_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, text) of every prose string in an answer dict: "results", "turns.3.text", "points.0"."""
    out: list[tuple[str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            out.append((path, value))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}.{i}")
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in _NOT_PROSE and not key.startswith("_"):
                    walk(item, f"{path}.{key}" if path else key)

    walk(data, "")
    return out


def _strict(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """pydantic's JSON schema reduced to OpenAI's "strict" subset: $refs inlined, every property required,
    no extra properties, no titles/defaults/length keywords (strict mode rejects several of them)."""
    if "$ref" in schema:
        return _strict(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("title", "default", "minLength", "maxLength", "minItems", "maxItems", "$defs"):
            continue
        if key == "properties":
            out[key] = {k: _strict(v, defs) for k, v in value.items()}
        elif key == "items":
            out[key] = _strict(value, defs)
        else:
            out[key] = value
    if out.get("type") == "object":
        out["required"] = list(out.get("properties", {}))
        out["additionalProperties"] = False
    return out


@cache
def response_schema(style: str, from_abstract: bool = False) -> dict[str, Any]:
    """The style's answer schema, built once (pydantic's schema generation costs ~1 ms, and a day sends
    dozens of style requests). Shared: callers serialise it into the request and never change it."""
    raw = answer_model(style, from_abstract).model_json_schema()
    return _strict(raw, raw.get("$defs", {}))


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "answer"
        got = err.get("input")
        shown = f" (got {json.dumps(got, ensure_ascii=False)[:60]})" if isinstance(got, str | int) else ""
        parts.append(f"{where}: {err['msg']}{shown}")
    return "; ".join(parts)


# Hyphens, dashes, quotes and spaces a model writes that are not ASCII but mean ASCII ones: U+2011 in
# "multi‑vector", a curly apostrophe in "ColBERT’s". Applied after NFKC (which maps full-width letters).
_ASCII_LOOKALIKES = str.maketrans(
    {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
     "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u202f": " "}
)  # fmt: skip


def ascii_keyword(keyword: str) -> str:
    """A search keyword with Unicode look-alikes made ASCII (what a search box gets)."""
    return " ".join(unicodedata.normalize("NFKC", keyword).translate(_ASCII_LOOKALIKES).split())


def _check_turns(turns: list[Turn]) -> None:
    """Rules a conversation of any length in the allowed range can meet (an alternating one of 10 turns
    ends with the mentor): both speak, and the executive's restatement is the last turn or is followed by
    one closing turn of the mentor."""
    if {t.speaker for t in turns} != {"executive", "mentor"}:
        raise AnswerError("turns: the executive and the mentor must both speak")
    last = max(i for i, t in enumerate(turns) if t.speaker == "executive")
    if last < len(turns) - 2:
        raise AnswerError(
            "turns: end with the executive restating the paper in their own words (the mentor may add one "
            "closing turn after it)"
        )


def parse_style_answer(
    style: str, text: str, language: str, source: str = "", *, from_abstract: bool = False
) -> dict[str, Any]:
    """The validated answer as a plain dict, or AnswerError saying what to fix. `source` is the paper's
    text as the prompt carried it (terms from it do not count against the language); `from_abstract`
    selects the review's shorter schema, whose missing sections get our own note (listed in "_omitted")."""
    value = extract_json(text)
    model = answer_model(style, from_abstract)
    try:
        answer = model.model_validate(value)
    except ValidationError as exc:
        raise AnswerError(_explain(exc)) from None
    data = answer.model_dump()
    for path, prose in prose_fields(data):
        # Short items ("RAG", a bare number) carry no language signal; judge the ones that do.
        if len(prose) >= 12 or path in ("title", "key_result"):
            problem = language_problem(prose, language, source)
            if problem:
                raise AnswerError(f"{path}: {problem}")
    if isinstance(answer, DialogueAnswer):
        _check_turns(answer.turns)
        data["keywords"] = [ascii_keyword(k) for k in answer.keywords]
        for i, keyword in enumerate(data["keywords"]):
            if not keyword.isascii():
                raise AnswerError(f"keywords.{i}: search keywords must be in English")
    if model is ReviewFromAbstract:
        note = label(language, "needs_fulltext")
        data = {name: data.get(name, note) for name in ReviewAnswer.model_fields}
        data["_omitted"] = list(NEEDS_FULLTEXT)
    return data
