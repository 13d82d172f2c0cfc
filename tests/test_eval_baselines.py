"""The eval baselines follow their originals (arxiv-sanity-lite, zotero-arxiv-daily): checked against the
originals' recipes written out here in their own terms, on the small cs.IR fixture and on hand-made cases."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

import numpy as np
import pytest

from paperradar.evaluate import evaluate, history_until, read_picks, read_pools
from paperradar.evaluate.baselines import ArxivSanityLiteRanker, ZoteroArxivDailyRanker, asl_text
from paperradar.models import Paper
from paperradar.rank.personal.history import History, Positive
from paperradar.sources.intake import import_file
from paperradar.store import Store

FIX = Path(__file__).parent / "fixtures" / "personal"
LISTINGS = FIX / "listings-cs-ir-sample.jsonl.gz"

CUTOFF = date(2026, 2, 27)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    with Store(tmp_path_factory.mktemp("baselines") / "eval.db") as s:
        import_file(s, LISTINGS)  # the listings as `paperradar import` takes them in
        yield s


def _original_svm_rank(history: History, pool: list[Paper]) -> list[str]:
    """arxiv-sanity-lite as written (but for the small-database rule of baselines.py): compute.py 25-57 over the whole database (the day's papers included),
    then send_emails.py 103-123: LinearSVC on every row, decision values, only the day's papers kept."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    db: dict[str, Paper] = {p.arxiv_id: p.paper for p in history.positives if p.paper and p.arxiv_id}
    tagged = set(db)
    for p in (*history.background, *pool):
        db.setdefault(p.arxiv_id, p)
    pids = list(db)
    v = TfidfVectorizer(input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
                        lowercase=True, analyzer="word", stop_words="english",
                        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
                        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
                        max_df=0.1 if len(pids) >= 200 else 1.0, min_df=5 if len(pids) >= 200 else 1)  # fmt: skip
    corpus = [" ".join([db[p].title, db[p].abstract, " ".join(db[p].authors)]) for p in pids]
    x = v.fit_transform(corpus).astype(np.float32)
    y = np.array([1.0 if p in tagged else 0.0 for p in pids], dtype=np.float32)
    clf = LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=0.01, random_state=0)
    clf.fit(x, y)
    s = clf.decision_function(x)
    wanted = {p.arxiv_id for p in pool}
    return [pids[i] for i in np.argsort(-s) if pids[i] in wanted]


def test_arxiv_sanity_lite_ranks_as_the_original(store: Store) -> None:
    picks = read_picks(FIX / "picks.jsonl")
    pools = read_pools(FIX / "pools.jsonl")
    history, _ = history_until(store, picks, pools, CUTOFF, ["cs.IR"])
    ranker = ArxivSanityLiteRanker()
    known = {p.arxiv_id for p in history.positives}
    for pool in [p for p in pools if p.date > CUTOFF][:2]:
        papers = store.get_papers(pool.ids)
        candidates = [papers[i] for i in pool.ids if i in papers and i not in known]
        ours = ranker.rank(candidates, history)
        original = _original_svm_rank(history, candidates)
        # A small database: no shortcut. Only the row order differs (liblinear's coordinate descent then
        # stops at a slightly different point within tol), which swaps near-ties by up to three places.
        assert sorted(ours) == sorted(original) and ours[0] == original[0]
        assert max(abs(ours.index(i) - n) for n, i in enumerate(original)) <= 3


def _paper(i: str, title: str, abstract: str, authors: Sequence[str] = ("A B",)) -> Paper:
    return Paper(i, title, list(authors), abstract, categories=["cs.IR"])


def _positive(p: Paper, day: date) -> Positive:
    added = datetime.combine(day, time(12), tzinfo=UTC)
    return Positive(f"arxiv:{p.arxiv_id}", p.title, f"{p.title}. {p.abstract}", added, p.arxiv_id, p, "pick")


def _filler(n: int) -> list[Paper]:
    words = [
        "graph",
        "vision",
        "speech",
        "robot",
        "protein",
        "galaxy",
        "quantum",
        "market",
        "climate",
        "data",
    ]
    return [
        _paper(
            f"2601.{k:05d}", f"On {words[k % 10]} {k}", f"We study {words[k % 10]} and {words[(k + 3) % 10]}."
        )
        for k in range(n)
    ]


def test_arxiv_sanity_lite_reads_authors_and_learns_against_the_database() -> None:
    # The text is title + abstract + author names (compute.py 50-51): the only signal here is an author.
    liked = [_paper(f"2602.0000{k}", f"Paper {k}", "We study things.", ["Ada Lovelace"]) for k in range(3)]
    history = History(
        cutoff=date(2026, 2, 1),
        positives=[_positive(p, date(2026, 1, 20)) for p in liked],
        background=_filler(40),
    )
    pool = [
        _paper("2602.10000", "Another paper", "We study things.", ["Alan Turing"]),
        _paper("2602.10001", "Another paper", "We study things.", ["Ada Lovelace"]),
    ]
    assert ArxivSanityLiteRanker().rank(pool, history)[0] == "2602.10001"
    assert "Ada Lovelace" in asl_text(pool[1].title, pool[1].abstract, pool[1].authors)
    with pytest.raises(ValueError):
        ArxivSanityLiteRanker("everything")


class BagOfWords:
    """A deterministic stand-in for a sentence embedder: hashed word counts, L2-normalised."""

    name = "bag-of-words"
    dim = 64
    cacheable = True

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for n, text in enumerate(texts):
            for word in text.lower().split():
                out[n, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)


def test_zotero_arxiv_daily_scores_as_the_original() -> None:
    library = [
        _paper("2601.00001", "Old", "alpha beta gamma"),
        _paper("2601.00002", "Middle", "delta epsilon zeta"),
        _paper("2601.00003", "New", "eta theta iota"),
        _paper("2601.00004", "No abstract", ""),  # executor.py 48: dropped
    ]
    days = [date(2026, 1, 1), date(2026, 1, 10), date(2026, 1, 20), date(2026, 1, 25)]
    history = History(
        cutoff=date(2026, 1, 31), positives=[_positive(p, d) for p, d in zip(library, days, strict=True)]
    )
    pool = [
        _paper("2602.00001", "eta theta iota", "alpha beta gamma"),  # the oldest item's abstract
        _paper("2602.00002", "alpha beta gamma", "eta theta iota"),  # the newest item's abstract
        _paper("2602.00003", "Unrelated", "kappa lambda mu"),
    ]
    embedder = BagOfWords()
    ranker = ZoteroArxivDailyRanker(embedder)
    order = ranker.rank(pool, history)
    # base.py 11-16 written out: newest first, w = 1/(1+log10(rank+1)) normalised, 10 * sum w * cos
    corpus = [library[2], library[1], library[0]]
    w = 1 / (1 + np.log10(np.arange(3) + 1))
    w = w / w.sum()
    vec = embedder.embed([p.abstract for p in corpus])
    scores = [10 * float((embedder.embed([p.abstract]) @ vec.T).ravel() @ w) for p in pool]
    assert order == [pool[i].arxiv_id for i in np.argsort(-np.array(scores), kind="stable")]
    assert order[0] == "2602.00002"  # abstracts only: the title does not count, the newest item weighs most
    assert all("No abstract" not in t and "Old" not in t for call in embedder.calls for t in call)
    assert ranker.name == "zotero-arxiv-daily"
    assert ZoteroArxivDailyRanker(None).name == "zotero-arxiv-daily[tfidf]"


def test_baselines_run_in_eval_on_the_fixture(store: Store) -> None:
    picks = read_picks(FIX / "picks.jsonl")
    pools = read_pools(FIX / "pools.jsonl")
    rankers = [ArxivSanityLiteRanker(), ArxivSanityLiteRanker("shown"), ZoteroArxivDailyRanker(None)]
    report = evaluate(store, picks, pools, CUTOFF, rankers, categories=["cs.IR"])
    summary = report.summary()
    assert list(summary) == ["arxiv-sanity-lite", "arxiv-sanity-lite[shown]", "zotero-arxiv-daily[tfidf]"]
    assert all(
        0.0 <= m["recall@10"] <= 1.0 and m["days"] == report.counts["judged_pools"] for m in summary.values()
    )
    # deterministic: the same ranking from a fresh ranker
    day = report.days[0]
    pool = next(p for p in pools if p.date.isoformat() == day["date"])
    history, _ = history_until(store, picks, pools, CUTOFF, ["cs.IR"])
    papers = store.get_papers(pool.ids)
    known = {p.arxiv_id for p in history.positives}
    candidates = [papers[i] for i in pool.ids if i in papers and i not in known]
    assert ArxivSanityLiteRanker().rank(candidates, history) == ArxivSanityLiteRanker().rank(
        candidates, history
    )
