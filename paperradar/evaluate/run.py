"""`paperradar eval`: replay a reader's picks, rank each judged day's pool, score the rankings.

Inputs
* picks JSONL  {"date": "YYYY-MM-DD", "arxiv_id": "...", "category": "cs.IR" | null}  (the site day)
* pools JSONL  {"date": "YYYY-MM-DD", "category": "cs.IR", "pool": ["id", ...]}  (metadata in the store)
* train_until  picks on or before it are the reader's history; pools after it are judged

No leakage, by construction: for a judged day the rankers get that day's pool and a `History` built by
`history_until(train_until)` alone: picks dated on or before the cutoff, the pools of those days (what the
reader was shown) and unlabelled store papers announced on or before it. `evaluate` checks that the cutoff
is before every judged day, and `History.check` refuses anything dated later. A paper the history already
holds is taken out of a judged pool (the reader has it: ranking it would only measure memory).

Rankers compared in the same run
* paperradar       the default personal ranker (`paperradar.rank.personal`)
* random           seeded shuffle
* keywords         distinct configured keywords hit (the seed-002 tool's order), ties in seeded random order
* arxiv-sanity-lite   its tf-idf and per-tag LinearSVC, the picks as the tag (baselines.py)
* zotero-arxiv-daily  its time-decayed abstract similarity to the library, with a neural embedder
                      (the configured one; MiniLM in the shared-data run when installed), else a
                      tf-idf stand-in named "zotero-arxiv-daily[tfidf]"
                      (baselines.py says which lines of each original are followed and where not)
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from paperradar.errors import DataError
from paperradar.evaluate.baselines import ArxivSanityLiteRanker, ZoteroArxivDailyRanker
from paperradar.evaluate.metrics import METRICS, day_metrics
from paperradar.models import Paper
from paperradar.rank.personal.config import PersonalConfig
from paperradar.rank.personal.embeddings import Embedder, TfidfEmbedder, paper_text
from paperradar.rank.personal.history import History, Positive
from paperradar.rank.personal.scoring import PersonalRanker, ordered
from paperradar.store import Store
from paperradar.store.views import announced_ids

BACKGROUND_DAYS = 180  # unlabelled papers announced this long before the cutoff are "the rest"


@dataclass(frozen=True, slots=True)
class Pick:
    date: date
    arxiv_id: str
    category: str | None = None


@dataclass(slots=True)
class Pool:
    date: date
    category: str
    ids: list[str]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path} does not exist", hint="check the path") from None
    out = []
    for n, line in enumerate(lines, start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n}: not JSON: {exc}", hint="one JSON object per line") from None
    return out


def read_picks(path: Path) -> list[Pick]:
    out = []
    for n, d in enumerate(_read_jsonl(path), start=1):
        try:
            out.append(Pick(date.fromisoformat(d["date"]), str(d["arxiv_id"]), d.get("category")))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}:{n}: a pick needs date (YYYY-MM-DD) and arxiv_id ({exc})") from None
    return out


def read_pools(path: Path) -> list[Pool]:
    out = []
    for n, d in enumerate(_read_jsonl(path), start=1):
        try:
            out.append(Pool(date.fromisoformat(d["date"]), str(d.get("category") or ""), list(d["pool"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}:{n}: a pool needs date, category and pool ({exc})") from None
    return out


def write_pools(pools: Iterable[Pool], path: Path) -> None:
    lines = [json.dumps({"date": p.date.isoformat(), "category": p.category, "pool": p.ids}) for p in pools]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- rankers --------------------------------------------------------------------------------------------
class Ranker(Protocol):
    name: str

    def rank(self, pool: list[Paper], history: History) -> list[str]: ...


class PaperradarRanker:
    name = "paperradar"

    def __init__(
        self,
        cfg: PersonalConfig | None = None,
        keyword_groups: dict[str, list[str]] | None = None,
        keyword_aliases: dict[str, list[str]] | None = None,
        embedder: Embedder | None = None,
        name: str | None = None,
    ) -> None:
        self.cfg = cfg or PersonalConfig()
        self.ranker = PersonalRanker(self.cfg, keyword_groups, keyword_aliases, embedder)
        if name:
            self.name = name

    def rank(self, pool: list[Paper], history: History) -> list[str]:
        return [s.arxiv_id for s in ordered(self.ranker.score(pool, history))]


def _seeded_order(pool: list[Paper], seed: int, history: History) -> list[str]:
    ids = sorted(p.arxiv_id for p in pool)
    random.Random(f"{seed}:{history.cutoff}:{len(ids)}:{ids[:1]}").shuffle(ids)
    return ids


class RandomRanker:
    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def rank(self, pool: list[Paper], history: History) -> list[str]:
        return _seeded_order(pool, self.seed, history)


class KeywordRanker:
    name = "keywords"

    def __init__(
        self, groups: dict[str, list[str]], aliases: dict[str, list[str]] | None = None, seed: int = 0
    ):
        from paperradar.rank.keywords import KeywordMatcher

        self.matcher = KeywordMatcher(groups, aliases)
        self.seed = seed

    def rank(self, pool: list[Paper], history: History) -> list[str]:
        count = {p.arxiv_id: len(self.matcher.match(p.title, p.abstract, p.comment or "")) for p in pool}
        tie = {i: n for n, i in enumerate(_seeded_order(pool, self.seed, history))}
        return sorted(count, key=lambda i: (-count[i], tie[i]))


def default_keywords() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The keyword groups `paperradar init` writes (read from the template, so no config file is needed)."""
    import tomllib
    from importlib import resources

    text = resources.files("paperradar").joinpath("config_template.toml").read_text(encoding="utf-8")
    keywords = tomllib.loads(text).get("keywords", {})
    return dict(keywords.get("groups", {})), dict(keywords.get("aliases", {}))


def default_rankers(
    cfg: PersonalConfig | None = None,
    keyword_groups: dict[str, list[str]] | None = None,
    keyword_aliases: dict[str, list[str]] | None = None,
    embedder: Embedder | None = None,
    seed: int = 0,
    baseline_embedder: Embedder | None = None,
) -> list[Ranker]:
    """paperradar and the four baselines. zotero-arxiv-daily embeds with `baseline_embedder`, else the
    configured `embedder` when it is neural, else its tf-idf stand-in (`baselines.zotero_embedder` finds
    MiniLM when the extra is installed: the shared-data run uses it)."""
    if keyword_groups is None:
        keyword_groups, keyword_aliases = default_keywords()
    return [
        PaperradarRanker(cfg, keyword_groups, keyword_aliases, embedder),
        RandomRanker(seed),
        KeywordRanker(keyword_groups, keyword_aliases, seed),
        ArxivSanityLiteRanker(),
        ZoteroArxivDailyRanker(baseline_embedder or _neural(embedder)),
    ]


def _neural(embedder: Embedder | None) -> Embedder | None:
    return None if embedder is None or isinstance(embedder, TfidfEmbedder) else embedder


# -- history --------------------------------------------------------------------------------------------
def _background(store: Store, cutoff: date, categories: Sequence[str]) -> list[str]:
    # The BACKGROUND_DAYS days ending with the cutoff day itself (eval's history includes its last day).
    first = cutoff - timedelta(days=BACKGROUND_DAYS - 1)
    return announced_ids(store, first, cutoff + timedelta(days=1), categories)


def history_until(
    store: Store, picks: Sequence[Pick], pools: Sequence[Pool], cutoff: date, categories: Sequence[str] = ()
) -> tuple[History, dict[str, int]]:
    """The reader as known at the end of `cutoff`: nothing dated later is even read."""
    first: dict[str, date] = {}
    for pick in picks:
        if pick.date <= cutoff and (pick.arxiv_id not in first or pick.date < first[pick.arxiv_id]):
            first[pick.arxiv_id] = pick.date
    papers = store.get_papers(first)
    positives = [
        Positive(
            key=f"arxiv:{i}",
            title=papers[i].title,
            text=paper_text(papers[i]),
            added=datetime.combine(d, time(12), tzinfo=UTC),
            arxiv_id=i,
            paper=papers[i],
            source="pick",
        )
        for i, d in sorted(first.items(), key=lambda x: (x[1], x[0]))
        if i in papers
    ]
    shown_days = [p for p in pools if p.date <= cutoff]
    shown = store.get_papers(i for p in shown_days for i in p.ids)
    impressions = [(p.date, [shown[i] for i in p.ids if i in shown]) for p in shown_days]
    bg_ids = [i for i in _background(store, cutoff, categories) if i not in first]
    background = store.get_papers(bg_ids)
    history = History(
        cutoff=cutoff,
        positives=positives,
        impressions=impressions,
        background=[background[i] for i in bg_ids if i in background],
    )
    history.check()
    return history, {"history_picks": len(first), "history_missing_metadata": len(first) - len(positives)}


# -- the run --------------------------------------------------------------------------------------------
@dataclass
class EvalReport:
    train_until: date
    rankers: list[str]
    days: list[dict[str, Any]] = field(
        default_factory=list
    )  # per judged day: date, category, n, picks, metrics
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self, category: str | None = None) -> dict[str, dict[str, float]]:
        """Metrics averaged over the judged pools (of one category when given)."""
        days = [d for d in self.days if category is None or d["category"] == category]
        out: dict[str, dict[str, float]] = {}
        for name in self.rankers:
            rows = [d["metrics"][name] for d in days]
            out[name] = {m: (float(np.mean([r[m] for r in rows])) if rows else float("nan")) for m in METRICS}
            out[name]["days"] = len(rows)
            out[name]["picks"] = sum(d["picks"] for d in days)
        return out

    def categories(self) -> list[str]:
        return sorted({d["category"] for d in self.days})

    def as_dict(self) -> dict[str, Any]:
        return {
            "train_until": self.train_until.isoformat(),
            "summary": self.summary(),
            "days": self.days,
            "counts": self.counts,
        }


def evaluate(
    store: Store,
    picks: Sequence[Pick],
    pools: Sequence[Pool],
    train_until: date,
    rankers: Sequence[Ranker] | None = None,
    *,
    judge_until: date | None = None,
    categories: Sequence[str] = (),
    keep_rankings: bool = False,
) -> EvalReport:
    """Rank every judged pool (date > train_until, and <= judge_until when given) with every ranker."""
    rankers = list(rankers) if rankers is not None else default_rankers()
    history, counts = history_until(store, picks, pools, train_until, categories)
    known = {p.arxiv_id for p in history.positives}
    report = EvalReport(train_until, [r.name for r in rankers], counts=dict(counts))
    picked_on: dict[date, set[str]] = defaultdict(set)
    for pick in picks:
        picked_on[pick.date].add(pick.arxiv_id)
    judged = [p for p in pools if p.date > train_until and (judge_until is None or p.date <= judge_until)]
    c = report.counts
    for key in ("judged_pools", "skipped_no_picks", "pool_missing_metadata", "pool_already_in_history"):
        c.setdefault(key, 0)
    in_some_pool: set[tuple[date, str]] = set()
    for pool in sorted(judged, key=lambda p: (p.date, p.category)):
        assert history.cutoff < pool.date, "a judged day must come after the history cutoff"
        papers = store.get_papers(pool.ids)
        c["pool_missing_metadata"] += sum(1 for i in dict.fromkeys(pool.ids) if i not in papers)
        candidates = [papers[i] for i in dict.fromkeys(pool.ids) if i in papers and i not in known]
        c["pool_already_in_history"] += sum(1 for i in dict.fromkeys(pool.ids) if i in papers and i in known)
        ids = {p.arxiv_id for p in candidates}
        in_some_pool.update((pool.date, i) for i in ids)
        relevant = picked_on[pool.date] & ids
        if not relevant:
            c["skipped_no_picks"] += 1
            continue
        c["judged_pools"] += 1
        row: dict[str, Any] = {
            "date": pool.date.isoformat(),
            "category": pool.category,
            "n": len(candidates),
            "picks": len(relevant),
            "metrics": {},
        }
        for ranker in rankers:
            ranking = ranker.rank(list(candidates), history)  # the history and the pool: nothing else
            row["metrics"][ranker.name] = day_metrics(ranking, relevant)
            if keep_rankings:
                row.setdefault("rankings", {})[ranker.name] = ranking
        report.days.append(row)
    judged_dates = {p.date for p in judged}
    c["judged_picks_outside_pools"] = sum(
        1 for p in picks if p.date in judged_dates and (p.date, p.arxiv_id) not in in_some_pool
    )
    return report


def format_table(report: EvalReport) -> str:
    """A plain-text table: one row per ranker, averaged over judged days, plus the counts."""
    summary = report.summary()
    w = max([16, *(len(name) for name in summary)])
    head = f"{'ranker':<{w}} {'recall@5':>9} {'recall@10':>10} {'nDCG@10':>8} {'MRR':>6} {'days':>5} {'picks':>6}"
    lines = [f"judged after {report.train_until} ({report.counts.get('judged_pools', 0)} pools)", head]
    for name, m in summary.items():
        lines.append(
            f"{name:<{w}} {m['recall@5']:>9.3f} {m['recall@10']:>10.3f} {m['ndcg@10']:>8.3f} {m['mrr']:>6.3f} "
            f"{int(m['days']):>5} {int(m['picks']):>6}"
        )
    lines.append("counts: " + ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items())))
    return "\n".join(lines)
