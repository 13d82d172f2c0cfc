"""Paper vectors in the archive (table `embeddings`, migration 2): one per (paper id, version, model),
computed once and reused by every later run; a new version of a paper is a new text, so a new vector."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from paperradar.store.db import Database

Vector = npt.NDArray[np.float32]


class EmbeddingTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, keys: Sequence[tuple[str, int]], model: str) -> dict[tuple[str, int], Vector]:
        out: dict[tuple[str, int], Vector] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), 400):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start : start + 400]
            ids = [k[0] for k in chunk]
            rows = self._db.read(
                f"SELECT arxiv_id, version, dim, vector FROM embeddings WHERE model = ? "
                f"AND arxiv_id IN ({','.join('?' * len(ids))})",
                [model, *ids],
            )
            want = set(chunk)
            for arxiv_id, version, dim, blob in rows:
                if (arxiv_id, version) in want:
                    out[(arxiv_id, version)] = np.frombuffer(blob, dtype="<f4", count=dim).copy()
        return out

    def put(self, items: Sequence[tuple[str, int]], vectors: npt.NDArray[np.floating], model: str) -> None:
        rows = [
            (arxiv_id, version, model, int(vec.shape[0]), np.asarray(vec, dtype="<f4").tobytes())
            for (arxiv_id, version), vec in zip(items, vectors, strict=True)
        ]
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings (arxiv_id, version, model, dim, vector) VALUES (?,?,?,?,?)",
                rows,
            )

    def count(self, model: str | None = None) -> int:
        if model is None:
            return int(self._db.read("SELECT count(*) FROM embeddings")[0][0])
        return int(self._db.read("SELECT count(*) FROM embeddings WHERE model = ?", (model,))[0][0])
