"""The search vector index on disk, and the reads that build it.

Search by meaning needs one vector per paper (its current version) in a matrix that a query can be
scored against in milliseconds. The SQLite `embeddings` table (store/embeddings.py) is the per-version
cache of dense vectors that personal ranking and search share; this module keeps the *search matrix*: a
snapshot of every paper's vector as numpy files beside the database, opened memory-mapped so `paperradar
search` starts without reading 155k BLOBs and a long-lived server shares the pages with the OS cache.

    radar.db
    radar.vectors/<embedder>/CURRENT          the name of the generation in use
    radar.vectors/<embedder>/g<time>-<pid>/   meta.json + <name>.npy arrays, written whole, then CURRENT
                                              is replaced (atomic): a reader never sees half an index

A reader that opened an older generation keeps its mapped files (POSIX keeps unlinked files alive) and
picks up the new one on its next look at CURRENT.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from paperradar.errors import BusyError
from paperradar.store.archive import Store

_CURRENT = "CURRENT"
_META = "meta.json"


@dataclass(frozen=True, slots=True)
class PaperText:
    """What search embeds of one paper: its current version's title and abstract."""

    rowid: int
    arxiv_id: str
    version: int
    title: str
    abstract: str


def vectors_folder(db_path: str | os.PathLike[str]) -> Path:
    """`radar.db` → `radar.vectors/` beside it."""
    path = Path(db_path)
    return path.with_name(path.stem + ".vectors")


def iter_paper_texts(store: Store, batch_size: int = 5000) -> Iterator[list[PaperText]]:
    """Every paper in the archive, in rowid order, in batches (a 155k archive never sits in memory)."""
    last = 0
    while True:
        rows = store._db.read(
            "SELECT rowid, arxiv_id, version, title, abstract FROM papers WHERE rowid > ? "
            "ORDER BY rowid LIMIT ?",
            (last, batch_size),
        )
        if not rows:
            return
        yield [PaperText(r[0], r[1], r[2], r[3] or "", r[4] or "") for r in rows]
        last = rows[-1][0]


def current_versions(store: Store) -> dict[str, tuple[int, int]]:
    """arxiv id → (rowid, current version) of every paper: what the index must cover."""
    rows = store._db.cursor("SELECT arxiv_id, rowid, version FROM papers")
    return {r[0]: (r[1], r[2]) for r in rows}


def papers_added_after(store: Store, rowid: int) -> int:
    """How many papers the archive gained after the one with this rowid (rowids only grow)."""
    return int(store._db.read("SELECT count(*) FROM papers WHERE rowid > ?", (rowid,))[0][0])


def paper_texts_by_id(store: Store, ids: list[str]) -> dict[str, PaperText]:
    out: dict[str, PaperText] = {}
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        rows = store._db.read(
            f"SELECT rowid, arxiv_id, version, title, abstract FROM papers WHERE arxiv_id IN "
            f"({','.join('?' * len(chunk))})",
            chunk,
        )
        out.update((r[1], PaperText(r[0], r[1], r[2], r[3] or "", r[4] or "")) for r in rows)
    return out


# -- generations on disk --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Generation:
    """One complete index as written: its folder, its meta and its arrays (memory-mapped, read-only)."""

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, npt.NDArray[Any]]


@contextlib.contextmanager
def building(folder: Path) -> Iterator[None]:
    """One index build at a time per embedder folder (a second one fails at once, exit 6)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(
                f"another `paperradar index` is building {folder}", hint="wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def current_generation_name(folder: Path) -> str | None:
    try:
        return (folder / _CURRENT).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def open_generation(folder: Path) -> Generation | None:
    """The generation CURRENT names, arrays memory-mapped; None when there is none (never indexed)."""
    name = current_generation_name(folder)
    if name is None:
        return None
    path = folder / name
    try:
        meta = json.loads((path / _META).read_text(encoding="utf-8"))
        arrays = {
            key: np.load(path / f"{key}.npy", mmap_mode="r", allow_pickle=False) for key in meta["arrays"]
        }
    except FileNotFoundError:  # removed under us by a newer generation: the caller asks again
        return None
    return Generation(path, meta, arrays)


def write_generation(
    folder: Path, arrays: Mapping[str, npt.NDArray[Any]], meta: Mapping[str, Any]
) -> Generation:
    """Write a new generation and make it current; older generations are removed afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"g{time.time_ns()}-{os.getpid()}"
    tmp = folder / f".{name}.partial"
    tmp.mkdir()
    try:
        for key, array in arrays.items():
            with open(tmp / f"{key}.npy", "wb") as fh:
                np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
        full_meta = {**meta, "arrays": sorted(arrays)}
        (tmp / _META).write_text(json.dumps(full_meta, indent=1, sort_keys=True), encoding="utf-8")
        tmp.rename(folder / name)
        pointer = folder / f".{_CURRENT}.{os.getpid()}"
        pointer.write_text(name + "\n", encoding="utf-8")
        os.replace(pointer, folder / _CURRENT)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in folder.iterdir():
        if old.is_dir() and old.name != name and (old.name.startswith("g") or old.name.endswith(".partial")):
            shutil.rmtree(old, ignore_errors=True)
    opened = open_generation(folder)
    assert opened is not None and opened.path.name == name
    return opened


def write_json(path: Path, value: Any) -> None:
    """A small JSON file (a fitted vocabulary), written whole then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
