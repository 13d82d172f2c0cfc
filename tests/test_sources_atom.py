"""The API's Atom feed in its 2026 and 2016 shapes, its error feed, and broken documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paperradar.errors import EXIT_DATA, DataError
from paperradar.sources.atom import ArxivApiError, parse_atom
from tests.arxiv_server import fixture_bytes


def test_2026_old_style_id_with_affiliations() -> None:
    page = parse_atom(fixture_bytes("api_2026/id_astro-ph_0601001_s0_m100_3150dca9dc76.xml"))
    assert page.total_results == 1
    [paper] = page.papers
    assert paper.arxiv_id == "astro-ph/0601001" and paper.version == 1
    assert paper.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert paper.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert paper.affiliations == ["Ohio State", "CfA", "Warsaw University Observatory"]
    assert paper.categories == ["astro-ph"]
    assert paper.comment is not None and paper.comment.startswith("62 pages including 16 figures")
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.abstract.startswith("We derive the frequencies")  # leading blanks dropped
    assert "V_max<17.5" in paper.abstract  # entities decoded
    assert paper.published == datetime(2006, 1, 2, 14, 57, 58, tzinfo=UTC)
    assert paper.source == "api"


def test_2026_versioned_id() -> None:
    [paper] = parse_atom(fixture_bytes("api_2026/id_2104.12255v1_s0_m100_6ae69987ffe1.xml")).papers
    assert (paper.arxiv_id, paper.version, paper.title) == ("2104.12255", 1, "0")
    assert paper.authors == ["Quan Thoi Minh Nguyen"]
    assert paper.comment is None and paper.journal_ref is None and paper.doi is None
    assert paper.affiliations == []


def test_2026_page_with_doi_and_replaced_versions() -> None:
    page = parse_atom(fixture_bytes("api_2026/q_testing_s10_m10_34e56e15aaac.xml"))
    assert page.total_results == 214881
    assert len(page.papers) == 10
    first = page.papers[0]
    assert (first.arxiv_id, first.version) == ("2403.16981", 2)
    assert first.categories[0] == "math.ST"
    assert first.published is not None and first.updated is not None
    assert first.published < first.updated  # v1 time vs this version's time
    assert first.published.tzinfo is not None and first.published.utcoffset() == timedelta(0)
    top = parse_atom(fixture_bytes("api_2026/q_testing_s0_m10_bc5a6c384fe9.xml")).papers[0]
    assert top.doi == "10.1109/ICSTW55395.2022.00035"
    assert top.categories == ["cs.SE", "cs.LG"]


def test_primary_category_comes_first_even_when_listed_later() -> None:
    xml = fixture_bytes("api_2026/id_1605.08386_s0_m100_199195aa31ad.xml")
    co = b'    <category term="math.CO" scheme="http://arxiv.org/schemas/atom"/>\n'
    assert co in xml
    swapped = xml.replace(co, b"").replace(b"<published>", co.strip() + b"\n    <published>")
    [paper] = parse_atom(swapped).papers
    assert paper.categories == ["math.CO", "math.ST"]


def test_2016_format() -> None:
    page = parse_atom(fixture_bytes("api_2016/id_list=1111.2011v2.xml"))
    assert page.total_results == 1
    [paper] = page.papers
    assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
    # arXiv wraps titles and abstracts; whitespace is collapsed to single spaces.
    assert (
        paper.title
        == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert "\n" not in paper.abstract and "  " not in paper.abstract
    assert paper.abstract.startswith(
        "Theoretical description of anisotropic systems, such as layered superconductors"
    )
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.comment == "8 pages, 3 figures. Published version"
    assert paper.published == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert paper.updated == datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)


def test_2016_search_with_old_style_ids() -> None:
    page = parse_atom(fixture_bytes("api_2016/search_query=au_del_maestro+AND+ti_checkerboard.xml"))
    [paper] = page.papers
    assert paper.arxiv_id == "cond-mat/0603029" and paper.version == 1
    big = parse_atom(fixture_bytes("api_2016/search_query=au_del_maestro.xml"))
    assert (big.total_results, len(big.papers)) == (31, 10)
    assert all(p.authors and p.title and p.abstract for p in big.papers)


def test_empty_result() -> None:
    page = parse_atom(fixture_bytes("api_2026/id_0000.0000_s0_m100_8b51d9633a68.xml"))
    assert page.papers == [] and page.total_results == 0


def test_error_feed_is_arxiv_api_error() -> None:
    with pytest.raises(ArxivApiError) as info:
        parse_atom(fixture_bytes("api_2026/id_abc_s0_m100_b79c8dcf6bc3.xml"))
    err = info.value
    assert err.api_message == "incorrect id format for abc"
    assert "incorrect id format for abc" in err.message
    assert isinstance(err, DataError) and err.exit_code == EXIT_DATA and err.hint


@pytest.mark.parametrize(
    "data",
    [
        fixture_bytes("api_2026/q_testing_s0_m10_bc5a6c384fe9.xml")[:5000],
        b"",
        b"<feed><entry></feed>",
    ],
    ids=["truncated", "empty", "mismatched"],
)
def test_malformed_atom_is_data_error(data: bytes) -> None:
    with pytest.raises(DataError, match=r"Atom feed from saved\.xml is not valid XML"):
        parse_atom(data, source="saved.xml")


def test_rss_is_not_an_atom_feed() -> None:
    with pytest.raises(DataError, match="not an Atom feed"):
        parse_atom(fixture_bytes("rss_cs.LG+cs.AI+cs.CL+stat.ML.xml"))


def test_entry_with_bad_id_is_skipped_and_said_why() -> None:
    # Issue 12: one malformed entry is left out (and counted), it no longer refuses the whole page.
    xml = fixture_bytes("api_2026/id_2104.12255v1_s0_m100_6ae69987ffe1.xml").replace(
        b"<id>http://arxiv.org/abs/2104.12255v1</id>", b"<id>http://arxiv.org/abs/../../etc/passwd</id>"
    )
    page = parse_atom(xml)
    assert page.papers == [] and len(page.skipped) == 1
    assert page.skipped[0].startswith("entry 1: ") and "not an arXiv identifier" in page.skipped[0]
