"""Export records and the three formats: round trips, stable output, CSV formula guard."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from paperradar.models import GeneratedText
from paperradar.publish import EXPORT_COLUMNS, export_records, write_export
from tests.publish_fixtures import GR2, SMES, build_digest, load_records, paper_from_record


def records() -> list[dict]:
    return export_records(build_digest("zh"))


def write(fmt: str, recs: list[dict]) -> str:
    out = io.StringIO(newline="")
    write_export(recs, fmt, out)  # type: ignore[arg-type]
    return out.getvalue()


def test_record_fields() -> None:
    digest = build_digest("zh")
    recs = export_records(digest)
    assert [r["arxiv_id"] for r in recs] == [it.paper.arxiv_id for it in digest.items]
    assert all(set(r) == set(EXPORT_COLUMNS) for r in recs)
    smes = recs[0]
    assert smes["arxiv_id"] == SMES and smes["version"] == 1 and smes["rank"] == 1
    assert smes["published"] == "2026-02-10T03:56:12Z"
    assert smes["link"] == "https://arxiv.org/abs/2602.09386v1"
    assert len(smes["authors"]) == 14
    assert smes["title_translated"] == "SMES：通过专家稀疏化实现可扩展的多任务推荐"
    assert smes["keyword_hits"]["recommendation"] == ["recommendation", "recommender"]
    assert smes["keyword_count"] == 4
    assert smes["company"] == [
        {"company": "kuaishou", "name": "快手", "field": "abstract", "matched": "Kuaishou"}
    ]
    assert (smes["interest_score"], smes["interest_mode"]) == (5, "heuristic")
    assert smes["summary_mode"] == "extractive" and smes["summary"]
    assert (smes["announce_kind"], smes["day"]) == ("new", "2026-02-17")
    gr2 = next(r for r in recs if r["arxiv_id"] == GR2)
    assert gr2["published"] is None
    assert recs[2]["title_translated"] is None


def test_title_in_another_language_is_not_a_translation() -> None:
    assert export_records(build_digest("ja"))[0]["title_translated"] is None


def test_jsonl_round_trip_and_stability() -> None:
    recs = records()
    text = write("jsonl", recs)
    lines = text.splitlines()
    assert len(lines) == len(recs) and text.endswith("\n")
    assert [json.loads(line) for line in lines] == recs
    assert "快手" in text  # ensure_ascii off: readable non-ASCII
    assert lines[0].startswith('{"announce_kind": ')  # sorted keys
    assert write("jsonl", records()) == text


def test_json_round_trip() -> None:
    recs = records()
    text = write("json", recs)
    assert json.loads(text) == recs
    assert text.startswith("[\n  {") and text.endswith("]\n")


def test_csv_round_trip() -> None:
    recs = records()
    text = write("csv", recs)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [r["arxiv_id"] for r in rows] == [r["arxiv_id"] for r in recs]
    assert json.loads(rows[0]["authors"]) == recs[0]["authors"]
    assert json.loads(rows[0]["company"]) == recs[0]["company"]
    assert rows[0]["rank"] == "1" and rows[1]["published"] == ""  # GR2 has no submission time
    assert rows[0]["summary"] == recs[0]["summary"]  # commas and quotes survive quoting
    assert "\r" not in text


def test_csv_formula_guard() -> None:
    hostile = ['=HYPERLINK("http://evil","x")', "+1+2", "-cmd", "@SUM(A1)", "\t=1"]
    base = [paper_from_record(r) for r in load_records()]
    papers = [dataclasses.replace(base[i], title=t) for i, t in enumerate(hostile)]
    digest = build_digest("en", papers=papers)
    digest.items[0].interest.reason = "=1+1"
    digest.texts[papers[1].arxiv_id]["summary"] = GeneratedText(
        papers[1].arxiv_id, 1, "summary", "en", "-2", "m", "t"
    )
    rows = list(csv.DictReader(io.StringIO(write("csv", export_records(digest)), newline="")))
    assert [r["title"] for r in rows] == ["'" + t for t in hostile]
    assert rows[0]["interest_reason"] == "'=1+1"
    assert rows[1]["summary"] == "'-2"
    assert rows[0]["rank"] == "1" and rows[0]["interest_score"] == str(digest.items[0].interest.score)
    negative = dict(export_records(digest)[0], interest_score=-1)
    assert write("csv", [negative]).splitlines()[1].count(",-1,") == 1  # numbers are never prefixed
    # JSON formats keep the text as is: the guard is for spreadsheets only.
    assert json.loads(write("json", export_records(digest)))[0]["title"] == hostile[0]


def test_empty_digest_exports_nothing_but_a_header() -> None:
    digest = dataclasses.replace(build_digest("zh"), items=[], texts={})
    assert export_records(digest) == []
    assert write("jsonl", []) == ""
    assert json.loads(write("json", [])) == []
    assert write("csv", []) == ",".join(EXPORT_COLUMNS) + "\n"


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="jsonl, json or csv"):
        write("xlsx", records())
