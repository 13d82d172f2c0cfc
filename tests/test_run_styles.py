"""All four styles through `paperradar run`: an announcement day from arXiv replayed on loopback, full text
(HTML) from loopback, the fake OpenAI server taught the style tasks, zh and ja in one run."""

from __future__ import annotations

import json
import sqlite3

from tests.arxiv_server import ArxivServer, Reply, synthetic_day
from tests.cli_runner import cli
from tests.fake_llm_styles import FULLTEXT_FIXTURES, FakeStyleLLM

BANDS = (
    "[[styles.bands]]\nstyle = 'highlight'\ntop = 4\n[[styles.bands]]\nstyle = 'review'\ntop = 2\n"
    "[[styles.bands]]\nstyle = 'dialogue'\ntop = 1\n"
)


def test_four_styles_in_zh_and_ja(write_config, fake_style_llm: FakeStyleLLM):
    html = (FULLTEXT_FIXTURES / "2602.09386v1.html").read_bytes()
    with ArxivServer() as arxiv:
        synthetic_day(40, ["cs.IR"]).install(arxiv)
        arxiv.route("/html/", Reply(body=html, content_type="text/html"), prefix=True)
        cfg = write_config(
            f'[sources]\nrss_url = "{arxiv.rss_url}"\napi_url = "{arxiv.api_url}"\nhtml_url = "{arxiv.url}/html"\n'
            f'pdf_url = "{arxiv.url}/pdf"\nrequest_delay = 0.0\n'
            f'[styles]\nlanguages = ["zh", "ja"]\n{BANDS}'
            f'[llm]\nbackend = "openai"\n[[llm.endpoints]]\nbase_url = "{fake_style_llm.url}"\n'
            f'model = "{fake_style_llm.model}"\n'
        )
        assert cli("--config", str(cfg), "run") == 0
        fetched = len(arxiv.requests_to("/html/")) + len(
            [r for r in arxiv.requests if r.path.startswith("/html/")]
        )
    out = cfg.parent / "out"
    day = "2026-09-24"
    for lang in ("zh", "ja"):
        digest = (out / "digests" / f"{day}.{lang}.md").read_text(encoding="utf-8")
        assert fake_style_llm.model in digest
        pages = {p.name for p in (out / "styles" / day).glob(f"*.{lang}.md")}
        assert sum(".highlight." in p for p in pages) == 4
        assert sum(".review." in p for p in pages) == 2
        assert sum(".dialogue." in p for p in pages) == 1
        assert (out / "highlights" / f"{day}.{lang}.md").exists()
    review_ja = next((out / "styles" / day).glob("*.review.ja.md")).read_text(encoding="utf-8")
    for heading in ["基本情報", "研究概要", "提案手法", "実験結果", "実用性評価", "まとめと所感"]:
        assert heading in review_ja
    dialogue_ja = next((out / "styles" / day).glob("*.dialogue.ja.md")).read_text(encoding="utf-8")
    for heading in ["概要と位置づけ", "先行研究との差別化ポイント", "会議で使えるフレーズ集"]:
        assert heading in dialogue_ja
    # full text was fetched once per paper: every top paper's page for its author block (before any model
    # is asked; none of these synthetic papers names its company elsewhere), and the review (top 2) and
    # dialogue (top 1) read it from the cache
    assert fetched == len(list((cfg.parent / "fulltext").glob("*.json"))) == 20
    conn = sqlite3.connect(cfg.parent / "radar.db")
    stats = json.loads(conn.execute("SELECT stats FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert stats["styles"]["written"] == 2 * (4 + 2 + 1)
    assert "unverified" in stats["faithfulness"]

    # the site shows every style of the top paper, in both languages, from the stored answers
    assert cli("--config", str(cfg), "publish", "site", "--lang", "zh", "--lang", "ja") == 0
    top = next((out / "styles" / day).glob("*.dialogue.ja.md")).name.split(".dialogue.")[0]
    page = (out / "site" / "papers" / f"{top}.html").read_text(encoding="utf-8")
    for text in ["実験結果", "概要と位置づけ", "会議で使えるフレーズ集"]:
        assert text in page, text
    # embedded without the Markdown page's own header: the paper page shows id, authors and dates once
    assert "基本情報" not in page


def test_without_llm_review_and_dialogue_say_skipped(write_config):
    cfg = write_config(f'[styles]\nlanguages = ["zh", "ja"]\n{BANDS}')
    assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-10") == 0
    pages = cfg.parent / "out" / "styles" / "2026-02-10"
    review = next(pages.glob("*.review.zh.md")).read_text(encoding="utf-8")
    assert "已跳过：需要大模型" in review
    dialogue = next(pages.glob("*.dialogue.ja.md")).read_text(encoding="utf-8")
    assert "スキップ：LLM が必要です" in dialogue
    highlight = next(pages.glob("*.highlight.zh.md")).read_text(encoding="utf-8")
    assert "抽取" in highlight or "extractive" in highlight
    assert (cfg.parent / "out" / "digests" / "2026-02-10.ja.md").exists()
