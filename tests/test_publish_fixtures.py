"""The records behind tests/publish_fixtures.py are real cs.IR listing records, copied into tests/fixtures."""

from __future__ import annotations

from tests.publish_fixtures import GR2, SMES, SPGL, load_records


def test_fixture_holds_real_listing_records() -> None:
    records = load_records()
    assert 3 <= len(records) <= 5
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids) and {SMES, GR2, SPGL} <= set(ids)
    for r in records:
        assert r["title"] and r["abstract"] and r["authors"] and "cs.IR" in r["listings"]
    smes = next(r for r in records if r["id"] == SMES)
    assert len(smes["authors"]) == 14  # seed 002 shows 4 names and "等10人"
