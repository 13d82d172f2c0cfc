"""What the rank stage asks of the LLM service: interest scores with reasons for the day's pool, and the
company of top papers whose affiliations the gazetteer could not place. Both go through the store-cached
TextService, so a re-run asks nothing twice; a paper without a model answer keeps its heuristic value,
which says it is heuristic and why no model value is there."""

from __future__ import annotations

import json
from dataclasses import replace

from paperradar.llm.seam import InterestProfile, WriteRequest
from paperradar.llm.texts import ManyBatch, TextService
from paperradar.models import CompanyHit, Interest, Paper, Ranked, RunStats
from paperradar.rank.affiliations import academic_only


def interest_requests(
    texts: TextService, pool: list[Paper], lang: str, profile: InterestProfile | None = None
) -> list[WriteRequest]:
    """The interest question for the day's pool, where the backend can answer it (else the heuristic
    score stands, as it says). `profile`: the reader they score for when several share the archive (None:
    the backend's own interests text)."""
    if not pool or not texts.backend.supports("interest", lang):
        return []
    return [WriteRequest(paper, "interest", lang, profile) for paper in pool]


def interests_from(
    batch: ManyBatch, pool: list[Paper], heuristic: dict[str, Interest], lang: str, stats: RunStats
) -> dict[str, Interest]:
    """Model scores out of the answers. A paper whose answer failed, was refused or was cut by the budget
    keeps its heuristic score, marked with why."""
    got = batch.in_language(lang, ["interest"])
    if "interest" in batch.counts:
        stats.interest = batch.counts_of(["interest"])
    out = {}
    for paper in pool:
        text = got.texts.get(paper.arxiv_id, {}).get("interest")
        if text is None:
            why = got.missing.get(paper.arxiv_id, {}).get("interest")
            if why is not None and paper.arxiv_id in heuristic:
                heuristic[paper.arxiv_id].missing = why
            continue
        answer = json.loads(text.content)
        evidence = {"heuristic_score": heuristic[paper.arxiv_id].score, **heuristic[paper.arxiv_id].evidence}
        out[paper.arxiv_id] = Interest(
            int(answer["score"]),
            answer["reason"],
            text.mode,
            evidence,
            reasons=dict(answer.get("reasons") or {lang: answer["reason"]}),
        )
    return out


def company_requests(top: list[Ranked], lang: str) -> list[WriteRequest]:
    """The company question for top papers the gazetteer could not place but that name affiliations. Not
    asked when every affiliation is a university or school: that settles it."""
    return [
        WriteRequest(r.paper, "company", lang)
        for r in top
        if not r.companies and r.paper.affiliations and not academic_only(r.paper.affiliations)
    ]


def with_html_affiliations(top: list[Ranked], affiliations: dict[str, list[str]]) -> None:
    """Where the feed named no affiliation, the paper carries those read from arXiv's HTML author block
    (rank/affiliations.py), so the company question and the outputs see them (in place, a copy of the
    paper: the stored one is left as the feed gave it)."""
    for r in top:
        found = affiliations.get(r.paper.arxiv_id)
        if found and not r.paper.affiliations:
            r.paper = replace(r.paper, affiliations=list(found))


def apply_companies(top: list[Ranked], batch: ManyBatch, lang: str) -> None:
    """A model's company answer onto its paper, with provenance `llm`; a gazetteer hit is never overridden."""
    for item in top:
        got = batch.texts.get((item.paper.arxiv_id, "company", lang))
        if got is None or item.companies:
            continue
        answer = json.loads(got.content)
        if answer.get("company"):
            name = str(answer["company"])
            item.companies = [CompanyHit(name.lower(), name, "llm", str(answer.get("evidence") or ""))]


def llm_companies(texts: TextService, top: list[Ranked], lang: str, stats: RunStats) -> None:
    """The company question on its own (`paperradar rank`); a daily run asks it in the day's one queue."""
    ask = company_requests(top, lang)
    if not ask or not texts.backend.supports("company", lang):
        return
    batch = texts.ask_many(ask)
    stats.company = batch.counts_of(["company"])
    apply_companies(top, batch, lang)
