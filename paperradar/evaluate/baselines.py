"""The baselines `paperradar eval` compares against, each rebuilt from its original's code.

arxiv-sanity-lite (karpathy/arxiv-sanity-lite, commit d7a303b)
    compute.py 25-31   TfidfVectorizer(strip_accents='unicode', lowercase, analyzer='word',
                       stop_words='english', token_pattern r'(?u)\\b[a-zA-Z_][a-zA-Z0-9_]+\\b',
                       ngram_range=(1, 2), max_features=20000, norm='l2', use_idf, smooth_idf,
                       sublinear_tf, max_df=0.1, min_df=5)
    compute.py 48-57   fitted on every paper of its database; a paper's text is
                       ' '.join([title, summary, author names]); the matrix as float32
    send_emails.py 102-123 (and serve.py 136-157)  per tag: y = 1 for the tagged papers, 0 for every other
                       paper of the database; LinearSVC(class_weight='balanced', max_iter=10000,
                       tol=1e-6, C=0.01) fitted on all of it; decision_function ranks; then only recent
                       papers are kept and the already tagged ones dropped
    Here: the database is what the instance would hold for this reader: the papers announced in the
    reader's categories over the history's background window (`History.background`), the positives
    and the day's pool (arxiv_daemon.py adds new papers before compute.py and the mail run). One tag:
    the reader's picks / library / up-ratings. Two differences, for speed and determinism: when the
    day's papers are at most 2% of the database, the tf-idf is fitted once per history without them
    (they are transformed with that vocabulary and join the SVM's rows as there; eval ranks 50 days
    against databases of 20,000 papers, and a refit per day would cost 10 s each); a larger share
    refits, exactly as the original. random_state is fixed (liblinear otherwise draws from numpy's
    global generator).

zotero-arxiv-daily (TideDra/zotero-arxiv-daily, commit 916cae5)
    executor.py 47-48, 58-63   the corpus is the Zotero library's papers with a non-empty abstract,
                               with their date added
    reranker/base.py 11-16     corpus sorted newest first; weight 1 / (1 + log10(rank + 1)),
                               normalised to sum 1; score = 10 * sum_j w_j * cos(candidate abstract,
                               corpus abstract j); candidates sorted by score
    reranker/local.py 22-30    the embedder: a sentence-transformers model (config/base.yaml:
                               jinaai/jina-embeddings-v5-text-nano-retrieval since 2026-02-27;
                               avsolatorio/GIST-small-Embedding-v0 before, recommender.py of 2024-11)
    Here: abstracts only, the same weights and sort. Neither model can be loaded offline, so the
    embedder is all-MiniLM-L6-v2 (the `minilm` extra) when installed: a 384-d sentence-transformers
    model of the same small class. Without it, a tf-idf stand-in (fitted on the library and the
    background) keeps the rest of the recipe; its name says so ("zotero-arxiv-daily[tfidf]").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from paperradar.errors import ConfigError
from paperradar.models import Paper
from paperradar.rank.personal.embeddings import Embedder, MiniLMEmbedder, TfidfEmbedder, cosine
from paperradar.rank.personal.history import History, Positive

SHORTCUT_SHARE = 0.02  # a day's papers up to this share of the database do not refit the tf-idf
ASL_TOKEN_PATTERN = r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b"


def asl_text(title: str, abstract: str, authors: Sequence[str]) -> str:
    """compute.py 50-51: title, abstract ("summary") and the author names, joined by spaces."""
    return " ".join([title, abstract, " ".join(authors)])


def _positive_text(p: Positive) -> str:
    if p.paper is not None:
        return asl_text(p.paper.title, p.paper.abstract, p.paper.authors)
    return asl_text(p.title, p.text, p.authors)


class ArxivSanityLiteRanker:
    """arxiv-sanity-lite's per-tag SVM recommendation (see the module docstring for file and lines).

    `database` chooses what the instance holds besides the positives and the day's pool:
    "background" (the default: every paper announced in the reader's categories in the history's window,
    as a running instance accumulates them) or "shown" (only the pools the reader was shown so far)."""

    name = "arxiv-sanity-lite"

    def __init__(self, database: str = "background", min_df: int = 5, max_df: float = 0.1) -> None:
        if database not in ("background", "shown"):
            raise ValueError("database is 'background' or 'shown'")
        self.database = database
        self.min_df, self.max_df = min_df, max_df
        self._fitted: tuple[tuple[Any, ...], tuple[Any, Any, list[str], np.ndarray]] | None = None
        if database != "background":
            self.name = f"arxiv-sanity-lite[{database}]"

    def _database(self, history: History) -> tuple[list[str], list[str], set[str]]:
        """Ids, texts and positive ids of the database before the day (positives first, each paper once)."""
        texts: dict[str, str] = {}
        positive: set[str] = set()
        for p in history.positives:
            key = p.arxiv_id or p.key
            texts.setdefault(key, _positive_text(p))
            positive.add(key)
        others = (
            history.background
            if self.database == "background"
            else [p for _, day in history.impressions for p in day]
        )
        for paper in others:
            texts.setdefault(paper.arxiv_id, asl_text(paper.title, paper.abstract, paper.authors))
        ids = list(texts)
        return ids, [texts[i] for i in ids], positive

    def _fit(self, history: History, pool: Sequence[Paper] = ()) -> tuple[Any, Any, list[str], np.ndarray]:
        """The tf-idf of the database (with `pool`'s papers when given), without a pool once per history."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        key = history.fingerprint()
        if not pool and self._fitted is not None and self._fitted[0] == key:
            return self._fitted[1]
        ids, texts, positive = self._database(history)
        for paper in pool:
            if paper.arxiv_id not in positive:
                ids.append(paper.arxiv_id)
                texts.append(asl_text(paper.title, paper.abstract, paper.authors))
        # compute.py's min_df=5 / max_df=0.1 assume a database of thousands; on a tiny one they would drop
        # every word, so below 200 papers every word is kept (an instance that small would be no better).
        big = len(ids) >= 200
        vectorizer = TfidfVectorizer(
            input="content",
            encoding="utf-8",
            decode_error="replace",
            strip_accents="unicode",
            lowercase=True,
            analyzer="word",
            stop_words="english",
            token_pattern=ASL_TOKEN_PATTERN,
            ngram_range=(1, 2),
            max_features=20_000,
            norm="l2",
            use_idf=True,
            smooth_idf=True,
            sublinear_tf=True,
            max_df=self.max_df if big else 1.0,
            min_df=self.min_df if big else 1,
        )
        x = vectorizer.fit_transform(texts).astype(np.float32)
        y = np.array([1.0 if i in positive else 0.0 for i in ids], dtype=np.float32)
        fitted = (vectorizer, x, ids, y)
        if not pool:
            self._fitted = (key, fitted)
        return fitted

    def rank(self, pool: list[Paper], history: History) -> list[str]:
        from scipy.sparse import vstack
        from sklearn.svm import LinearSVC

        pool_ids = [p.arxiv_id for p in pool]
        if not history.positives or not pool:
            return pool_ids
        vectorizer, x_db, ids, y_db = self._fit(history)
        if len(pool) > SHORTCUT_SHARE * len(ids):  # a small database: fit it with the day's papers, exactly
            vectorizer, x_db, ids, y_db = self._fit(history, pool)
        # The day's papers join the database as unlabelled rows (negatives), as in the mail run.
        in_pool = set(pool_ids)
        keep = [n for n, i in enumerate(ids) if i not in in_pool]
        x_pool = vectorizer.transform([asl_text(p.title, p.abstract, p.authors) for p in pool])
        x = vstack([x_db[keep], x_pool.astype(np.float32)], format="csr")
        y = np.r_[y_db[keep], np.zeros(len(pool), dtype=np.float32)]
        if y.min() == y.max():
            return pool_ids
        clf = LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-6, C=0.01, random_state=0)
        clf.fit(x, y)
        scores = clf.decision_function(x[len(keep) :])
        return [pool_ids[i] for i in np.argsort(-scores, kind="stable")]


class ZoteroArxivDailyRanker:
    """zotero-arxiv-daily's rerank (see the module docstring for file and lines): time-decayed mean cosine
    between the candidate's abstract and the library's abstracts, newest library item weighing most."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder: Embedder | None = embedder
        self.name = "zotero-arxiv-daily" if embedder is not None else "zotero-arxiv-daily[tfidf]"
        self._vectors: dict[str, np.ndarray] = {}  # abstract vectors of store papers, by id (neural only)
        self._fitted: tuple[Any, Any, Any] | None = None  # (history fingerprint, tf-idf or None, corpus)

    @staticmethod
    def corpus(history: History) -> list[Positive]:
        """executor.py 48: items with an abstract; base.py 11: newest first (a stable sort, as there)."""
        items = [p for p in history.positives if _abstract(p).strip()]
        return sorted(items, key=lambda p: p.added, reverse=True)

    def _embed(self, keys: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        assert self.embedder is not None
        missing = [n for n, k in enumerate(keys) if k not in self._vectors]
        if missing:
            fresh = np.asarray(self.embedder.embed([texts[n] for n in missing]), dtype=np.float32)
            for j, n in enumerate(missing):
                self._vectors[keys[n]] = fresh[j]
        return np.stack([self._vectors[k] for k in keys])

    def rank(self, pool: list[Paper], history: History) -> list[str]:
        pool_ids = [p.arxiv_id for p in pool]
        key = history.fingerprint()
        if self._fitted is None or self._fitted[0] != key:
            corpus = self.corpus(history)
            texts = [_abstract(p) for p in corpus]
            if not corpus:
                self._fitted = (key, None, None)
            elif self.embedder is None:
                fitted = TfidfEmbedder().fit(texts + [p.abstract for p in history.background])
                self._fitted = (key, fitted, fitted.embed(texts))
            else:
                self._fitted = (key, None, self._embed([f"lib:{p.key}" for p in corpus], texts))
        _, tfidf, corpus_vec = self._fitted
        if corpus_vec is None or not pool:
            return pool_ids
        abstracts = [p.abstract for p in pool]
        if tfidf is not None:
            sims = cosine(tfidf.embed(abstracts), corpus_vec)
        else:
            sims = cosine(
                self._embed([f"paper:{p.arxiv_id}:{p.version}" for p in pool], abstracts), corpus_vec
            )
        weight = 1.0 / (1.0 + np.log10(np.arange(sims.shape[1]) + 1.0))
        scores = 10.0 * (sims * (weight / weight.sum())).sum(axis=1)
        return [pool_ids[i] for i in np.argsort(-scores, kind="stable")]


def _abstract(p: Positive) -> str:
    return p.paper.abstract if p.paper is not None else p.text


def zotero_embedder(configured: Embedder | None) -> Embedder | None:
    """The embedder for zotero-arxiv-daily: the configured neural one, else MiniLM when its extra is
    installed, else None (the tf-idf stand-in)."""
    if configured is not None and not isinstance(configured, TfidfEmbedder):
        return configured
    try:
        embedder = MiniLMEmbedder()
        embedder.embed(["probe"])
    except (ConfigError, ImportError, OSError):  # the optional extra is missing or cannot load here
        return None
    return embedder
