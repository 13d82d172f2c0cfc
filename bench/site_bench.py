"""A real store to build sites from, for the site's tests and its benchmark.

`sample_store` runs the actual pipeline stages (import the bundled sample, rank every day, write the
extractive summaries) and can clone the sample into older weeks to reach any archive size. With
`styled=True` it also stores texts a model would have written (translated titles, summaries, and the
highlight/review/dialogue styles), marked with the model name "synthetic" so nobody mistakes them for
real output. `run_bench` times `build_site` on such an archive.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from paperradar.config import Config, load_config
from paperradar.models import Announcement, GeneratedText, Paper
from paperradar.pipeline import Pipeline
from paperradar.sources import read_jsonl
from paperradar.sources.intake import intake_sample, sample_path
from paperradar.store import Store

SYNTHETIC_MODEL = "synthetic"
SAMPLE_PAPERS = 167  # papers in the bundled sample


def sample_config(folder: Path, language: str = "zh") -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "paperradar-site.toml"
    path.write_text(
        f'[store]\npath = "radar.db"\n[output]\nfolder = "out"\nlanguage = "{language}"\n', encoding="utf-8"
    )
    return load_config(path)


def sample_store(folder: Path, *, copies: int = 0, styled: bool = True, language: str = "zh") -> Store:
    """A store in `folder` holding the sample's days plus `copies` clones of them in earlier weeks, every
    day ranked and written by the pipeline; the caller closes it."""
    cfg = sample_config(folder, language)
    store = Store(cfg.db_path)
    pipe = Pipeline(cfg, store)
    intake_sample(store, cfg.sources.categories)
    if copies:
        _clone_sample(store, copies)
    for day in store.announcement_days(cfg.sources.categories):
        ranked = pipe.rank(day)
        if ranked:
            pipe.write(ranked)
            if styled:
                add_styled_texts(store, [r.paper for r in ranked[: cfg.output.top_n]])
    return store


def _clone_id(arxiv_id: str, copy: int) -> str:
    # A valid new-style id in an earlier month: 2602.14358 -> 2512.14358, 2511.14358, ...
    months = 2025 * 12 + 11 - (copy - 1)
    return f"{months // 12 % 100:02d}{months % 12 + 1:02d}.{arxiv_id.split('.', 1)[1]}"


def _clone_sample(store: Store, copies: int) -> None:
    records = list(read_jsonl(sample_path()))
    for copy in range(1, copies + 1):
        shift = timedelta(weeks=copy)  # whole weeks keep weekdays, so no clone lands on a weekend
        papers: list[Paper] = []
        anns: list[Announcement] = []
        for paper, paper_anns in records:
            new_id = _clone_id(paper.arxiv_id, copy)
            papers.append(
                replace(
                    paper,
                    arxiv_id=new_id,
                    categories=list(paper.categories),
                    authors=list(paper.authors),
                    affiliations=list(paper.affiliations),
                    published=paper.published - shift if paper.published else None,
                    updated=paper.updated - shift if paper.updated else None,
                    source="sample",
                )
            )
            anns += [replace(a, arxiv_id=new_id, day=a.day - shift) for a in paper_anns]
        store.save_papers(papers)
        store.save_announcements(anns)


def add_styled_texts(store: Store, papers: list[Paper]) -> None:
    """Texts in the shape an LLM backend stores them (title, summary, style:* per language)."""
    created = datetime(2026, 2, 1, tzinfo=UTC)
    texts: list[GeneratedText] = []
    for paper in papers:
        first = paper.abstract.split(". ")[0].strip().rstrip(".")
        per_lang = {
            "zh": (f"【译】{paper.title}", f"本文研究：{first}。", "亮点"),
            "ja": (f"【訳】{paper.title}", f"本論文の要点：{first}。", "ハイライト"),
        }
        for lang, (title, summary, word) in per_lang.items():
            texts.append(_text(paper, "title", lang, title, created))
            texts.append(_text(paper, "summary", lang, summary, created))
            texts.append(_text(paper, "style:highlight", lang, f"### 🔍 {word}\n\n**{first}**", created))
        texts.append(
            _text(
                paper,
                "style:review",
                "en",
                f"## Strengths\n\n- {first}\n- Clear evaluation\n\n## Weaknesses\n\n1. Needs `code` release",
                created,
            )
        )
        texts.append(_text(paper, "style:dialogue", "en", f"**Q:** What is new?\n\n**A:** {first}.", created))
    for text in texts:
        store.save_text(text, None)


def _text(paper: Paper, task: str, language: str, content: str, created: datetime) -> GeneratedText:
    return GeneratedText(
        paper.arxiv_id, paper.version, task, language, content, SYNTHETIC_MODEL, "synthetic-v1", created
    )


def run_bench(n_papers: int = 1000) -> dict[str, Any]:
    """Time build_site on an archive of at least `n_papers` ranked papers: a cold build into an empty
    folder and a rebuild of the unchanged archive (which rewrites nothing)."""
    from paperradar.publish.site import build_site

    copies = max(0, math.ceil(n_papers / SAMPLE_PAPERS) - 1)
    with tempfile.TemporaryDirectory(prefix="paperradar-site-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        store = sample_store(folder, copies=copies)
        setup = time.perf_counter() - start
        try:
            papers, days = store.rank_totals()
            cold = build_site(store, folder / "site", ["zh", "ja", "en"], "paperradar bench")
            warm = build_site(store, folder / "site", ["zh", "ja", "en"], "paperradar bench")
            size = sum(p.stat().st_size for p in (folder / "site").rglob("*") if p.is_file())
        finally:
            store.close()
    return {
        "papers": papers,
        "days": days,
        "pages": cold.pages,
        "files": cold.files,
        "site_bytes": size,
        "setup_seconds": round(setup, 2),
        "cold_seconds": round(cold.seconds, 3),
        "cold_pages_per_s": round(cold.pages / cold.seconds, 1),
        "warm_seconds": round(warm.seconds, 3),
        "warm_pages_per_s": round(warm.pages / warm.seconds, 1),
        "warm_changed_files": warm.changed,
    }
