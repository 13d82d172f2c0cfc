"""The digest's texts for a day's top papers: a translated title and a summary per paper, in one language.

Where the model gave no summary in that language (failure, budget, refusal), the same model's English
summary stands in when the store has one (no extra call), else the extractive one; either is labelled with
its language and why the reader's own is missing. A missing title shows the original, labelled with why.
The site follows the same rule, so the digest and the site never disagree on what stands in."""

from __future__ import annotations

from paperradar.llm import TASKS, LLMConfig, get_backend
from paperradar.llm.texts import TextBatch, TextService
from paperradar.models import Progress, Ranked, RunStats, no_progress


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
    if texts.backend.name != "extractive":
        lacking = [p for p in top if "summary" not in batch.texts.get(p.arxiv_id, {})]
        extractive = texts.with_backend(get_backend("extractive", LLMConfig())).ask(
            lacking, ["summary"], language
        )
        for arxiv_id, by_task in extractive.texts.items():
            batch.texts.setdefault(arxiv_id, {}).setdefault("summary", by_task["summary"])
        batch.counts.extractive_fallback = extractive.counts.written + extractive.counts.cached
    if stats is not None:
        if stats.texts is None:
            stats.texts = batch.counts
        else:  # one more language of the same day: the run's totals add up
            stats.texts.add(batch.counts)
    progress("write", len(top), len(top))
    return batch
