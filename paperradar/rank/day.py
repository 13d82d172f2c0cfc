"""One day's ranking: the day's announcements, keyword hits, companies, interest (model where there is
one, heuristic otherwise), the configured order, then the reader's personal re-rank, muted papers last;
saved to the store (under the store's reader)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from paperradar.llm.seam import WriteRequest
from paperradar.llm.texts import TextService
from paperradar.models import Announcement, CompanyHit, Paper, Progress, Ranked, RunStats, no_progress
from paperradar.rank.affiliations import AuthorBlockSource, companies_from_author_blocks
from paperradar.rank.companies import Gazetteer
from paperradar.rank.config import RankSettings
from paperradar.rank.interest import HeuristicInterest
from paperradar.rank.keywords import KeywordMatcher
from paperradar.rank.model_scores import llm_companies, llm_interests, with_html_affiliations
from paperradar.rank.muted import MuteHit, Muter, apply_mutes, split_muted
from paperradar.rank.order import order_ranked
from paperradar.rank.personal.hook import personal_rerank
from paperradar.store import Store


def announced(store: Store, settings: RankSettings, day: date) -> list[Announcement]:
    """The day's announcements in the watched categories, of the kinds the digest lists."""
    return [a for a in store.announcements(day, settings.categories) if a.kind in settings.kinds]


def _day_pool(store: Store, settings: RankSettings, day: date) -> tuple[list[Announcement], dict[str, Paper]]:
    anns = announced(store, settings, day)
    papers = store.get_papers(a.arxiv_id for a in anns)
    return [a for a in anns if a.arxiv_id in papers], papers


def _scored(pool: list[Paper], muted: Mapping[str, list[MuteHit]], settings: RankSettings) -> list[Paper]:
    """The papers a model scores: a dropped paper is never listed, so its score would be money spent on
    nothing; a demoted one may still be listed on a quiet day."""
    if settings.muted.mode != "drop" or not muted:
        return pool
    return [p for p in pool if p.arxiv_id not in muted]


def interest_requests(store: Store, settings: RankSettings, day: date) -> list[WriteRequest]:
    """The interest requests ranking `day` makes for this reader (the same pool rank_day scores), so a run
    for several readers can ask all of them in one queue before each reader's ranking reads them back."""
    anns, papers = _day_pool(store, settings, day)
    pool = [papers[a.arxiv_id] for a in anns]
    muted = Muter(settings.muted, settings.keywords.aliases).check_all(pool)
    return [
        WriteRequest(p, "interest", settings.language, settings.profile)
        for p in _scored(pool, muted, settings)
    ]


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
    """Rank the day and save it. Heuristic reasons are written in every output language; a model's
    interest answer and the company question go through `texts` (cached, failures recorded). A daily run
    passes ask_companies=False and asks the company question in the day's one queue instead.
    `author_blocks`: where to read the top papers' HTML author blocks from ([sources] company_from_html),
    which settle the company before any model is asked; None skips that step."""
    store = texts.store
    stats = stats if stats is not None else RunStats()
    anns, papers = _day_pool(store, settings, day)
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
    interests.update(
        llm_interests(texts, _scored(pool, muted, settings), interests, lang, stats, settings.profile)
    )
    ranked = [
        Ranked(papers[a.arxiv_id], a, hits[a.arxiv_id], companies[a.arxiv_id], interests[a.arxiv_id])
        for a in anns
    ]
    ordered = order_ranked(ranked, list(settings.order))
    # The reader's library, ratings and followed authors re-order the day when there are any; every
    # paper's explanation then says which features and which library papers put it where it is.
    ordered = personal_rerank(
        store,
        settings.personal,
        settings.keywords.groups,
        settings.keywords.aliases,
        settings.categories,
        day,
        ordered,
    )
    # Muted papers go after every other one, marked with what muted them (rank/muted.py).
    ordered = apply_mutes(ordered, muted, settings.muted.mode)
    top = split_muted(ordered)[0][: settings.top_n]
    # The paper's own author block settles the company before any model is asked (rank/affiliations.py).
    if author_blocks is not None:
        html_affiliations, stats.author_blocks = companies_from_author_blocks(
            top, gazetteer, lang, author_blocks
        )
        with_html_affiliations(top, html_affiliations)
    if ask_companies:
        llm_companies(texts, top, lang, stats)
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
