"""A real store for the own-ratings eval tests: tests/fixtures/personal's cs.IR listings, the reader's
picks turned into up-ratings given at 20:00 UTC of the listing day each picked paper was shown (the latest
cs.IR listing on or before the pick's day)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from unittest import mock

import paperradar.store.reader_records as records_module
from paperradar.evaluate import read_picks
from paperradar.sources.intake import import_file
from paperradar.store import Store

FIX = Path(__file__).parent / "fixtures" / "personal"
LISTINGS = FIX / "listings-cs-ir-sample.jsonl.gz"
CATS = ["cs.IR"]


def rate_at(store: Store, arxiv_id: str, value: int, when: datetime) -> None:
    """Store.rate as it runs at `when` (the store stamps ratings with its own clock)."""
    stamp = when.isoformat(timespec="seconds")
    with mock.patch.object(records_module, "now_iso", lambda: stamp):
        store.rate(arxiv_id, value)


def fill(store: Store) -> list[tuple[str, date]]:
    """Listings into the store, picks into up-ratings at 20:00 UTC of their listing day; (id, day) rated."""
    import_file(store, LISTINGS)
    rated: dict[str, date] = {}
    for pick in sorted(read_picks(FIX / "picks.jsonl"), key=lambda p: p.date):
        days = store.listing_days(pick.arxiv_id, pick.date, CATS)
        if days and pick.arxiv_id not in rated:
            rated[pick.arxiv_id] = max(days)
    for arxiv_id, day in sorted(rated.items(), key=lambda x: (x[1], x[0])):
        rate_at(store, arxiv_id, 1, datetime(day.year, day.month, day.day, 20, tzinfo=UTC))
    return sorted(rated.items(), key=lambda x: (x[1], x[0]))


def filled_store(folder: Path) -> Path:
    """A database in `folder` filled once by `fill` (for module-scoped fixtures), its path."""
    path = folder / "radar.db"
    with Store(path) as store:
        fill(store)
    return path
