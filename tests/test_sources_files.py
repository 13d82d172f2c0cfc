"""Offline sources: Kaggle snapshot lines, the shared listing and bulk formats, gzip detection, bad lines,
and saved Atom responses."""

from __future__ import annotations

import gzip
import logging
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from paperradar.errors import DataError
from paperradar.models import Announcement
from paperradar.sources.files import detect_format, read_atom_file, read_jsonl
from tests.arxiv_server import FIXTURES

KAGGLE = FIXTURES / "kaggle-first200.jsonl"
LISTINGS = FIXTURES / "listings-sample.jsonl"
BULK = FIXTURES / "bulk-sample.jsonl.gz"


def test_kaggle_snapshot() -> None:
    reader = read_jsonl(KAGGLE)
    records = list(reader)
    assert len(records) == 200 and reader.stats.records == 200 and reader.stats.skipped == 0
    assert all(anns == [] for _, anns in records)  # the snapshot has no listing days
    first, _ = records[0]
    assert first.arxiv_id == "0704.0001" and first.source == "jsonl"
    # authors_parsed gives clean unicode names ("C. Bal\\'azs" in the authors string).
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert (
        first.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.abstract.startswith("A fully differential calculation") and "\n" not in first.abstract
    assert first.version == 2
    assert first.published == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert first.updated == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)
    assert (first.comment, first.journal_ref, first.doi) == (
        "37 pages, 15 figures; published version",
        "Phys.Rev.D76:013009,2007",
        "10.1103/PhysRevD.76.013009",
    )
    second, _ = records[1]
    assert second.categories == ["math.CO", "cs.CG"]
    assert second.authors == ["Ileana Streinu", "Louis Theran"]
    by_id = {p.arxiv_id: p for p, _ in records}
    assert by_id["0704.0044"].affiliations[:2] == ["Oxford", "Culham"]
    assert by_id["0704.0025"].affiliations == []  # "1 and 2" is a footnote marker, not a place


def anns_of(records: list, arxiv_id: str) -> list[tuple[date, str, str]]:
    return [(a.day, a.category, a.kind) for p, anns in records if p.arxiv_id == arxiv_id for a in anns]


def test_listings_format() -> None:
    records = list(read_jsonl(LISTINGS))
    assert len(records) == 20
    papers = {p.arxiv_id: p for p, _ in records}
    d = date.fromisoformat
    # Categories unknown: every listing is "new".
    assert anns_of(records, "2412.12433") == [
        (d("2024-12-18"), "cs.IR", "new"),
        (d("2024-12-18"), "cs.CL", "new"),
    ]
    # A second listing date is a replacement.
    assert anns_of(records, "2412.12110") == [
        (d("2024-12-18"), "cs.IR", "new"),
        (d("2024-12-19"), "cs.IR", "replace"),
    ]
    assert papers["2412.12110"].version == 2
    # Categories known: new in the primary, cross elsewhere; MSC/ACM classes are not categories.
    assert papers["2412.18708"].categories == ["cs.AI", "cs.CL", "cs.HC", "cs.IR"]
    assert anns_of(records, "2412.18708") == [
        (d("2024-12-30"), "cs.AI", "new"),
        (d("2024-12-30"), "cs.IR", "cross"),
        (d("2024-12-30"), "cs.CL", "cross"),
        (d("2025-10-07"), "cs.AI", "replace"),
        (d("2025-10-07"), "cs.IR", "replace"),
        (d("2025-10-07"), "cs.CL", "replace"),
    ]
    assert anns_of(records, "2503.15879") == [
        (d("2025-03-21"), "cs.IR", "cross"),
        (d("2025-03-21"), "cs.CL", "new"),
    ]
    # Listing categories missing from a partial category list are kept, after the known ones.
    assert papers["2507.07030"].categories == ["cs.CL", "cs.IR"]
    seven = papers["2506.15120"]
    assert seven.published == datetime(2025, 6, 18, 3, 39, 13, tzinfo=UTC)
    assert seven.comment == "AAAI 2025"
    assert papers["2412.11846"].published is None and papers["2412.11846"].comment is None
    assert all(isinstance(a, Announcement) and a.version is None for _, anns in records for a in anns)


def test_bulk_format_gzip() -> None:
    records = list(read_jsonl(BULK))
    assert len(records) == 18
    first, anns = records[0]
    assert first.arxiv_id == "2503.11731" and len(first.authors) == 16
    assert [(a.category, a.kind, a.day) for a in anns] == [
        ("cs.CV", "new", date(2025, 3, 18)),
        ("cs.RO", "cross", date(2025, 3, 18)),
    ]
    assert "\n" not in first.abstract and first.abstract.startswith("Sensor simulation is pivotal")
    assert records[1][0].comment == "Work in progress"
    junk, junk_anns = next((p, a) for p, a in records if p.arxiv_id == "2503.12780")
    assert junk.categories == ["cs.CV", "cs.AI", "cs.LG", "eess.IV", "stat.ML"]
    assert [a.kind for a in junk_anns] == ["new", "cross", "cross", "cross", "cross"]
    empty, empty_anns = records[-1]
    assert empty.arxiv_id == "2506.05355" and empty.categories == [] and empty_anns == []


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    plain_lines = LISTINGS.read_bytes()
    disguised_gz = tmp_path / "listings.jsonl"  # gzip data, plain name
    disguised_gz.write_bytes(gzip.compress(plain_lines))
    disguised_plain = tmp_path / "listings.jsonl.gz"  # plain data, gzip name
    disguised_plain.write_bytes(plain_lines)
    expected = [p.arxiv_id for p, _ in read_jsonl(LISTINGS)]
    assert [p.arxiv_id for p, _ in read_jsonl(disguised_gz)] == expected
    assert [p.arxiv_id for p, _ in read_jsonl(disguised_plain)] == expected


BAD_LINES = [
    '{"id": "2412.11846", "title": "Good one", "authors": ["A B"], "listing_date": "2024-12-18", "categories": ["cs.IR"]}',
    "this is not json",
    '{"title": "no id here"}',
    '{"id": "../../etc/passwd", "title": "sneaky"}',
    "[1, 2, 3]",
    "",
    '{"id": "2412.11864", "title": "Second good", "authors": "A. One and B. Two"}',
    '{"id": "2412.11905", "title": "Bad day", "listings": ["cs.IR"], "listing_dates": ["2024-13-45"]}',
    '{"id": "2412.11906", "title": "Bad authors", "authors": [1, 2], "listing_date": "2024-12-18"}',
]


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(BAD_LINES) + "\n", encoding="utf-8")
    return path


def test_bad_line_raises_with_file_and_line_number(bad_file: Path) -> None:
    reader = read_jsonl(bad_file)
    first = next(reader)
    assert first[0].arxiv_id == "2412.11846"
    with pytest.raises(DataError) as info:
        next(reader)
    assert str(bad_file) in info.value.message and "line 2: not JSON" in info.value.message
    assert info.value.hint


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ('{"title": "x"}', "line 1: no 'id'"),
        ('{"id": "../../etc/passwd", "title": "x"}', "line 1: '../../etc/passwd' is not an arXiv identifier"),
        ("[1]", "line 1: not a JSON object"),
        (
            '{"id": "2412.11905", "listings": ["cs.IR"], "listing_dates": ["2024-13-45"]}',
            "listing date '2024-13-45'",
        ),
        (
            '{"id": "2412.11905", "authors": [1], "listing_date": "2024-12-18"}',
            "'authors' is not a list of names",
        ),
        ('{"id": 2412.11905, "title": "x"}', "'id' 2412.11905 is not a string"),
        ('{"id": "2412.11905"}', "no 'title'"),
    ],
)
def test_each_kind_of_bad_line(tmp_path: Path, line: str, what: str) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        list(read_jsonl(path))
    assert what in info.value.message


def test_skip_mode_counts_and_logs(bad_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="paperradar.sources.files"):
        reader = read_jsonl(bad_file, errors="skip")
        records = list(reader)
    assert [p.arxiv_id for p, _ in records] == ["2412.11846", "2412.11864"]
    assert records[1][0].authors == ["A. One", "B. Two"]
    stats = reader.stats
    assert (stats.lines, stats.records, stats.skipped) == (9, 2, 6)
    assert [m.split(": line ")[1].split(":")[0] for m in stats.errors] == ["2", "3", "4", "5", "8", "9"]
    assert sum("skipped" in r.getMessage() for r in caplog.records) == 6


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(LISTINGS.read_bytes() * 3)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="corrupt or cut off"):
        list(read_jsonl(path))
    reader = read_jsonl(path, errors="skip")
    records = list(reader)
    assert 0 < len(records) < 60 and reader.stats.truncated


def test_missing_file_and_bad_mode(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_jsonl(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError):
        read_jsonl(LISTINGS, errors="ignore")  # type: ignore[arg-type]


def test_detect_format(tmp_path: Path) -> None:
    atom = FIXTURES / "api_2026" / "q_testing_s0_m10_bc5a6c384fe9.xml"
    atom_gz = tmp_path / "saved"
    atom_gz.write_bytes(gzip.compress(atom.read_bytes()))
    old_atom = FIXTURES / "api_2016" / "id_list=1111.2011v2.xml"
    assert detect_format(KAGGLE) == "jsonl"
    assert detect_format(BULK) == "jsonl"
    assert detect_format(atom) == "atom"
    assert detect_format(atom_gz) == "atom"
    assert detect_format(old_atom) == "atom"
    with pytest.raises(DataError, match="not an Atom"):
        detect_format(FIXTURES / "rss_cs.LG+cs.AI+cs.CL+stat.ML.xml")
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello\n")
    with pytest.raises(DataError, match="neither JSON lines nor Atom"):
        detect_format(garbage)


def test_read_atom_file(tmp_path: Path) -> None:
    src = FIXTURES / "api_2026" / "q_testing_s0_m15_80c242b59d59.xml"
    copy = tmp_path / "saved.xml"
    shutil.copy(src, copy)
    papers = read_atom_file(copy)
    assert len(papers) == 15 and all(p.source == "atom-file" for p in papers)
    gz = tmp_path / "saved.xml.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    assert [p.arxiv_id for p in read_atom_file(gz)] == [p.arxiv_id for p in papers]
    broken = tmp_path / "broken.xml"
    broken.write_bytes(src.read_bytes()[:4000])
    with pytest.raises(DataError, match=str(broken)):
        read_atom_file(broken)


def test_bom_and_crlf_lines_and_context_manager(tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    lines = LISTINGS.read_bytes().splitlines()[:3]
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    with read_jsonl(path) as reader:
        assert [p.arxiv_id for p, _ in reader] == ["2412.11846", "2412.12110", "2412.12433"]
