"""Style pages on disk: one Markdown page per (paper, style, language) under out/styles/<day>/, and the
day's highlight page (papers grouped by topic) under out/highlights/. Rendered from what write/styles/
stored; without a model a highlight is extractive and labelled, review and dialogue say why they are not
there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from paperradar.models import Paper, SourceText
from paperradar.publish.files import write_if_changed
from paperradar.publish.style_render import StyleMeta, render_highlight_day, render_style
from paperradar.sources.ids import safe_filename
from paperradar.write.styles.day import StyledText
from paperradar.write.styles.stored import StoredStyle


def write_style_pages(
    out_dir: Path,
    day: date,
    items: list[StyledText],
    *,
    sources: Mapping[str, SourceText] | None = None,
    templates_dir: Path | None = None,
    max_authors: int = 4,
) -> None:
    """Every page of `items` (in plan order), and one highlight page per language that has highlights."""
    sources = sources or {}
    pages = out_dir / "styles" / day.isoformat()
    highlights: dict[str, list[tuple[Paper, StoredStyle | None, StyleMeta]]] = {}
    for item in items:
        pid = item.paper.arxiv_id
        source = sources.get(pid)
        meta = StyleMeta(
            mode=item.text.mode if item.text else "",
            affiliations=list(source.affiliations) if source else [],
            templates_dir=templates_dir,
            max_authors=max_authors,
            missing=item.missing,  # a failed model text says why, not "needs an LLM"
        )
        page = render_style(item.style, item.paper, item.data, item.language, meta)
        write_if_changed(pages / f"{safe_filename(pid)}.{item.style}.{item.language}.md", page)
        if item.style == "highlight":
            highlights.setdefault(item.language, []).append((item.paper, item.data, meta))
    for lang, day_items in highlights.items():
        page = render_highlight_day(day, day_items, lang, templates_dir)
        write_if_changed(out_dir / "highlights" / f"{day.isoformat()}.{lang}.md", page)
