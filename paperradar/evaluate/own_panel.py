"""The "how paperradar ranked for you" panel's data: `evaluate_own`'s result as plain values (for the web
UI and the static site, which sit below evaluate/ and take plain data), cached by what it depends on.

Computing the panel ranks every judged day again with every ranker (tens of seconds to minutes on a real
archive: evaluate/own.py), so it is never done twice for the same inputs: `PanelCache` keeps results under
a key made of everything the figures depend on (the window, the reader's ratings with their times, the
library, the window's announcement counts, the ranking configuration and paperradar's version), in memory
and, when given a path, in a small JSON file next to the database so `paperradar serve` and
`paperradar publish site` share one computation. A stale entry is never shown: a new rating changes the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from paperradar import __version__
from paperradar.evaluate.own import DEFAULT_WEEKS, OwnEval, _end_of, evaluate_own, rankers_for
from paperradar.rank.config import KeywordsConfig
from paperradar.rank.personal.config import PersonalConfig
from paperradar.store import Store
from paperradar.store.views import day_counts

CACHE_SUFFIX = ".eval-panel.json"  # next to the database: <db>.eval-panel.json
CACHE_ENTRIES = 8  # a few readers or windows; the oldest entry goes first


@dataclass(frozen=True)
class PanelInputs:
    """What the panel is computed from, besides the store (the reader's view of it)."""

    categories: Sequence[str]
    personal: PersonalConfig
    keywords: KeywordsConfig
    weeks: int = DEFAULT_WEEKS
    until: date | None = None  # default: today (UTC)
    refresh: str = "week"

    def day(self) -> date:
        return self.until or datetime.now(UTC).date()


def panel_key(store: Store, inputs: PanelInputs) -> str:
    """A digest of everything the figures depend on: cheap (three small queries), so a page can ask."""
    until = inputs.day()
    first = until - timedelta(days=7 * inputs.weeks - 1)
    ratings = [(i, v, w.isoformat()) for i, v, w in store.rating_history(_end_of(until))]
    library = [(r.key, r.arxiv_id, r.added.isoformat() if r.added else None) for r in store.library.items()]
    announced, _ranked = day_counts(store, list(inputs.categories))
    window = sorted((d, n) for d, n in announced.items() if first.isoformat() <= d <= until.isoformat())
    parts = {
        "version": __version__,
        "until": until.isoformat(),
        "weeks": inputs.weeks,
        "refresh": inputs.refresh,
        "categories": list(inputs.categories),
        "personal": inputs.personal.model_dump(mode="json"),
        "keywords": inputs.keywords.model_dump(mode="json"),
        "ratings": ratings,
        "library": library,
        "announced": window,
    }
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def panel_data(result: OwnEval) -> dict[str, Any]:
    """The panel as plain values: the window, the counts, recall@10 (and the rest) per ranker, paperradar
    first, and the message key when there is too little data to show a table."""
    summary = result.summary()
    order = sorted(summary, key=lambda name: (name != "paperradar", list(summary).index(name)))
    return {
        "first_day": result.first_day.isoformat(),
        "until": result.until.isoformat(),
        "weeks": result.weeks,
        "history": result.history,
        "judged_days": result.judged_days,
        "up_ratings": result.judged_up_ratings,
        "up_ratings_in_window": result.counts.get("up_ratings", 0),
        "rows": [
            {"ranker": name, **{k: v for k, v in summary[name].items() if k not in ("days", "picks")}}
            for name in order
        ],
        "message_key": result.message_key,
        "message": result.message,
        "seconds": round(result.seconds, 1),
    }


class PanelCache:
    """Panel data by key, in memory and (with `path`) in a JSON file; safe to share between threads."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._lock = threading.Lock()
        self._memory: dict[str, dict[str, Any]] = {}

    @staticmethod
    def beside(db_path: Path) -> Path:
        return Path(str(db_path) + CACHE_SUFFIX)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            if key in self._memory:
                return self._memory[key]
            entry = self._read().get(key)
            if entry is not None:
                self._memory[key] = entry
            return entry

    def put(self, key: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._memory[key] = data
            if self.path is None:
                return
            entries = self._read()
            entries.pop(key, None)
            entries[key] = data
            kept = dict(list(entries.items())[-CACHE_ENTRIES:])
            try:  # a cache: a read-only folder only costs the next process a recomputation
                tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
                os.replace(tmp, self.path)
            except OSError:
                pass

    def _read(self) -> dict[str, dict[str, Any]]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing or damaged: recompute
            return {}
        return data if isinstance(data, dict) else {}


def compute_panel(store: Store, inputs: PanelInputs) -> dict[str, Any]:
    """The panel data, computed now (see `cached_panel` for the cached way)."""
    result = evaluate_own(
        store,
        inputs.categories,
        rankers_for(inputs.personal, inputs.keywords),
        weeks=inputs.weeks,
        until=inputs.day(),
        refresh=inputs.refresh,
    )
    return panel_data(result)


def cached_panel(store: Store, inputs: PanelInputs, cache: PanelCache) -> tuple[dict[str, Any], bool]:
    """(panel data, whether it came from the cache): computed only when the inputs changed."""
    key = panel_key(store, inputs)
    hit = cache.get(key)
    if hit is not None:
        return hit, True
    data = compute_panel(store, inputs)
    cache.put(key, data)
    return data, False
