"""The store the site tests build pages from: `built_store` runs the bundled sample through the pipeline
once per session (7 ranked days, styled texts) and adds a hostile paper and an old-style id on DAY; the
constants name what the tests look for (HOSTILE_ID, HOSTILE_TITLE, OLD_ID, ABSTRACT_WORD, HOSTILE_STYLE,
LANGS)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bench.site_bench import SYNTHETIC_MODEL, add_styled_texts, sample_config, sample_store
from paperradar.models import Announcement, GeneratedText, Paper
from paperradar.pipeline import Pipeline
from paperradar.store import Store

DAY = date(2026, 2, 17)
HOSTILE_ID = "2602.99999"
OLD_ID = "hep-th/9901001"
HOSTILE_TITLE = (
    'Recommendation <script>alert(1)</script> with <img src=x onerror=alert(1)> "quotes" & '
    "{{ site.title }} {% raw %} $$x$$ : #tag"
)
ABSTRACT_WORD = "zanzibarquokka"  # appears in the hostile paper's abstract only
HOSTILE_STYLE = (
    "### 🧪 <script>alert(3)</script>\n\n[click](javascript:alert(4)) <img src=x onerror=alert(5)>\n\n"
    '<a href="javascript:alert(6)">x</a> ![pixel](https://example.invalid/p.png)'
)
LANGS = ["zh", "ja", "en"]
_STORE_CACHE: dict[str, Path] = {}


def hostile_papers() -> list[Paper]:
    published = datetime(2026, 2, 16, 1, 2, tzinfo=UTC)
    return [
        Paper(
            arxiv_id=HOSTILE_ID,
            title=HOSTILE_TITLE,
            authors=["<b>Mallory</b>", 'Eve "}}" O\'Brien'],
            abstract=(
                f"We study ranking and recommendation with a {ABSTRACT_WORD} estimator. "
                "<script>alert(2)</script> Control \x0b\x1f characters & ]]> end."
            ),
            categories=["cs.IR"],
            comment="<iframe src=javascript:alert(7)>",
            published=published,
            source="sample",
        ),
        Paper(
            arxiv_id=OLD_ID,
            title="An old-style identifier paper about retrieval",
            authors=["A. Author"],
            abstract="Retrieval of old papers with ranking.",
            categories=["cs.IR"],
            published=published,
            source="sample",
        ),
    ]


def add_hostile(folder: Path, store: Store) -> None:
    """Insert the hostile and the old-style papers on DAY and re-rank the day through the pipeline."""
    cfg = sample_config(folder)
    store.save_papers(hostile_papers())
    store.save_announcements(Announcement(p.arxiv_id, DAY, "cs.IR", "new", 1) for p in hostile_papers())
    pipe = Pipeline(cfg, store)
    ranked = pipe.rank(DAY)
    pipe.write(ranked)
    hostile = store.get_paper(HOSTILE_ID)
    assert hostile is not None
    add_styled_texts(store, [hostile])
    for lang in ("zh", "en"):
        store.save_text(
            GeneratedText(HOSTILE_ID, 1, "style:highlight", lang, HOSTILE_STYLE, SYNTHETIC_MODEL, "x", None),
            None,
            overwrite=True,
        )


def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sample store (7 ranked days, styled texts, hostile papers) per test session: building it runs
    the pipeline over the sample, which takes seconds. Tests must not write to it."""
    if "db" not in _STORE_CACHE:
        folder = tmp_path_factory.mktemp("site-store")
        store = sample_store(folder)
        add_hostile(folder, store)
        store.close()
        _STORE_CACHE["db"] = folder / "radar.db"
    return _STORE_CACHE["db"]
