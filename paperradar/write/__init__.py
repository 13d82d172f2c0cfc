"""Write stage: texts for the ranked papers through a backend, cached in the store by
(paper version, task, language, template hash, model) so nothing is ever computed twice."""

from __future__ import annotations

from collections.abc import Iterable

from paperradar.models import GeneratedText, Paper
from paperradar.store import Store
from paperradar.write.llm import TASKS, Backend, Declined, WriteRequest, WriteResult, get_backend

__all__ = ["TASKS", "Backend", "Declined", "WriteRequest", "WriteResult", "get_backend", "write_texts"]


# Skips whose detail starts with this are tried again on the next run (the budget is per run).
RETRY_NEXT_RUN = "budget"


def write_texts(
    store: Store,
    backend: Backend,
    papers: Iterable[Paper],
    tasks: Iterable[str],
    language: str,
    run_id: int | None = None,
    refresh: Iterable[str] = (),
) -> tuple[dict[str, dict[str, GeneratedText]], dict[str, int]]:
    """Returns ({arxiv_id: {task: text}}, counts). Tasks the backend does not support are absent from the
    result (the digest then shows the original text with its label); `refresh` tasks are recomputed."""
    refresh = set(refresh)
    texts: dict[str, dict[str, GeneratedText]] = {}
    todo: list[WriteRequest] = []
    counts = {"cached": 0, "written": 0, "declined": 0, "failed": 0, "skipped": 0}
    for paper in papers:
        for task in tasks:
            if not backend.supports(task, language):
                counts["declined"] += 1
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
                counts["cached"] += 1
                continue
            status = None if task in refresh else store.text_status(*key)
            if status and status[0] == "skipped" and not (status[1] or "").startswith(RETRY_NEXT_RUN):
                # A refusal (content filter) with the same prompt and model would be refused again.
                counts["skipped"] += 1
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
            store.save_text(marker, run_id, status=result.status, detail=result.detail)
        else:
            store.save_text(result, run_id, overwrite=req.task in refresh)
        saved.add(index)

    for index, (req, result) in enumerate(zip(todo, backend.write(todo, on_result=persist), strict=True)):
        persist(index, result)  # a no-op for what the backend already reported
        if result is None:
            counts["declined"] += 1
        elif isinstance(result, Declined):
            counts[result.status] = counts.get(result.status, 0) + 1
        else:
            texts.setdefault(req.paper.arxiv_id, {})[req.task] = result
            counts["written"] += 1
    return texts, counts
