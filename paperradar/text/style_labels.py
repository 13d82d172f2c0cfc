"""Fixed strings of the highlight / review / dialogue pages that Python fills in (the headings live in the
templates, one file per language, so a wording change is a template edit). Also the highlight topic groups,
and the rules that pick a paper's group when no model does.
"""

from __future__ import annotations

import re

from paperradar.models import Paper

# The one topic taxonomy: the highlight page's groups (seed 000 groups a day's papers under themed
# headings) and the static site's themed sections. The model picks one key; the names are ours, so every
# paper in a group gets the same heading, on the Markdown page and on the site alike.
TOPICS: dict[str, dict[str, str]] = {
    "search": {"emoji": "🔍", "zh": "检索与匹配", "ja": "検索・マッチング", "en": "Search & matching"},
    "rerank": {
        "emoji": "📊",
        "zh": "排序与重排",
        "ja": "ランキング・リランキング",
        "en": "Ranking & reranking",
    },
    "recsys": {"emoji": "🎯", "zh": "推荐系统", "ja": "推薦システム", "en": "Recommender systems"},
    "rag": {"emoji": "🧠", "zh": "大模型与RAG", "ja": "LLM・RAG", "en": "LLMs & RAG"},
    "ads": {"emoji": "🛒", "zh": "广告与电商", "ja": "広告・EC", "en": "Ads & e-commerce"},
    "multimodal": {"emoji": "🖼️", "zh": "多模态", "ja": "マルチモーダル", "en": "Multimodal"},
    "eval": {"emoji": "🧪", "zh": "评测与数据集", "ja": "評価・データセット", "en": "Evaluation & datasets"},
    "other": {"emoji": "📄", "zh": "其他", "ja": "その他", "en": "Other"},
}
TOPIC_KEYS = tuple(TOPICS)

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "skipped": "已跳过：需要大模型（请设置 [llm] backend）",
        "declined": "未生成：大模型没有给出可用的回答（{detail}），下次运行时重试",
        "not_written": "未生成：{why}",
        "extractive_why": "抽取式：说明摘自英文摘要原文，关键结果为摘要中数字最突出的一句；{why}",
        "extractive": "抽取式（无大模型）：说明摘自英文摘要原文，关键结果为摘要中数字最突出的一句",
        "made_by": "生成：{model}",
        "from_fulltext": "依据：全文（{source}）",
        "from_abstract": "依据：仅摘要（未取得全文）",
        "needs_fulltext": "（本节需要论文全文；本文未取得全文，只依据摘要撰写，摘要未涉及此项。）",
        "unverified_count": "⚠ {n} 处数字或名称未能在原文中找到，已在文中标出",
        "group_heading": "{day} {topic}专题",
        "unknown": "未知",
        "list_sep": "、",
        "et_al": "等{n}人",
        "reading_time": "阅读时间约 {n} 分钟",
        "executive": "经理",
        "mentor": "导师",
        "reference": "参考文献：{authors}，“{title}”，arXiv:{vid}，{year}。",
    },
    "ja": {
        "skipped": "スキップ：LLM が必要です（[llm] backend を設定してください）",
        "declined": "未生成：LLM から有効な回答が得られませんでした（{detail}）。次回の実行で再試行します",
        "not_written": "未生成：{why}",
        "extractive_why": "抽出型：説明は英語アブストラクトからの抜粋、主要な結果は数値が最も目立つ一文；{why}",
        "extractive": "抽出型（LLM未使用）：説明は英語アブストラクトからの抜粋、主要な結果は数値が最も目立つ一文",
        "made_by": "生成：{model}",
        "from_fulltext": "根拠：本文（{source}）",
        "from_abstract": "根拠：アブストラクトのみ（本文を取得できず）",
        "needs_fulltext": "（この節には論文の本文が必要です。本文を取得できず、アブストラクトのみから作成したため、記載していません。）",
        "unverified_count": "⚠ 原文で確認できない数値・名称が {n} 件あり、本文中に印を付けています",
        "group_heading": "{day} {topic}特集",
        "unknown": "不明",
        "list_sep": "、",
        "et_al": "ら{n}名",
        "reading_time": "{n} 分で読了",
        "executive": "専務",
        "mentor": "メンター",
        "reference": "参考文献：{authors}, “{title},” arXiv preprint arXiv:{vid}, {year}.",
    },
    "en": {
        "skipped": "skipped: needs an LLM (set [llm] backend)",
        "declined": "not written: the model gave no usable answer ({detail}); tried again on the next run",
        "not_written": "not written: {why}",
        "extractive_why": "extractive: the explanation is copied from the abstract; the key result is its "
        "sentence with the strongest number; {why}",
        "extractive": "extractive (no LLM): the explanation is copied from the abstract; the key result is its "
        "sentence with the strongest number",
        "made_by": "written by {model}",
        "from_fulltext": "based on the full text ({source})",
        "from_abstract": "based on the abstract only (no full text)",
        "needs_fulltext": "(This section needs the paper's full text, which could not be had; written from the "
        "abstract only, which does not cover it.)",
        "unverified_count": "⚠ {n} number(s) or name(s) could not be found in the paper; marked in the text",
        "group_heading": "{day} · {topic}",
        "unknown": "unknown",
        "list_sep": ", ",
        "et_al": "and {n} more",
        "reading_time": "{n} min read",
        "executive": "Executive",
        "mentor": "Mentor",
        "reference": "Reference: {authors}, “{title},” arXiv preprint arXiv:{vid}, {year}.",
    },
}


def text(lang: str, key: str, **values: object) -> str:
    table = STRINGS.get(lang, STRINGS["en"])
    return table[key].format(**values) if values else table[key]


def topic_name(key: str, lang: str) -> str:
    entry = TOPICS.get(key, TOPICS["other"])
    return entry.get(lang, entry["en"])


_TOPIC_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern, re.I))
    for key, pattern in (
        ("ads", r"advertis|\bads?\b|e-?commerce|marketplace|sponsored|auction|bidding|\bctr\b"),
        ("multimodal", r"multi-?modal|\bimages?\b|\bvideos?\b|visual|vision|\baudio\b|speech|\bmusic\b"),
        ("eval", r"benchmark|\bdatasets?\b|evaluation|shared task|track overview|test collection|reproducib"),
        (
            "rag",
            r"\brag\b|retrieval-augmented|large language models?|\bllms?\b|\bagents?\b|question answering",
        ),
        ("rerank", r"re-?rank|learning to rank|listwise|pairwise|ranking model"),
        ("recsys", r"recommend|collaborative filtering|click-through|user model|sequential"),
        ("search", r"retriev|search|quer(?:y|ies)|embedding|dense|sparse|index|matching"),
    )
)


def topic_of(paper: Paper) -> str:
    """A rule-based topic for the extractive highlight: title matches weigh 3, abstract matches 1."""
    best, best_score = "other", 0
    for key, pattern in _TOPIC_RULES:
        score = 3 * len(pattern.findall(paper.title)) + len(pattern.findall(paper.abstract))
        if score > best_score:
            best, best_score = key, score
    return best
