"""What the rank stage asks of the LLM service: interest scores with reasons for the day's pool, and the
company of top papers whose affiliations the gazetteer could not place. Both go through the store-cached
`write_texts`, so a re-run asks nothing twice; a paper without a model answer keeps its heuristic value,
which says it is heuristic."""

from __future__ import annotations

import json
from collections.abc import Iterable

from paperradar.llm import Backend, write_texts
from paperradar.models import CompanyHit, Interest, Paper, Ranked, RunStats
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
) -> None:
    """Company from the affiliation text, asked of the model only where the gazetteer found none.
    Recorded with provenance `llm`; a gazetteer hit is never overridden."""
    ask = [r for r in top if not r.companies and r.paper.affiliations]
    if not ask or not backend.supports("company", lang):
        return
    texts, stats.company = write_texts(
        store, backend, [r.paper for r in ask], ["company"], lang, run_id, refresh
    )
    for item in ask:
        got = texts.get(item.paper.arxiv_id, {}).get("company")
        if got is None:
            continue
        answer = json.loads(got.content)
        if answer.get("company"):
            name = str(answer["company"])
            item.companies = [CompanyHit(name.lower(), name, "llm", str(answer.get("evidence") or ""))]
