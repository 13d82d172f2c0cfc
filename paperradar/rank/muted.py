"""Muted topics: terms, phrases, categories and authors a reader does not want at the top of the day.

Terms are matched with the keyword groups' own matcher (rank/keywords.py: whole words, inflections,
hyphen = space, the [keywords] aliases), over the same title, abstract and comment; a category against the
paper's primary category (a cs.IR paper also listed in cs.CV is not muted by muting cs.CV); an author like
a followed author (case and accents folded, "Y. LeCun" ~ "Yann LeCun").

A muted paper stays in the day's stored ranking, after every other paper, with `explanation["muted"]`
saying what muted it and how (`drop` or `demote`), so a re-published day, the site and the web UI can say
why it is missing; `split_muted` tells the listed papers from the dropped ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from paperradar.models import JSON, MutedSummary, MuteKind, Paper, Ranked
from paperradar.rank.config import MutedConfig
from paperradar.rank.keywords import KeywordMatcher
from paperradar.rank.personal.scoring import author_matches

_KINDS: dict[str, MuteKind] = {"term": "term", "category": "category", "author": "author"}


@dataclass(frozen=True, slots=True)
class MuteHit:
    kind: MuteKind
    value: str  # the muted entry as configured
    matched: str  # what in the paper matched it: surface forms, the category, the author as printed


class Muter:
    """Checks papers against one reader's muted terms, categories and authors. Build once per ranking."""

    def __init__(self, muted: MutedConfig, aliases: Mapping[str, list[str]] | None = None):
        self.cfg = muted
        self._matcher = (
            KeywordMatcher({"muted": list(muted.terms)}, dict(aliases or {})) if muted.terms else None
        )
        self._categories = {c.lower(): c for c in muted.categories}

    def check(self, paper: Paper) -> list[MuteHit]:
        """Why `paper` is muted (empty: it is not), terms first, in configured order."""
        hits: list[MuteHit] = []
        if self._matcher is not None:
            for hit in self._matcher.match(paper.title, paper.abstract, paper.comment or ""):
                hits.append(MuteHit("term", hit.keyword, ", ".join(hit.forms)))
        primary = (paper.primary_category or "").lower()
        if primary in self._categories:
            hits.append(MuteHit("category", self._categories[primary], paper.primary_category or ""))
        for want in self.cfg.authors:
            found = author_matches([want], paper.authors)
            if found:
                hits.append(MuteHit("author", want, found[0]))
        return hits

    def check_all(self, papers: Iterable[Paper]) -> dict[str, list[MuteHit]]:
        """arxiv_id -> why, for the muted papers only."""
        if not self.cfg.active:
            return {}
        out = {}
        for paper in papers:
            hits = self.check(paper)
            if hits:
                out[paper.arxiv_id] = hits
        return out


def mute_explanation(mode: str, hits: Sequence[MuteHit]) -> dict[str, JSON]:
    return {
        "mode": mode,
        "by": [{"kind": h.kind, "value": h.value, "matched": h.matched} for h in hits],
    }


def apply_mutes(ordered: list[Ranked], muted: Mapping[str, list[MuteHit]], mode: str) -> list[Ranked]:
    """The day's order with the muted papers moved after every other one (their own order kept), each
    marked in its explanation; ranks renumbered 1..n."""
    if not muted:
        return ordered
    kept = [r for r in ordered if r.paper.arxiv_id not in muted]
    moved = [r for r in ordered if r.paper.arxiv_id in muted]
    for item in moved:
        item.explanation = {
            **item.explanation,
            "muted": mute_explanation(mode, muted[item.paper.arxiv_id]),
        }
    out = kept + moved
    for rank, item in enumerate(out, start=1):
        item.rank = rank
    return out


def mute_of(item: Ranked) -> dict[str, JSON] | None:
    found = item.explanation.get("muted")
    return found if isinstance(found, dict) else None


def split_muted(ranked: list[Ranked]) -> tuple[list[Ranked], list[Ranked]]:
    """(the papers the digest lists, in order; the muted ones). A demoted paper is listed (after every
    unmuted one) and counted as muted too; a dropped one is only counted."""
    listed = []
    muted = []
    for item in ranked:
        mute = mute_of(item)
        if mute is None:
            listed.append(item)
            continue
        muted.append(item)
        if mute.get("mode") == "demote":
            listed.append(item)
    return listed, muted


def summarize_mutes(muted: Sequence[Ranked]) -> MutedSummary | None:
    """What the digest says about the day's muted papers (None: nothing was muted)."""
    if not muted:
        return None
    modes: set[str] = set()
    counts: Counter[tuple[MuteKind, str]] = Counter()
    for item in muted:
        mute = mute_of(item) or {}
        modes.add(str(mute.get("mode") or "drop"))
        seen: set[tuple[MuteKind, str]] = set()
        by = mute.get("by")
        for hit in by if isinstance(by, list) else []:
            kind = _KINDS.get(str(hit.get("kind"))) if isinstance(hit, dict) else None
            if kind is not None and isinstance(hit, dict):
                seen.add((kind, str(hit.get("value"))))
        counts.update(seen)
    mode = modes.pop() if len(modes) == 1 else "mixed"
    order = {"term": 0, "category": 1, "author": 2}
    reasons = tuple(
        (kind, value, n)
        for (kind, value), n in sorted(counts.items(), key=lambda kv: (-kv[1], order[kv[0][0]], kv[0][1]))
    )
    return MutedSummary(len(muted), mode, reasons)
