"""Texts through a backend, cached in the store by (paper version, task, language, template hash, model), so
nothing is ever computed twice. rank/ calls it for interest and company, write/ for titles, summaries and
styles."""

from __future__ import annotations

from collections.abc import Iterable

from paperradar.llm.seam import Backend, Declined, WriteRequest, WriteResult
from paperradar.models import GeneratedText, Paper, TextCounts
from paperradar.store import Store

# arxiv_id -> task -> text: what a batch of papers got.
Texts = dict[str, dict[str, GeneratedText]]


def write_texts(
    store: Store,
    backend: Backend,
    papers: Iterable[Paper],
    tasks: Iterable[str],
    language: str,
    run_id: int | None = None,
    refresh: Iterable[str] = (),
) -> tuple[Texts, TextCounts]:
    """Returns ({arxiv_id: {task: text}}, counts). Tasks the backend does not support are absent from the
    result (the digest then shows the original text with its label); `refresh` tasks are recomputed."""
    refresh = set(refresh)
    texts: Texts = {}
    todo: list[WriteRequest] = []
    counts = TextCounts()
    for paper in papers:
        for task in tasks:
            if not backend.supports(task, language):
                counts.declined += 1
                continue
            lang = backend.text_language(task, language)
            key = (
                paper.arxiv_id,
                paper.version,
                task,
                lang,
                backend.template_hash(task, language),
                backend.name,
            )
            cached = None if task in refresh else store.get_text(*key)
            if cached is not None:
                texts.setdefault(paper.arxiv_id, {})[task] = cached
                counts.cached += 1
                continue
            status = None if task in refresh else store.text_status(*key)
            if status and status[1] == "refused":
                # A refusal (content filter) with the same prompt and model would be refused again.
                counts.skipped += 1
                continue
            todo.append(WriteRequest(paper, task, language))
    if not todo:
        return texts, counts

    saved: set[int] = set()

    def persist(index: int, result: WriteResult) -> None:
        """Store one answer the moment it arrives, so a run killed half-way never pays for it again."""
        if index in saved or result is None:
            return
        req = todo[index]
        if isinstance(result, Declined):
            # Stored with its reason (never as content); a failed task is tried again next run.
            marker = GeneratedText(
                req.paper.arxiv_id,
                req.paper.version,
                req.task,
                backend.text_language(req.task, language),
                "",
                backend.name,
                backend.template_hash(req.task, language),
            )
            store.save_text(marker, run_id, reason=result.reason, detail=result.detail)
        else:
            store.save_text(result, run_id, overwrite=req.task in refresh)
        saved.add(index)

    for index, (req, result) in enumerate(zip(todo, backend.write(todo, on_result=persist), strict=True)):
        persist(index, result)  # a no-op for what the backend already reported
        if result is None:
            counts.declined += 1
        elif isinstance(result, Declined):
            if result.status == "skipped":
                counts.skipped += 1
            else:
                counts.failed += 1
        else:
            texts.setdefault(req.paper.arxiv_id, {})[req.task] = result
            counts.written += 1
    return texts, counts
