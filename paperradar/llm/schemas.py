"""What a model must answer, and how an answer is checked before anything is stored.

A model's text is untrusted like the papers: it is parsed (JSON, possibly wrapped in prose or a ```json
fence), validated against a pydantic schema, then checked against the request (only the ids that were
sent, all of them, in the language asked for). Anything that fails gets one repair round-trip with the
error text; after that the request is declined, never filled with a guess.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "ja": "Japanese (日本語)", "en": "English"}


class AnswerError(ValueError):
    """The answer cannot be used. The message is sent back to the model in the repair request."""


# --- output schemas ------------------------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class InterestItem(_Answer):
    id: str
    score: int = Field(ge=1, le=5)
    reason: str = Field(min_length=1)

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value).strip() if isinstance(value, int | float) else value


class InterestAnswer(_Answer):
    items: list[InterestItem]


class TitleAnswer(_Answer):
    title: str = Field(min_length=1)


class SummaryAnswer(_Answer):
    summary: str = Field(min_length=1)


class CompanyAnswer(_Answer):
    company: str | None = None
    evidence: str = ""

    @field_validator("company", mode="before")
    @classmethod
    def _none_words(cls, value: Any) -> Any:
        # Models write "null" / "none" / "" as text when they mean "no company".
        if isinstance(value, str) and value.strip().lower() in {
            "",
            "null",
            "none",
            "n/a",
            "unknown",
            "无",
            "なし",
        }:
            return None
        return value


ANSWER_MODELS: dict[str, type[_Answer]] = {
    "interest": InterestAnswer,
    "title": TitleAnswer,
    "summary": SummaryAnswer,
    "company": CompanyAnswer,
}


def response_schema(task: str, ids: list[str] | None = None) -> dict[str, Any]:
    """A JSON schema for response_format (OpenAI "strict" subset: every property required, no extras).
    Ids are an enum, so a constrained decoder cannot invent one."""
    string = {"type": "string"}
    props: dict[str, Any]
    if task == "interest":
        item = {
            "type": "object",
            "properties": {
                "id": {"type": "string", "enum": ids} if ids else string,
                "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
                "reason": string,
            },
            "required": ["id", "score", "reason"],
            "additionalProperties": False,
        }
        props = {"items": {"type": "array", "items": item}}
    elif task == "company":
        props = {"company": {"type": ["string", "null"]}, "evidence": string}
    else:
        props = {task: string}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


# --- JSON extraction -----------------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def extract_json(text: str) -> Any:
    """The JSON value in a model's answer: the whole text, else a ```json fence, else the outermost {...}.

    Tolerated because they are unambiguous: surrounding prose, a fence, trailing commas before } or ].
    Not tolerated: a cut-off answer (finish_reason "length") or single quotes: those get a repair request.
    """
    text = text.strip().lstrip("\ufeff")
    candidates = [text]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start : end + 1])
    for cand in candidates:
        for variant in (cand, _TRAILING_COMMA.sub(r"\1", cand)):
            try:
                return json.loads(variant)
            except (ValueError, RecursionError):
                # RecursionError: found by fuzzing, "[" * 1000 (nesting past the json module's limit)
                # escaped as a crash instead of a repairable AnswerError.
                continue
    if start == -1:
        raise AnswerError("the answer contains no JSON object; reply with one JSON object only")
    raise AnswerError("the answer is not valid JSON; reply with one complete JSON object only, no comments")


def parse_answer(task: str, text: str) -> _Answer:
    value = extract_json(text)
    if task == "interest" and isinstance(value, list):
        value = {"items": value}  # a bare array of items is what was meant
    try:
        return ANSWER_MODELS[task].model_validate(value)
    except ValidationError as exc:
        raise AnswerError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "answer"
        got = err.get("input")
        shown = f" (got {json.dumps(got, ensure_ascii=False)[:60]})" if got is not None and err["loc"] else ""
        msg = err["msg"]
        if err["loc"] and err["loc"][-1] == "score":
            msg = "score must be an integer from 1 to 5"
        parts.append(f"{where}: {msg}{shown}")
    return "; ".join(parts)


# --- language checks -----------------------------------------------------------------------------------


def script_counts(text: str) -> dict[str, int]:
    """Characters per script: han, kana (hiragana + katakana), hangul, latin letters."""
    counts = {"han": 0, "kana": 0, "hangul": 0, "latin": 0}
    for ch in text:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F:
            counts["han"] += 1
        elif (
            (0x3041 <= o <= 0x30FF and o not in (0x30FB, 0x30FC))
            or 0x31F0 <= o <= 0x31FF
            or 0xFF66 <= o <= 0xFF9D
        ):
            # ・ and ー are shared punctuation-like marks, not evidence of Japanese
            counts["kana"] += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            counts["hangul"] += 1
        elif ch.isalpha() and (ch.isascii() or 0xC0 <= o <= 0x24F):
            counts["latin"] += 1
    return counts


def language_problem(text: str, language: str) -> str | None:
    """None when `text` plausibly is in `language`, else what is wrong (sent back in a repair request).

    Ratios, not absolutes: Chinese and Japanese texts keep English acronyms and model names ("SMES：…",
    "LLM"), so Latin letters are allowed as long as they do not dominate. Four Latin letters count as
    one Han character (roughly one word each).
    """
    c = script_counts(text)
    cjk = c["han"] + c["kana"]
    name = LANGUAGE_NAMES.get(language, language)
    if language == "zh":
        if c["han"] < 2 or c["han"] < c["latin"] / 4:
            return f"the text must be written in {name}"
        if c["kana"] > 0.05 * cjk or c["hangul"]:
            return f"the text looks Japanese or Korean; write it in {name}"
        return None
    if language == "ja":
        if cjk < 2 or cjk < c["latin"] / 4 or c["hangul"]:
            return f"the text must be written in {name}"
        if c["kana"] == 0 and cjk >= 12:
            # Long Japanese text always has kana (particles); pure Han text of that length is Chinese.
            return f"the text looks Chinese (no kana); write it in {name}"
        return None
    if language == "en":
        letters = c["latin"] + cjk + c["hangul"]
        if letters == 0 or c["latin"] < 0.9 * letters:
            return f"the text must be written in {name}"
        return None
    return None


_SENTENCE_END = re.compile(r"[。！？!?]|\.(?=\s|$)")


def sentence_count(text: str) -> int:
    return len(_SENTENCE_END.findall(text.strip())) or 1


# --- checks against the request ------------------------------------------------------------------------


def check_interest(
    text: str, ids: list[str], language: str
) -> tuple[dict[str, InterestItem], dict[str, str]]:
    """Splits a batch answer into ({id: item} usable, {id: problem}) for exactly the ids that were sent.

    Items are validated one by one, so one bad score does not sink the other papers of the batch.
    Unknown ids are ignored (their papers show up as missing); a repeated id keeps its first item.
    Raises AnswerError when the answer as a whole is unusable (no JSON, no items list).
    """
    value = extract_json(text)
    if isinstance(value, list):
        value = {"items": value}  # a bare array of items is what was meant
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        raise AnswerError('expected a JSON object {"items": [{"id": ..., "score": ..., "reason": ...}]}')
    sent = set(ids)
    good: dict[str, InterestItem] = {}
    bad: dict[str, str] = {}
    for raw in value["items"]:
        rid = str(raw.get("id", "")).strip() if isinstance(raw, dict) else ""
        if rid not in sent or rid in good or rid in bad:
            continue
        try:
            item = InterestItem.model_validate(raw)
        except ValidationError as exc:
            bad[rid] = f"item {rid}: {_explain(exc)}"
            continue
        problem = language_problem(item.reason, language)
        if problem:
            bad[rid] = f"reason for {rid}: {problem}"
        else:
            good[rid] = item
    for i in ids:
        if i not in good and i not in bad:
            bad[i] = f"no item for id {i}"
    return good, bad


def check_text(task: str, answer: _Answer, language: str, source: str = "") -> str:
    """The content to store for title/summary/company, or AnswerError."""
    if isinstance(answer, TitleAnswer):
        title = " ".join(answer.title.split())
        problem = language_problem(title, language)
        if problem:
            raise AnswerError(f"title: {problem}")
        if source and len(title) > 3 * len(source) + 20:
            raise AnswerError("title: too long; give only the translated title")
        return title
    if isinstance(answer, SummaryAnswer):
        summary = " ".join(answer.summary.split())
        problem = language_problem(summary, language)
        if problem:
            raise AnswerError(f"summary: {problem}")
        n = sentence_count(summary)
        if not 2 <= n <= 6:
            raise AnswerError(f"summary: write 3 to 4 sentences (got {n})")
        return summary
    if isinstance(answer, CompanyAnswer):
        evidence = " ".join(answer.evidence.split())
        if answer.company is not None:
            if not evidence:
                raise AnswerError("evidence: quote the text that names the company")
            # A company must be grounded in the text that was sent, not in the model's memory.
            if source and _squash(evidence) not in _squash(source):
                raise AnswerError("evidence: must be copied verbatim from the affiliation text")
        return json.dumps({"company": answer.company, "evidence": evidence}, ensure_ascii=False)
    raise AnswerError(f"unexpected answer for task {task!r}")


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text).lower()


def interest_content(item: InterestItem) -> str:
    """The stored form of one interest score: compact JSON, readable Chinese/Japanese."""
    return json.dumps(
        {"score": item.score, "reason": " ".join(item.reason.split())},
        ensure_ascii=False,
        separators=(",", ":"),
    )
