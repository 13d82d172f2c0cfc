"""Candidate pools for `paperradar eval`, built from a category's daily listings and a reader's picks.

The picks are dated by the *site* day D on which the reader published them; the papers come from an
arXiv listing day L on or shortly before D: usually the day before, sometimes the same day, after a
weekend up to 3 days earlier (a Monday listing read on Tuesday, a Friday one read on Saturday, Sunday or
Monday). The rule, chosen to need no assumption about the site's publishing lag (which changed during the
shared period: the previous day's listing in February, the same day's from March):

1. A pick's listing day is the latest day L with D - MAX_LAG_DAYS <= L <= D on which its paper was
   listed in the category. A pick whose paper was never listed there is excluded and counted
   (`not_in_listings`); one listed only outside the window likewise (`outside_window`).
2. The pool of site day D is every paper listed on the listing days of D's picks (the union when
   D's picks come from several days, e.g. a site day after a holiday).
3. Papers the reader picked on an earlier site day leave the pool: the site features a paper once, so on
   a Sunday that re-reads Friday's listing, Saturday's picks are no longer candidates (kept, they would
   be strong non-picks that punish a good ranker for the site's no-repeat rule). The few picks of a paper
   already picked earlier are excluded and counted (`repeat_picks`).
4. A site day none of whose picks maps to a listing day gets no pool.

Choosing the listing days from the picks tells a ranker which days the reader read, never which papers
they picked: every paper of those days is a candidate and all rankers get the same pools.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

from paperradar.evaluate.run import Pick, Pool
from paperradar.models import Announcement
from paperradar.sources import read_jsonl

MAX_LAG_DAYS = 4  # the Friday listing picked on the next Monday is 3 days; one spare for holidays


def listing_days(
    listings_jsonl: Path, category: str = "cs.IR", kinds: Collection[str] | None = None
) -> dict[str, list[date]]:
    """Paper id -> the sorted days it appeared in `category`'s listing (new, cross-list or replacement;
    only the announcement `kinds` given, e.g. {"new"} for the papers whose primary category it is)."""
    anns = (ann for _paper, paper_anns in read_jsonl(Path(listings_jsonl)) for ann in paper_anns)
    return announced_days(anns, category, kinds)


def announced_days(
    announcements: Iterable[Announcement], category: str, kinds: Collection[str] | None = None
) -> dict[str, list[date]]:
    """`listing_days` over announcements already read (a caller that imported the file keeps them)."""
    days: dict[str, set[date]] = defaultdict(set)
    for ann in announcements:
        if ann.category == category and (kinds is None or ann.kind in kinds):
            days[ann.arxiv_id].add(ann.day)
    return {k: sorted(v) for k, v in days.items()}


def build_pools(
    listings_jsonl: Path | dict[str, list[date]],
    picks: Sequence[Pick],
    category: str = "cs.IR",
    max_lag_days: int = MAX_LAG_DAYS,
) -> tuple[list[Pool], dict[str, int]]:
    """Pools per site day (see the module docstring) and counts of what was left out and why."""
    listed = listings_jsonl if isinstance(listings_jsonl, dict) else listing_days(listings_jsonl, category)
    by_day: dict[date, list[str]] = defaultdict(list)
    for arxiv_id, listed_days in listed.items():
        for day in listed_days:
            by_day[day].append(arxiv_id)
    stats: Counter[str] = Counter()
    picks_by_site_day: dict[date, list[Pick]] = defaultdict(list)
    for pick in picks:
        picks_by_site_day[pick.date].append(pick)
    picked_before: set[str] = set()
    pools: list[Pool] = []
    for site_day in sorted(picks_by_site_day):
        day_picks = picks_by_site_day[site_day]
        sources: set[date] = set()
        mapped = 0
        for pick in day_picks:
            days = listed.get(pick.arxiv_id)
            if not days:
                stats["not_in_listings"] += 1
                continue
            window = [d for d in days if site_day - timedelta(days=max_lag_days) <= d <= site_day]
            if not window:
                stats["outside_window"] += 1
                continue
            if pick.arxiv_id in picked_before:
                stats["repeat_picks"] += 1
                continue
            sources.add(window[-1])
            mapped += 1
        if sources:
            ids = sorted({i for d in sources for i in by_day[d]} - picked_before)
            pools.append(Pool(site_day, category, ids))
            stats["pools"] += 1
            stats["pool_papers"] += len(ids)
            stats["pool_picks"] += mapped
        picked_before.update(p.arxiv_id for p in day_picks)
    stats["picks"] = len(picks)
    return pools, dict(stats)
