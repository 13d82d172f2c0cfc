"""tf-idf fitted once on the whole archive, for search: the default embedder's search form.

Personal ranking refits its tf-idf every day on that day's corpus (rank/personal/embeddings.py), so its
rows are never stored. Search needs the opposite: one fixed vocabulary and idf, fitted once on the
archive and stored, so that a query vector computed today matches paper vectors computed months ago.

It is the same weighting as the ranking's TfidfVectorizer (English stop words, sublinear tf, smooth idf,
accents stripped, l2 norm), on words only: word pairs were measured and lost on the held-out check
(docs/BENCHMARKS.md, P7), and fitting them over 155k abstracts took 3 GB. The counting is our own,
streamed over the archive (two passes, any order gives the same result, so the fit is deterministic) and
the query path needs no scikit-learn: `tests/test_search.py` checks the weights equal scikit-learn's.
Rows are sparse (about 100 non-zero weights out of 50,000).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from paperradar.store.vectors import read_json, write_json
from paperradar.text.tfidf import ENGLISH_STOP_WORDS

# scikit-learn's default token_pattern: words of two or more word characters.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
MAX_FEATURES = 50_000
MIN_DF = 2


def _strip_accents(text: str) -> str:
    """scikit-learn's strip_accents="unicode" (NFKD, combining marks dropped), fast for ASCII text."""
    if text.isascii():
        return text
    normalized = unicodedata.normalize("NFKD", text)
    if normalized == text:
        return text
    return "".join(c for c in normalized if not unicodedata.combining(c))


def _english_stop_words() -> frozenset[str]:
    return ENGLISH_STOP_WORDS


@dataclass(frozen=True, slots=True)
class SparseRows:
    """CSR parts of a batch of rows: row i is indices/data[indptr[i]:indptr[i+1]] (term ids, weights)."""

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    data: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.indptr) - 1


class ArchiveTfidf:
    """Fit with `ArchiveTfidf.fit(texts)`; store with `save(folder)`, reopen with `load(folder)`."""

    def __init__(self, vocabulary: list[str], idf: npt.NDArray[np.float32], stop_words: Iterable[str]):
        self.terms = vocabulary
        self.idf = np.asarray(idf, dtype=np.float32)
        self.stop_words = frozenset(stop_words)
        self._ids = {term: i for i, term in enumerate(vocabulary)}
        self.dim = len(vocabulary)
        digest = hashlib.sha256()
        digest.update("\n".join(vocabulary).encode())
        digest.update(self.idf.tobytes())
        self.name = f"tfidf-search-{digest.hexdigest()[:12]}"

    def tokens(self, text: str) -> list[str]:
        stop = self.stop_words
        return [t for t in _TOKEN.findall(_strip_accents(text.lower())) if t not in stop]

    @classmethod
    def fit(
        cls, texts: Iterable[str], max_features: int = MAX_FEATURES, min_df: int = MIN_DF
    ) -> ArchiveTfidf:
        """Document frequencies and total counts in one streamed pass. Kept: words in at least `min_df`
        documents (fewer than 20 documents: every word), the `max_features` most frequent (ties by the
        word itself, so the choice never depends on the order papers were read in)."""
        stop = _english_stop_words()
        df: Counter[str] = Counter()
        tf: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            counts = Counter(t for t in _TOKEN.findall(_strip_accents(text.lower())) if t not in stop)
            tf.update(counts)
            df.update(counts.keys())
        floor = min_df if n >= 20 else 1
        kept = [t for t, d in df.items() if d >= floor]
        if len(kept) > max_features:
            kept = sorted(kept, key=lambda t: (-tf[t], t))[:max_features]
        vocabulary = sorted(kept)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in vocabulary], dtype=np.float32)
        return cls(vocabulary, idf, stop)

    def transform(self, texts: Iterable[str]) -> SparseRows:
        """Sublinear tf (1 + ln count) × idf, l2-normalised; words outside the vocabulary are ignored."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        ids, idf = self._ids, self.idf
        for text in texts:
            counts = Counter(ids[t] for t in self.tokens(text) if t in ids)
            if counts:
                cols = sorted(counts)
                weights = np.array([1.0 + math.log(counts[c]) for c in cols], dtype=np.float64)
                weights *= idf[cols]
                weights /= np.sqrt(weights @ weights)
                indices.extend(cols)
                data.extend(weights.tolist())
            indptr.append(len(indices))
        return SparseRows(
            np.asarray(indptr, dtype=np.int64),
            np.asarray(indices, dtype=np.int32),
            np.asarray(data, dtype=np.float32),
        )

    def query(self, text: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """A query's (term ids, weights), weighted exactly as a paper's row."""
        rows = self.transform([text])
        return rows.indices, rows.data

    # -- on disk: the vocabulary and idf beside the vectors they made --------------------------------
    def save(self, folder: Path) -> None:
        write_json(
            folder / f"{self.name}.json",
            {
                "name": self.name,
                "weighting": "sublinear tf x smooth idf, l2; scikit-learn token pattern, English stop words",
                "vocabulary": self.terms,
                "idf": [float(x) for x in self.idf],
                "stop_words": sorted(self.stop_words),
            },
        )

    @classmethod
    def load(cls, folder: Path, name: str) -> ArchiveTfidf:
        raw = read_json(folder / f"{name}.json")
        model = cls(raw["vocabulary"], np.asarray(raw["idf"], dtype=np.float32), raw["stop_words"])
        if model.name != name:  # the file was edited or damaged: its vectors would not match queries
            raise ValueError(f"{folder / name}.json does not hash to its name")
        return model
