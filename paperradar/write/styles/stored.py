"""The stored form of a style text (JSON: style, model, data, source, faithfulness report) and what a run
counts of it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from paperradar.models import FaithfulnessCounts, GeneratedText
from paperradar.write.checks.faithful import Claim, Report


def stored_data(text_: GeneratedText | None) -> dict[str, Any] | None:
    """The stored JSON of a style text (from the store or a backend), None when there is none."""
    if text_ is None or not text_.content:
        return None
    try:
        value = json.loads(text_.content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def count_unverified(stored: Iterable[Mapping[str, Any] | None]) -> FaithfulnessCounts:
    """Per-run faithfulness counts over stored style texts."""
    counts = FaithfulnessCounts()
    for s in stored:
        faithful = (s or {}).get("faithful") or {}
        if faithful:
            counts.texts += 1
            counts.checked += int(faithful.get("checked") or 0)
            counts.unverified += len(faithful.get("unverified") or [])
    return counts


def report_of(stored: Mapping[str, Any] | None) -> Report | None:
    """The faithfulness Report kept with a stored text (unverified claims only)."""
    faithful = (stored or {}).get("faithful")
    if not faithful:
        return None
    return Report([Claim(c["kind"], c["surface"], False) for c in faithful.get("unverified") or []])
