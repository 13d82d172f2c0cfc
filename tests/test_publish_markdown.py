"""Markdown digest: seed-002 layout in zh/ja/en, author et-al, time zones, escaping, empty days, stability."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest

from paperradar.models import GeneratedText, Interest
from paperradar.publish import escape_markdown, labels, render_digest
from paperradar.text.labels import LANGUAGES
from tests.publish_fixtures import (
    GENERATED,
    GR2,
    SMES,
    SPGL,
    build_digest,
    load_records,
    many_papers,
    paper_from_record,
)

# Field labels of seed 002, in its order, per paper and in the header.
SEED_PAPER_LABELS = [
    "英文标题",
    "作者",
    "提交时间",
    "文章链接",
    "所属公司",
    "命中关键词",
    "感兴趣评分",
    "摘要总结",
]
SEED_HEADER_LABELS = ["生成时间", "论文数量", "排序规则"]
PAPER_KEYS = ["original_title", "authors", "submitted", "link", "company", "keywords", "interest", "summary"]

# Seed 002, paper 1, verbatim except the link: the spec asks for https (the seed has http).
SEED_SMES_SUMMARY = (
    "该论文针对工业级推荐系统中多任务学习面临的挑战，提出了一种可扩展的稀疏专家混合框架SMES。"
    "核心问题是传统模型均匀扩展参数无法适应不同任务对容量的异质性需求，导致推理成本高且稀疏任务收益递减。"
    "SMES通过渐进式专家路由机制，将专家激活分解为跨任务共享的专家子集和任务自适应的私有专家，"
    "在保证实例级稀疏性的同时保留任务特定能力。此外，引入全局多门负载均衡正则化器，"
    "通过调节所有任务的聚合专家利用率来稳定训练。该方法已在快手大规模短视频服务中部署，"
    "支持超过4亿日活用户，在线实验显示用户观看时长提升0.31%。"
)
SEED_SMES_REASON = (
    "该论文直接涉及推荐系统核心的排序和多任务价值建模，来自知名公司快手，"
    "并提出了创新的稀疏专家路由框架解决实际工业场景的扩展性问题。"
)
SEED_SMES_BLOCK = f"""## 1. SMES：通过专家稀疏化实现可扩展的多任务推荐

**英文标题**: SMES: Towards Scalable Multi-Task Recommendation via Expert Sparsity

**作者**: Yukun Zhang、Si Dong、Xu Wang、Bo Chen、等10人

**提交时间**: 2026-02-10 11:56

**文章链接**: [查看原文](https://arxiv.org/abs/2602.09386v1)

**所属公司**: 快手

**命中关键词**: 【4】 kuaishou, ranking, recommendation, uplift

**感兴趣评分**: 【5分】 {SEED_SMES_REASON}

**摘要总结**:
{SEED_SMES_SUMMARY}

---
"""

HOSTILE = "*bold* _x_ [link](http://x) <script>alert(1)</script> # heading | pipe `code`"


def paper_blocks(text: str) -> list[str]:
    return re.split(r"(?m)^(?=## \d+\. )", text)[1:]


def test_seed_paper_block_reproduced_exactly() -> None:
    digest = build_digest("zh")
    item = digest.items[0]
    item.interest = Interest(5, SEED_SMES_REASON, "qwen2.5-7b")
    digest.texts[SMES]["summary"] = GeneratedText(
        SMES, 1, "summary", "zh", SEED_SMES_SUMMARY, "qwen2.5-7b", "t"
    )
    block = paper_blocks(render_digest(digest, max_authors=4))[0]
    assert block == SEED_SMES_BLOCK + "\n"


def test_zh_header_matches_seed_layout() -> None:
    digest = build_digest("zh", papers=many_papers(20))
    text = render_digest(digest, max_authors=4)
    assert text.startswith("# ArXiv cs.IR 每日论文摘要\n\n**生成时间**: 2026年02月17日 12:23:02\n")
    assert "**论文数量**: 20 篇（Top 20）\n" in text
    assert "**排序规则**: 按关键词命中数 + 兴趣评分排序\n" in text  # the seed's line for this order
    assert "**公布日期**: 2026年02月17日\n" in text
    for label in SEED_HEADER_LABELS:
        assert text.count(f"**{label}**: ") == 1
    assert len(paper_blocks(text)) == 20


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_seed_field_appears_in_order_for_every_paper(language: str) -> None:
    lab = labels(language)
    digest = build_digest(language)
    blocks = paper_blocks(render_digest(digest, max_authors=4))
    assert len(blocks) == len(digest.items)
    # An English digest's heading is the original title already: no "Original title" line repeats it.
    keys = [k for k in PAPER_KEYS if not (language == "en" and k == "original_title")]
    for block in blocks:
        positions = [block.find(f"**{lab[key]}**:") for key in keys]
        assert -1 not in positions, block
        assert positions == sorted(positions)
        assert block.rstrip().endswith("---")
        if language == "en":
            assert f"**{lab['original_title']}**" not in block
    if language == "zh":
        assert [lab[key] for key in PAPER_KEYS] == SEED_PAPER_LABELS


def test_order_and_count_lines() -> None:
    digest = build_digest("zh")
    digest.order = ["keywords", "interest", "recency"]
    digest.announced = 12
    text = render_digest(digest, max_authors=4)
    assert "**排序规则**: 按关键词命中数 + 兴趣评分 + 提交时间排序\n" in text
    assert "**论文数量**: 5 篇（当日公布 12 篇，Top 20）\n" in text
    en = render_digest(dataclasses.replace(digest, language="en"), max_authors=4)
    assert "**Ordering**: by keyword hits, then interest score, then submission time\n" in en
    assert "**Papers**: 5 (12 announced that day, Top 20)\n" in en


@pytest.mark.parametrize(
    ("language", "max_authors", "expected"),
    [
        ("zh", 4, "Yukun Zhang、Si Dong、Xu Wang、Bo Chen、等10人"),
        ("zh", 2, "Yukun Zhang、Si Dong、等12人"),
        ("ja", 4, "Yukun Zhang、Si Dong、Xu Wang、Bo Chen、他10名"),
        ("en", 4, "Yukun Zhang, Si Dong, Xu Wang, Bo Chen, et al. (+10 more)"),
        ("zh", 14, None),  # exactly max_authors authors: all shown, no et-al
    ],
)
def test_authors_et_al_counts_the_authors_not_shown(
    language: str, max_authors: int, expected: str | None
) -> None:
    smes = paper_from_record(next(r for r in load_records() if r["id"] == SMES))
    digest = build_digest(language, papers=[smes])
    lab = labels(language)
    line = next(
        x for x in render_digest(digest, max_authors).splitlines() if x.startswith(f"**{lab['authors']}**")
    )
    if expected is None:
        expected = lab["list_sep"].join(smes.authors)
    assert line == f"**{lab['authors']}**: {expected}"


def test_two_authors_have_no_et_al_and_no_authors_is_unknown() -> None:
    papers = [paper_from_record(r) for r in load_records()]
    two = next(p for p in papers if len(p.authors) == 2)
    nobody = dataclasses.replace(papers[0], arxiv_id="2602.99999", authors=[])
    text = render_digest(build_digest("zh", papers=[two, nobody]), max_authors=4)
    assert f"**作者**: {'、'.join(two.authors)}\n" in text
    assert "**作者**: 未知\n" in text
    assert "等" not in "".join(x for x in text.splitlines() if x.startswith("**作者**"))


def test_submission_time_converted_to_digest_zone() -> None:
    papers = [paper_from_record(r) for r in load_records()]
    smes = next(p for p in papers if p.arxiv_id == SMES)  # 2026-02-10 03:56:12 UTC
    late = dataclasses.replace(
        papers[2], published=datetime(2026, 2, 9, 20, 30, tzinfo=UTC)
    )  # crosses midnight
    gr2 = next(p for p in papers if p.arxiv_id == GR2)  # no submission time
    text = render_digest(build_digest("zh", papers=[smes, late, gr2]), max_authors=4)
    submitted = [x for x in text.splitlines() if x.startswith("**提交时间**")]
    assert submitted == [
        "**提交时间**: 2026-02-10 11:56",
        "**提交时间**: 2026-02-10 04:30",
        "**提交时间**: 未知",
    ]
    utc = render_digest(build_digest("en", papers=[smes], generated_at=GENERATED.astimezone(UTC)), 4)
    assert "**Submitted**: 2026-02-10 03:56\n" in utc
    assert "**Generated**: 2026-02-17 04:23:02 UTC+00:00\n" in utc


def test_translated_title_and_untranslated_label() -> None:
    zh = render_digest(build_digest("zh"), max_authors=4)
    assert "## 1. SMES：通过专家稀疏化实现可扩展的多任务推荐\n" in zh
    assert "## 4. SPGL: Enhancing Session-based Recommendation" in zh
    assert zh.count("（未翻译：未配置大模型）") == 3  # five papers, two translated
    # A zh translation must not appear in a ja digest: the ja title falls back to the original, labelled.
    ja = render_digest(build_digest("ja"), max_authors=4)
    assert (
        "## 1. SMES: Towards Scalable Multi-Task Recommendation via Expert Sparsity （未翻訳：LLM未設定）\n"
        in ja
    )
    assert "通过专家稀疏化" not in ja
    en = render_digest(build_digest("en"), max_authors=4)
    assert "untranslated" not in en.split("---", 1)[1]  # English titles need no translation


def test_honesty_labels_and_mode_line() -> None:
    digest = build_digest("zh")
    text = render_digest(digest, max_authors=4)
    assert text.count("**摘要总结**: （抽取式摘要：摘自英文摘要原文，未经大模型改写）\n") == len(digest.items)
    assert text.count("（启发式评分") == len(digest.items)
    assert (
        "**生成方式**: 摘要: 抽取式（无大模型）；标题: 大模型 qwen2.5-7b、未翻译（原文）；评分: 启发式（无大模型）\n"
        in text
    )
    # A model summary carries no extractive label, and the mode line names both sources.
    digest.texts[SPGL]["summary"] = GeneratedText(
        SPGL, 1, "summary", "zh", "模型写的摘要。", "qwen2.5-7b", "t"
    )
    text = render_digest(digest, max_authors=4)
    assert text.count("抽取式摘要") == len(digest.items) - 1
    assert "摘要: 抽取式（无大模型）、大模型 qwen2.5-7b；" in text
    assert "**摘要总结**:\n模型写的摘要。\n" in text


def test_extractive_summary_text_is_from_the_abstract() -> None:
    digest = build_digest("en")
    text = render_digest(digest, max_authors=4)
    spgl = next(b for b in paper_blocks(text) if "SPGL" in b)
    assert "(extractive summary: sentences taken from the abstract, no LLM)" in spgl
    assert "this https URL" not in spgl  # boilerplate left out by the summarizer


def test_escape_markdown_filter() -> None:
    out = escape_markdown(HOSTILE)
    assert "<" not in out and ">" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert r"\*bold\*" in out and r"\_x\_" in out and r"\[link\](http://x)" in out
    assert r"\# heading \| pipe \`code\`" in out
    assert escape_markdown("a\n\n# b\n---", block=False) == r"a \# b ---"  # one line: no block markers
    assert escape_markdown("a\n\n# b\n\n---\n\n1. x", block=True) == "a\n\n\\# b\n\n\\---\n\n1\\. x"
    assert escape_markdown("&lt;b&gt; AT&T") == "&amp;lt;b&amp;gt; AT&T"  # entities stay literal text
    assert escape_markdown(None) == ""


def test_hostile_paper_and_model_texts_are_inert() -> None:
    papers = [paper_from_record(r) for r in load_records()][:2]
    papers[0] = dataclasses.replace(
        papers[0], title=HOSTILE, authors=["<img src=x onerror=alert(1)>", "A_b*"]
    )
    digest = build_digest("zh", papers=papers)
    digest.texts[papers[0].arxiv_id]["title"] = GeneratedText(
        papers[0].arxiv_id, 1, "title", "zh", HOSTILE, "m", "t"
    )
    digest.texts[papers[1].arxiv_id]["summary"] = GeneratedText(
        papers[1].arxiv_id,
        1,
        "summary",
        "zh",
        "# heading\n\n<script>alert(2)</script>\n\n---\n\n" + HOSTILE,
        "m",
        "t",
    )
    digest.items[0].interest = Interest(4, "[x](javascript:alert(1)) <b>", "m")
    digest.items[0].companies[0] = dataclasses.replace(digest.items[0].companies[0], name="<i>快手</i>")
    text = render_digest(digest, max_authors=4)
    assert "<script>" not in text and "<img" not in text and "<b>" not in text and "<i>" not in text
    assert "<" not in text and ">" not in text
    assert "## 1. \\*bold\\* \\_x\\_ \\[link\\](http://x) &lt;script&gt;" in text
    assert "**作者**: &lt;img src=x onerror=alert(1)&gt;、A\\_b\\*\n" in text

    markdown_it = pytest.importorskip("markdown_it")  # comes with rich; checks what a renderer would make
    tokens = markdown_it.MarkdownIt("commonmark", {"html": True}).parse(text)
    flat = [t for tok in tokens for t in [tok, *(tok.children or [])]]
    assert not [t for t in flat if t.type in ("html_inline", "html_block", "em_open", "code_inline")]
    assert sum(t.type == "link_open" for t in flat) == len(digest.items)  # only our "查看原文" links
    assert sum(t.type == "heading_open" for t in flat) == 1 + len(digest.items)
    assert sum(t.type == "hr" for t in flat) == 1 + len(digest.items)  # our separators, none injected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh", "2026年02月14日 没有新论文公布。\n\n原因：weekend (arXiv does not announce on Saturdays)\n"),
        (
            "ja",
            "2026年02月14日に公開された新しい論文はありません。\n\n理由：weekend (arXiv does not announce on Saturdays)\n",
        ),
        (
            "en",
            "No new papers announced for 2026-02-14.\n\nReason: weekend (arXiv does not announce on Saturdays)\n",
        ),
    ],
)
def test_empty_day_is_a_complete_file(language: str, expected: str) -> None:
    digest = dataclasses.replace(
        build_digest(language), day=GENERATED.date().replace(day=14), items=[], texts={}, announced=0,
        empty_reason="weekend (arXiv does not announce on Saturdays)",
    )  # fmt: skip
    text = render_digest(digest, max_authors=4)
    lab = labels(language)
    assert text.startswith(f"# {lab['title'].format(categories='cs.IR')}\n")
    assert f"**{lab['generated']}**: " in text and f"**{lab['count']}**: 0" in text
    assert text.endswith("---\n\n" + expected)
    assert "## " not in text and lab["modes"] not in text


def test_empty_day_with_announced_papers_says_none_selected() -> None:
    digest = dataclasses.replace(build_digest("zh"), items=[], texts={}, announced=7, empty_reason=None)
    text = render_digest(digest, max_authors=4)
    assert text.endswith("---\n\n2026年02月17日 公布了 7 篇论文，但没有论文入选。\n")
    assert "**论文数量**: 0 篇（当日公布 7 篇，Top 20）\n" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_rendering_is_byte_identical(language: str) -> None:
    first = render_digest(build_digest(language), max_authors=4)
    digest = build_digest(language)
    digest.texts = dict(reversed(list(digest.texts.items())))  # insertion order must not matter
    second = render_digest(digest, max_authors=4)
    assert first == second
    assert "\r" not in first and first.endswith("---\n") and not first.endswith("\n\n")


def test_label_tables_cover_the_same_keys() -> None:
    keys = {lang: set(labels(lang)) for lang in LANGUAGES}
    assert keys["zh"] == keys["ja"] == keys["en"]
    assert labels("zh")["et_al"].format(omitted=10) == "等10人"
    assert labels("ja")["score"].format(score=5) == "【5点】"
    with pytest.raises(ValueError, match="use one of"):
        labels("fr")


def test_every_missing_field_says_why_and_mixed_models_are_named_per_paper() -> None:
    # A model is configured: titles that failed, a summary over the budget, a score given up on; two models
    # wrote summaries this day, so each summary names its own.
    digest = build_digest("zh")
    untranslated = [
        it.paper.arxiv_id for it in digest.items if "title" not in digest.texts[it.paper.arxiv_id]
    ]
    first = digest.items[0].paper.arxiv_id
    second, third = untranslated[:2]
    digest.missing = {
        second: {"title": "failed", "summary": "budget"},
        third: {"title": "given_up"},
    }
    digest.texts[first]["summary"] = GeneratedText(first, 1, "summary", "zh", "模型A的摘要。", "model-a", "h")
    digest.texts[third]["summary"] = GeneratedText(third, 1, "summary", "zh", "模型B的摘要。", "model-b", "h")
    digest.items[0].interest = Interest(4, "reason", "heuristic", missing="refused")
    zh = render_digest(digest, max_authors=4)
    assert "（未翻译：大模型调用失败，下次运行重试）" in zh
    assert "（未翻译：大模型多次失败，已不再请求（--refresh 可重试））" in zh
    assert "（抽取式摘要：摘自英文摘要原文；已达本次运行的大模型预算，下次运行重试）" in zh
    assert "（启发式评分：按关键词与兴趣描述计算；大模型的内容过滤拒绝了回答）" in zh
    assert "**摘要总结**: （model-a 生成）" in zh and "**摘要总结**: （model-b 生成）" in zh
    assert "（未翻译：未配置大模型）" in zh  # the other papers: no model answer was ever asked for them


def test_a_model_reason_in_another_language_says_which() -> None:
    digest = build_digest("ja")
    digest.items[0].interest = Interest(
        5, "与推荐排序高度相关。", "model-a", reasons={"zh": "与推荐排序高度相关。"}
    )
    ja = render_digest(digest, max_authors=4)
    assert "与推荐排序高度相关。 （理由は中国語）" in ja
