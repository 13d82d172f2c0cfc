"""The default backend: no model, no network. Summaries are the abstract's most informative sentences, in
English, and say so; titles stay untranslated (the digest labels them)."""

from __future__ import annotations

from datetime import UTC, datetime

from paperradar.models import GeneratedText
from paperradar.write.extractive import EXTRACTIVE_VERSION, summarize
from paperradar.write.hookspecs import hookimpl
from paperradar.write.llm import WriteRequest, WriteResult


class ExtractiveBackend:
    name = "extractive"

    def __init__(self, config: object | None = None, max_sentences: int = 3):
        self.max_sentences = max_sentences

    def supports(self, task: str, language: str) -> bool:
        return task == "summary"

    def text_language(self, task: str, language: str) -> str:
        return "en"  # sentences are copied from the English abstract, whatever the reader's language

    def template_hash(self, task: str, language: str) -> str:
        return f"{EXTRACTIVE_VERSION}-n{self.max_sentences}"

    def write(self, requests: list[WriteRequest], on_result: object = None) -> list[WriteResult]:
        # Instant and deterministic: nothing to save early, so on_result is not needed.
        out: list[WriteResult] = []
        for req in requests:
            if not self.supports(req.task, req.language):
                out.append(None)
                continue
            out.append(
                GeneratedText(
                    arxiv_id=req.paper.arxiv_id,
                    version=req.paper.version,
                    task=req.task,
                    language="en",
                    content=summarize(req.paper.abstract, self.max_sentences),
                    mode=self.name,
                    template_hash=self.template_hash(req.task, req.language),
                    created_at=datetime.now(UTC).replace(microsecond=0),
                )
            )
        return out


@hookimpl
def register_backends(register):  # type: ignore[no-untyped-def]
    register("extractive", ExtractiveBackend)
