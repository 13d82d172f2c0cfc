"""One day's ranking: the day's announcements, keyword hits, companies, interest (model where there is
one, heuristic otherwise), the configured order, then the reader's personal re-rank, muted papers last;
saved to the store (under the store's reader)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from paperradar.llm.texts import TextService
from paperradar.models import (
    Announcement,
    CompanyHit,
    Interest,
    KeywordHit,
    Paper,
    Progress,
    Ranked,
    RunStats,
    no_progress,
)
from paperradar.rank.affiliations import AuthorBlockSource, companies_from_author_blocks
from paperradar.rank.companies import Gazetteer
from paperradar.rank.config import RankSettings
from paperradar.rank.interest import HeuristicInterest
from paperradar.rank.keywords import KeywordMatcher
from paperradar.rank.model_scores import (
    interest_requests,
    interests_from,
    llm_companies,
    with_html_affiliations,
)
from paperradar.rank.muted import MuteHit, Muter, apply_mutes, split_muted
from paperradar.rank.order import order_ranked, worst_positions
from paperradar.rank.personal.hook import personal_history_exists, personal_rerank
from paperradar.store import Store


def announced(store: Store, settings: RankSettings, day: date) -> list[Announcement]:
    """The day's announcements in the watched categories, of the kinds the digest lists."""
    return [a for a in store.announcements(day, settings.categories) if a.kind in settings.kinds]


@dataclass
class DayPool:
    """A day's papers scored without a model: keyword hits, gazetteer companies and the heuristic interest
    (its reason in every output language). What the interest question and the final order start from."""

    day: date
    announcements: list[Announcement]
    papers: dict[str, Paper]
    hits: dict[str, list[KeywordHit]]
    companies: dict[str, list[CompanyHit]]
    interests: dict[str, Interest]  # heuristic; a model's score replaces it in order_day
    gazetteer: Gazetteer
    muted: dict[str, list[MuteHit]] = field(default_factory=dict)  # the reader's muted papers, and why
    mute_mode: str = "drop"

    @property
    def pool(self) -> list[Paper]:
        return [self.papers[a.arxiv_id] for a in self.announcements]

    @property
    def scored(self) -> list[Paper]:
        """The papers a model scores: a dropped paper is never listed, so its score would be money spent
        on nothing; a demoted one may still be listed on a quiet day."""
        if self.mute_mode != "drop" or not self.muted:
            return self.pool
        return [p for p in self.pool if p.arxiv_id not in self.muted]

    def ranked(self, interests: dict[str, Interest] | None = None) -> list[Ranked]:
        chosen = {**self.interests, **(interests or {})}
        return [
            Ranked(
                self.papers[a.arxiv_id],
                a,
                self.hits[a.arxiv_id],
                self.companies[a.arxiv_id],
                chosen[a.arxiv_id],
            )
            for a in self.announcements
        ]


def prepare_day(store: Store, settings: RankSettings, day: date) -> DayPool:
    anns = announced(store, settings, day)
    papers = store.get_papers(a.arxiv_id for a in anns)
    anns = [a for a in anns if a.arxiv_id in papers]
    pool = [papers[a.arxiv_id] for a in anns]
    lang = settings.language
    groups = settings.keywords.groups
    matcher = KeywordMatcher(groups, settings.keywords.aliases)
    gazetteer = Gazetteer.load()
    hits = {p.arxiv_id: matcher.match(p.title, p.abstract, p.comment or "") for p in pool}
    companies = {p.arxiv_id: gazetteer.detect(p, lang) for p in pool}
    scorer = HeuristicInterest(settings.interests, groups)
    sims = scorer.similarities(pool)
    interests = scorer.score(pool, hits, companies, lang, sims)
    for other in settings.languages:  # the same score, its evidence said in each output language
        said = scorer.score(pool, hits, _company_names(companies, other), other, sims)
        for pid, interest in interests.items():
            interest.reasons[other] = said[pid].reason
    muted = Muter(settings.muted, settings.keywords.aliases).check_all(pool)
    return DayPool(day, anns, papers, hits, companies, interests, gazetteer, muted, settings.muted.mode)


def certain_places(store: Store, settings: RankSettings, day: DayPool) -> dict[str, int]:
    """Papers whose place in the top N is certain before any interest score is known, with the lowest place
    each can end at ({} when the reader's personal ranking will re-order the day: it weighs the scores)."""
    if personal_history_exists(store, settings.personal, settings.categories, day.day):
        return {}
    worst = worst_positions(day.ranked(), list(settings.order))
    # A muted paper goes last, which only moves the others up: their worst places still hold.
    return {pid: place for pid, place in worst.items() if place <= settings.top_n and pid not in day.muted}


def order_day(
    store: Store, settings: RankSettings, day: DayPool, interests: dict[str, Interest]
) -> list[Ranked]:
    """The day in the configured order with the model's scores where there are any, then the reader's
    personal re-rank: every paper's explanation says which features and library papers put it there.
    Muted papers go after every other one, marked with what muted them (rank/muted.py)."""
    ordered = order_ranked(day.ranked(interests), list(settings.order))
    ordered = personal_rerank(
        store,
        settings.personal,
        settings.keywords.groups,
        settings.keywords.aliases,
        settings.categories,
        day.day,
        ordered,
    )
    return apply_mutes(ordered, day.muted, day.mute_mode)


def companies_from_html(
    top: list[Ranked], day: DayPool, settings: RankSettings, source: AuthorBlockSource, stats: RunStats
) -> None:
    """The paper's own author block settles the company before any model is asked (rank/affiliations.py);
    what it read rides on the ranked paper for the company question. Network and files only, no store:
    the pipeline runs it in a worker thread while the day's model calls go on."""
    html_affiliations, stats.author_blocks = companies_from_author_blocks(
        top, day.gazetteer, settings.language, source
    )
    with_html_affiliations(top, html_affiliations)


def rank_day(
    texts: TextService,
    settings: RankSettings,
    day: date,
    *,
    stats: RunStats | None = None,
    progress: Progress = no_progress,
    ask_companies: bool = True,
    save: bool = True,
    author_blocks: AuthorBlockSource | None = None,
) -> list[Ranked]:
    """Rank the day and save it (`paperradar rank`, a stored day's publish, `run --estimate`). Heuristic
    reasons are written in every output language; a model's interest answer and the company question go
    through `texts` (cached, failures recorded). The daily run does the same steps inside its one queue
    (pipeline/day.py). `author_blocks`: where to read the top papers' HTML author blocks from ([sources]
    company_from_html); None skips that step."""
    store = texts.store
    stats = stats if stats is not None else RunStats()
    pool = prepare_day(store, settings, day)
    batch = texts.ask_many(interest_requests(texts, pool.scored, settings.language, settings.profile))
    interests = interests_from(batch, pool.scored, pool.interests, settings.language, stats)
    ordered = order_day(store, settings, pool, interests)
    top = split_muted(ordered)[0][: settings.top_n]
    if author_blocks is not None:
        companies_from_html(top, pool, settings, author_blocks, stats)
    if ask_companies:
        llm_companies(texts, top, settings.language, stats)
    if save:  # `run --estimate` ranks without keeping it
        store.save_ranks(day, ordered, texts.run_id)
    progress("rank", len(ordered), len(ordered))
    return ordered


def _company_names(companies: dict[str, list[CompanyHit]], language: str) -> dict[str, list[CompanyHit]]:
    """The gazetteer's companies with their names in `language` (a model's answer keeps its own name)."""
    gazetteer = Gazetteer.load()
    return {
        pid: [
            replace(c, name=gazetteer.display_name(c.company, language)) if c.field != "llm" else c
            for c in hits
        ]
        for pid, hits in companies.items()
    }


def localize(ranked: list[Ranked], settings: RankSettings, language: str) -> list[Ranked]:
    """The day's ranking as a reader of `language` sees it: same order and scores; company names and the
    interest reason in that language when there is one (a model's reason in another language is kept and
    the digest says which language it is in)."""
    companies = _company_names({r.paper.arxiv_id: r.companies for r in ranked}, language)
    out = []
    for r in ranked:
        interest = r.interest
        if language in interest.reasons:
            interest = replace(interest, reason=interest.reasons[language])
        out.append(replace(r, companies=companies[r.paper.arxiv_id], interest=interest))
    return out
