"""The static site: day pages with themed sections (seed 000's look), a page per paper with every language
and style, tag, company and archive pages, client-side search and RSS/Atom feeds.

Safety: every string from a paper or a model is escaped by Jinja's autoescape; Markdown style texts are
rendered by markdown-it with raw HTML disabled, so neither can inject markup or script. Links are relative
so the site works from file:// and under any path. Output is byte-stable: nothing depends on the clock,
and files whose bytes did not change are not rewritten.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup

from paperradar.publish.feeds import render_feeds
from paperradar.publish.owned_files import write_owned
from paperradar.publish.site_data import (
    DayItem,
    PaperView,
    SiteData,
    TextView,
    Theme,
    collect_site_data,
    parse_highlight,
)
from paperradar.store import Store
from paperradar.text.labels import LANGUAGES, labels

# The list of files the last build wrote (see publish/owned_files.py): the site deletes a file only when
# this manifest lists it and the new build no longer produces it; nothing else in out_dir is ever touched.
SITE_MANIFEST = ".paperradar-site.json"
STATIC_FILES = ("style.css", "search.js", "site.js", "favicon.svg")
SEARCH_GLOBAL = "PAPERRADAR_SEARCH"

_SITE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "lang_name": "中文",
        "latest": "最新",
        "archive": "归档",
        "tags": "标签",
        "companies": "公司",
        "search": "搜索",
        "search_placeholder": "搜索标题、摘要、总结…",
        "search_button": "搜索",
        "search_loading": "正在加载索引…",
        "search_empty": "输入关键词开始搜索",
        "search_none": "没有找到结果",
        "search_count": "{n} 条结果",
        "search_noscript": "搜索需要启用 JavaScript。",
        "comment": "备注",
        "journal": "期刊",
        "papers_n": "{n} 篇",
        "day_feature": "{theme}专题",
        "all_days": "全部日期",
        "more_days": "更早的日期见归档",
        "details": "详情",
        "abstract": "原文摘要",
        "appeared": "出现日期",
        "categories": "分类",
        "rank": "第 {rank} 名",
        "tag_title": "标签：{name}",
        "company_title": "公司：{name}",
        "language_note": "（{lang}）",
        "style_highlight": "亮点",
        "style_review": "点评",
        "style_dialogue": "对话",
        "feeds": "订阅",
        "data_as_of": "数据截至 {day}",
        "empty_site": "还没有已排序的论文。先运行 paperradar run。",
        "language": "语言",
    },
    "ja": {
        "lang_name": "日本語",
        "latest": "最新",
        "archive": "アーカイブ",
        "tags": "タグ",
        "companies": "企業",
        "search": "検索",
        "search_placeholder": "タイトル・アブストラクト・要約を検索…",
        "search_button": "検索",
        "search_loading": "索引を読み込み中…",
        "search_empty": "キーワードを入力してください",
        "search_none": "該当する論文はありません",
        "search_count": "{n} 件",
        "search_noscript": "検索には JavaScript が必要です。",
        "comment": "コメント",
        "journal": "掲載誌",
        "papers_n": "{n} 件",
        "day_feature": "{theme}特集",
        "all_days": "すべての日付",
        "more_days": "それ以前はアーカイブへ",
        "details": "詳細",
        "abstract": "アブストラクト（原文）",
        "appeared": "掲載日",
        "categories": "カテゴリ",
        "rank": "{rank} 位",
        "tag_title": "タグ：{name}",
        "company_title": "企業：{name}",
        "language_note": "（{lang}）",
        "style_highlight": "ハイライト",
        "style_review": "レビュー",
        "style_dialogue": "対話",
        "feeds": "フィード",
        "data_as_of": "{day} 時点のデータ",
        "empty_site": "ランキング済みの論文はまだありません。paperradar run を実行してください。",
        "language": "言語",
    },
    "en": {
        "lang_name": "English",
        "latest": "Latest",
        "archive": "Archive",
        "tags": "Tags",
        "companies": "Companies",
        "search": "Search",
        "search_placeholder": "Search titles, abstracts, summaries…",
        "search_button": "Search",
        "search_loading": "Loading the index…",
        "search_empty": "Type words to search",
        "search_none": "No paper matches",
        "search_count": "{n} results",
        "search_noscript": "Search needs JavaScript.",
        "comment": "Comment",
        "journal": "Journal",
        "papers_n": "{n} papers",
        "day_feature": "Featuring {theme}",
        "all_days": "All days",
        "more_days": "Older days are in the archive",
        "details": "Details",
        "abstract": "Abstract (original)",
        "appeared": "Listed on",
        "categories": "Categories",
        "rank": "#{rank}",
        "tag_title": "Tag: {name}",
        "company_title": "Company: {name}",
        "language_note": "({lang})",
        "style_highlight": "Highlight",
        "style_review": "Review",
        "style_dialogue": "Dialogue",
        "feeds": "Feeds",
        "data_as_of": "Data as of {day}",
        "empty_site": "No ranked papers yet. Run paperradar run first.",
        "language": "Language",
    },
}


def site_labels(language: str) -> dict[str, str]:
    """The digest's labels (seed 002 field names) plus the site's own, for one language."""
    return {**labels(language), **_SITE_LABELS[language]}


@dataclass(frozen=True, slots=True)
class SiteReport:
    pages: int  # HTML pages rendered
    seconds: float
    files: int = 0  # every file of the site (pages, feeds, index, static)
    changed: int = 0  # files whose bytes changed on disk (0 on a rebuild of unchanged data)
    removed: int = 0  # stale pages deleted


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Raw HTML off: a model or a paper cannot inject tags. Images off: generated text has no business
    # making the reader's browser fetch remote files (markdown-it already refuses javascript: links).
    return MarkdownIt("commonmark", {"html": False}).disable("image")


def render_markdown(text: str) -> Markup:
    """Markdown → HTML with every raw tag escaped; Markup only because markdown-it escaped it already."""
    return Markup(_render_cached(text))  # html disabled: the renderer escaped all input


@lru_cache(maxsize=8192)
def _render_cached(text: str) -> str:
    # A style text appears on its day page, the index and its paper page: parse it once.
    return str(_markdown().render(text))


# C0/C1 control characters (tab and newlines aside) are HTML parse errors that render as nothing or as
# boxes; a scraped abstract can carry them. Every value printed by a template loses them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and _CONTROL.search(value):
        cleaned = _CONTROL.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("paperradar.publish", "site_templates"),
        autoescape=True,  # every value from a paper or a model is escaped; templates never use |safe on data
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class _Helpers:
    """Template functions: formatting and the choice of text per language, kept out of the templates."""

    def __init__(self, data: SiteData, tz: tzinfo):
        self.data = data
        self.tz = tz
        self.primary = data.languages[0]
        self.tag_slugs = {f.key: f.slug for f in data.tags}
        self.company_slugs = {f.key: f.slug for f in data.companies}

    def title_in(self, view: PaperView, language: str) -> tuple[str, bool]:
        """(title to show, whether it is a translation)."""
        text = view.titles.get(language)
        if text is not None and text.content.strip():
            return " ".join(text.content.split()), True
        return " ".join(view.paper.title.split()), False

    def theme_name(self, theme: Theme, language: str) -> str:
        return theme.names.get(language) or theme.names.get(self.primary) or next(iter(theme.names.values()))

    def mode_label(self, text: TextView | None, language: str, kind: str) -> str:
        lab = labels(language)
        if text is None:
            return ""
        if text.mode == "extractive":
            return lab["extractive_label"] if kind == "summary" else lab["mode_extractive"]
        return lab["mode_model"].format(model=text.mode)

    def interest_label(self, item: DayItem, language: str) -> str:
        lab = labels(language)
        if item.interest.mode == "heuristic":
            return lab["heuristic_label"]
        return lab["mode_model"].format(model=item.interest.mode)

    def language_note(self, text: TextView | None, language: str) -> str:
        """Says so when a text is shown in another language than the tab's (a fallback)."""
        if text is None or text.language == language or text.language not in _SITE_LABELS:
            return ""
        return _SITE_LABELS[language]["language_note"].format(lang=_SITE_LABELS[text.language]["lang_name"])

    def card_highlight(self, text: TextView) -> Markup:
        """A highlight on a card, without its first heading: the card's own heading already shows it."""
        _, _, body = parse_highlight(text.content)
        lines = body.splitlines()
        if lines and lines[0].lstrip().startswith("#"):
            lines = lines[1:]
        return render_markdown("\n".join(lines))

    def style_markdown(self, text: TextView) -> Markup:
        return render_markdown(parse_highlight(text.content)[2])

    def paragraphs(self, text: str) -> list[str]:
        parts = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
        return [" ".join(p.split()) for p in parts if p.strip()]

    def when(self, value: datetime | None) -> str:
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(self.tz)
        offset = local.utcoffset()
        minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
        zone = (
            "UTC"
            if minutes == 0
            else f"UTC{'+' if minutes > 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        )
        return f"{local.strftime('%Y-%m-%d %H:%M')} {zone}"

    def paper_url(self, view: PaperView) -> str:
        return f"papers/{quote(view.slug)}.html"

    def day_url(self, day: date) -> str:
        return f"days/{day.isoformat()}.html"

    def tag_url(self, keyword: str) -> str:
        return f"tags/{self.tag_slugs[keyword]}.html"

    def company_url(self, company: str) -> str:
        return f"companies/{self.company_slugs[company]}.html"

    def arxiv_url(self, view: PaperView) -> str:
        # Ids are checked by safe_filename already; quoting keeps even an odd one inside the attribute.
        return quote(view.paper.abs_url, safe=":/")


def build_site(
    store: Store,
    out_dir: str | os.PathLike[str],
    languages: Sequence[str],
    site_title: str,
    base_url: str | None = None,
    *,
    tz: tzinfo = UTC,
    index_days: int = 7,
    feed_items: int = 50,
    force: bool = False,
) -> SiteReport:
    """Render the whole site from the store into `out_dir`; returns pages rendered and seconds taken.
    `force`: write into a non-empty folder paperradar did not create, overwriting files it needs."""
    start = time.perf_counter()
    languages = list(dict.fromkeys(languages)) or ["en"]
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        raise ValueError(f"no site labels for {', '.join(unknown)}; use {', '.join(LANGUAGES)}")
    data = collect_site_data(store, languages)
    files = render_site(data, site_title, base_url, tz=tz, index_days=index_days, feed_items=feed_items)
    changed, removed = write_files(Path(out_dir), files, force=force)
    pages = sum(1 for name in files if name.endswith(".html"))
    return SiteReport(pages, time.perf_counter() - start, len(files), changed, removed)


def render_site(
    data: SiteData,
    site_title: str,
    base_url: str | None = None,
    *,
    tz: tzinfo = UTC,
    index_days: int = 7,
    feed_items: int = 50,
) -> dict[str, bytes]:
    """Every file of the site as {relative path: bytes}; pure (no I/O besides reading templates)."""
    env = _environment()
    helpers = _Helpers(data, tz)
    primary = data.languages[0]
    common: dict[str, Any] = {
        "site_title": site_title,
        "langs": data.languages,
        "primary": primary,
        "L": site_labels(primary),
        "LL": {lang: site_labels(lang) for lang in data.languages},
        "h": helpers,
        "md": render_markdown,
        "newest_day": data.newest_day.isoformat() if data.newest_day else "",
        "search_global": SEARCH_GLOBAL,
    }
    files: dict[str, bytes] = {}

    def page(path: str, template: str, **context: Any) -> None:
        root = "../" * path.count("/")
        html = env.get_template(template).render(common, root=root, path=path, **context)
        files[path] = html.encode("utf-8")

    page("index.html", "index.html.j2", days=data.days[:index_days], more=len(data.days) > index_days)
    page("archive.html", "archive.html.j2", days=data.days)
    page("search.html", "search.html.j2")
    page("tags.html", "tags.html.j2", tags=data.tags, companies=data.companies)
    for day in data.days:
        page(helpers.day_url(day.day), "day.html.j2", day=day)
    for view in data.papers.values():
        page(helpers.paper_url(view), "paper.html.j2", view=view, item=view.latest)
    for facet in data.tags:
        page(helpers.tag_url(facet.key), "facet.html.j2", facet=facet, heading="tag_title")
    for facet in data.companies:
        page(helpers.company_url(facet.key), "facet.html.j2", facet=facet, heading="company_title")

    index = search_index(data, helpers)
    files["search-index.json"] = index.encode("utf-8")
    files["search-index.js"] = f"window.{SEARCH_GLOBAL} = {_js_safe(index)};\n".encode()
    rss, atom = render_feeds(data, site_title, base_url, limit=feed_items, title_of=helpers.title_in)
    files["feed.xml"] = rss
    files["atom.xml"] = atom
    static = resources.files("paperradar.publish").joinpath("site_static")
    for name in STATIC_FILES:
        files[f"static/{name}"] = static.joinpath(name).read_bytes()
    return files


def search_index(data: SiteData, helpers: _Helpers) -> str:
    """One record per paper: what the search box matches (titles, abstract, summaries, keywords,
    authors) and where it links. Extractive summaries are left out: they repeat the abstract."""
    docs = []
    for view in data.papers.values():
        item = view.latest
        translated = {
            lang: " ".join(text.content.split())
            for lang, text in sorted(view.titles.items())
            if text.content.strip()
        }
        summaries = [
            view.summaries[lang].content
            for lang in sorted(view.summaries)
            if view.summaries[lang].mode != "extractive"
        ]
        docs.append(
            {
                "id": view.paper.arxiv_id,
                "u": helpers.paper_url(view),
                "d": item.day.isoformat(),
                "t": " ".join(view.paper.title.split()),
                "tt": translated,
                "ab": " ".join(view.paper.abstract.split()),
                "s": summaries,
                "k": [hit.keyword for hit in item.keyword_hits],
                "a": view.paper.authors[:20],
                "sc": item.interest.score,
                "e": item.emoji,
            }
        )
    docs.sort(key=lambda d: (d["d"], d["id"]), reverse=True)  # newest first: the order of equal scores
    return json.dumps(docs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _js_safe(json_text: str) -> str:
    """JSON as a JS expression that is also safe if ever inlined in HTML: no '<', '>' or '&' that could
    close a script element, and no U+2028/2029 line terminators."""
    table = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
    return re.sub("[<>&\u2028\u2029]", lambda m: table[m.group(0)], json_text)


def write_files(out_dir: Path, files: dict[str, bytes], *, force: bool = False) -> tuple[int, int]:
    """Write changed files, keep unchanged ones untouched (mtimes stay, so syncing a site uploads only
    what changed) and delete the pages an earlier build wrote that this one no longer makes, per the
    manifest; never anything else, never through a symlink out of `out_dir`. Returns (changed, removed).
    Raises OwnershipError (exit 2) for a non-empty folder without a manifest or a file it did not write,
    unless `force`."""
    result = write_owned(out_dir, files, manifest=SITE_MANIFEST, generator="paperradar site", force=force)
    return result.changed, result.removed
