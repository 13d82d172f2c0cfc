"""What the rank stage asks of the LLM service: interest scores with reasons for the day's pool, and the
company of top papers whose affiliations the gazetteer could not place. Both go through the store-cached
`write_texts`, so a re-run asks nothing twice; a paper without a model answer keeps its heuristic value,
which says it is heuristic."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace

from paperradar.llm import Backend, write_texts
from paperradar.models import CompanyHit, Interest, Paper, Ranked, RunStats
from paperradar.rank.affiliations import academic_only
from paperradar.store import Store


def llm_interests(
    store: Store,
    backend: Backend,
    pool: list[Paper],
    heuristic: dict[str, Interest],
    lang: str,
    run_id: int | None,
    stats: RunStats,
    refresh: Iterable[str] = (),
) -> dict[str, Interest]:
    """Model scores for the day's pool, where the backend can give them. A paper whose answer failed,
    was filtered or was cut by the budget keeps its heuristic score, which says it is heuristic."""
    if not pool or not backend.supports("interest", lang):
        return {}
    texts, stats.interest = write_texts(store, backend, pool, ["interest"], lang, run_id, refresh)
    out = {}
    for arxiv_id, by_task in texts.items():
        answer = json.loads(by_task["interest"].content)
        evidence = {"heuristic_score": heuristic[arxiv_id].score, **heuristic[arxiv_id].evidence}
        out[arxiv_id] = Interest(int(answer["score"]), answer["reason"], by_task["interest"].mode, evidence)
    return out


def llm_companies(
    store: Store,
    backend: Backend,
    top: list[Ranked],
    lang: str,
    run_id: int | None,
    stats: RunStats,
    refresh: Iterable[str] = (),
    affiliations: Mapping[str, list[str]] | None = None,
) -> None:
    """Company from the affiliation text, asked of the model only where the gazetteer found none.
    `affiliations` are those read from arXiv's HTML author block (rank/affiliations.py), used where the
    feed gave none. Not asked when every affiliation is a university or school: that settles it.
    Recorded with provenance `llm`; a gazetteer hit is never overridden."""
    html = affiliations or {}
    ask: list[tuple[Ranked, Paper]] = []
    for r in top:
        known = r.paper.affiliations or html.get(r.paper.arxiv_id, [])
        if r.companies or not known or academic_only(known):
            continue
        # The prompt reads paper.affiliations; a copy carries the author block's where the feed had none.
        ask.append((r, r.paper if r.paper.affiliations else replace(r.paper, affiliations=list(known))))
    if not ask or not backend.supports("company", lang):
        return
    texts, stats.company = write_texts(
        store, backend, [paper for _, paper in ask], ["company"], lang, run_id, refresh
    )
    for item, _ in ask:
        got = texts.get(item.paper.arxiv_id, {}).get("company")
        if got is None:
            continue
        answer = json.loads(got.content)
        if answer.get("company"):
            name = str(answer["company"])
            item.companies = [CompanyHit(name.lower(), name, "llm", str(answer.get("evidence") or ""))]
