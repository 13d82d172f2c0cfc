"""The plain-Python tf-idf (paperradar/text/tfidf.py) gives scikit-learn's numbers: the day's similarities
and the extractive summary were computed with TfidfVectorizer before, and a reader's scores and summaries
must not move because the import got cheaper. Real abstracts from the bundled sample."""

from __future__ import annotations

import gzip
import json
from importlib import resources

import numpy as np
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SKLEARN_STOP_WORDS
from sklearn.feature_extraction.text import TfidfVectorizer

from paperradar.models import Paper
from paperradar.rank.interest import HeuristicInterest, _analyzer
from paperradar.text.extractive import split_sentences, summarize
from paperradar.text.tfidf import ENGLISH_STOP_WORDS, fit_vectors

PROFILE = "recommendation, ranking, retrieval-augmented generation, dense retrieval and CTR prediction"


def _abstracts(n: int) -> list[dict[str, str]]:
    with gzip.open(str(resources.files("paperradar") / "sample" / "cs-ir-sample.jsonl.gz"), "rt") as fh:
        rows = [json.loads(line) for line in fh]
    return rows[:n]


def test_stop_words_are_scikit_learns() -> None:
    assert frozenset(SKLEARN_STOP_WORDS) == ENGLISH_STOP_WORDS


def test_rows_equal_tfidfvectorizer() -> None:
    sentences = [s for r in _abstracts(30) for s in split_sentences(r["abstract"])]
    ours = fit_vectors(sentences, sublinear_tf=True)
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    theirs = vec.fit_transform(sentences)
    vocab = vec.vocabulary_
    for row, expected in zip(ours, theirs.toarray(), strict=True):
        dense = np.zeros(len(vocab))
        for term, weight in row.items():
            dense[vocab[term]] = weight
        assert np.allclose(dense, expected, atol=1e-12)


def _sklearn_similarities(papers: list[Paper], profile: str) -> dict[str, float]:
    """The computation as it was written with scikit-learn (kept here as the reference)."""
    titles = [p.title for p in papers]
    abstracts = [p.abstract for p in papers]
    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True)
    vectorizer.fit([*(f"{t}\n{a}" for t, a in zip(titles, abstracts, strict=True)), profile])
    docs = (vectorizer.transform(titles) + vectorizer.transform(abstracts)).toarray()
    p = vectorizer.transform([profile]).toarray()[0]
    sims = docs @ p / (np.linalg.norm(docs, axis=1) * np.linalg.norm(p))
    return {paper.arxiv_id: float(s) for paper, s in zip(papers, sims, strict=True)}


def test_day_similarities_equal_the_scikit_learn_ones() -> None:
    papers = [
        Paper(arxiv_id=r["id"], title=r["title"], authors=[], abstract=r["abstract"]) for r in _abstracts(200)
    ]
    ours = HeuristicInterest(PROFILE, {}).similarities(papers)
    theirs = _sklearn_similarities(papers, PROFILE)
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, abs=1e-12)
        assert round(ours[key], 3) == round(value, 3)  # what the digest shows


def test_only_stop_words_is_an_empty_vocabulary() -> None:
    with pytest.raises(ValueError, match="empty vocabulary"):
        fit_vectors(["the and of", "it is"])
    assert summarize("The. And. Of. It is.", max_sentences=2)  # the summary still comes back
