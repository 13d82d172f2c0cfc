"""The "how paperradar ranked for you" panel's fixed strings per output language (zh, ja, en): the web UI
(English, like the rest of its pages) and every language of the static site word it from here. Kept apart
from labels.py like style_labels.py: a panel of its own. Strings with `{...}` are `str.format` templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_ZH = {
    "title": "paperradar 为你排序的效果",
    "lead": "你点赞的论文中，有多少排进了当天前 10 名（recall@10）：{first} 至 {until} 共 {days} 个公布日、{ups} 个点赞。",
    "ranker": "排序方法",
    "recall10": "recall@10",
    "days": "天数",
    "how_week": "每个公布日只用该周之前的评分和文献库重新排序，与同一批论文上的基线方法比较。",
    "how_day": "每个公布日只用当天之前的评分和文献库重新排序，与同一批论文上的基线方法比较。",
    "how_window": "每个公布日只用这段时间开始之前的评分和文献库重新排序，与同一批论文上的基线方法比较。",
    "computed": "计算用时 {seconds} 秒",
    "computing": "正在计算…（本页会自动刷新）",
    "see_more": "查看排序效果",
    "random": "随机",
    "keywords": "关键词",
    "no_days": "最近 {weeks} 周（截至 {until}）没有存储的公布日，无法评估排序效果。",
    "no_up_ratings": "最近 {weeks} 周（截至 {until}）没有点赞：给论文点赞后这里会显示排序效果。",
    "none_judged": "最近 {weeks} 周有 {ups} 个点赞，但都无法评估（论文在这段时间之前公布、不在你关注的分类中，或已在文献库中）。",
    "few_days": "只有 {days} 个可评估的日子：数字会随评分增多而明显变化。",
}

_JA = {
    "title": "paperradar のあなた向けランキングの成績",
    "lead": "高評価した論文のうち、その日の上位 10 件に入った割合（recall@10）：{first} 〜 {until} の公開日 {days} 日、高評価 {ups} 件。",
    "ranker": "ランキング手法",
    "recall10": "recall@10",
    "days": "日数",
    "how_week": "各公開日を、その週より前の評価とライブラリだけで並べ直し、同じ論文群でベースラインと比べています。",
    "how_day": "各公開日を、その日より前の評価とライブラリだけで並べ直し、同じ論文群でベースラインと比べています。",
    "how_window": "各公開日を、期間の始まりより前の評価とライブラリだけで並べ直し、同じ論文群でベースラインと比べています。",
    "computed": "計算時間 {seconds} 秒",
    "computing": "計算中…（このページは自動で再読み込みされます）",
    "see_more": "ランキングの成績を見る",
    "random": "ランダム",
    "keywords": "キーワード",
    "no_days": "直近 {weeks} 週間（{until} まで）に保存された公開日がないため、成績を測れません。",
    "no_up_ratings": "直近 {weeks} 週間（{until} まで）に高評価がありません。論文を高評価するとここに成績が表示されます。",
    "none_judged": "直近 {weeks} 週間に高評価が {ups} 件ありますが、どれも評価できません（期間より前の公開、購読外のカテゴリ、またはライブラリに登録済み）。",
    "few_days": "評価できた日は {days} 日だけです。評価が増えると数値は大きく変わります。",
}

_EN = {
    "title": "How paperradar ranked for you",
    "lead": "Share of the papers you rated up that made the day's top 10 (recall@10): {days} announcement days from {first} to {until}, {ups} up-ratings.",
    "ranker": "ranker",
    "recall10": "recall@10",
    "days": "days",
    "how_week": "Each day is ranked again with only the ratings and library from before its week, against baselines on the same papers.",
    "how_day": "Each day is ranked again with only the ratings and library from before it, against baselines on the same papers.",
    "how_window": "Each day is ranked again with only the ratings and library from before the window, against baselines on the same papers.",
    "computed": "computed in {seconds} s",
    "computing": "computing… (this page reloads by itself)",
    "see_more": "how paperradar ranked for you",
    "random": "random",
    "keywords": "keywords",
    "no_days": "No announcement days stored in the last {weeks} weeks (to {until}): nothing to measure yet.",
    "no_up_ratings": "No up-ratings in the last {weeks} weeks (to {until}): rate papers up and this shows how they were ranked.",
    "none_judged": "{ups} up-ratings in the last {weeks} weeks, but none can be judged (listed before the window, outside your categories, or already in your library).",
    "few_days": "Only {days} judged days: the figures will move a lot as you rate more.",
}

_ALL = {"zh": MappingProxyType(_ZH), "ja": MappingProxyType(_JA), "en": MappingProxyType(_EN)}
EVAL_LANGUAGES = tuple(_ALL)


def eval_labels(language: str) -> Mapping[str, str]:
    """The panel's strings in `language` (zh, ja or en)."""
    try:
        return _ALL[language]
    except KeyError:
        raise ValueError(
            f"no panel labels for {language!r}; use one of {', '.join(EVAL_LANGUAGES)}"
        ) from None


def ranker_name(name: str, language: str) -> str:
    """A ranker's name as shown: the two generic baselines translated, the tools' names kept."""
    return eval_labels(language).get(name, name) if name in ("random", "keywords") else name
