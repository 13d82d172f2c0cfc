"""Affiliations from arXiv's HTML author block (recorded pages in tests/fixtures/fulltext/author_blocks/,
see its README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperradar.sources.latexml import parse_latexml

PAGES = Path(__file__).parent / "fixtures" / "fulltext" / "author_blocks"
EXPECTED: dict[str, list[str]] = {
    k: v for k, v in json.loads((PAGES / "expected.json").read_text(encoding="utf-8")).items() if k[0] != "_"
}


# --- reading the author block ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_pages_give_their_affiliations(name: str) -> None:
    # Labels ("Affiliation:"), e-mail lines, project pages, marks and llncs' "institutetext:" stay out.
    doc = parse_latexml((PAGES / name).read_text(encoding="utf-8"))
    assert doc.affiliations == EXPECTED[name]
