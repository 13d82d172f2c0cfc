"""The store `paperradar serve` is tested against (test_serve.py, test_serve_browser.py): `build_store` runs
the bundled sample for SAMPLE_DAY and ranks a hostile paper (HOSTILE_ID, HOSTILE_TITLE) and an old-style id
(OLD_ID, OLD_TITLE) on EXTRA_DAY."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from paperradar.config import Config, load_config
from paperradar.models import Announcement, CompanyHit, GeneratedText, Interest, KeywordHit, Paper, Ranked
from paperradar.pipeline import run_pipeline
from paperradar.store import Store

SAMPLE_DAY = date(2026, 2, 10)
EXTRA_DAY = date(2026, 2, 20)  # after the sample's last day: only the two papers below are on it
HOSTILE_ID = "2602.99999"
HOSTILE_TITLE = "<script>alert(1)</script>"
OLD_ID = "hep-th/9901001"
OLD_TITLE = "Old style identifiers & their slashes"


def build_store(folder: Path) -> tuple[Path, Config]:
    """A real store: the bundled sample run for 2026-02-10, plus a hostile paper and an old-style id
    ranked on EXTRA_DAY with an explanation shaped like the personal ranker's."""
    cfg_path = folder / "c.toml"
    cfg_path.write_text('[store]\npath = "radar.db"\n[output]\nfolder = "out"\n', encoding="utf-8")
    cfg = load_config(cfg_path)
    hostile = Paper(
        HOSTILE_ID,
        HOSTILE_TITLE,
        ["<b>Mallory</b>", "Eve"],
        "Zygomorphic <img src=x onerror=alert(2)> retrieval for recommendation.",
        categories=["cs.IR"],
        comment="<iframe src=//evil.example>",
        source="jsonl",
    )
    old = Paper(OLD_ID, OLD_TITLE, ["Ada Lovelace"], "A xylophonic duality of strings.", source="jsonl")
    old.categories = ["hep-th", "cs.IR"]
    ranked = [
        Ranked(
            hostile,
            Announcement(HOSTILE_ID, EXTRA_DAY, "cs.IR", "new"),
            [KeywordHit("retrieval", "technical", ("retrieval",))],
            [CompanyHit("evil", "<em>Evil Corp</em>", "abstract", "<u>evil</u>")],
            Interest(4, "<script>alert(6)</script> reason", "heuristic"),
            rank=1,
            explanation={
                "<i>key</i>": "<script>alert(3)</script>",
                "nearest_library_papers": [
                    {"arxiv_id": "2602.07774", "title": "<svg onload=alert(4)>", "similarity": 0.83124}
                ],
                "contributing_terms": {"retrieval": 0.25, "zygomorphic": -0.125},
                "order": ["personal", "keywords"],
            },
        ),
        Ranked(
            old,
            Announcement(OLD_ID, EXTRA_DAY, "cs.IR", "cross"),
            [],
            [],
            Interest(2, "plain reason", "heuristic"),
            rank=2,
            explanation={"order": ["keywords"], "published": None},
        ),
    ]
    with Store(cfg.db_path) as store:
        run_pipeline(cfg, store, day=SAMPLE_DAY, sample=True)
        store.save_papers([hostile, old])
        store.save_announcements([r.announcement for r in ranked])
        store.save_ranks(EXTRA_DAY, ranked, None)
        title = GeneratedText(
            HOSTILE_ID, 1, "title", cfg.output.language, "<script>alert(5)</script> 译名", "test-model", "t1"
        )
        store.save_text(title, None)
    return cfg.db_path, cfg


def token_of(page: str) -> str:
    """The per-process form token of a served page (what a rating or save form must send back)."""
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
