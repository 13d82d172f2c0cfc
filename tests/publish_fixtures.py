"""Digest builders for the publish and delivery tests, from real cs.IR records copied into tests/fixtures:
`build_digest` (a zh/ja/en digest of the fixture papers), `many_papers`, `load_records`,
`paper_from_record`, and the ids and day they use (SMES, GR2, SPGL, DAY, GENERATED).

tests/fixtures/publish_papers.json holds five records verbatim from the shared cs.IR listings (the same
shape as listings-cs-ir.jsonl.gz), so the tests never read /work/shared.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from paperradar.models import (
    Announcement,
    CompanyHit,
    Digest,
    GeneratedText,
    Interest,
    KeywordHit,
    Paper,
    Ranked,
)
from paperradar.text.extractive import EXTRACTIVE_VERSION, summarize

FIXTURE = Path(__file__).parent / "fixtures" / "publish_papers.json"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 2, 17)
GENERATED = datetime(2026, 2, 17, 12, 23, 2, tzinfo=SHANGHAI)  # the seed's 生成时间
SMES = "2602.09386"  # 14 authors, submitted 2026-02-10 03:56:12 UTC, deployed at Kuaishou
GR2 = "2602.07774"  # 21 authors, no submission time in the listing
SPGL = "2412.11846"  # ends with "The source code can be accessed on this https URL ."

# What rank would have found for the seed's first paper (seed 002, paper 1), reused for the others.
_HITS = [
    KeywordHit("kuaishou", "company", ("kuaishou",)),
    KeywordHit("ranking", "technical", ("ranking",)),
    KeywordHit("recommendation", "technical", ("recommendation", "recommender")),
    KeywordHit("uplift", "technical", ("uplift",)),
]
ZH_TITLES = {
    SMES: "SMES：通过专家稀疏化实现可扩展的多任务推荐",
    GR2: "生成式推理重排器",
}


def load_records() -> list[dict[str, Any]]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["papers"]


def paper_from_record(record: dict[str, Any]) -> Paper:
    submitted = record["submitted_utc"]
    return Paper(
        arxiv_id=record["id"],
        title=record["title"],
        authors=list(record["authors"]),
        abstract=record["abstract"],
        categories=list(record["categories"] or record["listings"]),
        comment=record["comment"],
        published=datetime.fromisoformat(submitted).replace(tzinfo=UTC) if submitted else None,
        source="jsonl",
    )


def ranked(paper: Paper, rank: int, *, mode: str = "heuristic") -> Ranked:
    kuaishou = "Kuaishou" in paper.abstract
    return Ranked(
        paper=paper,
        announcement=Announcement(paper.arxiv_id, DAY, "cs.IR", "new", paper.version),
        keyword_hits=list(_HITS) if kuaishou else _HITS[1:3],
        companies=[CompanyHit("kuaishou", "快手", "abstract", "Kuaishou")] if kuaishou else [],
        interest=Interest(5 if kuaishou else 3, "直接涉及推荐系统的排序与多任务建模。", mode),
        rank=rank,
    )


def extractive_text(paper: Paper) -> GeneratedText:
    return GeneratedText(
        paper.arxiv_id,
        paper.version,
        "summary",
        "en",
        summarize(paper.abstract),
        "extractive",
        EXTRACTIVE_VERSION,
    )


def build_digest(
    language: str = "zh",
    *,
    papers: list[Paper] | None = None,
    translate: bool = True,
    top_n: int = 20,
    generated_at: datetime = GENERATED,
) -> Digest:
    """A digest of the fixture papers in fixture order, extractive summaries, zh titles for two papers."""
    papers = papers if papers is not None else [paper_from_record(r) for r in load_records()]
    items = [ranked(p, i) for i, p in enumerate(papers, 1)]
    texts: dict[str, dict[str, GeneratedText]] = {}
    for p in papers:
        texts[p.arxiv_id] = {"summary": extractive_text(p)}
        if translate and p.arxiv_id in ZH_TITLES:
            texts[p.arxiv_id]["title"] = GeneratedText(
                p.arxiv_id, p.version, "title", "zh", ZH_TITLES[p.arxiv_id], "qwen2.5-7b", "t1"
            )
    return Digest(
        day=DAY,
        language=language,
        categories=["cs.IR"],
        generated_at=generated_at,
        order=["keywords", "interest"],
        top_n=top_n,
        announced=len(items),
        items=items,
        texts=texts,
    )


def many_papers(n: int) -> list[Paper]:
    """`n` distinct papers cycled from the fixture (fake ids), for count lines such as "20 篇（Top 20）"."""
    base = [paper_from_record(r) for r in load_records()]
    return [dataclasses.replace(base[i % len(base)], arxiv_id=f"2602.{90000 + i}") for i in range(n)]
