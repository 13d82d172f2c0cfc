"""The static site's search by meaning, measured in the browser on real data (`PYTHONPATH=. python
bench/site_search_bench.py`; needs ../shared, or PAPERRADAR_SHARED, and /usr/bin/chromium): P7's relevance check scaled to a site.

A 1,000-paper site: the reader's picks found in the bulk file plus cs.IR papers of the bulk file up to
1,000. As in P7 (bench/search_bench.py), each picked paper's abstract loses its first sentence, which
becomes the query (whole, or its first 5 words that are not stop words), and a third query set is the
title minus stop words and its 2 rarest words. The site's own search.js runs the queries in headless
Chromium over the indexes publish/site.py would ship (search-index.js as search_index writes it, with
the fields search.js reads; search-meaning.js from build_meaning_index): the rank of the picked paper
among the first 100, exact words vs words fused with meaning, and the time one query's render takes.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search_bench import SHARED, _first_words, _picks  # noqa: E402
from paperradar.publish.site import _js_safe  # noqa: E402
from paperradar.publish.site_search import build_meaning_index, paper_text, tokens  # noqa: E402
from paperradar.text.extractive import split_sentences  # noqa: E402
from paperradar.text.tfidf import ENGLISH_STOP_WORDS  # noqa: E402

BULK = SHARED / "data" / "arxiv" / "bulk-155k.jsonl.gz"
SITE_PAPERS = 1000
LABELS = {
    "en": {
        k: k
        for k in (
            "count",
            "none",
            "empty",
            "loading",
            "how_hybrid",
            "how_exact",
            "meaning_missing",
            "by_meaning",
        )
    }
}
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head><body>
<form id="search-form"><input id="q" type="search"></form><input id="exact" type="checkbox">
<p id="search-status" data-labels="{labels}"></p><ol id="results"></ol>
<script src="search-index.js"></script><script src="search-meaning.js"></script><script src="search.js"></script>
</body></html>"""


def corpus() -> tuple[list[dict[str, Any]], dict[str, str]]:
    picks = _picks()
    chosen: dict[str, dict[str, Any]] = {}
    fill: list[dict[str, Any]] = []
    with gzip.open(BULK, "rt", encoding="utf-8") as fh:
        for line in fh:
            paper = json.loads(line)
            if paper["id"] in picks:
                chosen[paper["id"]] = paper
            elif "cs.IR" in paper.get("categories", []) and len(fill) < SITE_PAPERS:
                fill.append(paper)
    papers = list(chosen.values()) + fill[: SITE_PAPERS - len(chosen)]
    held: dict[str, str] = {}
    for paper in papers:
        if paper["id"] in picks:
            sentences = split_sentences(paper["abstract"])
            if len(sentences) >= 3:
                held[paper["id"]] = sentences[0]
                paper["abstract"] = " ".join(sentences[1:])
    return papers, held


def title_query(title: str, df: dict[str, int], drop: int = 2) -> str | None:
    words = [w for w in re.findall(r"\w+", title) if w.lower() not in ENGLISH_STOP_WORDS and not w.isdigit()]
    rare = set(sorted(words, key=lambda w: (df.get(w.lower(), 0), w.lower()))[:drop])
    kept = [w for w in words if w not in rare]
    return " ".join(kept) if len(kept) >= 2 else None


def write_site(folder: Path, papers: list[dict[str, Any]]) -> int:
    docs = [
        {
            "id": p["id"],
            "u": f"papers/{p['id']}.html",
            "d": "2026-02-01",
            "t": " ".join(p["title"].split()),
            "tt": {},
            "ab": " ".join(p["abstract"].split()),
            "s": [],
            "k": [],
            "a": p["authors"][:20],
            "sc": 0,
            "e": "",
        }
        for p in papers
    ]
    index = json.dumps(docs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    start = time.process_time()
    meaning = build_meaning_index((p["id"], paper_text(p["title"], p["abstract"])) for p in papers).to_json()
    built = time.process_time() - start
    (folder / "search-index.js").write_text(f"window.PAPERRADAR_SEARCH = {_js_safe(index)};\n", "utf-8")
    (folder / "search-meaning.js").write_text(f"window.PAPERRADAR_MEANING = {_js_safe(meaning)};\n", "utf-8")
    code = ROOT / "paperradar" / "publish" / "site_static" / "search.js"
    (folder / "search.js").write_text(code.read_text(encoding="utf-8"), "utf-8")
    labels = json.dumps(LABELS).replace('"', "&quot;")
    (folder / "search.html").write_text(PAGE.replace("{labels}", labels), "utf-8")
    print(f"meaning index: {len(meaning.encode())} bytes, {built:.3f} s CPU to build")
    return len(meaning.encode())


RUN = """([query, exact]) => {
  const box = document.getElementById('exact'); box.checked = exact;
  const q = document.getElementById('q'); q.value = query;
  const t = performance.now(); q.dispatchEvent(new Event('input')); const ms = performance.now() - t;
  return [ms, Array.from(document.querySelectorAll('#results li')).map(li => li.dataset.id)];
}"""


def main() -> None:
    from playwright import sync_api

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    papers, held = corpus()
    by_id = {p["id"]: p for p in papers}
    df: dict[str, int] = {}
    for p in papers:
        for word in set(tokens(paper_text(p["title"], p["abstract"]))):
            df[word] = df.get(word, 0) + 1
    sets = {
        "held-out sentence": {a: s for a, s in held.items()},
        "held-out, 5 words": {a: _first_words(s, 5, ENGLISH_STOP_WORDS) for a, s in held.items()},
        "title minus 2 rarest words": {
            a: q for a in held if (q := title_query(by_id[a]["title"], df)) is not None
        },
    }
    print(f"{len(papers)} papers, {len(held)} picks with a held-out first sentence")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        size = write_site(folder, papers)
        print(f"{size / len(papers):.0f} bytes per paper")
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page()
            page.goto((folder / "search.html").as_uri())
            page.wait_for_function("document.getElementById('search-status').textContent !== 'loading'")
            print(
                "| queries | exact MRR | hybrid MRR | exact R@10 | hybrid R@10 | exact ms p50/p95 | hybrid ms p50/p95 |"
            )
            print("|---|---|---|---|---|---|---|")
            for name, queries in sets.items():
                row = []
                for exact in (True, False):
                    rr, hit10, times = [], [], []
                    for arxiv_id, query in queries.items():
                        ms, ids = page.evaluate(RUN, [query, exact])
                        times.append(ms)
                        rank = ids.index(arxiv_id) + 1 if arxiv_id in ids else None
                        rr.append(1 / rank if rank else 0.0)
                        hit10.append(1.0 if rank and rank <= 10 else 0.0)
                    times.sort()
                    row.append((statistics.mean(rr), statistics.mean(hit10), times))
                (emrr, er10, et), (hmrr, hr10, ht) = row
                p95 = lambda t: t[min(len(t) - 1, int(0.95 * len(t)))]  # noqa: E731
                print(
                    f"| {name} ({len(queries)}) | {emrr:.3f} | {hmrr:.3f} | {er10:.3f} | {hr10:.3f} | "
                    f"{statistics.median(et):.1f}/{p95(et):.1f} | {statistics.median(ht):.1f}/{p95(ht):.1f} |"
                )
            browser.close()


if __name__ == "__main__":
    main()
