"""Personal scores for a day's pool: similarity to the library, a learned model, recency, followed authors,
keyword hits, the LLM interest score, team size; one configurable formula; an explanation per paper.

The ranker sees only a `History` (what the reader liked, disliked and was shown, all on or before
`History.cutoff`) and the day's pool. Nothing else goes in, which is what lets `paperradar eval` promise
that a judged day's picks are never seen: they are simply not in any argument.

Features (raw value -> what the formula uses)
* similarity  time-decayed mean cosine to the library: item j weighs 0.5 ** (age_j / half_life_days)
* model       decision value of a logistic regression (or linear SVM) on tf-idf words (+ the neural
              embedding when one is configured) + small dense features (team, title length, keywords,
              the paper's submission-order place in the pool it was shown in), trained on positives vs
              down-ratings, unpicked papers of days the reader looked at, and random background papers
* recency     submission order within the pool (arXiv ids are assigned in submission order)
* keywords    distinct configured keywords hit
* team        number of authors (log)
* coauthors   time-decayed count of library items sharing an author (explanation names them; weight 0
              by default: it did not help on validation)
* authors     1 when a followed author wrote it (absolute boost; the explanation names them)
* llm         (score - 1) / 4 of a model-made interest score; 0 for heuristic scores (absolute)
Rank-normalised features are percentiles within the pool: 1 for the best paper, 0 for the worst. Their
weights are the configured ones, or (`learn_weights`) fitted to the reader's own shown days: formula.py.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from paperradar.models import Interest, KeywordHit, Paper
from paperradar.rank.personal.config import PersonalConfig
from paperradar.rank.personal.embeddings import (
    Embedder,
    TfidfEmbedder,
    cosine,
    embed_papers,
    paper_text,
)
from paperradar.rank.personal.formula import learn_weights
from paperradar.rank.personal.history import (
    History,
    Positive,
    percentile,
    pool_positions,
    submission_key,
)
from paperradar.rank.personal.threads import one_blas_thread
from paperradar.store.embeddings import EmbeddingTable

ABSOLUTE_FEATURES = frozenset(("authors", "llm"))


@dataclass(slots=True)
class PersonalScore:
    arxiv_id: str
    score: float
    features: dict[str, float]  # raw values
    normalized: dict[str, float]  # what the formula multiplied
    explanation: dict[str, Any]
    rank: int = 0


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.lower())
    return " ".join(re.findall(r"[a-z0-9]+", "".join(c for c in text if not unicodedata.combining(c))))


def author_matches(followed: Sequence[str], authors: Sequence[str]) -> list[str]:
    """Followed names found among `authors`: equal after folding case/accents, or same last name and
    compatible first initial ("Y. LeCun" ~ "Yann LeCun")."""
    out = []
    for want in followed:
        w = _fold(want).split()
        if not w:
            continue
        for author in authors:
            a = _fold(author).split()
            if not a:
                continue
            if a == w or (a[-1] == w[-1] and a[0][0] == w[0][0] and (len(a[0]) == 1 or len(w[0]) == 1)):
                out.append(author)
                break
    return out


def _dense_meta(paper: Paper, keyword_count: int, position: float | None) -> list[float]:
    """Dense features the learned model gets besides the text (scaled to about [0, 3]). `position` is the
    paper's submission-order percentile in the pool it was shown in (None: the feature is off); its 10th
    power lets a linear model single out the freshest few, where one reader's picks cluster 4x."""
    meta = [math.log1p(len(paper.authors)), min(len(paper.title), 200) / 100.0, min(keyword_count, 6) / 2.0]
    if position is not None:
        meta += [position, position**10]
    return meta


@dataclass(slots=True)
class _Fitted:
    tfidf: TfidfEmbedder
    pos_tf: Any  # tf-idf rows of the positives (None without positives)
    decay: np.ndarray  # time-decay weight per positive
    pos_vec: np.ndarray | None  # neural embedding of the positives (None: tf-idf is the embedding)
    clf: Any  # the learned model, None with too little history
    by_author: dict[str, list[int]]  # folded author name -> positives they wrote
    learned: dict[str, float] | None = None  # formula weights fitted to the reader's days (formula.py)


# -- the ranker -----------------------------------------------------------------------------------------
class PersonalRanker:
    """Scores pools for one reader. Build once per run; `score` is deterministic for equal inputs."""

    def __init__(
        self,
        cfg: PersonalConfig,
        keyword_groups: dict[str, list[str]] | None = None,
        keyword_aliases: dict[str, list[str]] | None = None,
        embedder: Embedder | None = None,
        cache: EmbeddingTable | None = None,
    ) -> None:
        self.cfg = cfg
        self.embedder = embedder  # None or a TfidfEmbedder: the run's fitted tf-idf doubles as embedding
        self.cache = cache
        self._fitted: tuple[tuple[Any, ...], _Fitted] | None = None
        self._matcher = None
        if keyword_groups:
            from paperradar.rank.keywords import KeywordMatcher

            self._matcher = KeywordMatcher(keyword_groups, keyword_aliases)

    def keyword_hits(self, papers: Sequence[Paper]) -> dict[str, list[KeywordHit]]:
        if self._matcher is None:
            return {p.arxiv_id: [] for p in papers}
        return {p.arxiv_id: self._matcher.match(p.title, p.abstract, p.comment or "") for p in papers}

    def score(
        self,
        pool: Sequence[Paper],
        history: History,
        interests: dict[str, Interest] | None = None,
        keyword_hits: dict[str, list[KeywordHit]] | None = None,
    ) -> list[PersonalScore]:
        """Scores in pool order; sort with `ordered`. Never mutates its inputs."""
        history.check()
        pool = list(pool)
        if not pool:
            return []
        cfg = self.cfg
        hits = keyword_hits if keyword_hits is not None else self.keyword_hits(pool)
        kw_count = {p.arxiv_id: len({h.keyword for h in hits.get(p.arxiv_id, [])}) for p in pool}
        positives = history.positives

        fitted = self._prepare(history)
        tfidf, pos_tf = fitted.tfidf, fitted.pos_tf
        pool_tf = tfidf.embed([paper_text(p) for p in pool])

        raw: dict[str, np.ndarray] = {}
        nearest: list[list[tuple[int, float]]] = [[] for _ in pool]
        # Similarity: the configured embedder, or the tf-idf space when it is tf-idf (the default).
        if positives:
            sims = self._similarities(pool, pool_tf, fitted)
            raw["similarity"] = sims @ fitted.decay / fitted.decay.sum()
            for i in range(len(pool)):
                top = np.argsort(-sims[i], kind="stable")[: cfg.explain_top]
                nearest[i] = [(int(j), float(sims[i, j])) for j in top]
        else:
            raw["similarity"] = np.zeros(len(pool))
        model_terms: list[list[str]] = [[] for _ in pool]
        if fitted.clf is not None:
            x = self._features(pool_tf, pool, kw_count, pool_positions(pool))
            raw["model"] = fitted.clf.decision_function(x)
            model_terms = self._model_terms(fitted.clf, pool_tf.shape[1], pool_tf, tfidf)
        raw["recency"] = np.array([submission_key(p) for p in pool])
        raw["keywords"] = np.array([kw_count[p.arxiv_id] for p in pool], dtype=float)
        raw["team"] = np.array([math.log1p(len(p.authors)) for p in pool])
        shared_authors = [self._coauthors(p, fitted) for p in pool]
        raw["coauthors"] = np.array([sum(fitted.decay[j] for j in js) for js, _ in shared_authors])
        followed = [author_matches(cfg.followed_authors, p.authors) for p in pool]
        raw["authors"] = np.array([1.0 if f else 0.0 for f in followed])
        interests = interests or {}
        raw["llm"] = np.array([_llm_value(interests.get(p.arxiv_id)) for p in pool])

        weights_cfg = dict(cfg.weights)
        formula = "configured weights"
        if fitted.learned and "model" in raw:
            weights_cfg.update(fitted.learned)
            formula = "weights learned from your shown days"
        if "model" not in raw:  # too little history to learn from: similarity carries the model's weight
            weights_cfg["similarity"] = weights_cfg.get("similarity", 0.0) + weights_cfg.pop("model", 0.0)
        norm = {k: (v if k in ABSOLUTE_FEATURES else percentile(v)) for k, v in raw.items()}
        total = np.zeros(len(pool))
        for k in norm:
            total += weights_cfg.get(k, 0.0) * norm[k]
        shared = self._shared_terms(pool_tf, pos_tf, tfidf)
        out = []
        for i, paper in enumerate(pool):
            features = {k: round(float(v[i]), 6) for k, v in raw.items()}
            normalized = {k: round(float(v[i]), 4) for k, v in norm.items()}
            contributions = {
                k: round(weights_cfg.get(k, 0.0) * float(norm[k][i]), 4)
                for k in norm
                if weights_cfg.get(k, 0.0)
            }
            explanation: dict[str, Any] = {
                "score": round(float(total[i]), 4),
                "contributions": contributions,
                "nearest": [
                    {
                        "arxiv_id": positives[j].arxiv_id,
                        "key": positives[j].key,
                        "title": positives[j].title,
                        "similarity": round(s, 3),
                    }
                    for j, s in nearest[i]
                ],
                "terms": shared[i],
                "model_terms": model_terms[i],
                "formula": formula,
            }
            if followed[i]:
                explanation["followed_authors"] = followed[i]
            if shared_authors[i][1]:
                explanation["authors_in_library"] = shared_authors[i][1]
            llm = interests.get(paper.arxiv_id)
            if llm is not None and raw["llm"][i] > 0:
                explanation["llm"] = {"score": llm.score, "model": llm.mode}
            out.append(PersonalScore(paper.arxiv_id, float(total[i]), features, normalized, explanation))
        return out

    # -- pieces ---------------------------------------------------------------------------------------
    @staticmethod
    def _coauthors(paper: Paper, fitted: _Fitted) -> tuple[set[int], list[str]]:
        """Library items sharing an author with `paper`, and the shared names as the paper writes them."""
        items: set[int] = set()
        names: list[str] = []
        for author in paper.authors:
            hit = fitted.by_author.get(_fold(author))
            if hit:
                items.update(hit)
                names.append(author)
        return items, names

    def _similarities(self, pool: list[Paper], pool_tf: Any, fitted: _Fitted) -> np.ndarray:
        if fitted.pos_vec is None:
            return cosine(pool_tf, fitted.pos_tf)
        assert self.embedder is not None
        return cosine(embed_papers(self.embedder, pool, self.cache), fitted.pos_vec)

    def _prepare(self, history: History) -> _Fitted:
        """Everything that depends on the history alone, computed once per history (a run ranks one day;
        `eval` ranks many days against one history)."""
        key = history.fingerprint()
        if self._fitted is not None and self._fitted[0] == key:
            return self._fitted[1]
        positives = history.positives
        shown = [p for _, day in history.impressions for p in day]
        # One tf-idf space: fitted on everything in the history (deterministic order, no labels used).
        tfidf = TfidfEmbedder()
        corpus = [p.text for p in positives] + [paper_text(p) for p in (*shown, *history.negatives)]
        tfidf.fit(corpus + [paper_text(p) for p in history.background])
        pos_tf = tfidf.embed([p.text for p in positives]) if positives else None
        ages = np.array([max((history.cutoff - p.added.date()).days, 0) for p in positives], dtype=float)
        decay = 0.5 ** (ages / self.cfg.half_life_days)
        pos_vec = None
        if positives and self.embedder is not None and not isinstance(self.embedder, TfidfEmbedder):
            pos_vec = self._embed_positives(positives)
        clf = self._train(history, tfidf, pos_tf, shown)
        by_author: dict[str, list[int]] = {}
        for j, p in enumerate(positives):
            for author in p.paper.authors if p.paper else p.authors:
                by_author.setdefault(_fold(author), []).append(j)
        by_author.pop("", None)
        fitted = _Fitted(tfidf, pos_tf, decay, pos_vec, clf, by_author)
        if self.cfg.learn_weights and clf is not None:
            fitted.learned = learn_weights(self, history, fitted)
        self._fitted = (key, fitted)
        return fitted

    def _embed_positives(self, positives: list[Positive]) -> np.ndarray:
        assert self.embedder is not None
        # Positives that are store papers go through the cache; others (books, non-arXiv) are embedded fresh.
        with_paper = [p for p in positives if p.paper is not None]
        by_key: dict[str, np.ndarray] = {}
        if with_paper:
            vecs = embed_papers(self.embedder, [p.paper for p in with_paper if p.paper], self.cache)
            by_key.update({p.key: vecs[i] for i, p in enumerate(with_paper)})
        rest = [p for p in positives if p.paper is None]
        if rest:
            fresh = np.asarray(self.embedder.embed([p.text for p in rest]))
            by_key.update({p.key: fresh[i] for i, p in enumerate(rest)})
        return np.stack([by_key[p.key] for p in positives])

    def _features(
        self, text: Any, papers: Sequence[Paper], kw_count: dict[str, int], position: dict[str, float]
    ) -> Any:
        from scipy.sparse import csr_matrix, hstack

        on = self.cfg.position_features
        dense = np.array(
            [
                _dense_meta(p, kw_count.get(p.arxiv_id, 0), position.get(p.arxiv_id, 0.5) if on else None)
                for p in papers
            ],
            dtype=np.float32,
        )
        return hstack([text, csr_matrix(dense)], format="csr")

    def _train(
        self,
        history: History,
        tfidf: TfidfEmbedder,
        pos_tf: Any,
        shown: list[Paper],
    ) -> Any:
        cfg = self.cfg
        # The model learns what the reader picks among what they were shown: positives that were in a pool
        # they looked at. Library items from elsewhere (other fields, old papers) would teach it "not from
        # this feed" rather than taste, so they only count through the similarity -- unless nothing was
        # shown yet, when every positive is contrasted with random background papers.
        shown_ids = {p.arxiv_id for p in shown}
        in_feed = [i for i, p in enumerate(history.positives) if p.arxiv_id in shown_ids]
        if len(in_feed) < cfg.min_positives or not cfg.model_in_feed_only:
            in_feed = list(range(len(history.positives)))
        positives = [history.positives[i] for i in in_feed]
        if len(positives) < cfg.min_positives:
            return None
        from scipy.sparse import vstack

        # Negatives: down-ratings, what the reader was shown and did not pick, and random background papers.
        seen: set[str] = {p.arxiv_id for p in history.positives if p.arxiv_id}
        negatives: list[Paper] = []
        for paper in (*history.negatives, *shown):
            if paper.arxiv_id not in seen:
                seen.add(paper.arxiv_id)
                negatives.append(paper)
        pool_bg = [p for p in history.background if p.arxiv_id not in seen]
        rng = random.Random(cfg.seed)
        per_positive = (
            cfg.negatives_per_positive if shown or history.negatives else max(cfg.negatives_per_positive, 5)
        )
        k = min(len(pool_bg), per_positive * len(positives))
        negatives += rng.sample(pool_bg, k) if k else []
        if not negatives:
            return None
        pos_meta_papers = [
            p.paper or Paper(arxiv_id=p.key, title=p.title, authors=[], abstract=p.text) for p in positives
        ]
        hits = self.keyword_hits([*pos_meta_papers, *negatives])
        counts = {k: len({h.keyword for h in v}) for k, v in hits.items()}
        # Where each shown paper stood in its day's pool (papers never shown get the neutral 0.5).
        position: dict[str, float] = {}
        for _, day in history.impressions:
            for key, value in pool_positions(day).items():
                position.setdefault(key, value)
        x_pos = self._features(pos_tf[in_feed], pos_meta_papers, counts, position)
        x_neg = self._features(tfidf.embed([paper_text(p) for p in negatives]), negatives, counts, position)
        x = vstack([x_pos, x_neg], format="csr")
        y = np.r_[np.ones(x_pos.shape[0]), np.zeros(x_neg.shape[0])]
        if cfg.model == "svm":
            from sklearn.svm import LinearSVC

            clf: Any = LinearSVC(C=cfg.regularization, class_weight="balanced", max_iter=10_000)
        else:
            from sklearn.linear_model import LogisticRegression

            clf = LogisticRegression(C=cfg.regularization, class_weight="balanced", max_iter=2_000)
        with one_blas_thread():
            clf.fit(x, y)
        return clf

    def _model_terms(self, clf: Any, n_text: int, pool_tf: Any, tfidf: TfidfEmbedder) -> list[list[str]]:
        """Per paper, the terms with the largest positive coefficient x tf-idf value present in it."""
        return self._top_terms(pool_tf, np.asarray(clf.coef_).ravel()[:n_text], tfidf)

    def _shared_terms(self, pool_tf: Any, pos_tf: Any, tfidf: TfidfEmbedder) -> list[list[str]]:
        """Per paper, the top tf-idf terms it shares with the library (paper weight x library mean weight)."""
        if pos_tf is None or not tfidf.fitted:
            return [[] for _ in range(pool_tf.shape[0])]
        return self._top_terms(pool_tf, np.asarray(pos_tf.mean(axis=0)).ravel(), tfidf)

    def _top_terms(self, pool_tf: Any, weights: Any, tfidf: TfidfEmbedder) -> list[list[str]]:
        """Per paper, the terms whose tf-idf value x `weights` contributes most (positive only)."""
        terms = tfidf.terms()
        out = []
        for i in range(pool_tf.shape[0]):
            row = pool_tf.getrow(i)
            contrib = row.data * weights[row.indices]
            top = np.argsort(-contrib, kind="stable")[: max(self.cfg.explain_top * 2, 1)]
            out.append([str(terms[row.indices[j]]) for j in top if contrib[j] > 0])
        return out


def _llm_value(interest: Interest | None) -> float:
    # A heuristic score is already made of keywords and similarity: counting it again would double them.
    if interest is None or interest.mode == "heuristic":
        return 0.0
    return (min(max(interest.score, 1), 5) - 1) / 4.0


def ordered(scores: Sequence[PersonalScore]) -> list[PersonalScore]:
    """Best first; ties by arxiv_id so the order never depends on input order. Sets 1-based `rank`."""
    out = sorted(scores, key=lambda s: (-round(s.score, 9), s.arxiv_id))
    for rank, s in enumerate(out, start=1):
        s.rank = rank
    return out
