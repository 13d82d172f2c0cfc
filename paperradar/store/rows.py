"""How papers and ranks are stored: the row tuples written, the merge of two records of one paper, and
the decoding of rows back into models. Pure functions shared by the archive and its read models."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

import orjson

from paperradar.models import CompanyHit, KeywordHit, Paper, Ranked, StoredRank

# When two sources describe the same version, the more complete one wins the text fields.
_SOURCE_PRIORITY = {"rss": 1, "sample": 2, "jsonl": 2, "atom-file": 3, "api": 3}

RANK_COLUMNS = (
    "reader, day, arxiv_id, rank, keyword_count, keyword_hits, companies, interest_score, interest_reason, "
    "interest_mode, explanation, run_id, interest_reasons, interest_missing"
)
PAPER_COLUMNS = (
    "arxiv_id, version, title, authors, abstract, categories, primary_category, comment, journal_ref, doi, "
    "published, updated, affiliations, source, first_seen"
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def iso_or_none(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def datetime_or_none(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dumps(value: Any) -> str:
    # Compact, UTF-8, sorted keys: equal values always give equal text, so unchanged rows compare equal.
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def decode_rank(row: sqlite3.Row) -> StoredRank:
    """A `ranks` row with its JSON columns decoded."""
    return StoredRank(
        day=date.fromisoformat(row["day"]),
        arxiv_id=row["arxiv_id"],
        rank=row["rank"],
        keyword_count=row["keyword_count"],
        keyword_hits=[
            KeywordHit(h["keyword"], h["group"], tuple(h["forms"])) for h in json.loads(row["keyword_hits"])
        ],
        companies=[CompanyHit(**c) for c in json.loads(row["companies"])],
        interest_score=row["interest_score"],
        interest_reason=row["interest_reason"],
        interest_mode=row["interest_mode"],
        explanation=json.loads(row["explanation"]),
        run_id=row["run_id"],
        interest_reasons=json.loads(row["interest_reasons"]),
        interest_missing=row["interest_missing"],
    )


def paper_record(paper: Paper, now: str) -> tuple[Any, ...]:
    return (
        paper.arxiv_id,
        paper.version,
        paper.title,
        dumps(paper.authors),
        paper.abstract,
        dumps(paper.categories),
        paper.primary_category,
        paper.comment,
        paper.journal_ref,
        paper.doi,
        iso_or_none(paper.published),
        iso_or_none(paper.updated),
        dumps(paper.affiliations),
        paper.source or "unknown",
        now,
    )


_NULLABLE = ("comment", "journal_ref", "doi", "published", "updated", "primary_category")
_TEXT_FIELDS = ("title", "authors", "abstract", "categories", "affiliations")


def merge_record(old: dict[str, Any], new_tuple: tuple[Any, ...]) -> dict[str, Any]:
    names = [c.strip() for c in PAPER_COLUMNS.split(",")]
    new = dict(zip(names, new_tuple, strict=True))
    merged = dict(old)
    if new["version"] > old["version"]:
        # A replacement: its metadata is the paper's now, except what the new record does not know.
        for key in names:
            if key in ("arxiv_id", "first_seen"):
                continue
            if key == "published":
                merged[key] = old[key] or new[key]  # first-version time never moves
            elif (key in _NULLABLE and new[key] is None) or (key in _TEXT_FIELDS and new[key] in ("", "[]")):
                continue
            else:
                merged[key] = new[key]
        return merged
    stronger = _SOURCE_PRIORITY.get(new["source"], 0) >= _SOURCE_PRIORITY.get(old["source"], 0)
    for key in _NULLABLE:
        if merged[key] is None and new[key] is not None:
            merged[key] = new[key]
    if new["version"] == old["version"] and stronger:
        for key in _TEXT_FIELDS:
            if new[key] not in ("", "[]"):
                merged[key] = new[key]
        for key in ("comment", "journal_ref", "doi"):
            if new[key] is not None:
                merged[key] = new[key]
        merged["source"] = new["source"]
    return merged


def merge_papers(a: Paper, b: Paper) -> Paper:
    """Within one batch: keep the higher version, filling its gaps from the other record."""
    hi, lo = (b, a) if b.version >= a.version else (a, b)
    return Paper(
        arxiv_id=hi.arxiv_id,
        title=hi.title or lo.title,
        authors=hi.authors or lo.authors,
        abstract=hi.abstract or lo.abstract,
        version=hi.version,
        categories=hi.categories or lo.categories,
        comment=hi.comment if hi.comment is not None else lo.comment,
        journal_ref=hi.journal_ref if hi.journal_ref is not None else lo.journal_ref,
        doi=hi.doi if hi.doi is not None else lo.doi,
        published=lo.published or hi.published,
        updated=hi.updated or lo.updated,
        affiliations=hi.affiliations or lo.affiliations,
        source=hi.source,
    )


def row_to_paper(row: sqlite3.Row) -> Paper:
    return Paper(
        arxiv_id=row["arxiv_id"],
        title=row["title"],
        authors=json.loads(row["authors"]),
        abstract=row["abstract"],
        version=row["version"],
        categories=json.loads(row["categories"]),
        comment=row["comment"],
        journal_ref=row["journal_ref"],
        doi=row["doi"],
        published=datetime_or_none(row["published"]),
        updated=datetime_or_none(row["updated"]),
        affiliations=json.loads(row["affiliations"]),
        source=row["source"],
    )


def rank_row(reader: str, day: date, item: Ranked, run_id: int | None) -> tuple[Any, ...]:
    return (
        reader,
        day.isoformat(),
        item.paper.arxiv_id,
        item.rank,
        item.keyword_count,
        dumps([{"keyword": h.keyword, "group": h.group, "forms": list(h.forms)} for h in item.keyword_hits]),
        dumps(
            [
                {"company": c.company, "name": c.name, "field": c.field, "matched": c.matched}
                for c in item.companies
            ]
        ),
        item.interest.score,
        item.interest.reason,
        item.interest.mode,
        dumps(item.explanation),
        run_id,
        dumps(item.interest.reasons),
        item.interest.missing,
    )
