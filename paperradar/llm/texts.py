"""Texts through a backend, cached in the store by (paper version, task, language, template hash, model), so
nothing is ever computed twice. rank/ asks it for interest and company, write/ for titles, summaries and
styles.

What is not answered is stored with why (failed, invalid, budget, refused) and counted; a text that failed
`give_up_after` times is not asked again until `--refresh` or a new prompt or model, so a paper that
always breaks the model stops costing money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from paperradar.llm.seam import Backend, Declined, WriteRequest, WriteResult
from paperradar.models import GeneratedText, MissingReason, Paper, TextCounts
from paperradar.store import Store

# arxiv_id -> task -> text: what a batch of papers got.
Texts = dict[str, dict[str, GeneratedText]]
GIVE_UP_AFTER = 3  # the [llm] give_up_after default


class TextBatch(NamedTuple):
    texts: Texts  # arxiv_id -> task -> text, for what was answered (now or before)
    counts: TextCounts
    missing: dict[str, dict[str, MissingReason]]  # arxiv_id -> task -> why there is no text


EMPTY_BATCH = TextBatch({}, TextCounts(), {})


@dataclass(frozen=True)
class TextService:
    """One run's way of asking for texts: the store that caches them, the backend, the run they are
    recorded under, the tasks to recompute on purpose, and the give-up rule."""

    store: Store
    backend: Backend
    run_id: int | None = None
    refresh: frozenset[str] = field(default_factory=frozenset)
    give_up_after: int = GIVE_UP_AFTER

    def with_backend(self, backend: Backend) -> TextService:
        return TextService(self.store, backend, self.run_id, self.refresh, self.give_up_after)

    def stored(self, papers: Iterable[Paper], task: str, language: str) -> Texts:
        """What the store already holds for (paper, task, language) from this backend: never a call."""
        backend = self.backend
        if not backend.supports(task, language):
            return {}
        out: Texts = {}
        for paper in papers:
            key = (
                paper.arxiv_id,
                paper.version,
                task,
                backend.text_language(task, language),
                backend.template_hash(task, language),
                backend.name,
            )
            found = self.store.get_text(*key)
            if found is not None:
                out.setdefault(paper.arxiv_id, {})[task] = found
        return out

    def ask(self, papers: Iterable[Paper], tasks: Iterable[str], language: str) -> TextBatch:
        """Every (paper, task) in `language`: from the store, else from the backend (stored on arrival).
        Tasks the backend cannot do are absent from `texts` and say "no_model" in `missing`."""
        store, backend, refresh = self.store, self.backend, self.refresh
        texts: Texts = {}
        missing: dict[str, dict[str, MissingReason]] = {}
        todo: list[WriteRequest] = []
        counts = TextCounts()
        tasks = list(tasks)
        for paper in papers:
            for task in tasks:
                if not backend.supports(task, language):
                    counts.declined += 1
                    missing.setdefault(paper.arxiv_id, {})[task] = "no_model"
                    continue
                key = (
                    paper.arxiv_id,
                    paper.version,
                    task,
                    backend.text_language(task, language),
                    backend.template_hash(task, language),
                    backend.name,
                )
                cached = None if task in refresh else store.get_text(*key)
                if cached is not None:
                    texts.setdefault(paper.arxiv_id, {})[task] = cached
                    counts.cached += 1
                    continue
                status = None if task in refresh else store.text_status(*key)
                if status is not None and status[1] == "refused":
                    # A refusal (content filter) with the same prompt and model would be refused again.
                    counts.refused += 1
                    missing.setdefault(paper.arxiv_id, {})[task] = "refused"
                    continue
                if status is not None and status[0] == "failed" and status[2] >= self.give_up_after:
                    counts.given_up += 1
                    missing.setdefault(paper.arxiv_id, {})[task] = "given_up"
                    continue
                todo.append(WriteRequest(paper, task, language))
        if not todo:
            return TextBatch(texts, counts, missing)

        saved: set[int] = set()

        def persist(index: int, result: WriteResult) -> None:
            """Store one answer the moment it arrives, so a run killed half-way never pays for it again."""
            if index in saved or result is None:
                return
            req = todo[index]
            if isinstance(result, Declined):
                # Stored with its reason (never as content); failed and invalid ones count towards giving up.
                marker = GeneratedText(
                    req.paper.arxiv_id,
                    req.paper.version,
                    req.task,
                    backend.text_language(req.task, language),
                    "",
                    backend.name,
                    backend.template_hash(req.task, language),
                )
                store.save_text(marker, self.run_id, reason=result.reason, detail=result.detail)
            else:
                store.save_text(result, self.run_id, overwrite=req.task in refresh)
            saved.add(index)

        for index, (req, result) in enumerate(zip(todo, backend.write(todo, on_result=persist), strict=True)):
            persist(index, result)  # a no-op for what the backend already reported
            if result is None:
                counts.declined += 1
                missing.setdefault(req.paper.arxiv_id, {})[req.task] = "no_model"
            elif isinstance(result, Declined):
                reason = result.reason
                if reason == "refused":
                    counts.refused += 1
                elif reason == "budget":
                    counts.budget += 1
                else:
                    counts.failed += 1
                missing.setdefault(req.paper.arxiv_id, {})[req.task] = reason
            else:
                texts.setdefault(req.paper.arxiv_id, {})[req.task] = result
                counts.written += 1
        return TextBatch(texts, counts, missing)


def write_texts(
    store: Store,
    backend: Backend,
    papers: Iterable[Paper],
    tasks: Iterable[str],
    language: str,
    run_id: int | None = None,
    refresh: Iterable[str] = (),
) -> TextBatch:
    """TextService(store, backend, run_id, refresh).ask(papers, tasks, language), for one-off callers."""
    return TextService(store, backend, run_id, frozenset(refresh)).ask(papers, tasks, language)
