"""The static site's read model: everything the site shows, collected from the Store in one pass.

Pages are rendered from these plain objects only, so templates never touch SQLite and a test can build a
SiteData by hand. Every collection is ordered explicitly (days newest first, papers by rank, tags and
companies by name) so identical stores give identical sites, byte for byte.

What a reader of one language sees for a field follows the digest's rule (write/digest_texts.py):
a model's text in the reader's language; else the same kind of model text in English, labelled with its
language and why the reader's own is missing; else the extractive one, labelled with why; else nothing,
with why (`PaperView.shown`). Why comes from the store's recorded declines (failed, invalid, budget,
refused, given up), from the day's top N (papers below it get no title or summary by design), or is "no
model" when nothing was asked.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from paperradar.models import CompanyHit, Interest, KeywordHit, MutedSummary, Paper, Ranked
from paperradar.publish.style_render import StyleMeta, render_style
from paperradar.rank.companies import Gazetteer
from paperradar.rank.muted import split_muted, summarize_mutes
from paperradar.sources.ids import safe_filename
from paperradar.store import Store
from paperradar.store.views import good_texts, text_declines
from paperradar.text.labels import LANGUAGES
from paperradar.text.style_labels import TOPICS, topic_of
from paperradar.write.styles.config import STYLES
from paperradar.write.styles.extractive import extractive_highlight

STYLE_PREFIX = "style:"
# Styles in the order a paper page shows them; any other style follows, alphabetically.
STYLE_ORDER = ("highlight", "review", "dialogue")

# Why a field shows no model text in the reader's language: models.MissingReason, plus "not_asked" (a
# model wrote this field in other languages but was never asked in this one) and "outside_top" (the paper
# ranked below the digest's top N, which alone gets titles and summaries).
Why = Literal[
    "no_model", "failed", "invalid", "budget", "refused", "given_up", "offline", "not_asked", "outside_top"
]


# The whys of a model asked in this language without a usable answer.
_DECLINED: frozenset[Why] = frozenset({"failed", "invalid", "budget", "refused", "given_up"})


@dataclass(frozen=True, slots=True)
class TextView:
    """One stored generated text: its content, who made it (extractive or a model) and its language."""

    content: str
    mode: str
    language: str
    version: int | None = None  # the paper version it was written for (None: not recorded)
    # Style texts only, from their stored JSON: the highlight's topic key and emoji, what the model read
    # (html, pdf, abstract) and how many of its numbers or names the paper does not contain.
    topic: str | None = None
    emoji: str | None = None
    source: str | None = None
    unverified: int = 0

    @property
    def by_model(self) -> bool:
        return self.mode != "extractive"


@dataclass(frozen=True, slots=True)
class Shown:
    """What a reader of `language` sees for one field of one paper (PaperView.shown)."""

    language: str
    text: TextView | None  # None: nothing to show (a title then shows the original)
    why: Why | None  # why the reader's language has no model text; None when it has one (or needs none)

    @property
    def stands_in(self) -> bool:
        """Another language's model text or an extractive text is shown in place of the reader's own."""
        return self.text is not None and self.why is not None


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What the site needs from the config to say why a field is missing."""

    top_n: int | None = None  # the digest's top N: papers below it get no title or summary by design
    give_up_after: int | None = None  # failed this often: no longer asked (until --refresh)


@dataclass(frozen=True, slots=True)
class Theme:
    """A themed section of a day (seed 000's "### 🔍 …" groups): one of the highlight's topics
    (text/style_labels.TOPICS), so the site and the Markdown highlight page name a theme the same way."""

    key: str
    emoji: str
    names: dict[str, str]


def topic_theme(key: str) -> Theme:
    entry = TOPICS.get(key, TOPICS["other"])
    return Theme(key if key in TOPICS else "other", entry["emoji"], {lang: entry[lang] for lang in LANGUAGES})


THEME_OTHER = topic_theme("other")

# Keyword → topic, for papers without a highlight: a paper joins the topic most of its keyword hits point
# at. Keywords not listed here do not vote; a paper none of whose keywords vote gets the topic the
# extractive highlight would give it (topic_of: the same rules on its title and abstract).
_KEYWORD_TOPICS: tuple[tuple[str, frozenset[str]], ...] = (
    ("search", frozenset({"retrieval", "relevance", "search", "dense retrieval", "query"})),
    ("rerank", frozenset({"ranking", "rerank", "re-ranking", "learning to rank"})),
    (
        "recsys",
        frozenset({"recommendation", "cold-start", "diversity", "serendipity", "explore", "recommender"}),
    ),
    ("rag", frozenset({"rag", "llm", "llms", "large language model", "retrieval-augmented generation"})),
    ("ads", frozenset({"ctr", "cvr", "advertising", "uplift", "ltv", "dau"})),
    ("multimodal", frozenset({"multimodal", "multi-modal"})),
    ("eval", frozenset({"benchmark", "dataset", "evaluation"})),
)


def company_names(hit: CompanyHit, languages: Sequence[str]) -> dict[str, str]:
    """A company chip's name per language: the gazetteer's display name; a company a model named (not in
    the gazetteer) keeps the name the model gave."""
    gazetteer = Gazetteer.load()  # the built-in one, parsed once per process
    if hit.field == "llm" or hit.company not in gazetteer.companies:
        return dict.fromkeys(languages, hit.name)
    return {lang: gazetteer.display_name(hit.company, lang) for lang in languages}


@dataclass(slots=True)
class DayItem:
    """A paper as ranked on one day (a paper announced twice has two of these)."""

    paper: PaperView = field(repr=False)
    day: date
    rank: int
    kind: str  # announce kind: new | cross | replace | replace-cross
    category: str
    keyword_hits: list[KeywordHit]
    companies: list[CompanyHit]  # one per company key, first hit first
    interest: Interest
    theme: Theme
    emoji: str  # the highlight's own emoji when it has one, else the theme's


@dataclass(slots=True)
class PaperView:
    paper: Paper
    slug: str  # file name stem: safe_filename(arxiv_id), never a path
    titles: dict[str, TextView] = field(default_factory=dict)  # language -> translated title
    summaries: dict[str, TextView] = field(default_factory=dict)  # language -> summary
    styles: dict[str, dict[str, TextView]] = field(default_factory=dict)  # style -> language -> text
    appearances: list[DayItem] = field(default_factory=list)  # newest day first
    # (task, language) -> (reason, failed attempts) of texts asked of a model without a usable answer
    declines: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    rule: FieldRule = field(default_factory=FieldRule)
    _extractive: dict[str, TextView] = field(default_factory=dict, repr=False)

    @property
    def latest(self) -> DayItem:
        return self.appearances[0]

    @property
    def in_top(self) -> bool:
        """Ranked within the digest's top N on some day it appeared (unknown N: assumed so)."""
        top_n = self.rule.top_n
        return top_n is None or not self.appearances or any(a.rank <= top_n for a in self.appearances)

    def _texts(self, kind: str) -> dict[str, TextView]:
        if kind == "title":
            return self.titles
        return self.summaries if kind == "summary" else self.styles.get(kind, {})

    def missing(self, kind: str, language: str) -> Why:
        """Why `kind` has no model text in `language`."""
        task = kind if kind in ("title", "summary") else STYLE_PREFIX + kind
        declined = self.declines.get((task, language))
        if declined is not None:
            reason, attempts = declined
            limit = self.rule.give_up_after
            if reason in ("failed", "invalid") and limit is not None and attempts >= limit:
                return "given_up"
            return reason  # type: ignore[return-value]  # a DeclineReason, which Why contains
        if kind in ("title", "summary") and not self.in_top:
            return "outside_top"
        if any(text.by_model for text in self._texts(kind).values()):
            return "not_asked"
        return "no_model"

    def shown(self, kind: str, language: str) -> Shown:
        """The one fallback rule (see the module docstring) for a title, summary or style."""
        texts = self._texts(kind)
        own = texts.get(language)
        if own is not None and own.by_model:
            return Shown(language, own, None)
        if kind == "title":  # no stand-in for a title: the original is shown, and needs no label in English
            return Shown(language, None, None if language == "en" else self.missing(kind, language))
        why = self.missing(kind, language)
        english = texts.get("en")
        if language != "en" and english is not None and english.by_model:
            return Shown(language, english, why)
        if own is not None:
            return Shown(language, own, why)
        extractive = next((t for _, t in sorted(texts.items()) if not t.by_model), None)
        if extractive is None and kind == "highlight" and why in _DECLINED:
            # The model was asked in this language and gave nothing usable: the extractive highlight the
            # Markdown highlight page shows in its place (made only here: it summarizes the abstract).
            extractive = self._extractive_highlight(language)
        return Shown(language, extractive, why)

    def text_for(self, kind: str, language: str) -> TextView | None:
        return self.shown(kind, language).text

    def asked(self, style: str) -> bool:
        """A model was asked for this style in some language (it wrote it, or its failure is recorded)."""
        task = STYLE_PREFIX + style
        return style in self.styles or any(t == task for t, _ in self.declines)

    def style_names(self) -> list[str]:
        """Styles a model was asked for, in page order: each gets a section, with a note when missing."""
        asked = set(self.styles) | {
            t[len(STYLE_PREFIX) :] for t, _ in self.declines if t.startswith(STYLE_PREFIX)
        }
        known = [s for s in STYLE_ORDER if s in asked]
        return known + sorted(s for s in asked if s not in STYLE_ORDER)

    def _extractive_highlight(self, language: str) -> TextView:
        """The highlight the Markdown highlight page shows when the model's failed: copied sentences."""
        if language not in self._extractive:
            stored = extractive_highlight(self.paper)
            markdown = render_style(
                "highlight", self.paper, stored, language, StyleMeta(mode="extractive", embed=True)
            )
            data = stored.get("data", {})
            self._extractive[language] = TextView(
                markdown,
                "extractive",
                language,
                self.paper.version,
                topic=str(data.get("topic") or "other"),
                emoji=str(data.get("emoji") or ""),
                source="abstract",
            )
        return self._extractive[language]


@dataclass(slots=True)
class ThemeGroup:
    theme: Theme
    items: list[DayItem]


@dataclass(slots=True)
class DayView:
    day: date
    items: list[DayItem]  # rank order
    groups: list[ThemeGroup]  # themes ordered by their best-ranked paper
    muted: MutedSummary | None = None  # the reader's muted papers of the day (dropped ones are not items)


@dataclass(slots=True)
class Facet:
    """A tag (keyword) or company page: its papers, newest appearance first."""

    key: str
    slug: str
    name: str
    group: str  # keyword group, or "company"
    papers: list[PaperView]
    names: dict[str, str] = field(default_factory=dict)  # per language (companies); else `name` everywhere

    def name_in(self, language: str) -> str:
        return self.names.get(language, self.name)


@dataclass(slots=True)
class SiteData:
    languages: list[str]
    days: list[DayView]  # newest first
    papers: dict[str, PaperView]  # arxiv_id -> view, sorted by id
    tags: list[Facet]
    companies: list[Facet]

    @property
    def newest_day(self) -> date | None:
        return self.days[0].day if self.days else None


def slugify(text: str, taken: set[str]) -> str:
    """An ASCII file-name stem for a tag or company. Lossy names ("click-through rate", CJK) get a short
    hash of the full name so two names never share a page; `taken` resolves the rare remaining clash."""
    base = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", text).lower()).strip("-")[:60]
    exact = base == text.lower()
    if not exact:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        base = f"{base}-{digest}" if base else f"t-{digest}"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


_EMOJI_RE = re.compile(
    r"^[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF]"
    r"[\uFE0F\u200D\U0001F3FB-\U0001F3FF\U0001F000-\U0001FAFF\u2600-\u27BF]*"
)
_TOPIC_RE = re.compile(r"^\s*(?:#+\s*)?(?:topic|theme|主题|主題|テーマ)\s*[:：]\s*(.+?)\s*$", re.IGNORECASE)


def parse_highlight(content: str) -> tuple[str | None, str | None, str]:
    """(topic, emoji, body) of a highlight text. A first line "Topic: …" (or 主题/テーマ) names the
    paper's theme and is removed from the body; a leading emoji on the first line ("### 🔍 LEMUR") is the
    paper's icon, as in seed 000."""
    lines = content.strip().splitlines()
    topic = None
    if lines and (m := _TOPIC_RE.match(lines[0])):
        topic, lines = m.group(1), lines[1:]
    body = "\n".join(lines).strip()
    first = body.splitlines()[0].lstrip("#").strip() if body else ""
    emoji = m.group(0) if (m := _EMOJI_RE.match(first)) else None
    return topic, emoji, body


def theme_for(hits: Sequence[KeywordHit], paper: Paper) -> Theme:
    """The topic most of the paper's keyword hits point at; ties go to the keyword found in more forms
    (a paper saying recommend/recommendation/recommended is about recommendation), then table order.
    Without a voting keyword: the topic the extractive highlight gives the paper."""
    scores: dict[str, tuple[int, int, int]] = {}
    for hit in hits:
        if hit.group == "company":
            continue
        found = _lookup_topic(hit.keyword)
        if found is None:
            continue
        key, order = found
        count, forms, _ = scores.get(key, (0, 0, order))
        scores[key] = (count + 1, forms + len(hit.forms), order)
    if not scores:
        return topic_theme(topic_of(paper))
    best = max(scores, key=lambda k: (scores[k][0], scores[k][1], -scores[k][2], k))
    return topic_theme(best)


def _lookup_topic(keyword: str) -> tuple[str, int] | None:
    for order, (key, words) in enumerate(_KEYWORD_TOPICS):
        if keyword.lower() in words:
            return key, order
    return None


def _render_style_text(style: str, paper: Paper, text: TextView) -> TextView:
    """Style texts are stored as validated JSON; the site shows them through the same templates as the
    Markdown pages (publish/style_templates) without the page's own header and footer (the site's card
    or paper page already shows title, id and who wrote it), then markdown-it renders that with raw HTML
    off."""
    try:
        stored = json.loads(text.content)
    except ValueError:
        return text  # already Markdown (e.g. written by an older version)
    if style not in STYLES or not isinstance(stored, dict):
        return text
    markdown = render_style(style, paper, stored, text.language, StyleMeta(mode=text.mode, embed=True))
    data = stored.get("data")
    answer: dict[str, Any] = data if isinstance(data, dict) else stored
    report = stored.get("faithful")
    faithful: dict[str, Any] = report if isinstance(report, dict) else {}
    return TextView(
        markdown,
        text.mode,
        text.language,
        text.version,
        topic=str(answer["topic"]) if style == "highlight" and answer.get("topic") else None,
        emoji=str(answer["emoji"]) if style == "highlight" and answer.get("emoji") else None,
        source=str(stored["source"]) if "data" in stored and stored.get("source") else None,
        unverified=len(faithful.get("unverified") or []),
    )


def collect_site_data(
    store: Store,
    languages: Sequence[str],
    days: Iterable[date] | None = None,
    *,
    rule: FieldRule | None = None,
) -> SiteData:
    """Read every ranked day (or just `days`) with its papers' texts and recorded declines. Days without a
    ranking are skipped: the site shows what was ranked, as the digest does."""
    languages = list(dict.fromkeys(languages))
    rule = rule or FieldRule()
    wanted = sorted(set(days) if days is not None else set(store.announcement_days()), reverse=True)
    ranked_days: list[tuple[date, list[Ranked]]] = []
    for day in wanted:
        ranked = store.load_ranked(day)
        if ranked:
            ranked_days.append((day, ranked))
    # A paper the reader muted with mode "drop" is not on their site; the day says how many and why.
    mutes = {day: summarize_mutes(split_muted(ranked)[1]) for day, ranked in ranked_days}
    ranked_days = [(day, split_muted(ranked)[0]) for day, ranked in ranked_days]
    papers: dict[str, PaperView] = {}
    for _, ranked in ranked_days:
        for item in ranked:
            if item.paper.arxiv_id not in papers:
                papers[item.paper.arxiv_id] = PaperView(
                    item.paper, safe_filename(item.paper.arxiv_id), rule=rule
                )
    _attach_texts(store, papers)
    primary = languages[0] if languages else "en"
    day_views = [
        _day_view(day, ranked, papers, primary) for day, ranked in ranked_days
    ]  # newest first, so each paper's appearances end up newest first too
    for view in day_views:
        view.muted = mutes[view.day]
    ordered = {k: papers[k] for k in sorted(papers)}
    tags, companies = _facets(day_views, languages)
    return SiteData(languages, day_views, ordered, tags, companies)


def paper_view(store: Store, paper: Paper) -> PaperView:
    """One paper with its best stored texts, chosen and rendered as the site does (for `paperradar serve`)."""
    view = PaperView(paper, safe_filename(paper.arxiv_id))
    _attach_texts(store, {paper.arxiv_id: view})
    return view


def _day_view(day: date, ranked: list[Ranked], papers: dict[str, PaperView], primary: str) -> DayView:
    items: list[DayItem] = []
    for position, r in enumerate(sorted(ranked, key=lambda r: (r.rank, r.paper.arxiv_id)), 1):
        view = papers[r.paper.arxiv_id]
        # The highlight's own topic when it has one (model or extractive), so the site groups a paper
        # where the Markdown highlight page does; else the keywords' topic.
        highlight = view.text_for("highlight", primary)
        topic = highlight.topic if highlight is not None else None
        theme = topic_theme(topic) if topic else theme_for(r.keyword_hits, r.paper)
        own_emoji = None
        if highlight is not None:
            own_emoji = highlight.emoji or parse_highlight(highlight.content)[1]
        companies: list[CompanyHit] = []
        for hit in r.companies:  # one entry per company: the gazetteer may find it in title and abstract
            if all(c.company != hit.company for c in companies):
                companies.append(hit)
        item = DayItem(
            view,
            day,
            r.rank if r.rank > 0 else position,
            r.announcement.kind,
            r.announcement.category,
            list(r.keyword_hits),
            companies,
            r.interest,
            theme,
            own_emoji or theme.emoji,
        )
        view.appearances.append(item)
        items.append(item)
    groups: dict[str, ThemeGroup] = {}
    for item in items:  # rank order, so a theme's position is that of its best paper
        groups.setdefault(item.theme.key, ThemeGroup(item.theme, [])).items.append(item)
    return DayView(day, items, list(groups.values()))


def _facets(days: list[DayView], languages: Sequence[str]) -> tuple[list[Facet], list[Facet]]:
    tags: dict[str, Facet] = {}
    companies: dict[str, Facet] = {}
    seen: set[tuple[str, str, str]] = set()
    for day in days:  # newest first: a facet lists each paper once, at its newest appearance
        for item in day.items:
            pid = item.paper.paper.arxiv_id
            for hit in item.keyword_hits:
                if ("tag", hit.keyword, pid) not in seen:
                    seen.add(("tag", hit.keyword, pid))
                    tags.setdefault(
                        hit.keyword, Facet(hit.keyword, "", hit.keyword, hit.group, [])
                    ).papers.append(item.paper)
            for co in item.companies:
                if ("co", co.company, pid) not in seen:
                    seen.add(("co", co.company, pid))
                    companies.setdefault(
                        co.company,
                        Facet(co.company, "", co.name, "company", [], company_names(co, languages)),
                    ).papers.append(item.paper)
    taken: set[str] = set()
    tag_list = [tags[k] for k in sorted(tags)]
    for facet in tag_list:
        facet.slug = slugify(facet.key, taken)
    taken = set()
    company_list = [companies[k] for k in sorted(companies)]
    for facet in company_list:
        facet.slug = slugify(facet.key, taken)
    return tag_list, company_list


def _attach_texts(store: Store, papers: dict[str, PaperView]) -> None:
    """The best stored text per (paper, task, language): the paper's current version before older ones,
    a model's text before the extractive one, then the newest; the remaining key fields break ties so
    the choice never depends on row order."""
    best: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for rows in good_texts(store, list(papers)):
        for row in rows:
            task = row["task"]
            if task not in ("title", "summary") and not task.startswith(STYLE_PREFIX):
                continue  # interest/company answers are JSON; the ranks table already holds their values
            if not (row["content"] or "").strip():
                continue
            version = papers[row["arxiv_id"]].paper.version
            key = (
                row["version"] == version,
                row["version"],
                row["model"] != "extractive",
                row["created_at"] or "",
                row["model"],
                row["template_hash"],
            )
            slot = (row["arxiv_id"], task, row["language"])
            if slot not in best or key > best[slot][0]:
                best[slot] = (key, TextView(row["content"], row["model"], row["language"], row["version"]))
    for (arxiv_id, task, language), (_, text) in sorted(best.items(), key=lambda kv: kv[0]):
        view = papers[arxiv_id]
        if task == "title":
            view.titles[language] = text
        elif task == "summary":
            view.summaries[language] = text
        else:
            style = task[len(STYLE_PREFIX) :]
            view.styles.setdefault(style, {})[language] = _render_style_text(style, view.paper, text)
    for (arxiv_id, task, language), declined in sorted(text_declines(store, list(papers)).items()):
        if task in ("title", "summary") or task.startswith(STYLE_PREFIX):
            papers[arxiv_id].declines[(task, language)] = declined
