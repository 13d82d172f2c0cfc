"""Plain data passed between the stages. No I/O here: sources produce these, the store keeps them,
rank and write annotate them, publish renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

# arXiv's RSS announce types. "replace-cross" is a replacement of a cross-listed paper.
AnnounceKind = Literal["new", "cross", "replace", "replace-cross"]
ANNOUNCE_KINDS: tuple[str, ...] = ("new", "cross", "replace", "replace-cross")


@dataclass(slots=True)
class Paper:
    """One arXiv paper at its latest known version. `arxiv_id` never carries the version suffix."""

    arxiv_id: str  # "2602.09386" or old style "hep-th/9901001"
    title: str
    authors: list[str]
    abstract: str
    version: int = 1
    categories: list[str] = field(default_factory=list)  # primary first
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    published: datetime | None = None  # first version submitted (UTC)
    updated: datetime | None = None  # this version submitted (UTC)
    affiliations: list[str] = field(default_factory=list)
    source: str = ""  # where the record came from: rss, api, jsonl, atom-file, sample

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.versioned_id}"


@dataclass(slots=True, frozen=True)
class Announcement:
    """A paper appearing in a category's daily listing on `day` (the arXiv announcement date)."""

    arxiv_id: str
    day: date
    category: str
    kind: str  # one of ANNOUNCE_KINDS
    version: int | None = None


@dataclass(slots=True)
class FeedDay:
    """What an announcement feed said: the day, the announcements, and the papers as far as the feed knows them."""

    day: date | None  # None when the feed had no items (weekend / holiday)
    announcements: list[Announcement]
    papers: list[Paper]
    note: str | None = None  # why a day is empty, when the feed says so


@dataclass(slots=True, frozen=True)
class KeywordHit:
    keyword: str
    group: str  # e.g. "company", "technical"
    forms: tuple[str, ...]  # surface forms found in the text, lower-cased, sorted


@dataclass(slots=True, frozen=True)
class CompanyHit:
    company: str  # gazetteer key, e.g. "kuaishou"
    name: str  # display name in the output language
    field: str  # provenance: title | abstract | comment | affiliation | llm
    matched: str  # the text that matched


@dataclass(slots=True)
class Interest:
    score: int  # 1..5
    reason: str
    mode: str  # "heuristic" or the model name that produced it
    evidence: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class Ranked:
    """A paper with everything rank found about it; `rank` is 1-based within the day's digest."""

    paper: Paper
    announcement: Announcement
    keyword_hits: list[KeywordHit]
    companies: list[CompanyHit]
    interest: Interest
    rank: int = 0
    explanation: dict[str, object] = field(default_factory=dict)

    @property
    def keyword_count(self) -> int:
        return len(self.keyword_hits)


@dataclass(slots=True, frozen=True)
class GeneratedText:
    """One output of the write stage. `mode` is "extractive", or the model name for LLM text."""

    arxiv_id: str
    version: int
    task: str  # "summary", "title", ...
    language: str  # zh | ja | en, or "orig" for untranslated text
    content: str
    mode: str
    template_hash: str
    created_at: datetime | None = None


@dataclass(slots=True)
class Digest:
    """Everything publish needs to render one day's digest in one language."""

    day: date
    language: str  # zh | ja | en
    categories: list[str]
    generated_at: datetime  # timezone-aware, in the configured zone
    order: list[str]  # the sort keys used, e.g. ["keywords", "interest", "recency"]
    top_n: int
    announced: int  # papers announced that day after the cross-list/replacement filters
    items: list[Ranked]
    texts: dict[str, dict[str, GeneratedText]]  # arxiv_id -> task ("summary", "title") -> text
    empty_reason: str | None = None  # set when `items` is empty: why (weekend, holiday, nothing matched)
