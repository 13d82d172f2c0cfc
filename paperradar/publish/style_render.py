"""Four ways to explain a day's papers: the digest (publish/markdown.py), and the highlight, review and
dialogue pages rendered here from the texts write/styles/ stored.

    highlight  one paragraph + key result per paper, grouped by topic under themed day headings (seed 000)
    review     a structured review from the full text: method, experiments with the paper's numbers (seed 004)
    dialogue   an executive and a mentor talk the paper through, then six sections, meeting phrases,
               search keywords, the reference and a reading time (seeds 001/003)

Each style is one LLM task ("style:<name>", see style_tasks.py) answering validated JSON, rendered by a
Jinja template per style and language: write/templates/<style>.<lang>.md.j2, where a file of the same name
in the configured templates folder wins. Metadata (id, authors, affiliations, dates, categories, venue,
reference, reading time) is filled by us, never by the model.

Without an LLM nothing is faked: the highlight is written extractively and labelled so (the abstract's most
informative sentences, and its sentence with the strongest number as the key result); review and dialogue
show a "skipped: needs an LLM" note.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, cast, get_origin

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from paperradar.llm.seam import Backend, Declined, WriteRequest
from paperradar.models import GeneratedText, Paper, SourceText
from paperradar.text.labels import labels
from paperradar.text.markdown import escape_markdown
from paperradar.text.style_labels import TOPICS, text, topic_name
from paperradar.write.checks.faithful import mark_unverified
from paperradar.write.checks.venue import venue_from_comment
from paperradar.write.styles.config import STYLES, style_task
from paperradar.write.styles.extractive import extractive_highlight
from paperradar.write.styles.schemas import STYLE_ANSWERS
from paperradar.write.styles.stored import StoredStyle, stored_data
from paperradar.write.styles.tasks import FULLTEXT_STYLES, StyleBackend


@dataclass(slots=True)
class StyleMeta:
    """What a page needs besides the answer: who wrote it and what we know about the paper."""

    mode: str = ""  # the model name, "extractive", or "" when nothing was written
    affiliations: list[str] = field(default_factory=list)  # from the full text when the feed had none
    templates_dir: Path | None = None
    max_authors: int = 4
    note: str | None = None  # shown instead of the body (skipped / declined)
    missing: str | None = None  # why there is no model text (models.MissingReason); None: there is one
    # For embedding in a page that shows the paper already (the site's card and paper page): no page
    # header (title, arXiv id, basic information) and no footer (the page credits the writer itself).
    embed: bool = False


def _meta(meta: StyleMeta | Mapping[str, Any] | None) -> StyleMeta:
    """A fresh StyleMeta: rendering fills in mode/note, and must not change the caller's object."""
    if isinstance(meta, StyleMeta):
        return dataclasses.replace(meta, affiliations=list(meta.affiliations))
    return StyleMeta(**dict(meta or {}))


@lru_cache(maxsize=8)
def _environment(templates_dir: str | None) -> Environment:
    loaders: list[Any] = [FileSystemLoader(templates_dir)] if templates_dir else []
    loaders.append(PackageLoader("paperradar.publish", "style_templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),  # the user's folder first: its files override ours by name
        autoescape=False,  # Markdown: every model or paper string is escaped in Python before rendering
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def _render(name: str, templates_dir: Path | None, context: dict[str, Any]) -> str:
    out = _environment(str(templates_dir) if templates_dir else None).get_template(name).render(context)
    out = re.sub(r"[ \t]+\n", "\n", out.replace("\r\n", "\n"))
    return re.sub(r"\n{3,}", "\n\n", out).strip("\n") + "\n"


def reading_minutes(body: str) -> int:
    """Reading time: ~500 CJK characters or ~200 English words a minute, at least one minute."""
    cjk = sum(1 for ch in body if 0x3040 <= ord(ch) <= 0x30FF or 0x4E00 <= ord(ch) <= 0x9FFF)
    words = len(re.findall(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*", body))
    return max(1, math.ceil(cjk / 500 + words / 200))


def _authors(paper: Paper, lang: str, limit: int) -> str:
    names = [escape_markdown(a) for a in paper.authors]
    joined = text(lang, "list_sep").join(names[:limit]) or text(lang, "unknown")
    if len(names) <= limit:
        return joined
    return joined + ("" if lang in ("zh", "ja") else " ") + text(lang, "et_al", n=len(names) - limit)


def _reference(paper: Paper, lang: str) -> str:
    def short(name: str) -> str:
        parts = name.split()
        return " ".join([*(p[0] + "." for p in parts[:-1]), parts[-1]]) if len(parts) > 1 else name

    names = [short(a) for a in paper.authors if a.strip()]
    who = names[0] + " et al." if len(names) > 2 else " and ".join(names) or "Anonymous"
    when = paper.published or paper.updated
    if when is not None:
        year: object = when.year
    else:  # new-style ids start with the year and month of submission: 2602.09386 is from 2026
        year = 2000 + int(paper.arxiv_id[:2]) if paper.arxiv_id[:4].isdigit() else ""
    title = " ".join(paper.title.split())
    return escape_markdown(
        text(lang, "reference", authors=who, title=title, vid=paper.versioned_id, year=year)
    )


def _field(value: Any, report: Mapping[str, Any], lang: str) -> Any:
    """A model string made safe for Markdown, with its unverified claims marked; lists item by item."""
    if isinstance(value, list):
        return [_field(v, report, lang) for v in value]
    if isinstance(value, dict):
        return {k: _field(v, report, lang) if k != "speaker" else v for k, v in value.items()}
    return mark_unverified(escape_markdown(value, block=True), dict(report), lang)


def _envelope(data: Mapping[str, Any] | None, style: str) -> StoredStyle | None:
    """The stored form of `data`, which is either already that or just a model's answer."""
    if data is None:
        return None
    if "data" in data and isinstance(data["data"], dict):
        return cast(StoredStyle, dict(data))
    return {"style": style, "data": dict(data), "source": "abstract", "faithful": {}}


def render_style(
    style: str,
    paper: Paper,
    data: Mapping[str, Any] | None,
    lang: str,
    meta: StyleMeta | Mapping[str, Any] | None = None,
) -> str:
    """One paper's page (Markdown) in `style` and `lang`. `data` is the stored JSON of a style text (or
    just its "data" answer); None renders the page's note (meta.note, else "skipped: needs an LLM")."""
    if style not in STYLES or style == "digest":
        raise ValueError(f"render_style makes highlight, review and dialogue pages, not {style!r}")
    m = _meta(meta)
    env = _envelope(data, style)
    if env is None and style == "highlight":
        env, m.mode = extractive_highlight(paper), m.mode or "extractive"
    report: Mapping[str, Any] = (env or {}).get("faithful") or {}
    extractive = bool(env and env.get("extractive"))
    unverified = len(report.get("unverified") or [])
    model = m.mode or str((env or {}).get("model") or "?")
    why = _why(lang, m.missing)
    if extractive:
        footer = [text(lang, "extractive_why", why=why) if why else text(lang, "extractive")]
    else:
        footer = [text(lang, "made_by", model=model)]
    if env and not extractive and style in FULLTEXT_STYLES:
        origin = env.get("source", "abstract")
        footer.append(
            text(lang, "from_fulltext", source=origin.upper())
            if origin in ("html", "pdf")
            else text(lang, "from_abstract")
        )
    if unverified:
        footer.append(text(lang, "unverified_count", n=unverified))
    # Every field the template may use exists, so a partial answer or a note page renders (StrictUndefined).
    answer: dict[str, Any] = {
        name: [] if get_origin(f.annotation) is list else ""
        for name, f in STYLE_ANSWERS[style].model_fields.items()
    }
    answer |= {k: _field(v, report, lang) for k, v in (env or {}).get("data", {}).items()}
    affiliations = m.affiliations or paper.affiliations
    when = paper.published or paper.updated
    ctx: dict[str, Any] = {
        "title": escape_markdown(paper.title),
        "id": paper.arxiv_id,
        "vid": paper.versioned_id,
        "abs_url": f"https://arxiv.org/abs/{paper.arxiv_id}",
        "authors": _authors(paper, lang, m.max_authors),
        "affiliations": text(lang, "list_sep").join(escape_markdown(a) for a in affiliations)
        or text(lang, "unknown"),
        "date": when.date().isoformat() if when else text(lang, "unknown"),
        "categories": ", ".join(paper.categories) or text(lang, "unknown"),
        "venue": escape_markdown(venue_from_comment(paper.comment) or "") or None,
        "note": None if env is not None else (m.note or _missing_note(lang, why)),  # our own words
        "embed": m.embed,
        "footer": " ｜ ".join(footer) if lang != "en" else " | ".join(footer),
        "extractive": extractive,
        "a": answer,
    }
    if style == "highlight" and env is not None:
        ctx["emoji"] = env["data"].get("emoji") or TOPICS["other"]["emoji"]
        ctx["topic"] = topic_name(str(env["data"].get("topic", "other")), lang)
    if style == "dialogue":
        ctx["speakers"] = {"executive": text(lang, "executive"), "mentor": text(lang, "mentor")}
        ctx["reference"] = _reference(paper, lang)
        body = "\n".join(_plain_texts((env or {}).get("data", {})))
        ctx["reading"] = text(lang, "reading_time", n=reading_minutes(body)) if env is not None else ""
    return _render(f"{style}.{lang}.md.j2", m.templates_dir, ctx)


def _why(lang: str, missing: str | None) -> str | None:
    """Why a model's text is missing, in the digest's words (text/labels.py); None for "no model", which
    the skipped/extractive notes say already."""
    if missing is None or missing == "no_model":
        return None
    return labels(lang)[f"why_{missing}"]


def _missing_note(lang: str, why: str | None) -> str:
    return text(lang, "not_written", why=why) if why else text(lang, "skipped")


def _plain_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _plain_texts(v)]
    if isinstance(value, dict):
        return [
            t for k, v in value.items() if k not in ("speaker", "topic", "emoji") for t in _plain_texts(v)
        ]
    return []


def render_highlight_day(
    day: date | str,
    items: Sequence[
        tuple[Paper, Mapping[str, Any] | None] | tuple[Paper, Mapping[str, Any] | None, StyleMeta]
    ],
    lang: str,
    templates_dir: Path | None = None,
) -> str:
    """The day's highlight page: papers grouped by topic, one "## <day> <topic>" heading per group (groups
    in the order of their best-ranked paper, papers in rank order). Items are (paper, stored data[, meta]);
    data None means "no LLM text": the paper is written extractively."""
    groups: dict[str, list[str]] = {}
    for item in items:
        paper, data = item[0], item[1]
        meta = _meta(item[2] if len(item) == 3 else None)
        meta.templates_dir = meta.templates_dir or templates_dir
        env = _envelope(data, "highlight") or extractive_highlight(paper)
        if data is None:
            meta.mode = meta.mode or "extractive"
        topic = str(env["data"].get("topic", "other"))
        groups.setdefault(topic if topic in TOPICS else "other", []).append(
            render_style("highlight", paper, env, lang, meta)
        )
    day_text = day.isoformat() if isinstance(day, date) else str(day)
    sections = [
        {
            "heading": text(lang, "group_heading", day=day_text, topic=topic_name(key, lang)),
            "entries": entries,
        }
        for key, entries in groups.items()
    ]
    return _render(f"highlight_day.{lang}.md.j2", templates_dir, {"day": day_text, "sections": sections})


# --- one page, end to end --------------------------------------------------------------------------------


@dataclass(slots=True)
class StyleResult:
    markdown: str
    status: str  # written | extractive | skipped | declined
    stored: StoredStyle | None  # the JSON kept with the text (None when nothing was written)
    text: GeneratedText | None = None

    @property
    def unverified(self) -> int:
        return len(((self.stored or {}).get("faithful") or {}).get("unverified") or [])


def write_style(
    style: str,
    paper: Paper,
    lang: str,
    backend: Backend | None = None,
    *,
    source: SourceText | None = None,
    meta: StyleMeta | Mapping[str, Any] | None = None,
) -> StyleResult:
    """Write and render one page. Without a backend that supports the style's task, the highlight is
    extractive and review/dialogue are the localized "skipped: needs an LLM" note. `write_texts` + the
    store do the same with caching; this is the uncached path (CLI one-offs, tests)."""
    task = style_task(style)
    m = _meta(meta)
    if backend is not None and source is not None and isinstance(backend, StyleBackend):
        backend.sources[paper.arxiv_id] = source
    if m.affiliations == [] and source is not None and source.affiliations and not paper.affiliations:
        m.affiliations = list(source.affiliations)
    if backend is not None and backend.supports(task, lang):
        (result,) = backend.write([WriteRequest(paper, task, lang)])
        if hasattr(result, "content"):
            stored = stored_data(result)  # type: ignore[arg-type]
            m.mode = result.mode  # type: ignore[union-attr]
            return StyleResult(render_style(style, paper, stored, lang, m), "written", stored, result)  # type: ignore[arg-type]
        if isinstance(result, Declined):
            m.note = text(lang, "declined", detail=escape_markdown(result.detail))
    if style == "highlight":
        stored = extractive_highlight(paper)
        m.mode, m.note = "extractive", None
        return StyleResult(render_style(style, paper, stored, lang, m), "extractive", stored)
    status = "declined" if m.note else "skipped"
    return StyleResult(render_style(style, paper, None, lang, m), status, None)
