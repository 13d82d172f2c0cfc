"""The LLM service: the backend seam, the plugin manager with the built-in backends (default_plugins/), the
HTTP client (concurrency, rate limits, retries, budget, accounting), prompts and answer schemas, and
`write_texts`, the store-cached way every stage asks a backend for texts."""

from __future__ import annotations

from paperradar.llm.config import LLMConfig
from paperradar.llm.plugins import get_backend
from paperradar.llm.seam import TASKS, Backend, Declined, InterestProfile, WriteRequest, WriteResult
from paperradar.llm.texts import write_texts

__all__ = [
    "TASKS",
    "Backend",
    "Declined",
    "InterestProfile",
    "LLMConfig",
    "WriteRequest",
    "WriteResult",
    "get_backend",
    "write_texts",
]
