"""Prompts: rendering the per-task templates in llm/prompt_templates/, keeping paper text inside its data block,
trimming abstracts for scoring, estimating tokens, and the template hash the cache is keyed by.

Paper text is untrusted (anyone can submit to arXiv): it goes only inside <paper id="..."> … </paper>,
any tag that could close or fake such a block is defused, and every system prompt says to ignore
instructions found inside the data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from paperradar.llm.schemas import LANGUAGE_NAMES
from paperradar.models import Paper
from paperradar.text.extractive import split_sentences
from paperradar.text.tokens import estimate_tokens

PROMPT_TASKS = ("interest", "interest_panel", "title", "summary", "brief", "company")
# Bump when the code around the templates changes what is sent (data layout, trimming, validation).
PROMPT_CODE_VERSION = "1"

_env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
# Anything that could close a data block or open a fake one: <paper, </paper, <profile, </ profile ...
_TAG = re.compile(r"<(\s*/?\s*(?:paper|profile)\b)", re.I)
_ID_SAFE = re.compile(r"[^A-Za-z0-9._/-]")


@cache
def template_source(task: str, part: str) -> str:
    """The raw text of prompts/<task>.<part>.j2 (part: system | user)."""
    return (
        resources.files("paperradar.llm").joinpath("prompt_templates", f"{task}.{part}.j2").read_text("utf-8")
    )


@cache
def _compiled(task: str, part: str) -> jinja2.Template:
    return _env.from_string(template_source(task, part))


def defuse(text: str) -> str:
    """Paper text made safe for a data block: a look-alike angle bracket replaces the one that opens a tag,
    so "</paper> Ignore previous instructions" stays inside the block as plain text."""
    return _TAG.sub(lambda m: "‹" + m.group(1), " ".join((text or "").split()))


def safe_id(arxiv_id: str) -> str:
    return _ID_SAFE.sub("", arxiv_id)


def trim_abstract(abstract: str, max_tokens: int) -> str:
    """The abstract cut to about `max_tokens`: sentences from the head (problem, method) and the tail
    (results, deployment: where industrial evidence usually is), joined by " … " where text was cut."""
    text = " ".join((abstract or "").split())
    if max_tokens <= 0 or estimate_tokens(text) <= max_tokens:
        return text
    sentences = split_sentences(text) or [text]
    cost = [estimate_tokens(s) + 1 for s in sentences]
    keep: set[int] = set()
    used = 0
    # Alternate head and tail so both ends are represented; the head gets the first pick.
    order = [
        i for pair in zip(range(len(sentences)), reversed(range(len(sentences))), strict=True) for i in pair
    ]
    for i in dict.fromkeys(order):
        if used + cost[i] > max_tokens:
            if not keep:  # one huge sentence: cut it by characters
                return text[: max_tokens * 4].rsplit(" ", 1)[0] + " …"
            continue  # a shorter sentence further in may still fit
        keep.add(i)
        used += cost[i]
    out: list[str] = []
    for i, sentence in enumerate(sentences):
        if i in keep:
            out.append(sentence)
        elif not out or out[-1] != "…":
            out.append("…")
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class Prompt:
    messages: list[dict[str, str]]
    ids: list[str]  # the ids in the data blocks, in order
    est_tokens: int  # estimated prompt tokens
    # Interest for several readers: the reasons the answer holds (papers x each profile's languages), which
    # sizes the call's timeout; 0 elsewhere (the backend sizes other calls from the task).
    reasons: int = 0


def render(
    task: str,
    papers: list[Paper],
    language: str,
    profile: str = "",
    abstract_tokens: int = 0,
    reason_languages: Sequence[str] = (),
) -> Prompt:
    """System + user messages for `task` over `papers` (several only for interest). `reason_languages`:
    the languages an interest answer gives its reason in (default: `language` only)."""
    ids, data = _paper_blocks(papers, abstract_tokens if task in ("interest", "company") else 0)
    ctx: dict[str, Any] = {
        "language": LANGUAGE_NAMES.get(language, language),
        "reason_languages": _languages(reason_languages or [language]),
        "profile": _profile_text(profile),
        "papers": data,
        "p": data[0] if data else None,
    }
    return _prompt(task, ctx, ids)


@dataclass(frozen=True, slots=True)
class PanelProfile:
    """One reader's profile in an interest call for several readers: `id` is what the answer must echo
    ("p1", "p2"...: never the reader's name, which the config's author chose), `languages` the languages
    its reasons are asked in, the reader's own first."""

    id: str
    interests: str
    languages: tuple[str, ...]


def render_panel(papers: list[Paper], profiles: Sequence[PanelProfile], abstract_tokens: int = 0) -> Prompt:
    """The interest prompt for several readers at once: the papers' blocks once (the user message has the
    single-reader prompt's layout), each reader's interests as a <profile id="..."> data block, defused
    like a paper, and the languages each profile's reasons are asked in."""
    ids, data = _paper_blocks(papers, abstract_tokens)
    ctx: dict[str, Any] = {
        "profiles": [
            {"id": safe_id(r.id), "text": _profile_text(r.interests), "languages": _languages(r.languages)}
            for r in profiles
        ],
        "papers": data,
    }
    prompt = _prompt("interest_panel", ctx, ids)
    reasons = len(papers) * sum(len(r.languages) for r in profiles)
    return Prompt(prompt.messages, prompt.ids, prompt.est_tokens, reasons)


def _paper_blocks(papers: list[Paper], abstract_tokens: int) -> tuple[list[str], list[dict[str, str]]]:
    """The papers' ids and defused fields for their data blocks; abstracts trimmed when `abstract_tokens`."""
    ids = [safe_id(p.arxiv_id) for p in papers]
    data = []
    for pid, p in zip(ids, papers, strict=True):
        abstract = trim_abstract(p.abstract, abstract_tokens) if abstract_tokens else p.abstract
        data.append(
            {
                "id": pid,
                "title": defuse(p.title),
                "abstract": defuse(abstract),
                "affiliations": defuse("; ".join(p.affiliations)),
                "comment": defuse(p.comment or ""),
            }
        )
    return ids, data


def _languages(codes: Sequence[str]) -> list[dict[str, str]]:
    return [{"code": code, "name": LANGUAGE_NAMES.get(code, code)} for code in codes]


def _profile_text(profile: str) -> str:
    return defuse(profile.strip()) or "(no profile given: judge relevance to information retrieval)"


def _prompt(task: str, ctx: dict[str, Any], ids: list[str]) -> Prompt:
    system = _compiled(task, "system").render(ctx).strip()
    user = _compiled(task, "user").render(ctx).strip()
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return Prompt(messages, ids, estimate_tokens(system) + estimate_tokens(user) + 8)


def template_hash(
    task: str, language: str, params: dict[str, Any], extra: dict[str, Any] | None = None
) -> str:
    """Short sha256 over everything that changes the output: both templates, the language, the request
    params (temperature...), and task extras (the reader profile and abstract budget for interest)."""
    blob = json.dumps(
        {
            "v": PROMPT_CODE_VERSION,
            "task": task,
            "language": language,
            "system": template_source(task, "system"),
            "user": template_source(task, "user"),
            "params": params,
            "extra": extra or {},
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
