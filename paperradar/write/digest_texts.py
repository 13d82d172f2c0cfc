"""The digest's texts for a day's top papers: a translated title and a summary per paper, in one language.

Where the model gave no summary in that language (failure, budget, refusal), the same model's English
summary stands in when the store has one (no extra call), else the extractive one; either is labelled with
its language and why the reader's own is missing. A missing title shows the original, labelled with why.
The site follows the same rule, so the digest and the site never disagree on what stands in."""

from __future__ import annotations

from paperradar.llm import TASKS, LLMConfig, WriteRequest, get_backend
from paperradar.llm.texts import ManyBatch, TextBatch, TextService
from paperradar.models import Paper, Progress, Ranked, RunStats, no_progress


def write_digest_texts(
    texts: TextService,
    ranked: list[Ranked],
    top_n: int,
    language: str,
    *,
    stats: RunStats | None = None,
    progress: Progress = no_progress,
) -> TextBatch:
    top = [r.paper for r in ranked[:top_n]]
    batch = texts.ask(top, TASKS, language)
    if texts.backend.name != "extractive" and language != "en":
        lacking = [p for p in top if "summary" not in batch.texts.get(p.arxiv_id, {})]
        for arxiv_id, by_task in texts.stored(lacking, "summary", "en").items():
            batch.texts.setdefault(arxiv_id, {})["summary"] = by_task["summary"]
    _extractive_stand_ins(texts, top, language, batch)
    if stats is not None:
        if stats.texts is None:
            stats.texts = batch.counts
        else:  # one more language of the same day: the run's totals add up
            stats.texts.add(batch.counts)
    progress("write", len(top), len(top))
    return batch


def digest_requests(ranked: list[Ranked], top_n: int, languages: list[str]) -> list[WriteRequest]:
    """The title and summary of every top paper in every output language (one call each in zh/ja)."""
    return [WriteRequest(r.paper, task, lang) for lang in languages for r in ranked[:top_n] for task in TASKS]


def assemble_digest(
    texts: TextService, batch: ManyBatch, ranked: list[Ranked], top_n: int, language: str
) -> TextBatch:
    """One language's digest texts out of the day's answers, with the same fallbacks as
    write_digest_texts: the model's English summary, else the extractive one."""
    got = batch.in_language(language, TASKS)
    top = [r.paper for r in ranked[:top_n]]
    if texts.backend.name != "extractive" and language != "en":
        for paper in top:
            english = batch.texts.get((paper.arxiv_id, "summary", "en"))
            if english is not None and "summary" not in got.texts.get(paper.arxiv_id, {}):
                got.texts.setdefault(paper.arxiv_id, {})["summary"] = english
    _extractive_stand_ins(texts, top, language, got)
    return TextBatch(got.texts, got.counts, got.missing)


def _extractive_stand_ins(texts: TextService, top: list[Paper], language: str, batch: TextBatch) -> None:
    """The extractive summary for every top paper still without one (the model gave none, in this language
    or in English), counted as the fallback it is; nothing to do when the run's backend is extractive."""
    if texts.backend.name == "extractive":
        return
    lacking = [p for p in top if "summary" not in batch.texts.get(p.arxiv_id, {})]
    extractive = texts.with_backend(get_backend("extractive", LLMConfig())).ask(
        lacking, ["summary"], language
    )
    for arxiv_id, by_task in extractive.texts.items():
        batch.texts.setdefault(arxiv_id, {}).setdefault("summary", by_task["summary"])
    batch.counts.extractive_fallback = extractive.counts.written + extractive.counts.cached
