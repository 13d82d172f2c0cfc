"""The style stage of a day: highlight, review and dialogue texts for the configured rank bands and
languages, written through the run's backend (wrapped for the style tasks) and cached like every text.
Which papers need their full text is decided here; fetching it is sources/' job; pages are publish/'s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from paperradar.llm import Backend
from paperradar.llm.seam import WriteRequest
from paperradar.llm.texts import ManyBatch
from paperradar.models import GeneratedText, MissingReason, Paper, Ranked, RunStats
from paperradar.write.styles.config import StyleConfig, plan_styles, style_task
from paperradar.write.styles.stored import StoredStyle, count_unverified, stored_data
from paperradar.write.styles.tasks import FULLTEXT_STYLES, STYLE_TASKS, StyleBackend


@dataclass(frozen=True, slots=True)
class StyledText:
    """One planned page: the paper, its style and language, and the stored text (None: nothing written)."""

    paper: Paper
    style: str
    language: str
    text: GeneratedText | None
    missing: MissingReason | None = None  # why there is no model text (None: there is one)

    @property
    def data(self) -> StoredStyle | None:
        return stored_data(self.text)


def style_plan(ranked: list[Ranked], cfg: StyleConfig, default_language: str) -> list[tuple[str, str, str]]:
    """(arxiv_id, style, language) of every style page of the day (the digest itself excluded)."""
    ids = [r.paper.arxiv_id for r in ranked]
    return [(pid, s, lang) for pid, s, lang in plan_styles(ids, cfg, default_language) if s != "digest"]


def fulltext_wanted(
    ranked: list[Ranked], cfg: StyleConfig, backend: Backend, default_language: str
) -> list[Paper]:
    """Papers whose review or dialogue a model will write from the full text (none without a model)."""
    if not cfg.fulltext or not StyleBackend(backend).supports(style_task("review"), default_language):
        return []
    papers = {r.paper.arxiv_id: r.paper for r in ranked}
    ids = sorted(
        {pid for pid, style, _ in style_plan(ranked, cfg, default_language) if style in FULLTEXT_STYLES}
    )
    return [papers[p] for p in ids]


def style_requests(ranked: list[Ranked], cfg: StyleConfig, default_language: str) -> list[WriteRequest]:
    """Every planned style text of the day as a request (band order, rank, language)."""
    papers = {r.paper.arxiv_id: r.paper for r in ranked}
    return [
        WriteRequest(papers[pid], style_task(style), lang)
        for pid, style, lang in style_plan(ranked, cfg, default_language)
    ]


def style_requests_at(
    places: Mapping[str, int], papers: Mapping[str, Paper], cfg: StyleConfig, default_language: str
) -> list[WriteRequest]:
    """The style texts of papers whose place is already certain (`places`: arxiv_id -> the lowest place
    the paper can end at): each band the paper is sure to be in, every style language."""
    languages: list[str] = list(cfg.languages) or [default_language]
    return [
        WriteRequest(papers[pid], style_task(band.style), lang)
        for band in cfg.bands
        if band.style != "digest"
        for pid, place in places.items()
        if place <= band.top
        for lang in languages
    ]


def assemble_styles(
    batch: ManyBatch,
    ranked: list[Ranked],
    cfg: StyleConfig,
    default_language: str,
    stats: RunStats | None = None,
) -> list[StyledText]:
    """The day's style texts out of the day's answers, in plan order."""
    papers = {r.paper.arxiv_id: r.paper for r in ranked}
    out = []
    for pid, style, lang in style_plan(ranked, cfg, default_language):
        key = (pid, style_task(style), lang)
        out.append(StyledText(papers[pid], style, lang, batch.texts.get(key), batch.missing.get(key)))
    if stats is not None:
        stats.styles = batch.counts_of(STYLE_TASKS)
        stats.faithfulness = count_unverified(item.data for item in out)
    return out
