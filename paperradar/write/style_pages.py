"""The style stage of a run: highlight, review and dialogue pages for the configured rank bands and
languages, written through the run's backend (wrapped for the style tasks) and cached like every text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from paperradar.models import Ranked
from paperradar.pipeline import write_if_changed  # pipeline imports this module lazily: no cycle
from paperradar.sources.ids import safe_filename
from paperradar.write import write_texts
from paperradar.write.style_tasks import StyleBackend, prepare_sources
from paperradar.write.styles import (
    StyleMeta,
    count_unverified,
    plan_styles,
    render_highlight_day,
    render_style,
    stored_data,
    style_task,
)

if TYPE_CHECKING:
    from paperradar.pipeline import Pipeline


def write_style_pages(
    pipe: Pipeline, day: date, ranked: list[Ranked], run_id: int | None, refresh: Iterable[str] = ()
) -> dict[str, Any]:
    """highlight / review / dialogue pages for the configured rank bands and languages. Full text is
    fetched only for papers whose style a model will write from it; without a model, review and dialogue
    pages say they were skipped and why, and highlights are extractive and labelled."""
    cfg = pipe.cfg.styles
    templates = pipe.cfg.resolve(cfg.templates_dir) if cfg.templates_dir else None
    papers = {r.paper.arxiv_id: r.paper for r in ranked}
    plan = [
        (pid, style, lang)
        for pid, style, lang in plan_styles(papers, cfg, pipe.cfg.output.language)
        if style != "digest"
    ]
    full = sorted({pid for pid, style, _ in plan if style in ("review", "dialogue")})
    sources = {}
    can_write = StyleBackend(pipe.backend).supports(style_task("review"), pipe.cfg.output.language)
    wanted = full and cfg.fulltext and can_write
    if wanted and pipe.offline:
        pipe.stats["fulltext"] = "offline run: styles written from the abstract"
    elif wanted:
        sources = prepare_sources(
            [papers[p] for p in full],
            pipe.client,
            cache_dir=pipe.cfg.db_path.parent / "fulltext",
            max_tokens=cfg.fulltext_tokens,
            html_base=pipe.cfg.sources.html_url,
            pdf_base=pipe.cfg.sources.pdf_url,
        )
    styler = StyleBackend(pipe.backend, sources=sources, fulltext_tokens=cfg.fulltext_tokens)
    groups: dict[tuple[str, str], list[str]] = {}
    for pid, style, lang in plan:
        groups.setdefault((style, lang), []).append(pid)
    stored: list[dict[str, Any] | None] = []
    counts: dict[str, int] = {}
    out_dir = pipe.cfg.out_dir / "styles" / day.isoformat()
    for (style, lang), ids in groups.items():
        task = style_task(style)
        texts, c = write_texts(pipe.store, styler, [papers[p] for p in ids], [task], lang, run_id, refresh)
        for key, value in c.items():
            counts[key] = counts.get(key, 0) + value
        day_items = []
        for pid in ids:
            text = texts.get(pid, {}).get(task)
            data = stored_data(text)
            stored.append(data)
            meta = StyleMeta(
                mode=text.mode if text else "",
                affiliations=list(getattr(sources.get(pid), "affiliations", ()) or ()),
                templates_dir=templates,
                max_authors=pipe.cfg.output.max_authors,
            )
            page = render_style(style, papers[pid], data, lang, meta)
            write_if_changed(out_dir / f"{safe_filename(pid)}.{style}.{lang}.md", page)
            day_items.append((papers[pid], data, meta))
        if style == "highlight":
            highlight = render_highlight_day(day, day_items, lang, templates)
            write_if_changed(pipe.cfg.out_dir / "highlights" / f"{day.isoformat()}.{lang}.md", highlight)
    pipe.stats["styles"] = counts
    pipe.stats["faithfulness"] = count_unverified(stored)
    pipe.record_llm_usage()
    return counts
