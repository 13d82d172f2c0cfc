"""What a model must answer for the highlight, review and dialogue styles, and how an answer is checked.

Same rules as write/schemas.py: the answer is parsed (bare JSON, a ```json fence or prose around it),
validated by a pydantic model, then checked against the request (every prose field in the language asked
for, the dialogue's shape). The error text goes back to the model in the one repair request.
Metadata (id, authors, affiliations, dates, categories, the reference line, the reading time) is never
asked of the model: we have it, and a model could only get it wrong.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paperradar.llm.schemas import AnswerError, extract_json, language_problem
from paperradar.text.style_labels import TOPIC_KEYS


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _prose(min_length: int = 1) -> Any:
    return Field(min_length=min_length)


class HighlightAnswer(_Answer):
    topic: Literal[TOPIC_KEYS]  # type: ignore[valid-type]
    emoji: str = Field(min_length=1, max_length=8)
    explanation: str = _prose(20)  # one paragraph: the problem and how the paper solves it
    points: list[str] = Field(default_factory=list, max_length=5)  # the method's steps or pillars, if any
    key_result: str = _prose()  # rendered in bold

    @field_validator("emoji")
    @classmethod
    def _one_emoji(cls, value: str) -> str:
        if any(ch.isalnum() for ch in value) or len(value.split()) != 1:
            raise ValueError("emoji must be one emoji character, no letters or digits")
        return value


class ReviewAnswer(_Answer):
    summary: str = _prose(20)  # 簡単に説明すると: 2-3 short paragraphs for a non-specialist
    background: str = _prose()  # 1.1 背景と動機
    contributions: list[str] = Field(min_length=1, max_length=6)  # 1.2 主要な貢献
    method_overview: str = _prose()  # 2.1
    technical_details: str = _prose()  # 2.2
    novelty: str = _prose()  # 2.3
    setup: str = _prose()  # 3.1 datasets, metrics, baselines
    results: str = _prose()  # 3.2 with the paper's numbers
    comparison: str = _prose()  # 3.3 against existing methods, with numbers
    implementation: str = _prose()  # 4.1
    efficiency: str = _prose()  # 4.2
    applicability: str = _prose()  # 4.3
    significance: str = _prose()  # 5.1
    outlook: str = _prose()  # 5.2


class Turn(_Answer):
    speaker: Literal["executive", "mentor"]
    text: str = _prose()


class DialogueAnswer(_Answer):
    title: str = _prose()  # the paper's title in the output language
    turns: list[Turn] = Field(min_length=6, max_length=20)
    overview: str = _prose()  # 1 概要と位置づけ
    differentiation: str = _prose()  # 2 先行研究との差別化ポイント
    core_technology: str = _prose()  # 3 中核となる技術的要素
    validation: str = _prose()  # 4 有効性の検証方法と成果
    debate: str = _prose()  # 5 研究を巡る議論と課題
    future: str = _prose()  # 6 今後の調査・学習の方向性
    phrases: list[str] = Field(min_length=3, max_length=6)  # 会議で使えるフレーズ集
    keywords: list[str] = Field(min_length=3, max_length=8)  # English search keywords


STYLE_ANSWERS: dict[str, type[_Answer]] = {
    "highlight": HighlightAnswer,
    "review": ReviewAnswer,
    "dialogue": DialogueAnswer,
}

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


def response_schema(style: str) -> dict[str, Any]:
    raw = STYLE_ANSWERS[style].model_json_schema()
    return _strict(raw, raw.get("$defs", {}))


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "answer"
        got = err.get("input")
        shown = f" (got {json.dumps(got, ensure_ascii=False)[:60]})" if isinstance(got, str | int) else ""
        parts.append(f"{where}: {err['msg']}{shown}")
    return "; ".join(parts)


def parse_style_answer(style: str, text: str, language: str) -> dict[str, Any]:
    """The validated answer as a plain dict, or AnswerError saying what to fix."""
    value = extract_json(text)
    try:
        answer = STYLE_ANSWERS[style].model_validate(value)
    except ValidationError as exc:
        raise AnswerError(_explain(exc)) from None
    data = answer.model_dump()
    for path, prose in prose_fields(data):
        # Short items ("RAG", a bare number) carry no language signal; judge the ones that do.
        if len(prose) >= 12 or path in ("title", "key_result"):
            problem = language_problem(prose, language)
            if problem:
                raise AnswerError(f"{path}: {problem}")
    if isinstance(answer, DialogueAnswer):
        speakers = {t.speaker for t in answer.turns}
        if speakers != {"executive", "mentor"}:
            raise AnswerError("turns: the executive and the mentor must both speak")
        if answer.turns[-1].speaker != "executive":
            raise AnswerError("turns: the last turn must be the executive restating the paper in their words")
        for i, keyword in enumerate(answer.keywords):
            if not keyword.isascii():
                raise AnswerError(f"keywords.{i}: search keywords must be in English")
    return data
