"""The static site's read model: everything the site shows, collected from the Store in one pass.

Pages are rendered from these plain objects only, so templates never touch SQLite and a test can build a
SiteData by hand. Every collection is ordered explicitly (days newest first, papers by rank, tags and
companies by name) so identical stores give identical sites, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from paperradar.models import CompanyHit, Interest, KeywordHit, Paper, Ranked
from paperradar.publish.style_render import StyleMeta, render_style
from paperradar.sources.ids import safe_filename
from paperradar.store import Store
from paperradar.store.views import good_texts
from paperradar.write.styles.config import STYLES

STYLE_PREFIX = "style:"
# Styles in the order a paper page shows them; any other style follows, alphabetically.
STYLE_ORDER = ("highlight", "review", "dialogue")


@dataclass(frozen=True, slots=True)
class TextView:
    """One stored generated text: its content, who made it (extractive or a model) and its language."""

    content: str
    mode: str
    language: str
    version: int | None = None  # the paper version it was written for (None: not recorded)


@dataclass(frozen=True, slots=True)
class Theme:
    """A themed section of a day (seed 000's "### 🔍 …" groups). `names` is per language."""

    key: str
    emoji: str
    names: dict[str, str]


# Keyword → theme. A paper joins the theme most of its keyword hits point at; keywords not listed here
# become a theme of their own (named after the keyword) so a custom config still gets sections.
_THEMES: tuple[tuple[Theme, frozenset[str]], ...] = (
    (
        Theme("search", "🔍", {"zh": "检索与相关性", "ja": "検索・マッチング", "en": "Search & retrieval"}),
        frozenset({"retrieval", "relevance", "search", "rag", "dense retrieval", "query"}),
    ),
    (
        Theme(
            "ranking",
            "📊",
            {"zh": "排序与重排", "ja": "ランキング・リランキング", "en": "Ranking & re-ranking"},
        ),
        frozenset({"ranking", "rerank", "re-ranking", "learning to rank"}),
    ),
    (
        Theme("recsys", "🎯", {"zh": "推荐系统", "ja": "推薦システム", "en": "Recommendation"}),
        frozenset({"recommendation", "cold-start", "diversity", "serendipity", "explore", "recommender"}),
    ),
    (
        Theme("ads", "📈", {"zh": "广告与增长", "ja": "広告・グロース", "en": "Ads & growth"}),
        frozenset({"ctr", "cvr", "advertising", "uplift", "ltv", "dau"}),
    ),
    (
        Theme(
            "causal", "⚖️", {"zh": "因果与去偏", "ja": "因果推論・バイアス補正", "en": "Causal & debiasing"}
        ),
        frozenset({"causal", "debias"}),
    ),
)
THEME_INDUSTRY = Theme("industry", "🏭", {"zh": "工业界", "ja": "産業界", "en": "Industry"})
THEME_OTHER = Theme("other", "📄", {"zh": "其他", "ja": "その他", "en": "Other"})
KEYWORD_EMOJI = "🏷️"


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

    @property
    def latest(self) -> DayItem:
        return self.appearances[0]

    def text_for(self, kind: str, language: str) -> TextView | None:
        """The text in `language`, else the same text in another language (English first): a reader is
        better served by an English summary than by none, and the page labels its language."""
        texts = self.summaries if kind == "summary" else self.styles.get(kind, {})
        if language in texts:
            return texts[language]
        for other in ("en", *sorted(texts)):
            if other in texts:
                return texts[other]
        return None

    def style_names(self) -> list[str]:
        known = [s for s in STYLE_ORDER if s in self.styles]
        return known + sorted(s for s in self.styles if s not in STYLE_ORDER)


@dataclass(slots=True)
class ThemeGroup:
    theme: Theme
    items: list[DayItem]


@dataclass(slots=True)
class DayView:
    day: date
    items: list[DayItem]  # rank order
    groups: list[ThemeGroup]  # themes ordered by their best-ranked paper


@dataclass(slots=True)
class Facet:
    """A tag (keyword) or company page: its papers, newest appearance first."""

    key: str
    slug: str
    name: str
    group: str  # keyword group, or "company"
    papers: list[PaperView]


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


def theme_for(hits: Sequence[KeywordHit], companies: Sequence[CompanyHit]) -> Theme:
    """The theme most of the paper's keyword hits point at; ties go to the keyword found in more forms
    (a paper saying recommend/recommendation/recommended is about recommendation), then table order."""
    scores: dict[str, tuple[int, int, int]] = {}
    themes: dict[str, Theme] = {}
    for hit in hits:
        if hit.group == "company":
            continue
        theme, order = _lookup_theme(hit.keyword)
        themes[theme.key] = theme
        count, forms, _ = scores.get(theme.key, (0, 0, order))
        scores[theme.key] = (count + 1, forms + len(hit.forms), order)
    if not scores:
        return THEME_INDUSTRY if (companies or hits) else THEME_OTHER
    best = max(scores, key=lambda k: (scores[k][0], scores[k][1], -scores[k][2], k))
    return themes[best]


def _lookup_theme(keyword: str) -> tuple[Theme, int]:
    for order, (theme, words) in enumerate(_THEMES):
        if keyword.lower() in words:
            return theme, order
    name = {lang: keyword for lang in ("zh", "ja", "en")}
    return Theme(f"kw:{keyword}", KEYWORD_EMOJI, name), len(_THEMES)


def _render_style_text(style: str, paper: Paper, text: TextView) -> TextView:
    """Style texts are stored as validated JSON; the site shows them through the same templates as the
    Markdown pages (publish/style_templates), then markdown-it renders that with raw HTML off."""
    try:
        data = json.loads(text.content)
    except ValueError:
        return text  # already Markdown (e.g. written by an older version)
    if style not in STYLES or not isinstance(data, dict):
        return text
    markdown = render_style(style, paper, data, text.language, StyleMeta(mode=text.mode))
    return TextView(markdown, text.mode, text.language, text.version)


def collect_site_data(store: Store, languages: Sequence[str], days: Iterable[date] | None = None) -> SiteData:
    """Read every ranked day (or just `days`) with its papers' texts. Days without a ranking are skipped:
    the site shows what was ranked, as the digest does."""
    languages = list(dict.fromkeys(languages))
    wanted = sorted(set(days) if days is not None else set(store.announcement_days()), reverse=True)
    ranked_days: list[tuple[date, list[Ranked]]] = []
    for day in wanted:
        ranked = store.load_ranked(day)
        if ranked:
            ranked_days.append((day, ranked))
    papers: dict[str, PaperView] = {}
    for _, ranked in ranked_days:
        for item in ranked:
            if item.paper.arxiv_id not in papers:
                papers[item.paper.arxiv_id] = PaperView(item.paper, safe_filename(item.paper.arxiv_id))
    _attach_texts(store, papers)
    primary = languages[0] if languages else "en"
    day_views = [
        _day_view(day, ranked, papers, primary) for day, ranked in ranked_days
    ]  # newest first, so each paper's appearances end up newest first too
    ordered = {k: papers[k] for k in sorted(papers)}
    tags, companies = _facets(day_views)
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
        theme = theme_for(r.keyword_hits, r.companies)
        emoji = theme.emoji
        highlight = view.text_for("highlight", primary)
        if highlight is not None:
            topic, own_emoji, _ = parse_highlight(highlight.content)
            emoji = own_emoji or emoji
            if topic:
                theme = Theme(f"topic:{topic.lower()}", own_emoji or theme.emoji, {primary: topic})
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
            emoji,
        )
        view.appearances.append(item)
        items.append(item)
    groups: dict[str, ThemeGroup] = {}
    for item in items:  # rank order, so a theme's position is that of its best paper
        groups.setdefault(item.theme.key, ThemeGroup(item.theme, [])).items.append(item)
    return DayView(day, items, list(groups.values()))


def _facets(days: list[DayView]) -> tuple[list[Facet], list[Facet]]:
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
                        co.company, Facet(co.company, "", co.name, "company", [])
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
