"""What a model must answer, and how an answer is checked before anything is stored.

A model's text is untrusted like the papers: it is parsed (JSON, possibly wrapped in prose or a ```json
fence), validated against a pydantic schema, then checked against the request (only the ids that were
sent, all of them, in the language asked for). Anything that fails gets one repair round-trip with the
error text; after that the request is declined, never filled with a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paperradar.text.source_index import SourceIndex

LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "ja": "Japanese (日本語)", "en": "English"}


class AnswerError(ValueError):
    """The answer cannot be used. The message is sent back to the model in the repair request."""


# --- output schemas ------------------------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class InterestItem(_Answer):
    id: str
    score: int = Field(ge=1, le=5)
    reason: str = ""  # asked for one language
    reasons: dict[str, str] = Field(default_factory=dict)  # asked for several: language -> reason

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value).strip() if isinstance(value, int | float) else value


class InterestAnswer(_Answer):
    items: list[InterestItem]


class TitleAnswer(_Answer):
    title: str = Field(min_length=1)


class BriefAnswer(_Answer):
    """A title and a summary in one answer: one call per paper and language for the digest."""

    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)


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
    "brief": BriefAnswer,
    "company": CompanyAnswer,
}


def response_schema(
    task: str, ids: list[str] | None = None, reason_languages: Sequence[str] = ()
) -> dict[str, Any]:
    """A JSON schema for response_format (OpenAI "strict" subset: every property required, no extras).
    Ids are an enum, so a constrained decoder cannot invent one. Every limit check_text and check_interest
    enforce is stated in a "description" too (the strict subset has no length keywords, but a description
    reaches the model with the schema)."""

    def string(description: str) -> dict[str, Any]:
        return {"type": "string", "description": description}

    props: dict[str, Any]
    if task == "interest":
        item = {
            "type": "object",
            "properties": {
                "id": {"type": "string", "enum": ids} if ids else string("the paper's id exactly as given"),
                "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
                "reason": string("one sentence in the language asked for"),
            },
            "required": ["id", "score", "reason"],
            "additionalProperties": False,
        }
        if len(reason_languages) > 1:
            item["properties"].pop("reason")  # type: ignore[attr-defined]
            item["properties"]["reasons"] = _reasons_schema(reason_languages)  # type: ignore[index]
            item["required"] = ["id", "score", "reasons"]
        props = {"items": {"type": "array", "items": item, "description": "one item per paper sent"}}
    elif task == "company":
        props = {
            "company": {
                "type": ["string", "null"],
                "description": "a company's name, or null when none is named",
            },
            "evidence": string("the exact words of the given text that name the company; empty when null"),
        }
    elif task == "summary":
        low, high = SUMMARY_SENTENCES
        props = {"summary": string(f"{low} to {high} sentences in the language asked for")}
    elif task == "title":
        props = {"title": string("only the translated title")}
    elif task == "brief":
        low, high = SUMMARY_SENTENCES
        props = {
            "title": string("only the translated title"),
            "summary": string(f"{low} to {high} sentences in the language asked for"),
        }
    else:
        props = {task: {"type": "string"}}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


# --- JSON extraction -----------------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
# Reasoning models served by Ollama, vLLM or llama.cpp (Qwen3, DeepSeek-R1) put their thinking before the
# answer in `content`: "<think>...</think>{...}", or only "...</think>{...}" when the chat template opened
# the tag itself. The thinking may hold braces, so it is cut off before looking for JSON.


_THINK_END = re.compile(r"</think\s*>", re.I)


def strip_thinking(text: str) -> str:
    """`text` without a reasoning model's thinking block (everything up to the last </think>)."""
    ends = list(_THINK_END.finditer(text))
    return text[ends[-1].end() :] if ends else text


def extract_json(text: str) -> Any:
    """The JSON value in a model's answer: the whole text, else a ```json fence, else the outermost {...}.

    Tolerated because they are unambiguous: a reasoning model's <think> block before the answer,
    surrounding prose, a fence, trailing commas before } or ]. Not tolerated: a cut-off answer
    (finish_reason "length") or single quotes: those get a repair request.
    """
    text = strip_thinking(text).strip().lstrip("\ufeff")
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


# Latin words that make a text English prose, whatever the paper says: "we propose a ... with ..." copied
# from an abstract is English, even when every word of it is in the abstract.
_FUNCTION_TEXT = (
    "a an the of and or to in on for with by from as at is are was were be been this that these those"
)
_FUNCTION_TEXT += (
    " it its we our their they which who what how why not can will would should may might into than then"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())
_LATIN_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-_.'&][A-Za-z0-9]+)*")


@lru_cache(maxsize=16)
def _source_index(source: str) -> SourceIndex:
    return SourceIndex(source)


def _latin_letters(text: str, source: str | SourceIndex | None) -> tuple[int, int]:
    """(prose, terms): Latin letters of words that make a text English, and of terms that travel between
    languages unchanged: names and codes ("GAUC", "BERT4Rec", "OneRec-Think") and any word the paper uses
    ("pointwise", "Recall", "noisy items"), which a Chinese or Japanese text keeps as written."""
    index = _source_index(source) if isinstance(source, str) and source else source or None
    prose = terms = 0
    for m in _LATIN_TOKEN.finditer(text):
        token = m.group()
        letters = sum(ch.isalpha() for ch in token)
        named = any(ch.isdigit() for ch in token) or sum(ch.isupper() for ch in token) >= 2
        if token.lower() in _FUNCTION_WORDS:
            prose += letters
        elif named or (isinstance(index, SourceIndex) and index.find(token) is not None):
            terms += letters
        else:
            prose += letters
    return prose, terms


def language_problem(text: str, language: str, source: str | SourceIndex | None = None) -> str | None:
    """None when `text` plausibly is in `language`, else what is wrong (sent back in a repair request).

    Ratios, not absolutes: Chinese and Japanese texts keep English acronyms, model names and metrics
    ("SMES：…", "Recall@5 +2.4%、NDCG@5 +1.3%"), so Latin letters are allowed as long as they do not
    dominate. Four Latin letters of prose count as one Han character (roughly one word each); terms count
    a fifth of that: names and codes, and, given the paper's text as `source`, any word the paper uses.
    A line with no Chinese or Japanese characters and no Latin prose (names, metrics, numbers) carries no
    language to judge and passes.
    """
    c = script_counts(text)
    cjk = c["han"] + c["kana"]
    name = LANGUAGE_NAMES.get(language, language)
    if language in ("zh", "ja"):
        prose, terms = _latin_letters(text, source) if c["latin"] else (0, 0)
        own = c["han"] if language == "zh" else cjk  # Chinese is judged by its Han characters alone
        if c["hangul"]:
            return f"the text looks Korean; write it in {name}"
        if own < 2 and (prose or (language == "zh" and c["kana"])):
            return f"the text must be written in {name}"
        if own and own < prose / 4 + terms / 20:
            return f"the text must be written in {name}"
        if language == "zh" and c["kana"] > 0.05 * cjk:
            return f"the text looks Japanese; write it in {name}"
        if language == "ja" and c["kana"] == 0 and cjk >= 12:
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
# Abbreviations whose period ends no sentence: "e.g. BERT", "vs. PLE", "et al. (2024)", "U.S. users".
_NEVER_END_TEXT = (
    "e.g i.e vs cf al approx incl resp esp fig figs eq eqs sec no nos vol dr mr mrs prof viz a.k.a"
)
_NEVER_END = frozenset((_NEVER_END_TEXT + " w.r.t u.s u.k ca").split())
# Abbreviations that end a sentence when a capital follows: "... and so on, etc. The model ...".
_MAY_END = frozenset(("etc", "inc", "ltd", "co", "corp", "jr", "sr"))
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def sentence_count(text: str) -> int:
    """Sentences of `text`: ends are 。！？!? and a period before a space or the end, except the period of
    an abbreviation that cannot end a sentence there (a decimal point is never followed by a space)."""
    text = text.strip()
    count = 0
    for m in _SENTENCE_END.finditer(text):
        if m.group() == "." and m.end() < len(text):
            word = _WORD_BEFORE.search(text, 0, m.start())
            before = word.group(1).lower() if word else ""
            after = text[m.end() :].lstrip()[:1]
            if before in _NEVER_END or (before in _MAY_END and not after.isupper()):
                continue
        count += 1
    return count or 1


# --- checks against the request ------------------------------------------------------------------------


def check_interest(
    text: str, ids: list[str], language: str, source: str = "", reason_languages: Sequence[str] = ()
) -> tuple[dict[str, InterestItem], dict[str, str]]:
    """Splits a batch answer into ({id: item} usable, {id: problem}) for exactly the ids that were sent.
    `source` is the papers' text as sent (the prompt's data blocks): terms from it do not make a reason
    English ("LLM reasoning用于reranking").

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
        problem = _reasons_problem(item, language, list(reason_languages) or [language], source)
        if problem:
            bad[rid] = f"reason for {rid}: {problem}"
        else:
            good[rid] = item
    for i in ids:
        if i not in good and i not in bad:
            bad[i] = f"no item for id {i}"
    return good, bad


def _reasons_schema(languages: Sequence[str]) -> dict[str, Any]:
    """An interest answer's reasons: one sentence per language asked for, keyed by language code."""
    return {
        "type": "object",
        "properties": {
            code: {"type": "string", "description": f"one sentence in {LANGUAGE_NAMES.get(code, code)}"}
            for code in languages
        },
        "required": list(languages),
        "additionalProperties": False,
    }


def panel_schema(ids: list[str], profiles: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The response schema of an interest call for several readers (`profiles`: profile id -> the languages
    its reasons are asked in): per paper, one entry per profile id, each a score and a reason per language.
    Paper and profile ids are fixed (an enum, required property names), as in response_schema."""

    def entry(languages: Sequence[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
                "reasons": _reasons_schema(languages),
            },
            "required": ["score", "reasons"],
            "additionalProperties": False,
        }

    item = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "enum": ids},
            "profiles": {
                "type": "object",
                "properties": {pid: entry(languages) for pid, languages in profiles.items()},
                "required": list(profiles),
                "additionalProperties": False,
                "description": "one entry per profile id given, scored on that profile alone",
            },
        },
        "required": ["id", "profiles"],
        "additionalProperties": False,
    }
    props = {"items": {"type": "array", "items": item, "description": "one item per paper sent"}}
    return {"type": "object", "properties": props, "required": ["items"], "additionalProperties": False}


def check_panel(
    text: str, ids: list[str], profiles: Mapping[str, Sequence[str]], source: str = ""
) -> tuple[dict[tuple[str, str], InterestItem], dict[tuple[str, str], str]]:
    """check_interest for an answer scoring papers for several profiles (`profiles`: profile id -> its reason
    languages, the first the reader's own): ({(paper id, profile id): item} usable, {(paper id, profile id):
    problem}) for exactly the pairs that were asked. Each pair is validated on its own, so one bad reason
    costs only that pair. A paper id or a profile id that was not sent is ignored (what it should have
    answered shows up as missing); a repeated paper keeps its first item. Raises AnswerError when the answer
    as a whole is unusable (no JSON, no items list)."""
    value = extract_json(text)
    if isinstance(value, list):
        value = {"items": value}  # a bare array of items is what was meant
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        raise AnswerError(
            'expected a JSON object {"items": [{"id": ..., "profiles": {"<profile id>": {"score": ..., '
            '"reasons": {...}}}}]}'
        )
    sent = set(ids)
    seen: set[str] = set()
    good: dict[tuple[str, str], InterestItem] = {}
    bad: dict[tuple[str, str], str] = {}
    for raw in value["items"]:
        rid = str(raw.get("id", "")).strip() if isinstance(raw, dict) else ""
        if rid not in sent or rid in seen:
            continue
        seen.add(rid)
        answers = _profile_answers(raw.get("profiles"))
        for pid, languages in profiles.items():
            entry = answers.get(pid)
            if entry is None:
                bad[rid, pid] = f"item {rid}: no answer for profile {pid}"
                continue
            try:
                item = InterestItem.model_validate({**entry, "id": rid})
            except ValidationError as exc:
                bad[rid, pid] = f"item {rid}, profile {pid}: {_explain(exc)}"
                continue
            problem = _reasons_problem(item, languages[0], list(languages), source)
            if problem:
                bad[rid, pid] = f"reason for {rid}, profile {pid}: {problem}"
            else:
                good[rid, pid] = item
    for i in ids:
        for pid in profiles:
            if (i, pid) not in good and (i, pid) not in bad:
                bad[i, pid] = f"no item for id {i}"
    return good, bad


def _profile_answers(value: Any) -> dict[str, dict[str, Any]]:
    """An item's per-profile answers by profile id: the object asked for, or a list of entries that each
    name their profile (what a model may write instead); anything else answers no profile."""
    if isinstance(value, dict):
        return {str(k).strip(): v for k, v in value.items() if isinstance(v, dict)}
    if isinstance(value, list):
        out: dict[str, dict[str, Any]] = {}
        for entry in value:
            if isinstance(entry, dict):
                pid = str(entry.get("profile", entry.get("id", ""))).strip()
                out.setdefault(pid, {k: v for k, v in entry.items() if k not in ("profile", "id")})
        return out
    return {}


# A summary's sentence count, as the prompt and the response schema state it. Counting is a heuristic (a
# list or a semicolon changes it), so one sentence either side is accepted too.
SUMMARY_SENTENCES = (3, 5)
SUMMARY_ACCEPTED = (2, 6)


def check_text(task: str, answer: _Answer, language: str, source: str = "") -> str:
    """The content to store for title/summary/company, or AnswerError. `source` is what the prompt gave:
    the English title (title), the paper's text (summary, company)."""
    if isinstance(answer, TitleAnswer):
        title = " ".join(answer.title.split())
        problem = language_problem(title, language, source)
        if problem:
            raise AnswerError(f"title: {problem}")
        if source and len(title) > 3 * len(source) + 20:
            raise AnswerError("title: too long; give only the translated title")
        return title
    if isinstance(answer, SummaryAnswer):
        summary = " ".join(answer.summary.split())
        problem = language_problem(summary, language, source)
        if problem:
            raise AnswerError(f"summary: {problem}")
        n = sentence_count(summary)
        low, high = SUMMARY_ACCEPTED
        if not low <= n <= high:
            want = "{} to {}".format(*SUMMARY_SENTENCES)
            raise AnswerError(f"summary: write {want} sentences (got {n})")
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


def _reasons_problem(item: InterestItem, language: str, wanted: list[str], source: str) -> str | None:
    """Fills item.reason (in `language`) and item.reasons (every wanted language); what is wrong, or None."""
    reasons = {k: " ".join(v.split()) for k, v in item.reasons.items() if isinstance(v, str) and v.strip()}
    if item.reason.strip() and wanted[0] not in reasons:
        reasons[wanted[0]] = " ".join(item.reason.split())  # one reason where one language was asked for
    missing = [code for code in wanted if code not in reasons]
    if missing:
        return f"give a reason in {', '.join(LANGUAGE_NAMES.get(c, c) for c in missing)}"
    for code in wanted:
        problem = language_problem(reasons[code], code, source)
        if problem:
            return f"{code}: {problem}" if len(wanted) > 1 else problem
    item.reasons = {code: reasons[code] for code in wanted}
    item.reason = reasons[language]
    return None


def interest_content(item: InterestItem) -> str:
    """The stored form of one interest score: compact JSON, readable Chinese/Japanese; `reasons` holds the
    reason in every language asked for (one call, every digest language)."""
    body: dict[str, Any] = {"score": item.score, "reason": " ".join(item.reason.split())}
    if len(item.reasons) > 1:
        body["reasons"] = item.reasons
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
