"""The digest's texts for a day's top papers: a translated title and a summary per paper, in one language.
Where the model gave no summary (no LLM, failure, budget) the extractive one stands in, labelled as such;
a missing title shows the original, labelled."""

from __future__ import annotations

from collections.abc import Iterable

from paperradar.llm import TASKS, Backend, LLMConfig, get_backend, write_texts
from paperradar.llm.texts import Texts
from paperradar.models import Progress, Ranked, RunStats, no_progress
from paperradar.store import Store


def write_digest_texts(
    store: Store,
    backend: Backend,
    ranked: list[Ranked],
    top_n: int,
    language: str,
    *,
    run_id: int | None = None,
    refresh: Iterable[str] = (),
    stats: RunStats | None = None,
    progress: Progress = no_progress,
) -> Texts:
    top = [r.paper for r in ranked[:top_n]]
    texts, counts = write_texts(store, backend, top, TASKS, language, run_id, refresh)
    if backend.name != "extractive":
        missing = [p for p in top if "summary" not in texts.get(p.arxiv_id, {})]
        fallback, fallback_counts = write_texts(
            store, get_backend("extractive", LLMConfig()), missing, ["summary"], language, run_id
        )
        for arxiv_id, by_task in fallback.items():
            texts.setdefault(arxiv_id, {}).setdefault("summary", by_task["summary"])
        counts.extractive_fallback = fallback_counts.written + fallback_counts.cached
    if stats is not None:
        stats.texts = counts
    progress("write", len(top), len(top))
    return texts
