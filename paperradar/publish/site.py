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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from paperradar.models import CompanyHit, MutedSummary
from paperradar.publish.feeds import feed_name, render_feeds
from paperradar.publish.owned_files import write_owned
from paperradar.publish.site_data import (
    DayItem,
    Facet,
    FieldRule,
    PaperView,
    Shown,
    SiteData,
    TextView,
    Theme,
    collect_site_data,
    company_names,
    parse_highlight,
)
from paperradar.publish.site_eval import ranking_view
from paperradar.publish.site_fields import (
    card_body,
    card_fields,
    field_name,
    interest_maker,
    maker,
    provenance_line,
    reason,
    style_notes,
)
from paperradar.publish.site_legacy import is_legacy_site
from paperradar.publish.site_search import MEANING_GLOBAL, MeaningIndex, build_meaning_index, paper_text
from paperradar.store import Store
from paperradar.text.labels import LANGUAGES, labels, muted_text

# The list of files the last build wrote (see publish/owned_files.py): the site deletes a file only when
# this manifest lists it and the new build no longer produces it; nothing else in out_dir is ever touched.
SITE_MANIFEST = ".paperradar-site.json"
STATIC_FILES = ("style.css", "search.js", "site.js", "favicon.svg")
SEARCH_GLOBAL = "PAPERRADAR_SEARCH"


def site_labels(language: str) -> Mapping[str, str]:
    """The site's labels for one language: the one catalog (text/labels.py) the digest uses too."""
    return labels(language)


@dataclass(frozen=True, slots=True)
class SiteReport:
    pages: int  # HTML pages rendered
    seconds: float
    files: int = 0  # every file of the site (pages, feeds, index, static)
    changed: int = 0  # files whose bytes changed on disk (0 on a rebuild of unchanged data)
    removed: int = 0  # stale pages deleted
    adopted: bool = False  # the folder was a site of an older paperradar (no manifest): taken over


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


Values = Mapping[str, object]


class _Helpers:
    """Template functions: formatting and the choice of text per language, kept out of the templates.

    Every language is in every page: text that depends on the language is one <span class="l l-xx"> per
    language (the CSS switch shows one); attributes (placeholder, aria-label, title) hold the primary
    language and a data-i18n table that site.js applies when the reader switches."""

    def __init__(self, data: SiteData, tz: tzinfo):
        self.data = data
        self.tz = tz
        self.langs = data.languages
        self.primary = data.languages[0]
        self.tag_slugs = {f.key: f.slug for f in data.tags}
        self.company_slugs = {f.key: f.slug for f in data.companies}
        self._fixed: dict[str, Markup] = {}
        self._fixed_attrs: dict[str, Markup] = {}

    # -- per-language text and attributes ------------------------------------------------------------
    def label(self, language: str, key: str, values: Values | None = None) -> str:
        """One label in `language`; a value given per language ({lang: text}) takes that language's."""
        template = labels(language)[key]
        if not values:
            return template
        own = {k: (v.get(language, "") if isinstance(v, Mapping) else v) for k, v in values.items()}
        return template.format(**own)

    def each(self, texts: Mapping[str, str]) -> Markup:
        """{lang: text} as one span per distinct text, classed with every language that says it ("l l-zh
        l-ja" for a label zh and ja share): the CSS switch shows a span when its classes name the chosen
        language. Plain text when every language says the same."""
        return self._spans([(lang, texts[lang], lang) for lang in self.langs])

    def _spans(self, items: Sequence[tuple[str, str, str]]) -> Markup:
        """(language, text, lang attribute) per language → the fewest spans that show each its own. A span
        shared by languages whose lang attributes differ has none (the page's lang, which site.js sets to
        the chosen language, applies)."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for lang, text, attr in items:
            groups.setdefault(text, []).append((lang, attr))
        if len(groups) == 1:
            ((text, members),) = groups.items()
            attrs = {attr for _, attr in members}
            return (
                escape(text)
                if len(attrs) > 1
                else Markup(f'<span lang="{attrs.pop()}">{escape(text)}</span>')
            )
        # Language codes are ours (LANGUAGES); only the text needs escaping. Plain concatenation: this
        # runs for every label of every page, and Markup.format is several times slower.
        parts = []
        for text, members in groups.items():
            classes = " ".join(f"l-{lang}" for lang, _ in members)
            attrs = {attr for _, attr in members}
            lang_attr = f' lang="{attrs.pop()}"' if len(attrs) == 1 else ""
            parts.append(f'<span class="l {classes}"{lang_attr}>{escape(text)}</span>')
        return Markup("".join(parts))

    def text_i18n(self, texts: Mapping[str, str]) -> Markup:
        """A data-i18n attribute that makes site.js replace an element's text (the page <title>)."""
        if len(self.langs) == 1:
            return Markup("")
        data = json.dumps({"text": dict(texts)}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return Markup(' data-i18n="{}"').format(data)

    def muted_note(self, summary: MutedSummary) -> Markup:
        """The day's muted papers, in every language of the site (text/labels.py muted_text)."""
        return self.each({lang: muted_text(summary, lang) for lang in self.langs})

    def t(self, key: str, **values: object) -> Markup:
        if not values:  # the same navigation and field labels on every page: made once
            cached = self._fixed.get(key)
            if cached is None:
                cached = self._fixed[key] = self.each({lang: self.label(lang, key) for lang in self.langs})
            return cached
        return self.each({lang: self.label(lang, key, values) for lang in self.langs})

    def attrs(self, **spec: str | tuple[str, Values]) -> Markup:
        """HTML attributes in the primary language plus their table per language for site.js:
        attrs(placeholder="search_placeholder", title=("stars", {"score": 4}))."""
        key = repr(sorted(spec.items()))  # the same few attributes on every page and card: made once
        cached = self._fixed_attrs.get(key)
        if cached is not None:
            return cached
        table: dict[str, dict[str, str]] = {}
        for attr, label in spec.items():
            name = attr.replace("_", "-")
            label_key, values = (label, None) if isinstance(label, str) else label
            table[name] = {lang: self.label(lang, label_key, values) for lang in self.langs}
        html = " ".join(f'{name}="{escape(texts[self.primary])}"' for name, texts in table.items())
        if len(self.langs) > 1:
            data = json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            html += f' data-i18n="{escape(data)}"'
        # attribute names are ours; every value went through escape()
        cached = self._fixed_attrs[key] = Markup(html)
        return cached

    # -- fields --------------------------------------------------------------------------------------
    def title_in(self, view: PaperView, language: str) -> tuple[str, bool]:
        """(title to show, whether it is a translation)."""
        text = view.titles.get(language)
        if text is not None and text.content.strip():
            return " ".join(text.content.split()), True
        return " ".join(view.paper.title.split()), False

    def titles(self, view: PaperView) -> Markup:
        """The title in every language: a translation where there is one (lang set), else the original."""
        items = []
        for lang in self.langs:
            title, translated = self.title_in(view, lang)
            items.append((lang, title, lang if translated else "en"))
        return self._spans(items)

    def translated_classes(self, view: PaperView) -> str:
        """The languages whose title is a translation ("l-zh l-ja"), where the original is shown under it
        (an English reader's title is the original already); "" when none."""
        return " ".join(f"l-{lang}" for lang in self.langs if self.title_in(view, lang)[1])

    def theme_names(self, theme: Theme) -> dict[str, str]:
        return {lang: theme.names.get(lang) or theme.names.get("en") or theme.key for lang in self.langs}

    def theme_name(self, theme: Theme, language: str) -> str:
        return self.theme_names(theme)[language]

    def company(self, hit: CompanyHit) -> Markup:
        return self.each(company_names(hit, self.langs))

    def authors(self, view: PaperView) -> Markup:
        """Authors joined the reader's way (、 in zh/ja, ", " in English)."""
        names = view.paper.authors
        return self.each(
            {lang: (labels(lang)["list_sep"].join(names) or labels(lang)["unknown"]) for lang in self.langs}
        )

    def rank_names(self, rank: int) -> dict[str, str]:
        return {lang: labels(lang)["rank"].format(rank=rank) for lang in self.langs}

    def facet_names(self, facet: Facet) -> dict[str, str]:
        return {lang: facet.name_in(lang) for lang in self.langs}

    def facet_heading(self, facet: Facet, key: str) -> Markup:
        return self.each({lang: self.label(lang, key, {"name": facet.name_in(lang)}) for lang in self.langs})

    def stars_labels(self) -> str:
        """The stars' label per language ({score} left in), for site.js (JSON; Jinja escapes it)."""
        table = {lang: labels(lang)["stars"] for lang in self.langs}
        return json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def search_labels(self) -> str:
        """search.js's status lines per language (JSON for a data- attribute; Jinja escapes it)."""
        keys = {
            "empty": "search_empty",
            "none": "search_none",
            "count": "search_count",
            "loading": "search_loading",
            "how_hybrid": "search_how_hybrid",
            "how_exact": "search_how_exact",
            "meaning_missing": "search_meaning_missing",
            "by_meaning": "search_by_meaning",
        }
        table = {lang: {k: labels(lang)[v] for k, v in keys.items()} for lang in self.langs}
        return json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def reason_lang(self, item: DayItem, language: str) -> str:
        """The language the interest reason shown to a `language` reader is written in."""
        interest = item.interest
        if language in interest.reasons or interest.mode == "heuristic":
            return language
        return next(iter(interest.reasons), language)

    def kind(self, kind: str) -> dict[str, str]:
        key = "kind_" + kind.replace("-", "_")
        return {lang: labels(lang).get(key, kind) for lang in self.langs}

    def shown(self, view: PaperView, kind: str, language: str) -> Shown:
        return view.shown(kind, language)

    def maker(self, view: PaperView, shown: Shown, language: str) -> str:
        return maker(shown, language, view.rule.top_n)

    def field_line(self, view: PaperView, kind: str, shown: Shown, language: str) -> str:
        """One field of a paper page and who made it: "Summary: LLM m"."""
        lab = labels(language)
        made = self.maker(view, shown, language)
        notes = style_notes(shown.text, kind, language)
        return lab["prov_group"].format(
            fields=field_name(kind, language), maker=lab["prov_sep"].join([made, *notes])
        )

    def head_provenance(self, view: PaperView, language: str) -> str:
        """Under a paper page's title: who made the title, and the summary too when there is none to show
        (one line says why both are missing: "Title, summary: not written (ranked below …)")."""
        top_n = view.rule.top_n
        fields = []
        if language != "en":
            fields.append(("title", maker(view.shown("title", language), language, top_n)))
        summary = view.shown("summary", language)
        if summary.text is None:
            fields.append(("summary", maker(summary, language, top_n)))
        return provenance_line(fields, language)

    def card_body(self, view: PaperView, language: str) -> tuple[str, Shown]:
        return card_body(view, language)

    def card_provenance(self, item: DayItem, language: str) -> str:
        return provenance_line(card_fields(item, language), language)

    def interest_maker(self, item: DayItem, language: str) -> str:
        return interest_maker(item.interest, language)

    def reason(self, item: DayItem, language: str) -> tuple[str, str]:
        return reason(item, language)

    def text_lang(self, text: TextView) -> str:
        """The language a text is written in: an extractive text is sentences of the English abstract."""
        return text.language if text.by_model else "en"

    def card_highlight(self, text: TextView) -> Markup:
        """A highlight on a card: rendered for embedding (no heading, id or footer: the card has them).
        A highlight stored as Markdown by an older version loses its own first heading instead."""
        body = parse_highlight(text.content)[2]
        lines = body.splitlines()
        if text.topic is None and lines and lines[0].lstrip().startswith("#"):
            body = "\n".join(lines[1:])
        return render_markdown(body)

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

    def feed_url(self, language: str, kind: str) -> str:
        return feed_name(kind, language, self.primary)

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
    top_n: int | None = None,
    give_up_after: int | None = None,
    ranking: Mapping[str, Any] | None = None,
) -> SiteReport:
    """Render the whole site from the store into `out_dir`; returns pages rendered and seconds taken.
    `force`: write into a non-empty folder paperradar did not create, overwriting files it needs.
    `top_n` ([output].top_n) and `give_up_after` ([llm].give_up_after) let the site say truthfully why a
    field has no model text: below the day's top N, or given up after repeated failures."""
    start = time.perf_counter()
    languages = list(dict.fromkeys(languages)) or ["en"]
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        raise ValueError(f"no site labels for {', '.join(unknown)}; use {', '.join(LANGUAGES)}")
    data = collect_site_data(store, languages, rule=FieldRule(top_n, give_up_after))
    files = render_site(
        data, site_title, base_url, tz=tz, index_days=index_days, feed_items=feed_items, ranking=ranking
    )
    adopted = not force and is_legacy_site(Path(out_dir), SITE_MANIFEST)
    changed, removed = write_files(Path(out_dir), files, force=force, adopt=adopted)
    pages = sum(1 for name in files if name.endswith(".html"))
    return SiteReport(pages, time.perf_counter() - start, len(files), changed, removed, adopted)


def render_site(
    data: SiteData,
    site_title: str,
    base_url: str | None = None,
    *,
    tz: tzinfo = UTC,
    index_days: int = 7,
    feed_items: int = 50,
    ranking: Mapping[str, Any] | None = None,
) -> dict[str, bytes]:
    """Every file of the site as {relative path: bytes}; pure (no I/O besides reading templates).
    `ranking`: the "how paperradar ranked for you" panel data for the index (publish/site_eval.py)."""
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

    def page(path: str, template: str, heading: Mapping[str, str] | None = None, **context: Any) -> None:
        """One page; `heading` is its name per language, shown before the site's title in <title>."""
        root = "../" * path.count("/")
        titles = {
            lang: f"{heading[lang]} · {site_title}" if heading else site_title for lang in data.languages
        }
        html = env.get_template(template).render(common, root=root, path=path, titles=titles, **context)
        files[path] = html.encode("utf-8")

    def named(key: str, **values: object) -> dict[str, str]:
        return {lang: helpers.label(lang, key, values) for lang in data.languages}

    page(
        "index.html",
        "index.html.j2",
        days=data.days[:index_days],
        more=len(data.days) > index_days,
        ranking=ranking_view(ranking, data.languages),
    )
    page("archive.html", "archive.html.j2", named("archive"), days=data.days)
    page("search.html", "search.html.j2", named("search"))
    page("tags.html", "tags.html.j2", named("tags"), tags=data.tags, companies=data.companies)
    for day in data.days:
        page(
            helpers.day_url(day.day),
            "day.html.j2",
            dict.fromkeys(data.languages, day.day.isoformat()),
            day=day,
        )
    for view in data.papers.values():
        titles = {lang: helpers.title_in(view, lang)[0] for lang in data.languages}
        page(helpers.paper_url(view), "paper.html.j2", titles, view=view, item=view.latest)
    for facet in data.tags:
        page(
            helpers.tag_url(facet.key),
            "facet.html.j2",
            named("tag_title", name=facet.name),
            facet=facet,
            key="tag_title",
        )
    for facet in data.companies:
        page(
            helpers.company_url(facet.key),
            "facet.html.j2",
            {
                lang: helpers.label(lang, "company_title", {"name": facet.name_in(lang)})
                for lang in data.languages
            },
            facet=facet,
            key="company_title",
        )

    index = search_index(data, helpers)
    files["search-index.json"] = index.encode("utf-8")
    files["search-index.js"] = f"window.{SEARCH_GLOBAL} = {_js_safe(index)};\n".encode()
    meaning = meaning_index(data).to_json()
    files["search-meaning.json"] = meaning.encode("utf-8")
    files["search-meaning.js"] = f"window.{MEANING_GLOBAL} = {_js_safe(meaning)};\n".encode()
    # One RSS and one Atom feed per language (feed.xml / atom.xml in the primary one): a feed reader has
    # no language switch, so each subscriber picks the feed of their language.
    for lang in data.languages:
        rss, atom = render_feeds(
            data, site_title, base_url, limit=feed_items, title_of=helpers.title_in, language=lang
        )
        files[feed_name("rss", lang, primary)] = rss
        files[feed_name("atom", lang, primary)] = atom
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


def meaning_index(data: SiteData) -> MeaningIndex:
    """Every paper's tf-idf words for search by meaning in the browser (publish/site_search.py)."""
    return build_meaning_index(
        (view.paper.arxiv_id, paper_text(view.paper.title, view.paper.abstract))
        for view in data.papers.values()
    )


def _js_safe(json_text: str) -> str:
    """JSON as a JS expression that is also safe if ever inlined in HTML: no '<', '>' or '&' that could
    close a script element, and no U+2028/2029 line terminators."""
    table = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
    return re.sub("[<>&\u2028\u2029]", lambda m: table[m.group(0)], json_text)


def write_files(
    out_dir: Path, files: dict[str, bytes], *, force: bool = False, adopt: bool = False
) -> tuple[int, int]:
    """Write changed files, keep unchanged ones untouched (mtimes stay, so syncing a site uploads only
    what changed) and delete the pages an earlier build wrote that this one no longer makes, per the
    manifest; never anything else, never through a symlink out of `out_dir`. Returns (changed, removed).
    Raises OwnershipError (exit 2) for a non-empty folder without a manifest or a file it did not write,
    unless `force`. `adopt`: the folder is a site an older paperradar built before manifests
    (publish/site_legacy.py): its files at the names this build writes are ours to overwrite."""
    result = write_owned(
        out_dir,
        files,
        manifest=SITE_MANIFEST,
        generator="paperradar site",
        force=force,
        require_manifest=not adopt,
        legacy_ours=(lambda _path: True) if adopt else None,
    )
    return result.changed, result.removed
