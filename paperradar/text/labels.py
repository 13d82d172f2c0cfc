"""Every fixed string of the digest, the static site and its feeds, per output language (zh, ja, en): one
catalog, so the Markdown digest and the site word a field, a fallback and a reason the same way.

The zh field labels are exactly those of the reference digest (seed 002). Strings with `{...}` are
`str.format` templates; markdown.py and the site fill them. Keeping all wording here means a translation
fix never touches a template, and a test checks that every language defines every key. (The style pages'
own strings and the topic names are in style_labels.py.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal

from paperradar.models import Interest, MutedSummary

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
    "why_refused": "大模型的内容过滤拒绝了回答",
    "why_given_up": "大模型多次失败，已不再请求（--refresh 可重试）",
    "why_offline": "离线运行，未调用大模型",
    "by_model": "（{model} 生成）",
    "other_language_label": "（{model} 生成的{lang}版本；中文版本未生成：{why}）",
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
    # the reader's muted papers of the day ([muted]): how many, dropped or demoted, and by what
    "muted": "已屏蔽",
    "muted_value_drop": "{n} 篇论文已按屏蔽设置略去（{reasons}）",
    "muted_value_demote": "{n} 篇论文已按屏蔽设置排到最后（{reasons}）",
    "muted_value_mixed": "{n} 篇论文已按屏蔽设置略去或排到最后（{reasons}）",
    "muted_by_term": "词语「{value}」：{n} 篇",
    "muted_by_category": "分类 {value}：{n} 篇",
    "muted_by_author": "作者 {value}：{n} 篇",
    "muted_sep": "；",
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
    "why_refused": "LLM のコンテンツフィルタが回答を拒否",
    "why_given_up": "LLM が繰り返し失敗したため再試行を停止（--refresh で再試行）",
    "why_offline": "オフライン実行のため LLM は未使用",
    "by_model": "（{model} が生成）",
    "other_language_label": "（{model} による{lang}版；日本語版は未生成：{why}）",
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
    "muted": "ミュート",
    "muted_value_drop": "ミュート設定により {n} 件の論文を除外しました（{reasons}）",
    "muted_value_demote": "ミュート設定により {n} 件の論文を末尾に移しました（{reasons}）",
    "muted_value_mixed": "ミュート設定により {n} 件の論文を除外または末尾に移しました（{reasons}）",
    "muted_by_term": "語句「{value}」：{n} 件",
    "muted_by_category": "分類 {value}：{n} 件",
    "muted_by_author": "著者 {value}：{n} 件",
    "muted_sep": "、",
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
    "why_refused": "the LLM's content filter refused",
    "why_given_up": "the LLM failed repeatedly and is no longer asked (--refresh retries)",
    "why_offline": "offline run, no LLM call",
    "by_model": "(by {model})",
    "other_language_label": "({lang} version by {model}; none in English: {why})",
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
    "muted": "Muted",
    "muted_value_drop": "{n} paper(s) left out by your mutes ({reasons})",
    "muted_value_demote": "{n} paper(s) moved to the end by your mutes ({reasons})",
    "muted_value_mixed": "{n} paper(s) left out or moved to the end by your mutes ({reasons})",
    "muted_by_term": 'term "{value}": {n}',
    "muted_by_category": "category {value}: {n}",
    "muted_by_author": "author {value}: {n}",
    "muted_sep": "; ",
}

# The static site (publish/site*.py, site_templates/) and its feeds.
_SITE_ZH: dict[str, str] = {
    "lang_name": "中文",
    "latest": "最新",
    "archive": "归档",
    "tags": "标签",
    "companies": "公司",
    "nav": "站点导航",
    "search": "搜索",
    "search_placeholder": "搜索标题、摘要、总结…",
    "search_button": "搜索",
    "search_loading": "正在加载索引…",
    "search_empty": "输入关键词开始搜索",
    "search_none": "没有找到结果",
    "search_count": "{n} 条结果",
    "search_noscript": "搜索需要启用 JavaScript。",
    "search_exact": "仅精确匹配词语",
    "search_how_hybrid": "按词语匹配与语义相近度（tf-idf）综合排序",
    "search_how_exact": "仅列出含全部词语的论文",
    "search_meaning_missing": "仅按词语搜索：本站没有语义索引",
    "search_by_meaning": "语义相近",
    "comment": "备注",
    "journal": "期刊",
    "papers_n": "{n} 篇",
    "day_feature": "{theme}专题",
    "all_days": "全部日期：{n}",
    "more_days": "更早的日期见归档",
    "abstract": "原文摘要",
    "appeared": "出现日期",
    "categories": "分类",
    "rank": "第 {rank} 名",
    "appearance": "（{rank}，{kind}）",
    "kind_new": "新提交",
    "kind_cross": "交叉列出",
    "kind_replace": "新版本",
    "kind_replace_cross": "新版本（交叉列出）",
    "stars": "感兴趣评分 {score}/5",
    "tag_title": "标签：{name}",
    "company_title": "公司：{name}",
    "style_highlight": "亮点",
    "style_review": "点评",
    "style_dialogue": "对话",
    "feeds": "订阅：",
    "feed_title": "{title}（{lang}）",
    "data_as_of": "数据截至 {day}",
    "empty_site": "还没有已排序的论文。先运行 paperradar run。",
    "language": "语言",
    # Who made a field (the card's line and each field of a paper page): "标题、摘要：大模型 m".
    "field_title": "标题",
    "field_summary": "摘要",
    "field_score": "评分",
    "prov_group": "{fields}：{maker}",
    "prov_sep": "；",
    "prov_field_sep": "、",
    "prov_extractive": "抽取式",
    "prov_heuristic": "启发式",
    "prov_missing": "未生成",
    "prov_why": "{maker}（{why}）",
    "prov_other_language": "{maker} 的{lang}版（中文版：{why}）",
    "prov_unverified": "{n} 处数字或名称未能在原文中找到（已标出）",
    "prov_from_fulltext": "依据全文（{source}）",
    "prov_from_abstract": "仅依据摘要",
    "why_no_model": "未配置大模型",
    "why_not_asked": "没有为这种语言请求大模型",
    "why_outside_top": "排名在当日前 {top_n} 篇之外，只为前 {top_n} 篇生成",
}

_SITE_JA: dict[str, str] = {
    "lang_name": "日本語",
    "latest": "最新",
    "archive": "アーカイブ",
    "tags": "タグ",
    "companies": "企業",
    "nav": "サイトナビゲーション",
    "search": "検索",
    "search_placeholder": "タイトル・要旨・要約を検索…",
    "search_button": "検索",
    "search_loading": "索引を読み込み中…",
    "search_empty": "キーワードを入力してください",
    "search_none": "該当する論文はありません",
    "search_count": "{n} 件",
    "search_noscript": "検索には JavaScript が必要です。",
    "search_exact": "語の完全一致のみ",
    "search_how_hybrid": "語の一致と意味の近さ（tf-idf）を合わせて順位付け",
    "search_how_exact": "すべての語を含む論文のみ",
    "search_meaning_missing": "語のみで検索：このサイトには意味の索引がありません",
    "search_by_meaning": "意味が近い",
    "comment": "コメント",
    "journal": "掲載誌",
    "papers_n": "{n} 件",
    "day_feature": "{theme}特集",
    "all_days": "すべての日付：{n}",
    "more_days": "それ以前はアーカイブへ",
    "abstract": "アブストラクト（原文）",
    "appeared": "掲載日",
    "categories": "カテゴリ",
    "rank": "{rank} 位",
    "appearance": "（{rank}、{kind}）",
    "kind_new": "新規",
    "kind_cross": "クロスリスト",
    "kind_replace": "改訂版",
    "kind_replace_cross": "改訂版（クロスリスト）",
    "stars": "興味スコア {score}/5",
    "tag_title": "タグ：{name}",
    "company_title": "企業：{name}",
    "style_highlight": "ハイライト",
    "style_review": "レビュー",
    "style_dialogue": "対話",
    "feeds": "フィード：",
    "feed_title": "{title}（{lang}）",
    "data_as_of": "{day} 時点のデータ",
    "empty_site": "ランキング済みの論文はまだありません。paperradar run を実行してください。",
    "language": "言語",
    "field_title": "タイトル",
    "field_summary": "要約",
    "field_score": "スコア",
    "prov_group": "{fields}：{maker}",
    "prov_sep": "；",
    "prov_field_sep": "・",
    "prov_extractive": "抽出型",
    "prov_heuristic": "ヒューリスティック",
    "prov_missing": "未生成",
    "prov_why": "{maker}（{why}）",
    "prov_other_language": "{maker} の{lang}版（日本語版：{why}）",
    "prov_unverified": "原文で確認できない数値・名称 {n} 件（印付き）",
    "prov_from_fulltext": "本文（{source}）に基づく",
    "prov_from_abstract": "アブストラクトのみに基づく",
    "why_no_model": "LLM未設定",
    "why_not_asked": "この言語では LLM に依頼していない",
    "why_outside_top": "当日の上位 {top_n} 件外、生成は上位 {top_n} 件のみ",
}

_SITE_EN: dict[str, str] = {
    "lang_name": "English",
    "latest": "Latest",
    "archive": "Archive",
    "tags": "Tags",
    "companies": "Companies",
    "nav": "Site navigation",
    "search": "Search",
    "search_placeholder": "Search titles, abstracts, summaries…",
    "search_button": "Search",
    "search_loading": "Loading the index…",
    "search_empty": "Type words to search",
    "search_none": "No paper matches",
    "search_count": "{n} results",
    "search_noscript": "Search needs JavaScript.",
    "search_exact": "Exact words only",
    "search_how_hybrid": "ranked by exact words and nearness in meaning (tf-idf) together",
    "search_how_exact": "only papers holding every word",
    "search_meaning_missing": "words only: this site has no meaning index",
    "search_by_meaning": "near in meaning",
    "comment": "Comment",
    "journal": "Journal",
    "papers_n": "{n} papers",
    "day_feature": "Featuring {theme}",
    "all_days": "All days: {n}",
    "more_days": "Older days are in the archive",
    "abstract": "Abstract (original)",
    "appeared": "Listed on",
    "categories": "Categories",
    "rank": "#{rank}",
    "appearance": " ({rank}, {kind})",
    "kind_new": "new",
    "kind_cross": "cross-list",
    "kind_replace": "new version",
    "kind_replace_cross": "new version, cross-list",
    "stars": "Interest score {score}/5",
    "tag_title": "Tag: {name}",
    "company_title": "Company: {name}",
    "style_highlight": "Highlight",
    "style_review": "Review",
    "style_dialogue": "Dialogue",
    "feeds": "Feeds:",
    "feed_title": "{title} ({lang})",
    "data_as_of": "Data as of {day}",
    "empty_site": "No ranked papers yet. Run paperradar run first.",
    "language": "Language",
    "field_title": "Title",
    "field_summary": "Summary",
    "field_score": "Score",
    "prov_group": "{fields}: {maker}",
    "prov_sep": "; ",
    "prov_field_sep": ", ",
    "prov_extractive": "extractive",
    "prov_heuristic": "heuristic",
    "prov_missing": "not written",
    "prov_why": "{maker} ({why})",
    "prov_other_language": "{maker}, in {lang} (none in English: {why})",
    "prov_unverified": "{n} number(s) or name(s) not found in the paper (marked)",
    "prov_from_fulltext": "from the full text ({source})",
    "prov_from_abstract": "from the abstract only",
    "why_no_model": "no LLM configured",
    "why_not_asked": "the LLM was not asked in this language",
    "why_outside_top": "ranked below the day's top {top_n}; only the top {top_n} get one",
}

_ALL: dict[str, Mapping[str, str]] = {
    "zh": MappingProxyType({**_ZH, **_SITE_ZH}),
    "ja": MappingProxyType({**_JA, **_SITE_JA}),
    "en": MappingProxyType({**_EN, **_SITE_EN}),
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


def why_text(language: str, why: str, *, top_n: int | None = None) -> str:
    """Why a field has no model text, in words: one of models.MissingReason, "not_asked" or
    "outside_top" (which names the digest's top N)."""
    return labels(language)[f"why_{why}"].format(top_n=top_n if top_n is not None else "N")


def fallback_label(
    language: str,
    kind: Literal["extractive", "untranslated", "heuristic"],
    why: str | None,
    *,
    top_n: int | None = None,
) -> str:
    """The label of a field made without a model: why there is no model text (no model configured when
    `why` is None or "no_model")."""
    lab = labels(language)
    if why is None or why == "no_model":
        return lab[f"{kind}_label"]
    return lab[f"{kind}_label_model"].format(why=why_text(language, why, top_n=top_n))


def interest_reason(interest: Interest, language: str) -> tuple[str, str]:
    """(reason, note) of an interest score for a reader of `language`: the reason in that language when
    there is one; else the ranking language's, with a note naming its language ("(reason in Chinese)")
    rather than passing it off as a translation. Heuristic reasons exist in every language."""
    reason, found = interest.reason_in(language)
    if found is not None or interest.mode == "heuristic":
        return reason, ""
    known = next(iter(interest.reasons), None)
    if known not in _ALL:
        return reason, ""
    lab = labels(language)
    return reason, lab["reason_language"].format(lang=lab[f"lang_{known}"])


def muted_text(summary: MutedSummary, language: str) -> str:
    """How many of the day's papers the reader muted, dropped or demoted, and which muted entry caught how
    many, in `language` (plain text: the caller escapes it for Markdown or HTML)."""
    lab = labels(language)
    reasons = lab["muted_sep"].join(
        lab[f"muted_by_{kind}"].format(value=value, n=n) for kind, value, n in summary.reasons
    )
    return lab[f"muted_value_{summary.mode}"].format(n=summary.count, reasons=reasons)
