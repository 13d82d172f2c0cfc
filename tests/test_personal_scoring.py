"""Personal scores: features, the formula, explanations, followed authors, ratings, the pipeline hook."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from paperradar.models import Interest, Paper, Ranked
from paperradar.rank.personal import PersonalConfig, PersonalRanker, Positive, ordered
from paperradar.rank.personal.embeddings import paper_text
from paperradar.rank.personal.hook import history_from_store, personal_rerank
from paperradar.rank.personal.library import import_library
from paperradar.rank.personal.scoring import History, author_matches, percentile, submission_key
from paperradar.sources import read_jsonl
from paperradar.store import Store

FIX = Path(__file__).parent / "fixtures" / "personal"
DAY = date(2026, 3, 2)
GROUPS = {"technical": ["recommendation", "retrieval", "ranking"]}


@pytest.fixture(scope="module")
def corpus() -> dict[str, Paper]:
    return {p.arxiv_id: p for p, _ in read_jsonl(FIX / "listings-cs-ir-sample.jsonl.gz")}


def _positive(paper: Paper, days_ago: int = 3) -> Positive:
    added = datetime.combine(DAY - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC)
    return Positive(f"arxiv:{paper.arxiv_id}", paper.title, paper_text(paper), added, paper.arxiv_id, paper)


def _recsys_history(corpus: dict[str, Paper]) -> History:
    """A reader of sequential/negative-sampling recommendation papers; shown one day of the listing."""
    liked = ["2602.18283", "2602.19728", "2602.18759", "2602.18249"]
    shown = [p for i, p in sorted(corpus.items()) if i.startswith("2602.18") or i.startswith("2602.19")]
    return History(
        cutoff=DAY - timedelta(days=1),
        positives=[_positive(corpus[i]) for i in liked],
        impressions=[(DAY - timedelta(days=5), shown)],
        background=[p for i, p in sorted(corpus.items()) if i < "2602.2"],
    )


def _pool(corpus: dict[str, Paper]) -> list[Paper]:
    return [p for i, p in sorted(corpus.items()) if i >= "2602.2"][:30]


def test_percentile_and_submission_order() -> None:
    assert percentile([3.0, 1.0, 2.0]).tolist() == [1.0, 0.0, 0.5]
    assert percentile([1.0, 1.0, 2.0]).tolist() == [0.25, 0.25, 1.0]
    assert percentile([5.0]).tolist() == [0.5]
    newer = Paper("2603.00001", "t", [], "a")
    older = Paper("2602.99999", "t", [], "a")
    ancient = Paper("hep-th/9901001", "t", [], "a", published=datetime(1999, 1, 1, tzinfo=UTC))
    assert submission_key(newer) > submission_key(older) > submission_key(ancient)


def test_author_matching() -> None:
    authors = ["Yann LeCun", "José Hernández-Orallo", "Ke Cheng"]
    assert author_matches(["yann lecun"], authors) == ["Yann LeCun"]
    assert author_matches(["Y. LeCun"], authors) == ["Yann LeCun"]
    assert author_matches(["Jose Hernandez-Orallo"], authors) == ["José Hernández-Orallo"]
    assert author_matches(["Kai Cheng", "Geoffrey Hinton"], authors) == []


def test_config_validation() -> None:
    cfg = PersonalConfig(weights={"similarity": 5})
    assert cfg.weights["similarity"] == 5 and cfg.weights["recency"] == 2.0  # merged with the defaults
    with pytest.raises(ValidationError, match="unknown weight"):
        PersonalConfig(weights={"popularity": 1})
    with pytest.raises(ValidationError):
        PersonalConfig(half_lif_days=3)  # extra="forbid": a typo is an error
    with pytest.raises(ValidationError):
        PersonalConfig(embedder="bert")


def test_recsys_reader_gets_recsys_papers_first(corpus: dict[str, Paper]) -> None:
    ranker = PersonalRanker(PersonalConfig(), GROUPS)
    pool = _pool(corpus)
    scores = ordered(ranker.score(pool, _recsys_history(corpus)))
    top = [s.arxiv_id for s in scores[:8]]
    titles = " ".join(corpus[i].title.lower() for i in top)
    assert "recommend" in titles
    first = scores[0]
    assert set(first.features) >= {"similarity", "model", "recency", "keywords", "team", "authors", "llm"}
    exp = first.explanation
    assert exp["nearest"] and {"arxiv_id", "title", "similarity"} <= set(exp["nearest"][0])
    assert exp["nearest"][0]["similarity"] >= exp["nearest"][-1]["similarity"]
    assert exp["terms"] and all(isinstance(t, str) for t in exp["terms"])
    assert abs(sum(exp["contributions"].values()) - exp["score"]) < 1e-3
    assert [s.rank for s in scores] == list(range(1, len(pool) + 1))


def test_scores_are_deterministic_and_order_independent(corpus: dict[str, Paper]) -> None:
    pool = _pool(corpus)
    a = ordered(PersonalRanker(PersonalConfig(), GROUPS).score(pool, _recsys_history(corpus)))
    b = ordered(PersonalRanker(PersonalConfig(), GROUPS).score(pool[::-1], _recsys_history(corpus)))
    assert [s.arxiv_id for s in a] == [s.arxiv_id for s in b]
    assert [s.explanation for s in a] == [s.explanation for s in b]


def test_followed_author_boost_says_so(corpus: dict[str, Paper]) -> None:
    pool = _pool(corpus)
    plain = ordered(PersonalRanker(PersonalConfig(), GROUPS).score(pool, _recsys_history(corpus)))
    target = next(corpus[s.arxiv_id] for s in plain[::-1] if corpus[s.arxiv_id].authors)
    name = target.authors[0]
    boosted = ordered(
        PersonalRanker(PersonalConfig(followed_authors=[name]), GROUPS).score(pool, _recsys_history(corpus))
    )
    rank_of = {s.arxiv_id: s.rank for s in boosted}
    assert rank_of[target.arxiv_id] < {s.arxiv_id: s.rank for s in plain}[target.arxiv_id]
    item = next(s for s in boosted if s.arxiv_id == target.arxiv_id)
    assert item.explanation["followed_authors"] == [name] and item.features["authors"] == 1.0


def test_llm_score_counts_only_when_model_made(corpus: dict[str, Paper]) -> None:
    pool = _pool(corpus)[:10]
    ranker = PersonalRanker(PersonalConfig(), GROUPS)
    heuristic = {p.arxiv_id: Interest(5, "r", "heuristic") for p in pool}
    model = {p.arxiv_id: Interest(5 if i == 0 else 1, "r", "deepseek-chat") for i, p in enumerate(pool)}
    h = ranker.score(pool, _recsys_history(corpus), interests=heuristic)
    assert all(s.features["llm"] == 0 for s in h)
    m = ranker.score(pool, _recsys_history(corpus), interests=model)
    assert m[0].features["llm"] == 1.0 and m[0].explanation["llm"] == {"score": 5, "model": "deepseek-chat"}


def test_empty_history_and_empty_pool(corpus: dict[str, Paper]) -> None:
    ranker = PersonalRanker(PersonalConfig(), GROUPS)
    empty = History(cutoff=DAY, positives=[])
    pool = _pool(corpus)[:5]
    scores = ranker.score(pool, empty)
    assert len(scores) == 5 and "model" not in scores[0].features  # nothing to learn from
    assert ranker.score([], empty) == []


def test_history_refuses_later_items(corpus: dict[str, Paper]) -> None:
    h = _recsys_history(corpus)
    h.positives.append(_positive(corpus["2602.19728"], days_ago=0))  # added on DAY > cutoff
    with pytest.raises(ValueError, match="later items"):
        PersonalRanker(PersonalConfig()).score(_pool(corpus), h)


def test_library_only_reader_still_gets_a_model(corpus: dict[str, Paper]) -> None:
    h = _recsys_history(corpus)
    h.impressions = []  # never shown anything: random background papers are the negatives
    scores = PersonalRanker(PersonalConfig()).score(_pool(corpus), h)
    assert "model" in scores[0].features and scores[0].explanation["model_terms"] is not None


def _store_with_day(tmp_path: Path) -> Store:
    store = Store(tmp_path / "p.db")
    papers, anns = [], []
    for paper, paper_anns in read_jsonl(FIX / "listings-cs-ir-sample.jsonl.gz"):
        papers.append(paper)
        anns.extend(paper_anns)
    store.save_papers(papers)
    store.save_announcements(anns)
    return store


def _ranked(store: Store, day: date) -> list[Ranked]:
    anns = store.announcements(day, ["cs.IR"])
    papers = store.get_papers(a.arxiv_id for a in anns)
    return [
        Ranked(papers[a.arxiv_id], a, [], [], Interest(1, "", "heuristic"), rank=n)
        for n, a in enumerate(anns, start=1)
    ]


def _rerank(store: Store, day: date, ranked: list[Ranked], **personal: Any) -> list[Ranked]:
    """The daily run's personal re-rank with the watched category cs.IR and the test keyword groups."""
    return personal_rerank(store, PersonalConfig(**personal), GROUPS, {}, ["cs.IR"], day, ranked)


def test_hook_without_reader_data_keeps_order(tmp_path: Path) -> None:
    with _store_with_day(tmp_path) as store:
        day = date(2026, 3, 2)
        ranked = _ranked(store, day)
        assert _rerank(store, day, ranked) == ranked
        assert _rerank(store, day, ranked, enabled=False) == ranked


def test_library_and_ratings_change_the_next_ranking(tmp_path: Path) -> None:
    with _store_with_day(tmp_path) as store:
        day = date(2026, 3, 2)
        import_library(store, [FIX / "zotero-export.json", FIX / "arxiv-ids.txt"])
        first = _rerank(store, day, _ranked(store, day))
        assert all("personal" in r.explanation for r in first)
        assert [r.rank for r in first] == list(range(1, len(first) + 1))
        last = first[-1].paper.arxiv_id
        store.rate(last, 1)
        store.rate(first[0].paper.arxiv_id, -1)
        second = _rerank(store, day, _ranked(store, day))
        rank2 = {r.paper.arxiv_id: r.rank for r in second}
        assert rank2[last] < len(first)  # the up-rated paper moved up
        assert rank2[first[0].paper.arxiv_id] > 1  # the down-rated one left the top
        store.rate(last, 0)  # clear: the rating no longer counts
        hist = history_from_store(store, PersonalConfig(), day, ["cs.IR"])
        assert last not in {p.arxiv_id for p in hist.positives}


def test_hook_explanations_are_json(tmp_path: Path) -> None:
    import json

    with _store_with_day(tmp_path) as store:
        day = date(2026, 3, 2)
        import_library(store, [FIX / "zotero-export.bib"])
        ranked = _rerank(store, day, _ranked(store, day), followed_authors=["Adamya Shyam"])
        text = json.dumps([r.explanation for r in ranked])
        assert "nearest" in text and np.isfinite(ranked[0].explanation["personal"]["score"])
        store.save_ranks(day, ranked, None)  # the store accepts the explanation as it is
        personal = store.ranks(day)[0].explanation["personal"]
        assert isinstance(personal, dict) and personal["nearest"]


def test_model_learns_where_in_the_pool_the_reader_picks(corpus: dict[str, Paper]) -> None:
    """A reader who, whatever the topic, picks each day's most recently submitted paper: with the position
    features the model learns it from the days they were shown; without them it cannot."""
    import random

    papers = sorted(corpus.values(), key=lambda p: p.arxiv_id)
    random.Random(7).shuffle(papers)
    days = [papers[i : i + 12] for i in range(0, 12 * 14, 12)]
    train, test = days[:10], days[10:]
    freshest = [max(day, key=submission_key) for day in days]
    history = History(
        cutoff=DAY - timedelta(days=1),
        positives=[_positive(f, days_ago=20 - n) for n, f in enumerate(freshest[:10])],
        impressions=[(DAY - timedelta(days=20 - n), day) for n, day in enumerate(train)],
    )

    def model_percentile(on: bool) -> float:
        ranker = PersonalRanker(PersonalConfig(position_features=on))
        out = []
        for day, fresh in zip(test, freshest[10:], strict=True):
            scores = {s.arxiv_id: s for s in ranker.score(day, history)}
            out.append(scores[fresh.arxiv_id].normalized["model"])
        return float(np.mean(out))

    with_position, without = model_percentile(True), model_percentile(False)
    assert with_position >= 0.9 and without < with_position - 0.2, (with_position, without)


@pytest.mark.parametrize("rated_after_days", [0, 2])  # eval's picks: 0; a real run's ratings: later
def test_formula_weights_are_learned_from_the_readers_days(
    corpus: dict[str, Paper], rated_after_days: int
) -> None:
    """A reader who picks each day's paper with the most authors: the learned formula puts its largest
    weight on team size; with fewer than five such days the configured weights stay."""
    import random

    from paperradar.rank.personal.formula import MIN_DAYS, learn_weights

    papers = sorted(corpus.values(), key=lambda p: p.arxiv_id)
    random.Random(3).shuffle(papers)
    days = [papers[i : i + 13] for i in range(0, 13 * 12, 13)]
    biggest = [max(day, key=lambda p: (len(p.authors), p.arxiv_id)) for day in days]

    def history(n_days: int) -> History:
        return History(
            cutoff=DAY - timedelta(days=1),
            positives=[
                _positive(b, days_ago=30 - n - rated_after_days) for n, b in enumerate(biggest[:n_days])
            ],
            impressions=[(DAY - timedelta(days=30 - n), day) for n, day in enumerate(days[:n_days])],
        )

    ranker = PersonalRanker(PersonalConfig(learn_weights=True))
    weights = ranker._prepare(history(12)).learned
    assert weights is not None and max(weights, key=lambda k: weights[k]) == "team", weights
    assert sum(weights.values()) == pytest.approx(sum(PersonalConfig().weights[k] for k in weights), rel=1e-3)
    assert learn_weights(ranker, history(MIN_DAYS - 1), ranker._prepare(history(MIN_DAYS - 1))) is None
    scores = ranker.score(days[-1], history(11))
    assert scores[0].explanation["contributions"].get("team", 0) > 0
    assert scores[0].explanation["formula"] == "weights learned from your shown days"
    few = ranker.score(days[-1], history(MIN_DAYS - 1))
    assert few[0].explanation["formula"] == "configured weights"
