"""Personal ranking inside a daily run: the reader's history from the store, and the re-rank of a day.

`rank.day.rank_day` calls `personal_rerank(store, personal, groups, aliases, categories, day, ordered)` after
`order_ranked`; with
`[personal] enabled = false` (or nothing known about the reader) the order is returned unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from paperradar.models import Ranked
from paperradar.rank.personal.config import PersonalConfig
from paperradar.rank.personal.embeddings import get_embedder, paper_text
from paperradar.rank.personal.history import History, Positive
from paperradar.rank.personal.library import LibraryItem
from paperradar.rank.personal.scoring import PersonalRanker, ordered
from paperradar.store import Store
from paperradar.store.views import announced_ids

log = logging.getLogger(__name__)

BACKGROUND_DAYS = 90  # unlabelled recent papers: the idf corpus and the random negatives
BACKGROUND_MAX = 4000


def history_from_store(
    store: Store, cfg: PersonalConfig, day: date, categories: Sequence[str] = (), now: datetime | None = None
) -> History:
    """What the store knows about the reader for ranking `day`: library items and up-ratings (positives),
    down-ratings, the days they rated something on (impressions: what those days announced), and recent
    unlabelled papers. Ratings given up to `now` count, so a rating changes the next run's ranking."""
    now = now or datetime.now(UTC)
    cutoff = max(day, now.date())
    positives: list[Positive] = []
    library = [LibraryItem.from_record(r) for r in store.library.items(until=cutoff)]
    lib_papers = store.get_papers(i.arxiv_id for i in library if i.arxiv_id)
    for item in library:
        paper = lib_papers.get(item.arxiv_id or "")
        positives.append(
            Positive(
                key=item.key,
                title=item.title,
                text=paper_text(paper) if paper else item.text,
                added=item.added or now,
                arxiv_id=item.arxiv_id,
                paper=paper,
                source="library",
                authors=list(item.authors),
            )
        )
    ratings = store.rating_history(now)
    rated = store.get_papers(r[0] for r in ratings)
    have = {p.arxiv_id for p in positives if p.arxiv_id}
    negatives = []
    rated_days: set[date] = set()
    for arxiv_id, value, when in ratings:
        paper = rated.get(arxiv_id)
        if paper is None or value == 0:
            continue
        rated_days.update(store.listing_days(arxiv_id, when.date(), categories))
        if value > 0 and arxiv_id not in have:
            positives.append(
                Positive(f"arxiv:{arxiv_id}", paper.title, paper_text(paper), when, arxiv_id, paper, "rating")
            )
        elif value < 0:
            negatives.append(paper)
    impressions = []
    for shown_day in sorted(d for d in rated_days if d < day):
        anns = store.announcements(shown_day, categories or None)
        papers = store.get_papers(a.arxiv_id for a in anns)
        impressions.append((shown_day, [papers[a.arxiv_id] for a in anns if a.arxiv_id in papers]))
    background = _background(store, day, categories)
    return History(cutoff, positives, negatives, impressions, background)


def _background(store: Store, day: date, categories: Sequence[str]) -> list[Any]:
    # The BACKGROUND_DAYS days before the day being ranked, at most BACKGROUND_MAX papers, newest first.
    ids = announced_ids(store, day - timedelta(days=BACKGROUND_DAYS), day, categories, newest=BACKGROUND_MAX)
    papers = store.get_papers(ids)
    return [papers[i] for i in sorted(papers)]


def personal_history_exists(store: Store, pcfg: PersonalConfig, categories: Sequence[str], day: date) -> bool:
    """Whether personal_rerank will re-order `day` (it does when anything is known about the reader)."""
    if not pcfg.enabled:
        return False
    if pcfg.followed_authors or store.library.count():
        return True
    return bool(store.rating_history(datetime.now(UTC)))


def personal_rerank(
    store: Store,
    pcfg: PersonalConfig,
    groups: Mapping[str, list[str]],
    aliases: Mapping[str, list[str]],
    categories: Sequence[str],
    day: date,
    ranked: list[Ranked],
) -> list[Ranked]:
    """Re-order a day's ranked papers by the personal score.

    Each item's explanation gains a "personal" entry (score, contributions, nearest library papers,
    terms, followed authors); the keyword/interest/company fields are left as they were."""
    if not pcfg.enabled or not ranked:
        return ranked
    categories = list(categories)
    history = history_from_store(store, pcfg, day, categories)
    if not history.positives and not history.negatives and not pcfg.followed_authors:
        return ranked  # nothing known about the reader: the configured order stands
    embedder = get_embedder(pcfg)
    ranker = PersonalRanker(pcfg, dict(groups), dict(aliases), embedder, store.embeddings)
    by_id = {r.paper.arxiv_id: r for r in ranked}
    scores = ranker.score(
        [r.paper for r in ranked],
        history,
        interests={k: r.interest for k, r in by_id.items()},
        keyword_hits={k: r.keyword_hits for k, r in by_id.items()},
    )
    out = []
    for score in ordered(scores):
        item = by_id[score.arxiv_id]
        item.rank = score.rank
        item.explanation = {**item.explanation, "order": ["personal"], "personal": score.explanation}
        out.append(item)
    return out
