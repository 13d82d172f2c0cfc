"""The default backend: no model, no network. Summaries are the abstract's most informative sentences, in
English, and say so; titles stay untranslated (the digest labels them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from paperradar.llm.config import LLMConfig
from paperradar.llm.hookspecs import hookimpl
from paperradar.llm.seam import (
    Backend,
    BackendFactory,
    CallProgress,
    InterestProfile,
    WriteRequest,
    WriteResult,
)
from paperradar.models import GeneratedText, Usage
from paperradar.text.extractive import EXTRACTIVE_VERSION, summarize


class ExtractiveBackend:
    name = "extractive"

    def __init__(self, config: LLMConfig | None = None, *, interests: str = "", max_sentences: int = 3):
        self.max_sentences = max_sentences

    @property
    def usage(self) -> Usage | None:
        return None  # calls no model, spends nothing

    def on_progress(self, callback: Callable[[CallProgress], None] | None) -> None:
        return None  # instant: nothing to report

    def supports(self, task: str, language: str) -> bool:
        return task == "summary"

    def text_language(self, task: str, language: str, profile: InterestProfile | None = None) -> str:
        return "en"  # sentences are copied from the English abstract, whatever the reader's language

    def template_hash(self, task: str, language: str, profile: InterestProfile | None = None) -> str:
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


def _extractive(config: LLMConfig, *, interests: str = "", languages: Sequence[str] = ()) -> Backend:
    return ExtractiveBackend(config)


@hookimpl
def register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    register("extractive", _extractive)
