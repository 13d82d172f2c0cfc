"""One day's ranking: the day's announcements, keyword hits, companies, interest (model where there is
one, heuristic otherwise), the configured order, then the reader's personal re-rank; saved to the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from paperradar.llm import Backend
from paperradar.models import Announcement, Progress, Ranked, RunStats, no_progress
from paperradar.rank.affiliations import AuthorBlockSource, companies_from_author_blocks
from paperradar.rank.companies import Gazetteer
from paperradar.rank.config import RankSettings
from paperradar.rank.interest import HeuristicInterest
from paperradar.rank.keywords import KeywordMatcher
from paperradar.rank.model_scores import llm_companies, llm_interests
from paperradar.rank.order import order_ranked
from paperradar.rank.personal.hook import personal_rerank
from paperradar.store import Store


def announced(store: Store, settings: RankSettings, day: date) -> list[Announcement]:
    """The day's announcements in the watched categories, of the kinds the digest lists."""
    return [a for a in store.announcements(day, settings.categories) if a.kind in settings.kinds]


def rank_day(
    store: Store,
    backend: Backend,
    settings: RankSettings,
    day: date,
    *,
    run_id: int | None = None,
    refresh: Iterable[str] = (),
    stats: RunStats | None = None,
    progress: Progress = no_progress,
    author_blocks: AuthorBlockSource | None = None,
) -> list[Ranked]:
    """`author_blocks`: where to read the top papers' HTML author blocks from ([sources]
    company_from_html); None skips that step."""
    stats = stats if stats is not None else RunStats()
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
    interests = HeuristicInterest(settings.interests, groups).score(pool, hits, companies, lang)
    interests.update(llm_interests(store, backend, pool, interests, lang, run_id, stats, refresh))
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
    top = ordered[: settings.top_n]
    # The paper's own author block settles the company before any model is asked (rank/affiliations.py).
    html_affiliations: dict[str, list[str]] = {}
    if author_blocks is not None:
        html_affiliations, stats.author_blocks = companies_from_author_blocks(
            top, gazetteer, lang, author_blocks
        )
    llm_companies(store, backend, top, lang, run_id, stats, refresh, html_affiliations)
    store.save_ranks(day, ordered, run_id)
    progress("rank", len(ordered), len(ordered))
    return ordered


def localize(ranked: list[Ranked], settings: RankSettings, language: str) -> list[Ranked]:
    """The day's ranking as a reader of `language` sees it: same order and scores; company names and
    heuristic reasons in that language. A model's reason stays in the language it was asked in (asking
    again could give another score than the one the ranking used)."""
    gazetteer = Gazetteer.load()
    pool = [r.paper for r in ranked]
    hits = {r.paper.arxiv_id: r.keyword_hits for r in ranked}
    companies = {
        r.paper.arxiv_id: [
            replace(c, name=gazetteer.display_name(c.company, language)) if c.field != "llm" else c
            for c in r.companies
        ]
        for r in ranked
    }
    heuristic = HeuristicInterest(settings.interests, settings.keywords.groups).score(
        pool, hits, companies, language
    )
    out = []
    for r in ranked:
        interest = r.interest
        if interest.mode == "heuristic":
            interest = heuristic[r.paper.arxiv_id]
        out.append(replace(r, companies=companies[r.paper.arxiv_id], interest=interest))
    return out
