"""The stored form of a style text (JSON: style, model, data, source, faithfulness report) and what a run
counts of it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict, cast

from paperradar.models import JSON, FaithfulnessCounts, GeneratedText
from paperradar.write.checks.faithful import Claim, ClaimKind, Report


class ClaimRecord(TypedDict):
    kind: ClaimKind
    surface: str  # as the answer wrote it


class FaithfulRecord(TypedDict, total=False):
    checked: int  # numbers and names checked against the paper
    unverified: list[ClaimRecord]  # those not found in it (marked ⚠)


class StoredStyle(TypedDict, total=False):
    """A style text as stored (the JSON in GeneratedText.content) or made without a model (extractive)."""

    style: str
    model: str  # who wrote it, so a page rendered from this JSON alone can say so
    data: dict[str, JSON]  # the validated answer (fields of write/styles/schemas.py)
    source: Literal["html", "pdf", "abstract"]  # what the model read
    faithful: FaithfulRecord
    extractive: bool  # written without a model: sentences copied from the abstract


def stored_data(text_: GeneratedText | None) -> StoredStyle | None:
    """The stored JSON of a style text (from the store or a backend), None when there is none."""
    if text_ is None or not text_.content:
        return None
    try:
        value = json.loads(text_.content)
    except ValueError:
        return None
    return cast(StoredStyle, value) if isinstance(value, dict) else None


def count_unverified(stored: Iterable[StoredStyle | Mapping[str, Any] | None]) -> FaithfulnessCounts:
    """Per-run faithfulness counts over stored style texts."""
    counts = FaithfulnessCounts()
    for s in stored:
        faithful = (s or {}).get("faithful") or {}
        if faithful:
            counts.texts += 1
            counts.checked += int(faithful.get("checked") or 0)
            counts.unverified += len(faithful.get("unverified") or [])
    return counts


def report_of(stored: StoredStyle | Mapping[str, Any] | None) -> Report | None:
    """The faithfulness Report kept with a stored text (unverified claims only)."""
    faithful = (stored or {}).get("faithful")
    if not faithful:
        return None
    return Report([Claim(c["kind"], c["surface"], False) for c in faithful.get("unverified") or []])
