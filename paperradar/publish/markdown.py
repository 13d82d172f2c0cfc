"""Render a Digest as the Markdown daily digest (layout and zh labels of the reference digest, seed 002).

Python prepares plain values (dates formatted, counts computed, texts chosen); the template decides the
layout. Autoescape is off because the output is Markdown, not HTML, so every string that comes from a
paper or a model goes through the `escape_markdown` filter in the template. The output depends only on
the Digest: no clock, no locale, no dict-order (items keep their given order, sets are sorted).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from paperradar.models import Digest, GeneratedText, Ranked
from paperradar.text.labels import (
    fallback_label,
    format_date,
    interest_reason,
    labels,
    muted_text,
    why_text,
)
from paperradar.text.markdown import MAX_CHARS, clip, escape_markdown

TEMPLATE_NAME = "digest.md.j2"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("paperradar.publish", "templates"),
        autoescape=False,  # Markdown output; escaping is explicit via the escape_markdown filter
        undefined=StrictUndefined,  # a misspelt variable is a bug, not an empty string in the digest
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        newline_sequence="\n",
    )
    env.filters["escape_markdown"] = escape_markdown
    return env


def render_digest(digest: Digest, max_authors: int) -> str:
    """The digest as Markdown: "\\n" line endings, exactly one trailing newline, never empty."""
    lab = labels(digest.language)
    zone = digest.generated_at.tzinfo or UTC  # a naive time would make output depend on the host zone
    items = [_item_view(item, i, digest, lab, zone, max_authors) for i, item in enumerate(digest.items, 1)]
    context: dict[str, Any] = {
        "L": lab,
        "categories": " ".join(digest.categories),
        "generated": _format_generated(digest.generated_at, digest.language),
        "announced_day": format_date(digest.day, digest.language),
        "count": _count_text(digest, lab),
        "order": lab["order_value"].format(
            keys=lab["order_sep"].join(lab.get(f"order_{key}", key) for key in digest.order)
        ),
        "modes": _modes_text(digest, lab) if digest.items else "",
        "items": items,
        "empty_day": _empty_text(digest, lab),
        "empty_reason": digest.empty_reason,
        "skipped": _skipped_text(digest, lab),
        "muted": escape_markdown(muted_text(digest.muted, digest.language)) if digest.muted else "",
    }
    text = _environment().get_template(TEMPLATE_NAME).render(context)
    return text.replace("\r\n", "\n").rstrip() + "\n"


def _skipped_text(digest: Digest, lab: Mapping[str, str]) -> str:
    """A partial day: how many feed items were left out as malformed, and why (the first three)."""
    if not digest.skipped:
        return ""
    reasons = "; ".join(r if len(r) <= 160 else r[:159] + "…" for r in digest.skipped[:3])
    reasons += "; …" if len(digest.skipped) > 3 else ""
    return lab["skipped_value"].format(n=len(digest.skipped), reasons=escape_markdown(reasons))


def _empty_text(digest: Digest, lab: Mapping[str, str]) -> str:
    day = format_date(digest.day, digest.language)
    if digest.announced > 0:
        # Papers were announced but none survived the filters: "no new papers" would be false.
        return lab["empty_day_none_selected"].format(day=day, announced=digest.announced)
    return lab["empty_day"].format(day=day)


def _format_generated(when: datetime, language: str) -> str:
    if language in ("zh", "ja"):
        return when.strftime("%Y年%m月%d日 %H:%M:%S")  # as in the seed; the zone is the configured one
    return f"{when.strftime('%Y-%m-%d %H:%M:%S')} {_utc_offset(when)}"


def _utc_offset(when: datetime) -> str:
    """ "UTC+08:00": unambiguous, unlike abbreviations such as CST (China or US Central?)."""
    offset = when.utcoffset()
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _count_text(digest: Digest, lab: Mapping[str, str]) -> str:
    n = len(digest.items)
    if n >= digest.top_n:
        return lab["count_value"].format(n=n, top_n=digest.top_n)
    # Fewer than top_n: say how many were announced, so "12" is not mistaken for a cut-off.
    return lab["count_value_short"].format(n=n, announced=digest.announced, top_n=digest.top_n)


def _mode_names(modes: set[str], lab: Mapping[str, str], no_llm: str, no_llm_key: str) -> list[str]:
    # The no-LLM mode first, then model names alphabetically: stable whatever the set order.
    ordered = sorted(modes, key=lambda m: (m != no_llm, m))
    return [
        lab[no_llm_key] if m == no_llm else lab["mode_model"].format(model=escape_markdown(m))
        for m in ordered
    ]


def _modes_text(digest: Digest, lab: Mapping[str, str]) -> str:
    """Which parts of the digest a model wrote and which were computed without one."""
    summary_modes = {t.mode for t in (_text(digest, it, "summary") for it in digest.items) if t is not None}
    title_modes: set[str] = set()
    untranslated = False
    for it in digest.items:
        title = _translated_title(digest, it)
        if title is not None:
            title_modes.add(title.mode)
        elif digest.language != "en":
            untranslated = True
    title_parts = _mode_names(title_modes, lab, "extractive", "mode_extractive")
    if untranslated:
        title_parts.append(lab["mode_untranslated"])
    if not title_parts:
        title_parts = [lab["mode_original"]]  # English digest of English titles: nothing to translate
    score_modes = {it.interest.mode for it in digest.items}
    # "extractive (no LLM)" would be false where a model was asked and failed: then the header says only
    # "extractive", and each paper's own label says why.
    failed_summary = any(
        digest.missing.get(it.paper.arxiv_id, {}).get("summary") not in (None, "no_model")
        for it in digest.items
    )
    failed_score = any(it.interest.missing not in (None, "no_model") for it in digest.items)
    extractive_key = "prov_extractive" if failed_summary else "mode_extractive"
    heuristic_key = "prov_heuristic" if failed_score else "mode_heuristic"
    sep = lab["mode_value_sep"]
    parts = [
        f"{lab['mode_summary']}: {sep.join(_mode_names(summary_modes, lab, 'extractive', extractive_key)) or lab['unknown']}",
        f"{lab['mode_title']}: {sep.join(title_parts)}",
        f"{lab['mode_score']}: {sep.join(_mode_names(score_modes, lab, 'heuristic', heuristic_key))}",
    ]
    return lab["mode_part_sep"].join(parts)


def _text(digest: Digest, item: Ranked, task: str) -> GeneratedText | None:
    return digest.texts.get(item.paper.arxiv_id, {}).get(task)


def _translated_title(digest: Digest, item: Ranked) -> GeneratedText | None:
    title = _text(digest, item, "title")
    if title is None or title.language != digest.language or not title.content.strip():
        return None
    return title


def _item_view(
    item: Ranked, position: int, digest: Digest, lab: Mapping[str, str], zone: tzinfo, max_authors: int
) -> dict[str, Any]:
    """Plain values for one paper. Strings from the paper or a model stay raw: the template escapes them."""
    paper = item.paper
    title = _translated_title(digest, item)
    summary = _text(digest, item, "summary")
    why = digest.missing.get(paper.arxiv_id, {})
    reason, reason_note = interest_reason(item.interest, digest.language)
    mixed = _mixed_modes(digest)
    max_authors = max(1, max_authors)
    companies = list(dict.fromkeys(hit.name for hit in item.companies))  # one name once, first hit first
    return {
        "number": item.rank if item.rank > 0 else position,
        "title": clip(title.content if title is not None else paper.title, MAX_CHARS["title"]),
        # An English digest shows the English original as its title: nothing is missing.
        "untranslated": title is None and digest.language != "en",
        # The seed's "英文标题" line stays in zh/ja; an English digest's title IS the original, so no repeat.
        "translated": title is not None or digest.language != "en",
        "untranslated_label": fallback_label(digest.language, "untranslated", why.get("title")),
        "title_by": _by(lab, title.mode) if title is not None and "title" in mixed else "",
        "original_title": clip(paper.title, MAX_CHARS["title"]),
        "authors": [clip(name, MAX_CHARS["author"]) for name in paper.authors[:max_authors]],
        # The seed's "等10人" after 4 names of 14 counts the authors NOT shown (checked against the data).
        "authors_omitted": max(0, len(paper.authors) - max_authors),
        "submitted": _format_submitted(paper.published, zone) or lab["unknown"],
        # arXiv ids are safe characters; quoting guards the Markdown link against a malformed id anyway.
        "link": quote(paper.abs_url, safe=":/"),
        "companies": companies,
        "keywords": [hit.keyword for hit in item.keyword_hits],
        "keyword_count": item.keyword_count,
        "score": item.interest.score,
        "reason": clip(reason, MAX_CHARS["reason"]),
        "reason_note": reason_note,
        "heuristic": item.interest.mode == "heuristic",
        "heuristic_label": fallback_label(digest.language, "heuristic", item.interest.missing),
        "score_by": _by(lab, item.interest.mode)
        if item.interest.mode != "heuristic" and "interest" in mixed
        else "",
        "summary": clip(summary.content, MAX_CHARS["summary"]) if summary is not None else None,
        "extractive": summary is not None and summary.mode == "extractive",
        "extractive_label": fallback_label(digest.language, "extractive", why.get("summary")),
        "summary_by": _by(lab, summary.mode)
        if summary is not None and summary.mode != "extractive" and "summary" in mixed
        else "",
        # The same model's English summary standing in for the reader's own (write/digest_texts.py).
        "other_language_label": _other_language_label(summary, digest.language, lab, why.get("summary")),
    }


def _other_language_label(
    summary: GeneratedText | None, language: str, lab: Mapping[str, str], why: str | None
) -> str:
    if summary is None or summary.mode == "extractive" or summary.language in (language, "orig"):
        return ""
    if summary.language not in ("zh", "ja", "en"):
        return ""
    return lab["other_language_label"].format(
        model=escape_markdown(summary.mode),
        lang=lab[f"lang_{summary.language}"],
        why=why_text(language, why or "not_asked"),
    )


def _by(lab: Mapping[str, str], model: str) -> str:
    return lab["by_model"].format(model=model)


def _mixed_modes(digest: Digest) -> set[str]:
    """Fields ("title", "summary", "interest") written by more than one model this day: only then does each
    paper name its model (the header names them all; extractive and heuristic fields carry their own label)."""
    modes: dict[str, set[str]] = {"title": set(), "summary": set(), "interest": set()}
    for item in digest.items:
        for task in ("title", "summary"):
            text = _text(digest, item, task)
            if text is not None:
                modes[task].add(text.mode)
        modes["interest"].add(item.interest.mode)
    fallbacks = {"extractive", "heuristic"}
    return {task for task, found in modes.items() if len(found - fallbacks) > 1}


def _format_submitted(published: datetime | None, zone: tzinfo) -> str | None:
    if published is None:
        return None
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)  # the model stores UTC
    return published.astimezone(zone).strftime("%Y-%m-%d %H:%M")
