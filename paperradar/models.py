"""Plain data passed between the stages. No I/O here: sources produce these, the store keeps them,
rank and write annotate them, publish renders them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

# A value as JSON has it: what explanations, model answers and stored style texts are made of.
JSON = str | int | float | bool | None | list["JSON"] | dict[str, "JSON"]

# The reader's languages: Simplified Chinese, Japanese, English.
Language = Literal["zh", "ja", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "ja", "en")

# The one reader of a config without [[readers]], and the owner of every rank, rating, library item and
# digest record an archive held before readers existed.
DEFAULT_READER = "default"

# arXiv's RSS announce types. "replace-cross" is a replacement of a cross-listed paper.
AnnounceKind = Literal["new", "cross", "replace", "replace-cross"]
ANNOUNCE_KINDS: tuple[AnnounceKind, ...] = ("new", "cross", "replace", "replace-cross")
# What became of one requested text: stored answer, a failure to retry next run, or a recorded skip.
TextStatus = Literal["ok", "failed", "skipped"]
# Why a backend gave no text: the call failed (network, HTTP, timeout), the answer stayed invalid after a
# repair, the run's budget was reached, or the provider refused (content filter). Only a refusal is final
# for the same prompt and model; the others are asked again on the next run.
DeclineReason = Literal["failed", "invalid", "budget", "refused"]
RETRIED_NEXT_RUN: frozenset[DeclineReason] = frozenset({"failed", "invalid", "budget"})
# Why a field shows no model text, as the reader is told: no model configured (or it cannot do the task),
# one of the decline reasons, asked K times without a usable answer (given up until --refresh or a new
# prompt/model), or an offline run that made no call.
MissingReason = Literal["no_model", "failed", "invalid", "budget", "refused", "given_up", "offline"]


def decline_status(reason: DeclineReason) -> TextStatus:
    """How a declined text is stored: budget and refusals are recorded skips, the rest failures."""
    return "skipped" if reason in ("budget", "refused") else "failed"


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
    kind: AnnounceKind
    version: int | None = None


@dataclass(slots=True)
class FeedDay:
    """What an announcement feed said: the day, the announcements, and the papers as far as the feed knows them."""

    day: date | None  # None when the feed had no items (weekend / holiday)
    announcements: list[Announcement]
    papers: list[Paper]
    note: str | None = None  # why a day is empty, when the feed says so
    skipped: list[str] = field(default_factory=list)  # malformed items left out, each with its reason


@dataclass(slots=True, frozen=True)
class KeywordHit:
    keyword: str
    group: str  # e.g. "company", "technical"
    forms: tuple[str, ...]  # surface forms found in the text, lower-cased, sorted


@dataclass(slots=True, frozen=True)
class CompanyHit:
    company: str  # gazetteer key, e.g. "kuaishou"
    name: str  # display name in the output language
    field: str  # provenance: title | abstract | comment | affiliation | affiliation (html) | llm
    matched: str  # the text that matched


@dataclass(slots=True)
class Interest:
    score: int  # 1..5
    reason: str  # in the language the day was ranked in
    mode: str  # "heuristic" or the model name that produced it
    evidence: dict[str, object] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # language -> reason, for every output language
    missing: MissingReason | None = None  # heuristic although a model is configured: why

    def reason_in(self, language: str) -> tuple[str, str | None]:
        """(reason, its language): the reason in `language`, else `reason` (language unknown: None)."""
        if language in self.reasons:
            return self.reasons[language], language
        return self.reason, None


@dataclass(slots=True)
class Ranked:
    """A paper with everything rank found about it; `rank` is 1-based within the day's digest."""

    paper: Paper
    announcement: Announcement
    keyword_hits: list[KeywordHit]
    companies: list[CompanyHit]
    interest: Interest
    rank: int = 0
    explanation: dict[str, JSON] = field(default_factory=dict)  # why it ranked here: order keys, personal

    @property
    def keyword_count(self) -> int:
        return len(self.keyword_hits)


@dataclass(slots=True, frozen=True)
class StoredRank:
    """One row of a day's stored ranking, as the web UI and `show` read it."""

    day: date
    arxiv_id: str
    rank: int
    keyword_count: int
    keyword_hits: list[KeywordHit]
    companies: list[CompanyHit]
    interest_score: int
    interest_reason: str
    interest_mode: str
    explanation: dict[str, JSON]
    run_id: int | None
    interest_reasons: dict[str, str] = field(default_factory=dict)  # language -> reason
    interest_missing: MissingReason | None = None


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
class LibraryRecord:
    """A paper of the reader's library as the archive keeps it (`key`: 'arxiv:<id>' or 'title:<normalised>')."""

    key: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    added: datetime | None = None
    source: str = ""
    resolved_by: str = "none"  # id | store-title | api | none


@dataclass(frozen=True, slots=True)
class SourceText:
    """What a style prompt may say about a paper beyond its metadata (sources/ fetches it, write/ uses it)."""

    text: str = ""  # the full text fitted to the budget; "" = abstract only
    origin: str = "abstract"  # html | pdf | abstract
    checks: tuple[str, ...] = ()  # the whole full text (sections, table rows), for the faithfulness check
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EmptyNote:
    """Why a day has no papers, as intake found it: a label key with its fields (publish says it in the
    digest's language), or, with key None, a free text (e.g. what the feed said)."""

    key: str | None
    fields: tuple[tuple[str, str], ...] = ()
    text: str = ""


class SourceProvider(Protocol):
    """Gives a paper's full text when a style needs it: sources/ fetches, write/ awaits (so a review waits
    for its own paper's text while every other model call goes on)."""

    async def get(self, paper: Paper) -> SourceText | None: ...


MuteKind = Literal["term", "category", "author"]


@dataclass(frozen=True, slots=True)
class MutedSummary:
    """What a reader's digest says about the day's muted papers: how many, dropped or demoted, and which
    muted entries matched how many papers (a paper muted by two entries counts under each)."""

    count: int
    mode: str  # drop | demote | mixed (a day ranked before the reader changed the mode)
    reasons: tuple[tuple[MuteKind, str, int], ...]  # (kind, entry as configured, papers), most papers first


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
    missing: dict[str, dict[str, MissingReason]] = field(default_factory=dict)  # arxiv_id -> task -> why
    skipped: tuple[str, ...] = ()  # feed items left out as malformed, with their reasons (a partial day)
    muted: MutedSummary | None = None  # the reader's muted papers of the day (None: none were muted)


# -- run records --------------------------------------------------------------------------------------------


class Progress(Protocol):
    """Reports progress: (step name, done, total or None, optional detail). The CLI draws rich bars from it."""

    def __call__(self, step: str, done: int, total: int | None, detail: str = "", /) -> None: ...


def no_progress(step: str, done: int, total: int | None, detail: str = "", /) -> None:
    return None


@dataclass(slots=True)
class ImportCounts:
    papers: int = 0
    announcements: int = 0
    inserted: int = 0
    updated: int = 0


@dataclass(slots=True)
class TextCounts:
    """What asking for a batch of texts gave: from the cache, newly written, not possible with this backend
    (declined), failed (asked again next run), skipped (refused, or budget: recorded with the reason)."""

    cached: int = 0
    written: int = 0
    declined: int = 0  # the backend cannot do this task (no model): not a failure
    failed: int = 0  # the call failed or the answer stayed invalid: asked again next run
    refused: int = 0  # a content filter refused it: not asked again with the same prompt and model
    budget: int = 0  # the run's budget was reached first: asked again next run
    given_up: int = 0  # failed `give_up_after` times already: not asked until --refresh or a new prompt/model
    extractive_fallback: int | None = None  # summaries the extractive backend wrote where the model gave none

    @property
    def skipped(self) -> int:
        return self.refused + self.budget

    @property
    def missing(self) -> int:
        """Texts a model was configured to write that the reader does not get this run."""
        return self.failed + self.refused + self.budget + self.given_up

    def add(self, other: TextCounts) -> None:
        for name in ("cached", "written", "declined", "failed", "refused", "budget", "given_up"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.extractive_fallback is not None:
            self.extractive_fallback = (self.extractive_fallback or 0) + other.extractive_fallback

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(slots=True)
class TaskUsage:
    calls: int = 0
    failed_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(slots=True)
class Usage:
    """What the LLM backend spent. Tokens come from the servers' `usage`; calls without it are estimated at
    ~4 characters per token and counted in `estimated_calls`."""

    calls: int = 0  # HTTP requests sent, retries and repairs included
    failed_calls: int = 0  # requests that brought no usable HTTP answer (errors, timeouts)
    retries: int = 0
    repairs: int = 0  # second requests sent because the first answer was invalid
    tokens_in: int = 0
    tokens_out: int = 0
    estimated_calls: int = 0
    cost: float | None = None  # None: no price for this model in [llm.prices]
    tasks: dict[str, TaskUsage] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def task(self, name: str) -> TaskUsage:
        return self.tasks.setdefault(name, TaskUsage())

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "retries": self.retries,
            "repairs": self.repairs,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "estimated_calls": self.estimated_calls,
            "cost": self.cost,
            "tokens_estimated": self.estimated_calls > 0,
            "tasks": {k: asdict(v) for k, v in self.tasks.items()},
        }
        return out


@dataclass(slots=True)
class AuthorBlockCounts:
    """The company step over the author block of arXiv's HTML, for the top papers the gazetteer left
    without a company: where each page came from, and what it settled (see rank/affiliations.py)."""

    papers: int = 0  # top papers without a company when the step began
    cached: int = 0  # author block read from the full-text cache (no request)
    fetched: int = 0  # one HTML request each
    no_html: int = 0  # arXiv has no (usable) HTML rendering: nothing to read
    failed: int = 0  # network failure; tried again next run
    not_fetched: int = 0  # not asked: offline run, or arXiv stopped answering earlier in this run
    with_affiliations: int = 0  # author block read and naming at least one affiliation
    companies: int = 0  # papers given a company from it (provenance "affiliation (html)")
    academic: int = 0  # every affiliation a university or school: settled, the model is not asked
    note: str | None = None  # why nothing or not everything was fetched

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(slots=True)
class FaithfulnessCounts:
    texts: int = 0  # style texts with a faithfulness report
    checked: int = 0  # numbers and names checked against the paper
    unverified: int = 0  # of those, not found in the paper (marked ⚠)


@dataclass(slots=True)
class DeliveryRecord:
    ok: bool
    detail: str


@dataclass(slots=True)
class RunStats:
    """What one run did, stage by stage; stored as JSON with the run and printed by the CLI."""

    feed_items: int | None = None
    feed_skipped: list[str] = field(default_factory=list)  # malformed feed/API items left out, and why
    api_lookups: int | None = None
    api_missing: int | None = None
    interest: TextCounts | None = None
    company: TextCounts | None = None
    texts: TextCounts | None = None
    styles: TextCounts | None = None
    fulltext: str | None = None  # why styles were written from the abstract, when they were
    author_blocks: AuthorBlockCounts | None = None  # the company step over arXiv's HTML author blocks
    faithfulness: FaithfulnessCounts | None = None
    llm_model: str | None = None
    llm: Usage | None = None
    delivery: dict[str, DeliveryRecord] = field(default_factory=dict)

    def text_totals(self) -> TextCounts:
        """Every task's counts together: interest, company, digest texts (all languages) and styles."""
        total = TextCounts()
        for counts in (self.interest, self.company, self.texts, self.styles):
            if counts is not None:
                total.add(counts)
        return total

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for key in ("feed_items", "api_lookups", "api_missing", "fulltext"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.feed_skipped:
            out["feed_skipped"] = list(self.feed_skipped)
        for key in ("interest", "company", "texts", "styles"):
            counts: TextCounts | None = getattr(self, key)
            if counts is not None:
                out[key] = counts.as_dict()
        if self.author_blocks is not None:
            out["author_blocks"] = self.author_blocks.as_dict()
        if self.faithfulness is not None:
            out["faithfulness"] = asdict(self.faithfulness)
        if self.llm is not None:
            out["llm"] = {"model": self.llm_model, **self.llm.as_dict()}
        if self.delivery:
            out["delivery"] = {k: asdict(v) for k, v in self.delivery.items()}
        return out
