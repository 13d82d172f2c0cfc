"""Machine-readable export of a digest: one flat record per paper, as JSONL, JSON or CSV.

Records hold plain JSON types only (str, int, list, dict, None), so the three formats carry the same
data; output is stable for identical input (sorted keys, fixed CSV column order).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from paperradar.models import Digest

ExportFormat = Literal["jsonl", "json", "csv"]

# CSV column order (JSON formats sort keys instead). Part of the interface: append, never reorder.
EXPORT_COLUMNS: tuple[str, ...] = (
    "rank",
    "arxiv_id",
    "version",
    "title",
    "title_translated",
    "authors",
    "categories",
    "published",
    "link",
    "keyword_count",
    "keyword_hits",
    "company",
    "interest_score",
    "interest_reason",
    "interest_mode",
    "summary",
    "summary_mode",
    "announce_kind",
    "day",
)

# Spreadsheets evaluate a cell that starts with one of these as a formula (CSV injection); a title such as
# "=HYPERLINK(...)" must stay text. Tab and CR are included because Excel strips them before parsing.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _iso_utc(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # the model stores UTC
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def export_records(digest: Digest) -> list[dict[str, Any]]:
    """One record per digest item, in digest order."""
    records: list[dict[str, Any]] = []
    for position, item in enumerate(digest.items, 1):
        paper = item.paper
        texts = digest.texts.get(paper.arxiv_id, {})
        title = texts.get("title")
        summary = texts.get("summary")
        translated = title.content if title is not None and title.language == digest.language else None
        records.append(
            {
                "arxiv_id": paper.arxiv_id,
                "version": paper.version,
                "title": paper.title,
                "title_translated": translated,
                "authors": list(paper.authors),
                "categories": list(paper.categories),
                "published": _iso_utc(paper.published),
                "link": paper.abs_url,
                "keyword_hits": {hit.keyword: list(hit.forms) for hit in item.keyword_hits},
                "keyword_count": item.keyword_count,
                "company": [
                    {"company": c.company, "name": c.name, "field": c.field, "matched": c.matched}
                    for c in item.companies
                ],
                "interest_score": item.interest.score,
                "interest_reason": item.interest.reason,
                "interest_mode": item.interest.mode,
                "rank": item.rank if item.rank > 0 else position,
                "summary": summary.content if summary is not None else None,
                "summary_mode": summary.mode if summary is not None else None,
                "announce_kind": item.announcement.kind,
                "day": digest.day.isoformat(),
            }
        )
    return records


def write_export(records: list[dict[str, Any]], fmt: ExportFormat, out: TextIO) -> None:
    """Write `records` to `out` as "jsonl", "json" or "csv" (UTF-8 text, "\\n" line endings).

    CSV: columns in EXPORT_COLUMNS order; lists and dicts become JSON strings; None becomes an empty cell.
    Text cells starting with = + - @ (or tab/CR) get a leading apostrophe so spreadsheets show them as text
    instead of running a formula; strip one leading ' when reading such a cell back. Open `out` with
    newline="" so the csv module controls line endings.
    """
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    elif fmt == "json":
        json.dump(records, out, ensure_ascii=False, sort_keys=True, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for record in records:
            writer.writerow([_csv_cell(record.get(column)) for column in EXPORT_COLUMNS])
    else:
        raise ValueError(f"unknown export format {fmt!r}; use jsonl, json or csv")


def _csv_cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value  # numbers are never formulas; "-1" stays a number
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text
