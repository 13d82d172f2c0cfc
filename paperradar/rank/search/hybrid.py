"""Search by words and by meaning: the FTS5 ranking (Store.search) fused with the vector index's nearest
papers by weighted reciprocal-rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009):

    score(paper) = 1 / (k + exact rank) + w / (k + vector rank)       (a term is 0 where a list lacks it)

Ranks, not raw scores, are fused: bm25 and cosine live on scales that cannot be compared. With the
tf-idf embedder, k = 10 and w = 0.2 were chosen on the picks up to 2026-02-28 (docs/BENCHMARKS.md, P7):
the exact-words order then stays on top where every word occurs (tf-idf similarity is still words, a
poorer judge of them than bm25 with its title weight), and the nearest papers fill in where few or no
papers hold every word, which is where exact search fails. For MiniLM, e5 and endpoint embedders, which
model meaning, the usual k = 60, w = 1 is used (not measured here: embedding 155k papers on a 2-core CPU
takes hours).

`exact=True` (or no index yet) is the exact-words search alone; every result says which it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from paperradar.models import Paper
from paperradar.rank.search.index import VectorIndex
from paperradar.store import Store
from paperradar.store.vectors import papers_added_after

SearchMode = Literal["exact", "hybrid"]
DEPTH = 50  # papers taken from each list before fusing (at least `limit`)

EXACT_HOW = "every word occurs in the title, abstract or authors (SQLite FTS5); best bm25 score first"


@dataclass(frozen=True, slots=True)
class Fusion:
    k: float
    vector_weight: float


FUSION_TFIDF = Fusion(k=10, vector_weight=0.2)
FUSION_NEURAL = Fusion(k=60, vector_weight=1.0)


def fusion_for(model: str) -> Fusion:
    return FUSION_TFIDF if model.startswith("tfidf") else FUSION_NEURAL


@dataclass(frozen=True, slots=True)
class SearchHit:
    paper: Paper
    score: float  # exact: bm25 (higher is better); hybrid: the fused score
    exact_rank: int | None = None  # place in the exact-words ranking; None: not every word occurs
    vector_rank: int | None = None  # place among the nearest papers; None: not among the first DEPTH
    similarity: float | None = None  # cosine of query and paper vectors, when among the nearest


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    mode: SearchMode  # what produced `hits` (hybrid asked for without an index gives "exact")
    hits: list[SearchHit]
    how: str
    notes: list[str] = field(default_factory=list)  # why hybrid was not possible, what the index misses
    model: str | None = None  # the embedder whose vectors were used


def fuse(
    exact: list[str], nearest: list[str], fusion: Fusion, limit: int
) -> list[tuple[str, float, int | None, int | None]]:
    """Weighted reciprocal-rank fusion of two rankings of arXiv ids: (id, score, exact rank, vector rank),
    best first; ties keep the exact ranking's order, then the vector ranking's."""
    exact_rank = {a: r for r, a in enumerate(exact, 1)}
    vector_rank = {a: r for r, a in enumerate(nearest, 1)}
    scores: dict[str, float] = {}
    for a, r in exact_rank.items():
        scores[a] = 1.0 / (fusion.k + r)
    for a, r in vector_rank.items():
        scores[a] = scores.get(a, 0.0) + fusion.vector_weight / (fusion.k + r)
    order = sorted(
        scores, key=lambda a: (-scores[a], exact_rank.get(a, len(exact) + 1), vector_rank.get(a, 0))
    )
    return [(a, scores[a], exact_rank.get(a), vector_rank.get(a)) for a in order[:limit]]


def search_archive(
    store: Store, query: str, limit: int = 20, *, exact: bool = False, index: VectorIndex | None = None
) -> SearchResult:
    """Exact words (`exact`, or when `index` is None), else exact words fused with the nearest papers."""
    if exact:
        return _exact_only(store, query, limit, [])
    if index is None:
        note = "no vector index yet, so this is exact words only: run `paperradar index` once"
        return _exact_only(store, query, limit, [note])
    depth = max(limit, DEPTH)
    found = store.search(query, depth)
    nearest = index.top(query, depth)
    notes: list[str] = []
    if not nearest:
        notes.append("no word of the query is in the search vocabulary: exact words only")
    missing = papers_added_after(store, index.max_rowid)
    if missing:
        notes.append(
            f"{missing} papers added since the vector index was built ({index.built_at}) are found by exact "
            "words only until `paperradar index` runs"
        )
    by_id = {p.arxiv_id: p for p, _ in found}
    near_ids = [index.arxiv_id(row) for row, _ in nearest]
    similarity = {a: s for a, (_, s) in zip(near_ids, nearest, strict=True)}
    fused = fuse(list(by_id), near_ids, fusion_for(index.model), limit)
    need = [a for a, *_ in fused if a not in by_id]
    if need:
        by_id.update(store.get_papers(need))
    hits = [
        SearchHit(by_id[a], score, er, vr, similarity.get(a))
        for a, score, er, vr in fused
        if a in by_id  # a paper deleted since the index was built is skipped
    ]
    fusion = fusion_for(index.model)
    how = (
        f"exact words (FTS5 bm25) fused with similarity by meaning ({index.model} vectors of "
        f"{index.size} papers): score = 1/({fusion.k:g} + exact rank) + {fusion.vector_weight:g}/"
        f"({fusion.k:g} + similarity rank)"
    )
    return SearchResult(query, "hybrid", hits, how, notes, index.model)


def _exact_only(store: Store, query: str, limit: int, notes: list[str]) -> SearchResult:
    hits = [SearchHit(p, s, exact_rank=r) for r, (p, s) in enumerate(store.search(query, limit), 1)]
    return SearchResult(query, "exact", hits, EXACT_HOW, notes)
