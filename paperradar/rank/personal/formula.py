"""The formula's weights learned from the reader's own days (`[personal] learn_weights`).

Hand-set weights suit one kind of reader: the defaults were chosen for a cs.IR reader, and keyword hits
mean nothing to someone who picks cs.CV papers. So the weights of the rank-normalised features can instead
be fitted to what this reader did. For every day in the history on which they were shown a pool and picked
from it, each shown paper gets its features *as they were known that day*:

* similarity to what the reader had picked or rated before that day (never to that day's picks);
* the learned model's score, cross-fitted: the days are split in FOLDS groups and a day is scored by a
  model trained without its group, so a day's own picks never score it;
* keywords, team size and submission order, which need no history.

Each is a percentile within that day's pool, as in the final formula. A logistic regression over them
(picked or not) says how much each feature separates picks from the rest. Its coefficients, clipped at 0
(a feature may be useless, not a reason to rank a paper lower) and scaled to the configured weights'
total, replace the configured weights of those features. Absolute features (followed authors, the LLM
score) keep their configured weights. With fewer than MIN_DAYS such days the configured weights stay.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from paperradar.rank.personal.embeddings import paper_text
from paperradar.rank.personal.history import History, percentile, pool_positions, submission_key
from paperradar.rank.personal.threads import one_blas_thread

if TYPE_CHECKING:  # the ranker calls learn_weights with itself
    from paperradar.rank.personal.scoring import PersonalRanker, _Fitted

LEARNED = ("similarity", "model", "recency", "keywords", "team")
MIN_DAYS = 5
FOLDS = 3


def learn_weights(ranker: PersonalRanker, history: History, fitted: _Fitted) -> dict[str, float] | None:
    """Weights for LEARNED from the history's shown days, or None when there is too little to learn from."""
    # A positive's label day is the last day it was shown on or before it was liked: the pick's day in
    # `eval`, the announcement day of a paper rated later in a real run.
    liked_on = {p.arxiv_id: p.added.date() for p in history.positives if p.arxiv_id}
    label_day: dict[str, date] = {}
    for day, shown in sorted(history.impressions, key=lambda x: x[0]):
        for p in shown:
            if p.arxiv_id in liked_on and day <= liked_on[p.arxiv_id]:
                label_day[p.arxiv_id] = day
    liked = set(label_day)
    days = [
        (day, shown)
        for day, shown in history.impressions
        if len(shown) > 1 and any(label_day.get(p.arxiv_id) == day for p in shown)
    ]
    if len(days) < MIN_DAYS or fitted.pos_tf is None:
        return None
    fold_of = {day: n % FOLDS for n, day in enumerate(sorted({day for day, _ in days}))}
    models: dict[int, Any] = {}
    for fold in range(FOLDS):
        held_out = {day for day, f in fold_of.items() if f == fold}
        sub = History(
            cutoff=history.cutoff,
            positives=[p for p in history.positives if label_day.get(p.arxiv_id or "") not in held_out],
            negatives=history.negatives,
            impressions=[(d, s) for d, s in history.impressions if d not in held_out],
            background=history.background,
        )
        if not sub.positives:
            return None
        shown = [p for _, day in sub.impressions for p in day]
        pos_tf = fitted.tfidf.embed([p.text for p in sub.positives])
        models[fold] = ranker._train(sub, fitted.tfidf, pos_tf, shown)
        if models[fold] is None:
            return None

    added = np.array([p.added.date().toordinal() for p in history.positives])
    rows, labels = [], []
    for day, shown in days:
        # a positive shown again after its label day is neither a pick nor a non-pick of this day
        shown = [p for p in shown if p.arxiv_id not in liked_on or label_day.get(p.arxiv_id) == day]
        before = added < day.toordinal()
        if not before.any():
            continue
        shown_tf = fitted.tfidf.embed([paper_text(p) for p in shown])
        sims = ranker._similarities(list(shown), shown_tf, fitted)[:, before]
        decay = 0.5 ** ((day.toordinal() - added[before]) / ranker.cfg.half_life_days)
        hits = ranker.keyword_hits(shown)
        kw = {p.arxiv_id: len({h.keyword for h in hits.get(p.arxiv_id, [])}) for p in shown}
        x = ranker._features(shown_tf, shown, kw, pool_positions(shown))
        raw = {
            "similarity": sims @ decay / decay.sum(),
            "model": models[fold_of[day]].decision_function(x),
            "recency": [submission_key(p) for p in shown],
            "keywords": [kw[p.arxiv_id] for p in shown],
            "team": [math.log1p(len(p.authors)) for p in shown],
        }
        rows.append(np.column_stack([percentile(raw[f]) for f in LEARNED]))
        labels += [1.0 if p.arxiv_id in liked else 0.0 for p in shown]
    y = np.asarray(labels)
    if not rows or y.min() == y.max():
        return None
    return _fit(np.vstack(rows), y, sum(ranker.cfg.weights.get(f, 0.0) for f in LEARNED))


def _fit(x: np.ndarray, y: np.ndarray, total: float) -> dict[str, float] | None:
    from sklearn.linear_model import LogisticRegression

    with one_blas_thread():
        coef = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1_000).fit(x, y).coef_.ravel()
    coef = np.clip(coef, 0.0, None)
    if coef.sum() <= 0:
        return None
    return {f: round(float(c * total / coef.sum()), 4) for f, c in zip(LEARNED, coef, strict=True)}
