"""`paperradar eval` without a file: how paperradar ranked for this reader, from the archive alone.

The judged data comes from what the store already holds for the reader (the Store given: one reader's
view of the archive when several share it):

* relevant papers  the reader's up-ratings (their latest rating, given up to the end of the window), each
                   on the announcement day its paper was in the pool: the latest day, on or before the
                   rating, on which the paper was listed in the reader's categories. An up-rating whose
                   paper was never listed there (a paper found through search) cannot be judged: counted
                   as `up_not_in_listings`; one rated in the window of a paper listed before it, as
                   `up_listed_before_window`.
* negatives        the reader's down-ratings: in a judged day's pool they are ordinary non-relevant
                   papers; in the history (below) they are `History.negatives`, as in the daily run.
* pools            the stored announcement days of the last `weeks` weeks ending `until` (today): each
                   day's pool is every paper announced that day in the reader's categories. A day with no
                   up-rating cannot be judged (`days_without_up_ratings`).
* history          per judged day D, everything dated before D and nothing later: the library items added
                   before D, the ratings given before D (their state at the end of D - 1), the days those
                   ratings were made on (impressions) and the papers announced in the 180 days before
                   (background), built by `run.history_until` plus the library and the down-ratings, then
                   checked by `History.check` (and here for the negatives too).

How much history a judged day sees (`refresh`, measured in docs/BENCHMARKS.md):
* "week" (the default): everything dated before the first day of its week of the window (the window is
  cut into 7-day weeks from its first day). Ratings given inside the window count from the next week on.
* "day": everything dated before the day itself, as paperradar's daily run knew it that morning.
* "window": one cutoff at the window's start, as `paperradar eval --picks --train-until`.
Why "week": one cutoff would judge a reader who began rating inside the window on a history without any
of their ratings (the figure would answer "how would paperradar have ranked with what it knew four weeks
ago", not "how did it rank for you"); "day" answers that best but fits every ranker again for every judged
day (paperradar's learned formula and tf-idf, the baselines' tf-idf and SVM: about 10-40 s a day on the
shared cs.IR data), so four weeks cost minutes. "week" fits `weeks` times, and still never shows a judged
day anything from that day or later.

Library items are history only, never judged: their date is when they were added to Zotero (or imported),
not a day the reader was shown a pool, so they cannot say which paper of which day the reader wanted.
"""

from __future__ import annotations

import time as clock
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from paperradar.evaluate.metrics import day_metrics
from paperradar.evaluate.run import (
    EvalReport,
    Pick,
    Pool,
    Ranker,
    default_rankers,
    format_table,
    history_until,
)
from paperradar.models import Paper
from paperradar.rank.config import KeywordsConfig
from paperradar.rank.personal.config import PersonalConfig
from paperradar.rank.personal.embeddings import get_embedder, paper_text
from paperradar.rank.personal.history import History, Positive
from paperradar.rank.personal.library import LibraryItem
from paperradar.store import Store

DEFAULT_WEEKS = 4
RATE_HINT = "rate papers with `paperradar rate ID up` or the web UI's buttons"


@dataclass
class OwnEval:
    """The result: the metrics table (None when nothing could be judged), the counts, and a message
    saying truthfully why there is no table or why it rests on little data."""

    first_day: date
    until: date
    weeks: int
    categories: list[str]
    report: EvalReport | None
    counts: dict[str, int] = field(default_factory=dict)
    message: str | None = None
    message_key: str | None = None  # no_days | no_up_ratings | none_judged | few_days (text/eval_labels.py)
    seconds: float = 0.0
    history: str = "week"  # how much history a judged day sees: `refresh` (module docstring)

    @property
    def judged_days(self) -> int:
        return len(self.report.days) if self.report else 0

    @property
    def judged_up_ratings(self) -> int:
        return sum(d["picks"] for d in self.report.days) if self.report else 0

    def summary(self) -> dict[str, dict[str, float]]:
        return self.report.summary() if self.report else {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_day": self.first_day.isoformat(),
            "until": self.until.isoformat(),
            "weeks": self.weeks,
            "categories": self.categories,
            "history": self.history,
            "judged_days": self.judged_days,
            "judged_up_ratings": self.judged_up_ratings,
            "message": self.message,
            "message_key": self.message_key,
            "seconds": round(self.seconds, 3),
            "summary": self.summary(),
            "days": self.report.days if self.report else [],
            "counts": self.counts,
        }


def rankers_for(personal: PersonalConfig, keywords: KeywordsConfig) -> list[Ranker]:
    """paperradar as the reader configured it and the four baselines (as `paperradar eval --picks`)."""
    return default_rankers(personal, keywords.groups, keywords.aliases, get_embedder(personal))


# -- the judged data ------------------------------------------------------------------------------------
def _end_of(day: date) -> datetime:
    """The last second of `day` (UTC): ratings are stored to the second, compared as ISO text."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) - timedelta(seconds=1)


def _listed_on(store: Store, arxiv_id: str, rated: date, categories: Sequence[str]) -> date | None:
    days = store.listing_days(arxiv_id, rated, categories)
    return max(days) if days else None


@dataclass
class _Rated:
    arxiv_id: str
    value: int
    when: datetime
    day: date | None  # the announcement day its paper was in the pool (see the module docstring)


class _Archive:
    """The reader's ratings, mapped to days once, and the stored pools read once per day."""

    def __init__(self, store: Store, categories: Sequence[str]):
        self.store = store
        self.categories = list(categories)
        self._day_of: dict[tuple[str, date], date | None] = {}
        self._pools: dict[date, list[str]] = {}

    def rated(self, until: datetime) -> list[_Rated]:
        """Each paper's latest rating given up to `until`, with its announcement day; cleared ones out."""
        out = []
        for arxiv_id, value, when in self.store.rating_history(until):
            if value == 0:
                continue
            key = (arxiv_id, when.date())
            if key not in self._day_of:
                self._day_of[key] = _listed_on(self.store, arxiv_id, when.date(), self.categories)
            out.append(_Rated(arxiv_id, value, when, self._day_of[key]))
        return out

    def pool(self, day: date) -> list[str]:
        if day not in self._pools:
            self._pools[day] = [a.arxiv_id for a in self.store.announcements(day, self.categories or None)]
        return self._pools[day]


REFRESH = ("week", "day", "window")
HISTORY_WORDS = {
    "week": "everything dated before each day's week",
    "day": "everything dated before each day",
    "window": "everything dated before the window",
}


def cutoff_for(day: date, first: date, refresh: str) -> date:
    """The last day a judged day's history may hold (see `refresh` in the module docstring)."""
    if refresh == "day":
        return day - timedelta(days=1)
    if refresh == "week":
        return first + timedelta(days=7 * ((day - first).days // 7) - 1)
    if refresh == "window":
        return first - timedelta(days=1)
    raise ValueError(f"refresh is one of {', '.join(REFRESH)}")


def history_until_day(archive: _Archive, cutoff: date) -> tuple[History, dict[str, int]]:
    """The reader as known at the end of `cutoff`: library, ratings, impressions, background."""
    store = archive.store
    rated = archive.rated(_end_of(cutoff))
    ups = [r for r in rated if r.value > 0]
    # The up-ratings as dated picks (dated by the rating, not the listing: the reader knew it then), and
    # the days something was rated on as pools (what the reader was shown): run.history_until's inputs.
    picks = [Pick(r.when.date(), r.arxiv_id) for r in ups]
    shown_days = sorted({r.day for r in rated if r.day is not None and r.day <= cutoff})
    pools = [Pool(d, "", archive.pool(d)) for d in shown_days]
    history, counts = history_until(store, picks, pools, cutoff, archive.categories)
    for p in history.positives:
        p.source = "rating"
    rated_ids = {p.arxiv_id for p in history.positives}
    library = [LibraryItem.from_record(r) for r in store.library.items(until=cutoff)]
    lib_papers = store.get_papers(i.arxiv_id for i in library if i.arxiv_id)
    from_library = []
    for item in library:
        if item.arxiv_id and item.arxiv_id in rated_ids:
            continue  # up-rated as well: one positive per paper
        paper = lib_papers.get(item.arxiv_id or "")
        added = item.added or datetime.combine(cutoff, time(12), tzinfo=UTC)
        from_library.append(
            Positive(
                key=item.key,
                title=item.title,
                text=paper_text(paper) if paper else item.text,
                added=added,
                arxiv_id=item.arxiv_id,
                paper=paper,
                source="library",
                authors=list(item.authors),
            )
        )
    history.positives = from_library + history.positives  # library first, as the daily run orders them
    downs = [r for r in rated if r.value < 0]
    negatives = store.get_papers(r.arxiv_id for r in downs)
    history.negatives = [negatives[r.arxiv_id] for r in downs if r.arxiv_id in negatives]
    history.check()
    late = [r.arxiv_id for r in downs if r.when.date() > cutoff]
    if late:  # History.check does not see the negatives' dates: the same rule, here
        raise ValueError(f"history with cutoff {cutoff} holds later down-ratings: {late[:5]}")
    counts = {**counts, "history_library": len(from_library), "history_down_ratings": len(downs)}
    return history, counts


def evaluate_own(
    store: Store,
    categories: Sequence[str],
    rankers: Sequence[Ranker],
    *,
    weeks: int = DEFAULT_WEEKS,
    until: date | None = None,
    refresh: str = "week",
    keep_rankings: bool = False,
) -> OwnEval:
    """Rank every judged day of the last `weeks` weeks ending `until` (default: today, UTC) with every
    ranker, each day against the history dated before it; see the module docstring for the data."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    if refresh not in REFRESH:
        raise ValueError(f"refresh is one of {', '.join(REFRESH)}")
    started = clock.perf_counter()
    until = until or datetime.now(UTC).date()
    first = until - timedelta(days=7 * weeks - 1)
    categories = list(dict.fromkeys(categories))
    archive = _Archive(store, categories)
    result = OwnEval(first, until, weeks, categories, None, history=refresh)
    histories: dict[date, tuple[History, dict[str, int]]] = {}
    c: Counter[str] = Counter()
    up_on: dict[date, set[str]] = defaultdict(set)
    down_on: dict[date, set[str]] = defaultdict(set)
    for r in archive.rated(_end_of(until)):
        if r.when.date() < first:
            continue  # rated before the window: history only
        sign = "up" if r.value > 0 else "down"
        c[f"{sign}_ratings"] += 1
        if r.day is None:
            c[f"{sign}_not_in_listings"] += 1
        elif r.day < first:
            c[f"{sign}_listed_before_window"] += 1
        else:
            (up_on if r.value > 0 else down_on)[r.day].add(r.arxiv_id)
    days = [d for d in store.announcement_days(categories or None) if first <= d <= until]
    c["announcement_days"] = len(days)
    report = EvalReport(first - timedelta(days=1), [r.name for r in rankers])
    for key in ("judged_days", "days_without_up_ratings", "up_already_in_history", "pool_missing_metadata"):
        c[key] += 0
    for day in days:
        if not up_on[day]:
            c["days_without_up_ratings"] += 1
            continue
        cutoff = cutoff_for(day, first, refresh)
        if cutoff not in histories:
            histories[cutoff] = history_until_day(archive, cutoff)
        history, hcounts = histories[cutoff]
        assert history.cutoff < day, "a judged day must come after its history"
        known = {p.arxiv_id for p in history.positives if p.arxiv_id}
        ids = list(dict.fromkeys(archive.pool(day)))
        papers = store.get_papers(ids)
        c["pool_missing_metadata"] += sum(1 for i in ids if i not in papers)
        candidates: list[Paper] = [papers[i] for i in ids if i in papers and i not in known]
        in_pool = {p.arxiv_id for p in candidates}
        relevant = up_on[day] & in_pool
        c["up_already_in_history"] += len(up_on[day] & known)
        if not relevant:
            c["days_without_up_ratings"] += 1
            continue
        c["judged_days"] += 1
        c["judged_down_ratings"] += len(down_on[day] & in_pool)
        row: dict[str, Any] = {
            "date": day.isoformat(),
            "category": ",".join(categories),
            "n": len(candidates),
            "picks": len(relevant),
            "down": len(down_on[day] & in_pool),
            "history_until": cutoff.isoformat(),
            "history_positives": len(history.positives),
            "history_library": hcounts["history_library"],
            "metrics": {},
        }
        for ranker in rankers:
            ranking = ranker.rank(list(candidates), history)  # the day's history and pool: nothing else
            row["metrics"][ranker.name] = day_metrics(ranking, relevant)
            if keep_rankings:
                row.setdefault("rankings", {})[ranker.name] = ranking
        report.days.append(row)
    report.counts = dict(sorted(c.items()))
    result.report = report if report.days else None
    result.counts = report.counts
    result.message_key, result.message = _message(result)
    result.seconds = clock.perf_counter() - started
    return result


FEW_DAYS = 3  # fewer judged days than this: the figures are said to rest on little data


def _message(result: OwnEval) -> tuple[str | None, str | None]:
    """(key, text): why there is no table, or why it rests on little data; None when nothing to add."""
    c = result.counts
    span = f"the {result.weeks} week{'s' if result.weeks != 1 else ''} ending {result.until}"
    if not c.get("announcement_days"):
        return "no_days", (
            f"no announcement days stored in {span} for {', '.join(result.categories) or 'any category'}: "
            "run `paperradar run` daily (`paperradar eval --until DAY` judges an older stretch of the archive)"
        )
    if not c.get("up_ratings"):
        return "no_up_ratings", f"no up-ratings in {span}: {RATE_HINT}"
    if result.report is None:
        lost = []
        if c.get("up_not_in_listings"):
            lost.append(f"{c['up_not_in_listings']} of papers never listed in your categories")
        if c.get("up_listed_before_window"):
            lost.append(f"{c['up_listed_before_window']} of papers listed before the window")
        if c.get("up_already_in_history"):
            lost.append(f"{c['up_already_in_history']} of papers already in your library or rated earlier")
        why = "; ".join(lost) or "none falls on a stored announcement day"
        return (
            "none_judged",
            f"{c['up_ratings']} up-ratings in {span}, but none can be judged ({why}): {RATE_HINT}",
        )
    if result.judged_days < FEW_DAYS:
        return "few_days", (
            f"only {result.judged_days} judged day{'s' if result.judged_days != 1 else ''}: "
            f"the figures will move a lot as you rate more ({RATE_HINT})"
        )
    return None, None


def format_own(result: OwnEval) -> str:
    """The plain-text answer: the window, the table (as `paperradar eval` prints it) or the message."""
    head = (
        f"your ratings, {result.first_day} .. {result.until} ({result.weeks} weeks, "
        f"{', '.join(result.categories)}): {result.judged_days} judged days, "
        f"{result.judged_up_ratings} up-ratings; history: {HISTORY_WORDS[result.history]}"
    )
    lines = [head]
    if result.report is not None:
        lines += format_table(result.report).splitlines()[1:]
    else:
        lines.append("counts: " + ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())))
    if result.message:
        lines.append(result.message)
    return "\n".join(lines)
