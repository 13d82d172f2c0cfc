"""Every fixed string of the digest, per output language (zh, ja, en).

The zh field labels are exactly those of the reference digest (seed 002). Strings with `{...}` are
`str.format` templates; markdown.py fills them. Keeping all wording here means a translation fix never
touches the template, and a test can check that every language defines every key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal

_ZH: dict[str, str] = {
    # header
    "title": "ArXiv {categories} 每日论文摘要",
    "generated": "生成时间",
    "announced_day": "公布日期",
    "count": "论文数量",
    "count_value": "{n} 篇（Top {top_n}）",
    "count_value_short": "{n} 篇（当日公布 {announced} 篇，Top {top_n}）",
    "order": "排序规则",
    "order_value": "按{keys}排序",
    "order_sep": " + ",
    "order_keywords": "关键词命中数",
    "order_interest": "兴趣评分",
    "order_recency": "提交时间",
    "modes": "生成方式",
    "mode_summary": "摘要",
    "mode_title": "标题",
    "mode_score": "评分",
    "mode_part_sep": "；",
    "mode_value_sep": "、",
    "mode_extractive": "抽取式（无大模型）",
    "mode_heuristic": "启发式（无大模型）",
    "mode_model": "大模型 {model}",
    "mode_untranslated": "未翻译（原文）",
    "mode_original": "原文",
    # per paper (seed 002 order)
    "original_title": "英文标题",
    "authors": "作者",
    "submitted": "提交时间",
    "link": "文章链接",
    "company": "所属公司",
    "keywords": "命中关键词",
    "interest": "感兴趣评分",
    "summary": "摘要总结",
    # values
    "list_sep": "、",
    "keyword_sep": ", ",
    "et_al": "等{omitted}人",
    "read_original": "查看原文",
    # where a paper's company was found (CompanyHit.field), for a note beside the company
    "company_via": "（依据：{source}）",
    "company_via_title": "标题",
    "company_via_abstract": "摘要",
    "company_via_comment": "备注",
    "company_via_affiliation": "作者单位",
    "company_via_affiliation_html": "作者单位（arXiv HTML）",
    "company_via_llm": "大模型推断",
    "unknown": "未知",
    "score": "【{score}分】",
    "keyword_count": "【{n}】",
    "extractive_label": "（抽取式摘要：摘自英文摘要原文，未经大模型改写）",
    "untranslated_label": "（未翻译：未配置大模型）",
    "heuristic_label": "（启发式评分：按关键词与兴趣描述计算，未经大模型）",
    # The same fields when a model is configured but gave no usable answer: {why} is one of the why_* below.
    "extractive_label_model": "（抽取式摘要：摘自英文摘要原文；{why}）",
    "untranslated_label_model": "（未翻译：{why}）",
    "heuristic_label_model": "（启发式评分：按关键词与兴趣描述计算；{why}）",
    "why_failed": "大模型调用失败，下次运行重试",
    "why_invalid": "大模型的回答未通过校验，下次运行重试",
    "why_budget": "已达本次运行的大模型预算，下次运行重试",
    "why_refused": "大模型拒绝回答（内容过滤）",
    "why_given_up": "大模型多次失败，已不再请求（--refresh 可重试）",
    "why_offline": "离线运行，未调用大模型",
    "by_model": "（{model} 生成）",
    "reason_language": "（理由为{lang}）",
    "lang_zh": "中文",
    "lang_ja": "日文",
    "lang_en": "英文",
    "no_summary": "（无摘要）",
    # empty day
    "empty_day": "{day} 没有新论文公布。",
    "empty_day_none_selected": "{day} 公布了 {announced} 篇论文，但没有论文入选。",
    "empty_reason": "原因：{reason}",
    "reason_weekend": "arXiv 周六、周日不公布论文",
    "reason_sample_range": "内置样本只包含 {first} 至 {last} 的公布日",
    "reason_none_stored": "所关注的分类在这一天没有公布记录",
    "reason_feed_empty": "arXiv 今天没有公布新论文（周末和节假日不公布）",
    # a partial day: malformed feed items left out
    "skipped": "已跳过",
    "skipped_value": "{n} 条格式有误的记录（{reasons}）",
}

_JA: dict[str, str] = {
    "title": "ArXiv {categories} 毎日の論文ダイジェスト",
    "generated": "生成日時",
    "announced_day": "公開日",
    "count": "論文数",
    "count_value": "{n} 件（Top {top_n}）",
    "count_value_short": "{n} 件（当日公開 {announced} 件、Top {top_n}）",
    "order": "並び順",
    "order_value": "{keys}の順",
    "order_sep": " + ",
    "order_keywords": "キーワード一致数",
    "order_interest": "興味スコア",
    "order_recency": "投稿日時",
    "modes": "生成方法",
    "mode_summary": "要約",
    "mode_title": "タイトル",
    "mode_score": "スコア",
    "mode_part_sep": "；",
    "mode_value_sep": "、",
    "mode_extractive": "抽出型（LLM未使用）",
    "mode_heuristic": "ヒューリスティック（LLM未使用）",
    "mode_model": "LLM {model}",
    "mode_untranslated": "未翻訳（原文）",
    "mode_original": "原文",
    "original_title": "英語タイトル",
    "authors": "著者",
    "submitted": "投稿日時",
    "link": "論文リンク",
    "company": "所属企業",
    "keywords": "一致キーワード",
    "interest": "興味スコア",
    "summary": "要約",
    "list_sep": "、",
    "keyword_sep": ", ",
    "et_al": "他{omitted}名",
    "read_original": "原文を見る",
    "company_via": "（根拠：{source}）",
    "company_via_title": "タイトル",
    "company_via_abstract": "アブストラクト",
    "company_via_comment": "コメント",
    "company_via_affiliation": "著者所属",
    "company_via_affiliation_html": "著者所属（arXiv HTML）",
    "company_via_llm": "LLM による推定",
    "unknown": "不明",
    "score": "【{score}点】",
    "keyword_count": "【{n}】",
    "extractive_label": "（抽出型要約：英語アブストラクトからの抜粋、LLM未使用）",
    "untranslated_label": "（未翻訳：LLM未設定）",
    "heuristic_label": "（ヒューリスティック評価：キーワードと関心記述から算出、LLM未使用）",
    "extractive_label_model": "（抽出型要約：英語アブストラクトからの抜粋；{why}）",
    "untranslated_label_model": "（未翻訳：{why}）",
    "heuristic_label_model": "（ヒューリスティック評価：キーワードと関心記述から算出；{why}）",
    "why_failed": "LLM の呼び出しに失敗、次回の実行で再試行",
    "why_invalid": "LLM の回答が検証を通らず、次回の実行で再試行",
    "why_budget": "今回の実行の LLM 予算に達したため、次回の実行で再試行",
    "why_refused": "LLM が回答を拒否（コンテンツフィルタ）",
    "why_given_up": "LLM が繰り返し失敗したため再試行を停止（--refresh で再試行）",
    "why_offline": "オフライン実行のため LLM は未使用",
    "by_model": "（{model} が生成）",
    "reason_language": "（理由は{lang}）",
    "lang_zh": "中国語",
    "lang_ja": "日本語",
    "lang_en": "英語",
    "no_summary": "（要約なし）",
    "empty_day": "{day}に公開された新しい論文はありません。",
    "empty_day_none_selected": "{day}に {announced} 件の論文が公開されましたが、選ばれた論文はありません。",
    "empty_reason": "理由：{reason}",
    "reason_weekend": "arXiv は土曜・日曜に論文を公開しません",
    "reason_sample_range": "同梱サンプルは {first} から {last} までの公開日のみです",
    "reason_none_stored": "対象カテゴリにはこの日の公開記録がありません",
    "reason_feed_empty": "arXiv は本日新しい論文を公開していません（週末と祝日は公開なし）",
    "skipped": "スキップ",
    "skipped_value": "形式が不正な項目 {n} 件（{reasons}）",
}

_EN: dict[str, str] = {
    "title": "ArXiv {categories} Daily Paper Digest",
    "generated": "Generated",
    "announced_day": "Announced",
    "count": "Papers",
    "count_value": "{n} (Top {top_n})",
    "count_value_short": "{n} ({announced} announced that day, Top {top_n})",
    "order": "Ordering",
    "order_value": "by {keys}",
    "order_sep": ", then ",
    "order_keywords": "keyword hits",
    "order_interest": "interest score",
    "order_recency": "submission time",
    "modes": "Produced by",
    "mode_summary": "summaries",
    "mode_title": "titles",
    "mode_score": "scores",
    "mode_part_sep": "; ",
    "mode_value_sep": ", ",
    "mode_extractive": "extractive (no LLM)",
    "mode_heuristic": "heuristic (no LLM)",
    "mode_model": "LLM {model}",
    "mode_untranslated": "untranslated (original)",
    "mode_original": "original",
    "original_title": "Original title",
    "authors": "Authors",
    "submitted": "Submitted",
    "link": "Link",
    "company": "Company",
    "keywords": "Matched keywords",
    "interest": "Interest score",
    "summary": "Summary",
    "list_sep": ", ",
    "keyword_sep": ", ",
    "et_al": "et al. (+{omitted} more)",
    "read_original": "Read on arXiv",
    "company_via": " (from {source})",
    "company_via_title": "the title",
    "company_via_abstract": "the abstract",
    "company_via_comment": "the comment",
    "company_via_affiliation": "the affiliations",
    "company_via_affiliation_html": "the author block (arXiv HTML)",
    "company_via_llm": "a model's reading",
    "unknown": "unknown",
    "score": "【{score}/5】",
    "keyword_count": "【{n}】",
    "extractive_label": "(extractive summary: sentences taken from the abstract, no LLM)",
    "untranslated_label": "(untranslated: no LLM configured)",
    "heuristic_label": "(heuristic score: computed from keywords and the interest description, no LLM)",
    "extractive_label_model": "(extractive summary: sentences taken from the abstract; {why})",
    "untranslated_label_model": "(untranslated: {why})",
    "heuristic_label_model": "(heuristic score: computed from keywords and the interest description; {why})",
    "why_failed": "the LLM call failed, retried next run",
    "why_invalid": "the LLM's answer failed validation, retried next run",
    "why_budget": "this run's LLM budget was reached, retried next run",
    "why_refused": "the LLM refused (content filter)",
    "why_given_up": "the LLM failed repeatedly and is no longer asked (--refresh retries)",
    "why_offline": "offline run, no LLM call",
    "by_model": "(by {model})",
    "reason_language": "(reason in {lang})",
    "lang_zh": "Chinese",
    "lang_ja": "Japanese",
    "lang_en": "English",
    "no_summary": "(no summary)",
    "empty_day": "No new papers announced for {day}.",
    "empty_day_none_selected": "{announced} papers were announced for {day}, but none was selected.",
    "empty_reason": "Reason: {reason}",
    "reason_weekend": "arXiv does not announce papers on Saturdays and Sundays",
    "reason_sample_range": "the bundled sample covers the listing days {first} to {last} only",
    "reason_none_stored": "no announcements for this day in the watched categories",
    "reason_feed_empty": "arXiv announced nothing today (no announcements on weekends and holidays)",
    "skipped": "Skipped",
    "skipped_value": "{n} malformed item(s) of the feed ({reasons})",
}

_ALL: dict[str, Mapping[str, str]] = {
    "zh": MappingProxyType(_ZH),
    "ja": MappingProxyType(_JA),
    "en": MappingProxyType(_EN),
}
LANGUAGES: tuple[str, ...] = tuple(_ALL)


def labels(language: str) -> Mapping[str, str]:
    """The read-only label table for `language` (zh, ja or en)."""
    try:
        return _ALL[language]
    except KeyError:
        raise ValueError(f"no labels for language {language!r}; use one of {', '.join(LANGUAGES)}") from None


def company_source(field: str, language: str) -> str:
    """Where a company was found, as a reader of `language` reads it: CompanyHit.field ("title", "abstract",
    "comment", "affiliation", "affiliation (html)", "llm") as a label; an unknown field stays as it is."""
    table = labels(language)
    key = "company_via_" + field.replace(" (html)", "_html")
    return table.get(key, field)


def format_date(day: date, language: str) -> str:
    """A date in the digest's style: "2026年02月17日" in zh/ja (like the seed's 生成时间), ISO in en."""
    return day.strftime("%Y年%m月%d日" if language in ("zh", "ja") else "%Y-%m-%d")


def fallback_label(
    language: str, kind: Literal["extractive", "untranslated", "heuristic"], why: str | None
) -> str:
    """The label of a field made without a model: why there is no model text (no model configured when
    `why` is None or "no_model")."""
    lab = labels(language)
    if why is None or why == "no_model":
        return lab[f"{kind}_label"]
    return lab[f"{kind}_label_model"].format(why=lab[f"why_{why}"])
