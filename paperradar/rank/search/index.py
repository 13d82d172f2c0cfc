"""The search vector index: built by `paperradar index`, read by every search front end.

One row per paper (its current version). Two layouts, one per kind of embedder:

* tf-idf (the default embedder): sparse rows stored *by word* (compressed sparse columns: for each word,
  the papers holding it and their weights), so a query touches only the postings of its own words.
  Vocabulary and idf are fitted once on the archive and stored (rank/search/tfidf.py).
* MiniLM, e5, an /v1/embeddings endpoint: a dense float32 matrix (papers × dim), scored with one
  matrix-vector product. Vectors come through `embed_papers`, so they are also stored per paper version
  in the `embeddings` table that personal ranking shares: a paper embedded for a day's ranking is not
  embedded again for search, an interrupted backfill resumes where it stopped, and the other way round.

Building is incremental: a paper whose version is unchanged keeps its row; new papers and new versions
are embedded; a tf-idf vocabulary is kept until `--refit`. It never runs inside `paperradar run` (a 155k
backfill would make the daily run minutes slower): papers added since the last build are found by exact
words only, and every answer says how many there are.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from paperradar.errors import DataError
from paperradar.models import Progress, no_progress
from paperradar.rank.personal.config import PersonalConfig
from paperradar.rank.personal.embeddings import Embedder, embed_papers, get_embedder
from paperradar.rank.search.tfidf import ArchiveTfidf, SparseRows
from paperradar.store import Store
from paperradar.store.vectors import (
    Generation,
    PaperText,
    building,
    current_generation_name,
    current_versions,
    iter_paper_texts,
    open_generation,
    paper_texts_by_id,
    vectors_folder,
    write_generation,
)

Kind = Literal["sparse", "dense"]
_ID_DTYPE = "S32"  # arXiv ids are ASCII and at most ~20 characters ("cond-mat/0102536")
_DENSE_BATCH = 256  # papers per embed call in a dense backfill; each batch is stored before the next


def embedder_slug(personal: PersonalConfig) -> str:
    """The index folder's name: one index per configured embedder (switching back finds the old one)."""
    if personal.embedder == "openai":
        dims = f"-{personal.openai.dimensions}" if personal.openai.dimensions else ""
        return "openai-" + re.sub(r"[^A-Za-z0-9._-]+", "_", personal.openai.model) + dims
    return personal.embedder


def index_folder(db_path: str | Path, personal: PersonalConfig) -> Path:
    return vectors_folder(db_path) / embedder_slug(personal)


class VectorIndex:
    """A loaded generation: `top(query, k)` → [(row, cosine similarity)], best first."""

    def __init__(self, generation: Generation, embedder: Embedder | None, tfidf: ArchiveTfidf | None):
        self.generation = generation
        self.meta = generation.meta
        self.kind: Kind = generation.meta["kind"]
        self.model: str = generation.meta["model"]
        self.ids = generation.arrays["ids"]
        self.size = len(self.ids)
        self.max_rowid: int = generation.meta["max_rowid"]
        self._embedder = embedder
        self._tfidf = tfidf

    @property
    def built_at(self) -> str:
        return str(self.meta["built_at"])

    def arxiv_id(self, row: int) -> str:
        return bytes(self.ids[row]).decode("ascii")

    def scores(self, query: str) -> npt.NDArray[np.float64] | None:
        """Cosine similarity of the query to every paper; None when the query has no usable word."""
        arrays = self.generation.arrays
        if self.kind == "sparse":
            assert self._tfidf is not None
            terms, weights = self._tfidf.query(query)
            if len(terms) == 0:
                return None
            indptr, rows, values = arrays["indptr"], arrays["rows"], arrays["weights"]
            starts, ends = indptr[terms], indptr[terms + 1]
            hit_rows = np.concatenate([rows[s:e] for s, e in zip(starts, ends, strict=True)])
            hit_weights = np.concatenate(
                [values[s:e].astype(np.float64) * w for s, e, w in zip(starts, ends, weights, strict=True)]
            )
            summed = np.bincount(hit_rows, weights=hit_weights, minlength=self.size)
            return np.asarray(summed, dtype=np.float64)  # already float64 (weights given): no copy
        assert self._embedder is not None
        q = np.asarray(self._embedder.embed([query]), dtype=np.float32)[0]
        if not np.any(q):
            return None
        out: npt.NDArray[np.float64] = (arrays["vectors"] @ q).astype(np.float64)
        return out

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        if scores is None or k <= 0:
            return []
        k = min(k, self.size)
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.lexsort((best, -scores[best]))]  # by score, ties by row (older paper first)
        return [(int(i), float(scores[i])) for i in best if scores[i] > 0]


def _open(folder: Path, generation: Generation, personal: PersonalConfig) -> VectorIndex:
    if generation.meta["kind"] == "sparse":
        try:
            tfidf = ArchiveTfidf.load(folder, generation.meta["model"])
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(
                f"the search vocabulary in {folder} is unreadable ({type(exc).__name__}: {exc})",
                hint="rebuild it: paperradar index --refit",
            ) from None
        return VectorIndex(generation, None, tfidf)
    embedder = get_embedder(personal)
    if embedder.name != generation.meta["model"]:
        raise DataError(
            f"{folder} holds {generation.meta['model']} vectors, not {embedder.name}",
            hint="paperradar index (re-embeds for the configured model)",
        )
    return VectorIndex(generation, embedder, None)


def load_index(db_path: str | Path, personal: PersonalConfig) -> VectorIndex | None:
    """The current index of the configured embedder, or None when `paperradar index` never ran."""
    folder = index_folder(db_path, personal)
    generation = open_generation(folder)
    return None if generation is None else _open(folder, generation, personal)


class IndexCache:
    """For long-lived front ends (web UI, MCP server): the loaded index, reloaded when a newer
    generation is written (one small file read per search)."""

    def __init__(self, db_path: str | Path, personal: PersonalConfig) -> None:
        self.folder = index_folder(db_path, personal)
        self.db_path = db_path
        self.personal = personal
        self._index: VectorIndex | None = None
        self._lock = threading.Lock()  # the web UI searches from a pool of threads

    def get(self) -> VectorIndex | None:
        name = current_generation_name(self.folder)
        with self._lock:
            if name is None:
                self._index = None
            elif self._index is None or self._index.generation.path.name != name:
                self._index = load_index(self.db_path, self.personal)
            return self._index


# -- building -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IndexReport:
    folder: Path
    model: str
    papers: int  # rows in the index now
    embedded: int  # embedded by this build (new papers and new versions)
    kept: int  # rows carried over unchanged
    refitted: bool  # a new tf-idf vocabulary was fitted (every row was recomputed)
    seconds: float


def build_index(
    store: Store, personal: PersonalConfig, *, refit: bool = False, progress: Progress = no_progress
) -> IndexReport:
    """Bring the configured embedder's index up to date with the archive (see the module doc)."""
    start = time.perf_counter()
    folder = index_folder(store.path, personal)
    with building(folder):
        old = open_generation(folder)
        current = current_versions(store)
        if personal.embedder == "tfidf":
            report = _build_sparse(store, folder, old, current, refit, progress)
        else:
            report = _build_dense(store, folder, old, current, get_embedder(personal), progress)
    return IndexReport(folder, *report, seconds=time.perf_counter() - start)


def _kept_rows(
    old: Generation | None, model: str, current: dict[str, tuple[int, int]]
) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Rows of the old generation still valid (same model, same paper version) and the ids to embed."""
    if old is None or old.meta["model"] != model:
        return np.zeros(0, dtype=np.int64), sorted(current, key=lambda i: current[i][0])
    ids = [bytes(x).decode("ascii") for x in old.arrays["ids"]]
    versions = old.arrays["versions"]
    keep = [
        row for row, arxiv_id in enumerate(ids) if current.get(arxiv_id, (0, -1))[1] == int(versions[row])
    ]
    have = {ids[row] for row in keep}
    missing = sorted((i for i in current if i not in have), key=lambda i: current[i][0])
    return np.asarray(keep, dtype=np.int64), missing


def _texts(store: Store, ids: Sequence[str], everything: bool, batch: int = 5000) -> Any:
    """Batches of PaperText for `ids` (all papers in rowid order when `everything`)."""
    if everything:
        yield from iter_paper_texts(store, batch)
        return
    for start in range(0, len(ids), batch):
        chunk = list(ids[start : start + batch])
        found = paper_texts_by_id(store, chunk)
        yield [found[i] for i in chunk if i in found]


def _text(p: PaperText) -> str:
    return f"{p.title}. {p.abstract}".strip()  # as rank/personal/embeddings.paper_text


def _meta(
    model: str, kind: Kind, current: dict[str, tuple[int, int]], ids: list[str], dim: int
) -> dict[str, Any]:
    return {
        "model": model,
        "kind": kind,
        "dim": dim,
        "papers": len(ids),
        "max_rowid": max((current[i][0] for i in ids if i in current), default=0),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _build_sparse(
    store: Store,
    folder: Path,
    old: Generation | None,
    current: dict[str, tuple[int, int]],
    refit: bool,
    progress: Progress,
) -> tuple[str, int, int, int, bool]:
    tfidf: ArchiveTfidf | None = None
    if old is not None and old.meta["kind"] == "sparse" and not refit:
        tfidf = ArchiveTfidf.load(folder, old.meta["model"])
    refitted = tfidf is None
    if tfidf is None:
        total = len(current)
        seen = 0

        def every_text() -> Any:
            nonlocal seen
            for batch in iter_paper_texts(store):
                seen += len(batch)
                progress("fit", seen, total)
                yield from (_text(p) for p in batch)

        tfidf = ArchiveTfidf.fit(every_text())
        tfidf.save(folder)
    keep, missing = _kept_rows(old, tfidf.name, current)
    # Entries (word, row, weight) of the rows kept, renumbered 0..len(keep)-1, then of the new rows.
    words, rows, weights = [], [], []
    ids: list[str] = []
    versions: list[int] = []
    if len(keep):
        assert old is not None
        indptr = np.asarray(old.arrays["indptr"])
        old_rows = np.asarray(old.arrays["rows"])
        position = np.full(len(old.arrays["ids"]), -1, dtype=np.int64)
        position[keep] = np.arange(len(keep))
        old_words = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
        alive = position[old_rows] >= 0
        words.append(old_words[alive])
        rows.append(position[old_rows[alive]].astype(np.int32))
        weights.append(np.asarray(old.arrays["weights"])[alive])
        ids.extend(bytes(old.arrays["ids"][r]).decode("ascii") for r in keep)
        versions.extend(int(old.arrays["versions"][r]) for r in keep)
    kept = len(ids)
    done = 0
    for batch in _texts(store, missing, everything=kept == 0):
        part: SparseRows = tfidf.transform(_text(p) for p in batch)
        counts = np.diff(part.indptr)
        words.append(part.indices)
        rows.append((np.repeat(np.arange(len(batch), dtype=np.int64), counts) + len(ids)).astype(np.int32))
        weights.append(part.data.astype(np.float16))
        ids.extend(p.arxiv_id for p in batch)
        versions.extend(p.version for p in batch)
        done += len(batch)
        progress("index", done, len(missing))
    all_words = np.concatenate(words) if words else np.zeros(0, dtype=np.int32)
    all_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
    order = np.lexsort((all_rows, all_words))  # by word, then paper: each word's postings in row order
    indptr_new = np.zeros(tfidf.dim + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_words, minlength=tfidf.dim), out=indptr_new[1:])
    arrays = {
        "ids": np.asarray(ids, dtype=_ID_DTYPE),
        "versions": np.asarray(versions, dtype=np.int32),
        "indptr": indptr_new,
        "rows": all_rows[order],
        "weights": (np.concatenate(weights) if weights else np.zeros(0, dtype=np.float16))[order],
    }
    del order, all_words, all_rows, words, rows, weights
    write_generation(folder, arrays, _meta(tfidf.name, "sparse", current, ids, tfidf.dim))
    for stale in folder.glob("tfidf-search-*.json"):  # earlier fits (readers hold theirs in memory)
        if stale.name != f"{tfidf.name}.json":
            stale.unlink(missing_ok=True)
    return tfidf.name, len(ids), len(ids) - kept, kept, refitted


def _build_dense(
    store: Store,
    folder: Path,
    old: Generation | None,
    current: dict[str, tuple[int, int]],
    embedder: Embedder,
    progress: Progress,
) -> tuple[str, int, int, int, bool]:
    keep, missing = _kept_rows(old, embedder.name, current)
    parts: list[npt.NDArray[np.float32]] = []
    ids: list[str] = []
    versions: list[int] = []
    if len(keep):
        assert old is not None
        parts.append(np.asarray(old.arrays["vectors"])[keep])
        ids.extend(bytes(old.arrays["ids"][r]).decode("ascii") for r in keep)
        versions.extend(int(old.arrays["versions"][r]) for r in keep)
    kept = len(ids)
    done = 0
    for start in range(0, len(missing), _DENSE_BATCH):
        chunk = missing[start : start + _DENSE_BATCH]
        papers = store.get_papers(chunk)
        found = [papers[i] for i in chunk if i in papers]
        if found:
            vectors = np.asarray(embed_papers(embedder, found, store.embeddings), dtype=np.float32)
            parts.append(vectors)
            ids.extend(p.arxiv_id for p in found)
            versions.extend(p.version for p in found)
        done += len(chunk)
        progress("embed", done, len(missing))
    dim = int(parts[0].shape[1]) if parts else int(embedder.dim)
    arrays = {
        "ids": np.asarray(ids, dtype=_ID_DTYPE),
        "versions": np.asarray(versions, dtype=np.int32),
        "vectors": np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32),
    }
    write_generation(folder, arrays, _meta(embedder.name, "dense", current, ids, dim))
    return embedder.name, len(ids), len(ids) - kept, kept, False
