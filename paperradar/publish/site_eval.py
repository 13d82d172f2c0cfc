"""The static site's "how paperradar ranked for you" panel, from the panel data `paperradar publish site`
computed (evaluate/own_panel.py: plain values, since the site sits below evaluate/).

Every sentence in every site language from text/eval_labels.py, one span per language like the rest of
the site. Nothing that varies between builds of the same data (no computation time): the site stays
byte-stable. When there is nothing to measure (no announcement days, no up-ratings in the window, or
none that can be judged), the panel is left out: a visitor of the site would read a note about the
reader's ratings as noise, and the reader sees the reason in `publish site`'s output and in `paperradar
eval`. With too few judged days the panel is shown with that caveat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paperradar.text.eval_labels import eval_labels, ranker_name

NOTHING_TO_SHOW = ("no_days", "no_up_ratings", "none_judged")


def ranking_view(panel: Mapping[str, Any] | None, languages: Sequence[str]) -> dict[str, Any] | None:
    """{lang: text} for each sentence of the panel and a row per ranker; None when it is left out."""
    if not panel or panel.get("message_key") in NOTHING_TO_SHOW or not panel.get("rows"):
        return None
    values = {
        "first": panel["first_day"],
        "until": panel["until"],
        "days": panel["judged_days"],
        "ups": panel["up_ratings"],
        "weeks": panel["weeks"],
    }

    def each(key: str) -> dict[str, str]:
        return {lang: eval_labels(lang)[key].format(**values) for lang in languages}

    key = panel.get("message_key")
    return {
        "title": each("title"),
        "lead": each("lead"),
        "how": each(f"how_{panel.get('history', 'week')}"),
        "ranker": each("ranker"),
        "recall10": each("recall10"),
        "note": each(key) if key else None,
        "rows": [
            {
                "ours": row["ranker"] == "paperradar",
                "name": {lang: ranker_name(row["ranker"], lang) for lang in languages},
                "recall10": f"{row['recall@10']:.2f}",
            }
            for row in panel["rows"]
        ],
    }
