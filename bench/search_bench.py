"""P6: `paperradar search` latency over the 155k bulk archive, against the previous query in the same run.

    from bench.search_bench import bench_search
    bench_search()                      # bench/work/import/radar.db if bench_import made it, else the bulk file
    bench_search("path/to/radar.db")    # an existing store (opened, never written)
    bench_search("bulk-155k.jsonl.gz")  # imported once into a temporary store with `paperradar import`

    python bench/search_bench.py [PATH]             # the same, plus a per-query table
    python bench/search_bench.py --options [PATH]   # the other designs that were measured (see OPTIONS)
    python bench/search_bench.py --hybrid [DB]      # P7: search by meaning (bench_hybrid)

Measured in-process through Store.search(query, limit=20), the way `paperradar search` and the web UI call
it. Every query runs once unmeasured (page cache warm), then `repeats` times through both the current
search and the baseline (the single bm25 query Store.search used before: FTS5 scores every match, then
LIMIT), interleaved and alternating which goes first, so both see the same machine noise. p50/p95 are over
all timed calls. Quality is reported next to speed: for each query, how many of the baseline's top 20 the
new search also returns, and which share of the results has every query word in the title.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from paperradar.store.archive import Store  # noqa: E402
from paperradar.store.rows import PAPER_COLUMNS as _PAPER_COLUMNS  # noqa: E402
from paperradar.store.rows import row_to_paper as _row_to_paper  # noqa: E402
from paperradar.store.search import fts_query  # noqa: E402

SHARED = Path(os.environ.get("PAPERRADAR_SHARED", ROOT.parent / "shared"))
BULK = SHARED / "data" / "arxiv" / "bulk-155k.jsonl.gz"
IMPORTED = ROOT / "bench" / "work" / "import" / "radar.db"  # what bench/run.py's bench_import leaves

# What people type into a paper search: frequent single words (the slow case: tens of thousands of
# matches), two- and three-word topics, rare terms, and author names. Counts are matches in the 155k file.
QUERIES: dict[str, list[str]] = {
    "common word": [
        "learning",  # 38,586 matches
        "model",  # 71,187
        "models",  # 77,493
        "language",  # 49,614
        "data",  # 49,642
        "large",  # 54,236
        "framework",  # 58,006
        "performance",  # 49,600
        "neural",  # 10,915
        "graph",  # 7,655
        "diffusion",  # 9,200
        "retrieval",  # 8,557
        "transformer",  # 7,791
        "reinforcement",  # 8,762
        "quantum",  # 4,534
    ],
    "topic": [
        "large language",
        "language models",
        "large language models",
        "graph neural networks",
        "reinforcement learning",
        "diffusion model",
        "contrastive learning",
        "federated learning",
        "retrieval augmented generation",
        "recommendation system",
        "vision transformer",
        "multi agent",
        "click through rate",
    ],
    "rare term": [
        "hypergraph",
        "tomography",
        "pulsar",
        "sparsity",
        "kuaishou",
        "sigir",
        "quantum error correction",
    ],
    "author": ["Zhang", "Wang", "Wei Zhang", "Yann LeCun", "Kaiming He", "Bengio", "Hinton", "Vaswani"],
}


@functools.cache
def _raw_for(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _raw(store: Store) -> sqlite3.Connection:
    """The baselines are plain SQL on their own connection: the store keeps its connection private."""
    return _raw_for(str(store.path))


def baseline_search(store: Store, query: str, limit: int = 20) -> list[tuple[Any, float]]:
    """Store.search before P6: one query, bm25 over every match, then LIMIT."""
    match = fts_query(query)
    if not match:
        return []
    rows = _raw(store).execute(
        f"SELECT {', '.join('p.' + c.strip() for c in _PAPER_COLUMNS.split(','))}, "
        "bm25(papers_fts, 10.0, 1.0, 3.0) AS score FROM papers_fts JOIN papers p ON p.rowid = papers_fts.rowid "
        "WHERE papers_fts MATCH ? ORDER BY score LIMIT ?",
        (match, limit),
    )
    return [(_row_to_paper(r), -r["score"]) for r in rows]


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _import(bulk: Path, folder: Path) -> tuple[Path, float]:
    cfg = folder / "paperradar.toml"
    cfg.write_text('[store]\npath = "radar.db"\n[output]\nfolder = "out"\n', encoding="utf-8")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "paperradar", "-q", "--config", str(cfg), "import", str(bulk)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return folder / "radar.db", time.perf_counter() - start


def _title_matches(store: Store, query: str, arxiv_ids: list[str]) -> int:
    """How many of these papers have every query word in the title (FTS5's own tokenizer decides)."""
    if not arxiv_ids:
        return 0
    title = "{title} : (" + fts_query(query) + ")"
    marks = ",".join("?" * len(arxiv_ids))
    return (
        _raw(store)
        .execute(
            f"SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ? AND rowid IN "
            f"(SELECT rowid FROM papers WHERE arxiv_id IN ({marks}))",
            [title, *arxiv_ids],
        )
        .fetchone()[0]
    )


def bench_search(
    path: str | os.PathLike[str] | None = None, repeats: int = 5, limit: int = 20, details: bool = False
) -> dict[str, Any]:
    """p50/p95 of Store.search over QUERIES (ms), the baseline's in the same run, and the quality figures.
    `path`: a paperradar database, or a JSONL(.gz) file to import first (None: see the module doc)."""
    if path is None:
        path = IMPORTED if IMPORTED.exists() else BULK
    path = Path(path)
    if not path.exists():
        print(f"skip P6: {path} not found (set PAPERRADAR_SHARED)")
        return {}
    with tempfile.TemporaryDirectory(prefix="paperradar-search-") as tmp:
        import_s = None
        if path.suffix in (".gz", ".jsonl", ".json"):
            path, import_s = _import(path, Path(tmp))
        store = Store(path)
        try:
            result = _measure(store, repeats, limit, details)
        finally:
            store.close()
    if import_s is not None:
        result["import_s"] = import_s
    return result


def _measure(store: Store, repeats: int, limit: int, details: bool) -> dict[str, Any]:
    queries = [(kind, q) for kind, qs in QUERIES.items() for q in qs]
    current: Callable[[str], list[tuple[Any, float]]] = lambda q: store.search(q, limit)  # noqa: E731
    old: Callable[[str], list[tuple[Any, float]]] = lambda q: baseline_search(store, q, limit)  # noqa: E731
    results: dict[str, tuple[list[str], list[str]]] = {}
    for _, q in queries:  # warm the page cache; keep the answers for the quality figures
        results[q] = ([p.arxiv_id for p, _ in current(q)], [p.arxiv_id for p, _ in old(q)])
    times: dict[str, list[float]] = {"new": [], "old": []}
    per_query: dict[str, dict[str, list[float]]] = {q: {"new": [], "old": []} for _, q in queries}
    for rep in range(repeats):
        for i, (_, q) in enumerate(queries):
            order = (
                [("new", current), ("old", old)] if (rep + i) % 2 == 0 else [("old", old), ("new", current)]
            )
            for name, fn in order:
                start = time.perf_counter()
                fn(q)
                elapsed = (time.perf_counter() - start) * 1000
                times[name].append(elapsed)
                per_query[q][name].append(elapsed)

    overlap, identical, title_new, title_old, returned_new, returned_old = [], 0, 0, 0, 0, 0
    rows = []
    for kind, q in queries:
        new_ids, old_ids = results[q]
        identical += new_ids == old_ids
        overlap.append(len(set(new_ids) & set(old_ids)) / len(old_ids) if old_ids else 1.0)
        t_new, t_old = _title_matches(store, q, new_ids), _title_matches(store, q, old_ids)
        title_new, title_old = title_new + t_new, title_old + t_old
        returned_new, returned_old = returned_new + len(new_ids), returned_old + len(old_ids)
        rows.append(
            {
                "kind": kind,
                "query": q,
                "ms": statistics.median(per_query[q]["new"]),
                "baseline_ms": statistics.median(per_query[q]["old"]),
                "overlap": overlap[-1],
                "title": f"{t_new}/{len(new_ids)}",
                "baseline_title": f"{t_old}/{len(old_ids)}",
            }
        )
    p50, p95 = statistics.median(times["new"]), _percentile(times["new"], 95)
    b50, b95 = statistics.median(times["old"]), _percentile(times["old"], 95)
    out: dict[str, Any] = {
        "p50_ms": p50,
        "p95_ms": p95,
        "max_ms": max(times["new"]),
        "queries": len(queries),
        "papers": store.count_papers(),
        "timed_calls": len(times["new"]),
        "baseline_p50_ms": b50,
        "baseline_p95_ms": b95,
        "baseline_max_ms": max(times["old"]),
        "speedup_p50": b50 / p50,
        "speedup_p95": b95 / p95,
        "same_top20_as_baseline": identical,
        "mean_overlap_at_20": statistics.fmean(overlap),
        "title_match_share": title_new / max(returned_new, 1),
        "baseline_title_match_share": title_old / max(returned_old, 1),
    }
    for kind in QUERIES:
        kind_times = [t for k, q in queries if k == kind for t in per_query[q]["new"]]
        out[f"p95_ms_{kind.replace(' ', '_')}"] = _percentile(kind_times, 95)
    if details:
        out["per_query"] = rows
    return out


# The other designs measured for P6 (`python bench/search_bench.py --options [PATH]`), each one SQL query
# over rowids + scores; the papers are read afterwards for the top `limit` only.
_COLS = ", ".join("p." + c.strip() for c in _PAPER_COLUMNS.split(","))
OPTIONS = {
    # FTS5's own ORDER BY rank with the rank function set per query (what a 'rank' config migration
    # would set once): FTS5 still computes bm25 for every match and sorts them itself.
    "order by rank": "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? AND rank MATCH 'bm25(10.0, 1.0, 3.0)' "
    "ORDER BY rank LIMIT ?",
    # Score and sort rowids first, join the 20 papers after: the join was never the cost.
    "score, then join": f"SELECT {_COLS} FROM (SELECT rowid, bm25(papers_fts, 10.0, 1.0, 3.0) AS s FROM papers_fts "
    "WHERE papers_fts MATCH ? ORDER BY s LIMIT ?) f JOIN papers p ON p.rowid = f.rowid ORDER BY f.s",
    # Two-stage without a bound: bm25 over every title match (common words still have 5-16k of them).
    "title matches only": "SELECT rowid FROM papers_fts WHERE papers_fts MATCH '{title} : (' || ? || ')' "
    "ORDER BY bm25(papers_fts, 10.0, 1.0, 3.0) LIMIT ?",
}


def bench_options(path: str | os.PathLike[str] | None = None, limit: int = 20) -> dict[str, dict[str, float]]:
    """p50/p95 (ms, best of 3 per query) of the baseline, each OPTIONS query and Store.search."""
    path = Path(path or (IMPORTED if IMPORTED.exists() else BULK))
    with tempfile.TemporaryDirectory(prefix="paperradar-search-") as tmp:
        if path.suffix in (".gz", ".jsonl", ".json"):
            path, _ = _import(path, Path(tmp))
        store = Store(path)
        try:
            fns: dict[str, Callable[[str], Any]] = {
                "baseline": lambda q: baseline_search(store, q, limit),
                **{
                    name: (lambda q, sql=sql: _raw(store).execute(sql, (fts_query(q), limit)).fetchall())
                    for name, sql in OPTIONS.items()
                },
                "Store.search": lambda q: store.search(q, limit),
            }
            out = {}
            for name, fn in fns.items():
                best = []
                for q in (q for qs in QUERIES.values() for q in qs):
                    fn(q)
                    runs = []
                    for _ in range(3):
                        start = time.perf_counter()
                        fn(q)
                        runs.append((time.perf_counter() - start) * 1000)
                    best.append(min(runs))
                out[name] = {"p50_ms": statistics.median(best), "p95_ms": _percentile(best, 95)}
            return out
        finally:
            store.close()


# -- P7: search by meaning ------------------------------------------------------------------------------
HYBRID_WORK = ROOT / "bench" / "work" / "hybrid"  # the held-out copy and its index; delete to rebuild
PICKS = SHARED / "data" / "picks"
TUNE_UNTIL = "2026-02-28"  # the fusion weights were chosen on picks up to this day; later ones are the test


def _picks() -> dict[str, str]:
    """arXiv id → the first day the reader picked it."""
    days: dict[str, str] = {}
    for path in sorted(PICKS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                pick = json.loads(line)
                days[pick["arxiv_id"]] = min(days.get(pick["arxiv_id"], pick["date"]), pick["date"])
    return days


def _held_out_archive(source: Path, picks: dict[str, str]) -> tuple[Path, dict[str, str], float]:
    """A copy of the archive in which every picked paper's abstract lacks its first sentence (that sentence
    becomes the query: the authors' own description, in words the indexed paper no longer holds), then
    `paperradar index` on it in a child process. Returns the db, {id: held-out sentence}, index seconds."""
    from paperradar.text.extractive import split_sentences

    db, meta = HYBRID_WORK / "radar.db", HYBRID_WORK / "held_out.json"
    if db.exists() and meta.exists():
        saved = json.loads(meta.read_text(encoding="utf-8"))
        return db, saved["queries"], saved["index_s"]
    HYBRID_WORK.mkdir(parents=True, exist_ok=True)
    for stale in HYBRID_WORK.glob("radar*"):
        subprocess.run(["rm", "-rf", str(stale)], check=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(db)
    src.backup(dst)
    src.close()
    queries: dict[str, str] = {}
    dst.execute("BEGIN")
    for arxiv_id in picks:
        row = dst.execute("SELECT abstract FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
        sentences = split_sentences(row[0]) if row else []
        if len(sentences) >= 3:
            queries[arxiv_id] = sentences[0]
            dst.execute(
                "UPDATE papers SET abstract = ? WHERE arxiv_id = ?", (" ".join(sentences[1:]), arxiv_id)
            )
    dst.execute("COMMIT")
    dst.close()
    cfg = HYBRID_WORK / "paperradar.toml"
    cfg.write_text('[store]\npath = "radar.db"\n[output]\nfolder = "out"\n', encoding="utf-8")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "paperradar", "-q", "--config", str(cfg), "index"], check=True, cwd=ROOT
    )
    index_s = time.perf_counter() - start
    meta.write_text(json.dumps({"queries": queries, "index_s": index_s}), encoding="utf-8")
    return db, queries, index_s


def _title_query(title: str, index: Any, drop: int = 2) -> str | None:
    """The title without stop words, numbers and its `drop` rarest words (fewest papers in the index
    hold them: the method's name, the specific term), as someone half-remembering it would type it."""
    from paperradar.rank.search.tfidf import ArchiveTfidf

    tfidf: ArchiveTfidf = index._tfidf
    indptr = index.generation.arrays["indptr"]
    ids = {t: i for i, t in enumerate(tfidf.terms)}
    words = [w for w in re.findall(r"\w+", title) if w.lower() not in tfidf.stop_words and not w.isdigit()]

    def df(word: str) -> int:
        i = ids.get(word.lower())
        return 0 if i is None else int(indptr[i + 1] - indptr[i])

    rare = set(sorted(words, key=lambda w: (df(w), w.lower()))[:drop])
    kept = [w for w in words if w not in rare]
    return " ".join(kept) if len(kept) >= 2 else None


def _first_words(sentence: str, n: int, stop: frozenset[str]) -> str:
    return " ".join([w for w in re.findall(r"\w+", sentence) if w.lower() not in stop][:n])


def bench_hybrid(
    source: str | os.PathLike[str] | None = None, repeats: int = 5, limit: int = 20
) -> dict[str, Any]:
    """P7: p50/p95 of exact and hybrid search over the 155k archive, the index's build time and size, the
    memory of a searching process, and the relevance check on the reader's picks (see docs/BENCHMARKS.md)."""
    import resource

    from paperradar.config import default_config
    from paperradar.rank.search import load_index, search_archive

    source = Path(source or IMPORTED)
    if not source.exists() or not PICKS.exists():
        print(f"skip P7: {source} or {PICKS} not found (run the import benchmark; set PAPERRADAR_SHARED)")
        return {}
    picks = _picks()
    db, held, index_s = _held_out_archive(source, picks)
    personal = default_config().personal
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store = Store(db, read_only=True)
    start = time.perf_counter()
    index = load_index(db, personal)
    load_ms = (time.perf_counter() - start) * 1000
    assert index is not None
    try:
        stop = index._tfidf.stop_words
        # Latency: P6's 43 queries, and 43 of the descriptions (long queries touch many postings).
        typed = [q for qs in QUERIES.values() for q in qs]
        described = [held[i] for i in sorted(held)[:: max(1, len(held) // len(typed))]][: len(typed)]
        latency: dict[str, Any] = {}
        for name, queries in (("typed", typed), ("described", described)):
            times: dict[str, list[float]] = {"exact": [], "hybrid": [], "vectors": []}
            cpu: dict[str, list[float]] = {"exact": [], "hybrid": [], "vectors": []}
            runs = {
                "exact": lambda q: search_archive(store, q, limit, exact=True),
                "hybrid": lambda q: search_archive(store, q, limit, index=index),
                "vectors": lambda q: index.top(q, 50),  # the similarity half alone
            }
            for q in queries:  # warm the page cache
                for fn in runs.values():
                    fn(q)
            for rep in range(repeats):
                for i, q in enumerate(queries):
                    order = list(runs) if (rep + i) % 2 == 0 else list(reversed(runs))
                    for mode in order:
                        t0, c0 = time.perf_counter(), time.process_time()
                        runs[mode](q)
                        times[mode].append((time.perf_counter() - t0) * 1000)
                        cpu[mode].append((time.process_time() - c0) * 1000)
            for mode, values in times.items():
                latency[f"{name}_{mode}_p50_ms"] = statistics.median(values)
                latency[f"{name}_{mode}_p95_ms"] = _percentile(values, 95)
                # CPU time of this process: what the wall time is on a machine with a free core
                latency[f"{name}_{mode}_cpu_p50_ms"] = statistics.median(cpu[mode])
                latency[f"{name}_{mode}_cpu_p95_ms"] = _percentile(cpu[mode], 95)
        latency["load_average_1min"] = os.getloadavg()[0]
        # Relevance: rank of the picked paper among the first 100, exact words vs hybrid.
        checks: dict[str, dict[str, str]] = {
            "title_minus_2_rarest": {
                i: q
                for i in sorted(held)
                if (p := store.get_paper(i)) and (q := _title_query(p.title, index))
            },
            "held_out_sentence": dict(held),
            "held_out_5_words": {i: _first_words(s, 5, stop) for i, s in held.items()},
        }
        relevance: dict[str, Any] = {}
        for check, queries in checks.items():
            ranks: dict[str, dict[str, int | None]] = {"exact": {}, "hybrid": {}}
            for arxiv_id, q in queries.items():
                for mode in ranks:
                    hits = search_archive(store, q, 100, exact=mode == "exact", index=index).hits
                    found = [h.paper.arxiv_id for h in hits]
                    ranks[mode][arxiv_id] = found.index(arxiv_id) + 1 if arxiv_id in found else None
            for part, keep in (
                ("all", lambda i: True),
                ("tune", lambda i: picks[i] <= TUNE_UNTIL),
                ("test", lambda i: picks[i] > TUNE_UNTIL),
            ):
                ids = [i for i in queries if keep(i)]
                for mode, got in ranks.items():
                    rs = [got[i] for i in ids]
                    relevance[f"{check}/{part}/{mode}"] = {
                        "queries": len(rs),
                        "mrr": statistics.fmean(1 / r if r else 0.0 for r in rs) if rs else 0.0,
                        "recall@1": statistics.fmean(1.0 if r == 1 else 0.0 for r in rs) if rs else 0.0,
                        "recall@10": statistics.fmean(1.0 if r and r <= 10 else 0.0 for r in rs)
                        if rs
                        else 0.0,
                        "missed": sum(1 for r in rs if r is None),  # not in the first 100
                    }
        folder = index.generation.path
        return {
            "papers": index.size,
            "model": index.model,
            "index_build_s": index_s,
            "index_mb": sum(f.stat().st_size for f in folder.iterdir()) / 2**20,
            "index_load_ms": load_ms,
            "rss_before_mb": rss_before,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            **latency,
            "relevance": relevance,
        }
    finally:
        store.close()


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--hybrid"]:
        print(json.dumps(bench_hybrid(args[1] if len(args) > 1 else None), indent=2))
        return
    if args[:1] == ["--options"]:
        for name, figures in bench_options(args[1] if len(args) > 1 else None).items():
            print(f"{name:<20} p50 {figures['p50_ms']:8.1f} ms   p95 {figures['p95_ms']:8.1f} ms")
        return
    result = bench_search(args[0] if args else None, details=True)
    rows = result.pop("per_query", [])
    print(f"{'kind':<11} {'query':<32} {'ms':>8} {'baseline':>9} {'overlap':>8} {'title':>7} {'base.':>7}")
    for r in rows:
        print(
            f"{r['kind']:<11} {r['query']:<32} {r['ms']:8.2f} {r['baseline_ms']:9.2f} {r['overlap']:8.2f} "
            f"{r['title']:>7} {r['baseline_title']:>7}"
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
