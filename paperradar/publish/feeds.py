"""RSS 2.0 and Atom feeds of the newest ranked papers, built with feedgen (lxml underneath).

feedgen knows the two formats' required elements and date formats (RFC 822 for RSS, RFC 3339 for Atom)
and lxml escapes text properly. What neither does: refuse or drop characters XML 1.0 cannot carry at all
(NUL, most C0 controls, lone surrogates) — lxml raises on them — so every string is cleaned first, and a
hostile title yields a valid feed with the title as text. Every date comes from the data (the newest
announcement day), never from the clock, so an unchanged archive gives byte-identical feeds.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from urllib.parse import quote

from feedgen.feed import FeedGenerator

from paperradar.publish.site_data import PaperView, SiteData
from paperradar.publish.site_fields import interest_maker, maker
from paperradar.text.labels import labels

TitleOf = Callable[[PaperView, str], tuple[str, bool]]

# XML 1.0 Char production, minus the discouraged C1 controls that some readers choke on.
_NOT_XML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
GENERATOR = "paperradar"
MAX_SUMMARY = 5000  # characters of summary/abstract per entry (arXiv abstracts stay under 2,000)


def xml_text(value: object) -> str:
    """Text that any XML 1.0 document can hold: characters XML forbids are dropped."""
    return _NOT_XML.sub("", "" if value is None else str(value))


def _one_line(value: object) -> str:
    return " ".join(xml_text(value).split())


def _midnight(day: date) -> datetime:
    # The announcement day is the only time the data gives for "published here"; midnight UTC keeps it a
    # plain date in every reader.
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def feed_name(kind: str, language: str, primary: str) -> str:
    """feed.xml / atom.xml in the site's primary language (the addresses subscribers already have), and
    feed.<lang>.xml / atom.<lang>.xml in every other one."""
    stem = "feed" if kind == "rss" else "atom"
    return f"{stem}.xml" if language == primary else f"{stem}.{language}.xml"


def _default_title(view: PaperView, language: str) -> tuple[str, bool]:
    text = view.titles.get(language)
    return (text.content, True) if text is not None and text.content.strip() else (view.paper.title, False)


def render_feeds(
    data: SiteData,
    site_title: str,
    base_url: str | None = None,
    *,
    limit: int = 50,
    title_of: TitleOf = _default_title,
    language: str | None = None,
) -> tuple[bytes, bytes]:
    """(RSS 2.0, Atom) in `language` (default: the site's primary one) for the `limit` newest papers:
    newest day first, rank order within a day. Each entry's summary follows the site's fallback rule and
    ends with who wrote it, in the feed's language.

    With `base_url` items link to the site's paper pages; without one (a site opened from disk) they link
    to arXiv, since a feed reader cannot resolve a relative link."""
    primary = data.languages[0] if data.languages else "en"
    language = language or primary
    lab = labels(language)
    site = base_url.rstrip("/") + "/" if base_url else None
    self_name = feed_name("atom", language, primary)
    title = _one_line(site_title) or GENERATOR
    if language != primary:
        title = lab["feed_title"].format(title=title, lang=lab["lang_name"])
    newest = _midnight(data.newest_day) if data.newest_day else datetime(1970, 1, 1, tzinfo=UTC)

    fg = FeedGenerator()
    urn = f"urn:paperradar:{quote(_one_line(site_title), safe='')}"
    fg.id(site + self_name if site else (urn if language == primary else f"{urn}:{language}"))
    fg.title(title)
    fg.description(title)
    fg.subtitle(title)
    fg.link(href=site or _listing_url(data), rel="alternate")
    if site:
        fg.link(href=site + self_name, rel="self")
    fg.language(language)
    fg.generator(GENERATOR)  # without a version: a paperradar upgrade alone must not change the bytes
    fg.lastBuildDate(newest)
    fg.updated(newest)

    seen: set[str] = set()
    count = 0
    for day in data.days:
        for item in day.items:
            view = item.paper
            if view.paper.arxiv_id in seen or count >= limit:
                continue
            seen.add(view.paper.arxiv_id)
            count += 1
            fe = fg.add_entry(order="append")
            paper = view.paper
            arxiv = quote(paper.abs_url, safe=":/")
            title, translated = title_of(view, language)
            shown = _one_line(title)
            if translated and _one_line(paper.title) != shown:
                shown = f"{shown} ({_one_line(paper.title)})"
            fe.id(arxiv)  # one entry per paper version: a new version is news
            fe.guid(arxiv, permalink=True)
            fe.title(shown or paper.arxiv_id)
            fe.link(href=f"{site}papers/{quote(view.slug)}.html" if site else arxiv)
            shown_summary = view.shown("summary", language)
            summary = shown_summary.text
            body = summary.content if summary is not None else paper.abstract
            # Found by the hostile-input tests: RSS readers treat <description> as HTML, so an abstract with
            # "<iframe src=javascript:…>" was live markup once the XML escaping was undone. The summary is
            # now HTML (escaped text in <p> paragraphs) in both feeds, declared type="html" in Atom.
            # Bounded too: papers past the digest's top N have no summary, and their abstract may be huge.
            body = body if len(body) <= MAX_SUMMARY else body[:MAX_SUMMARY] + "…"
            made = [
                lab["prov_group"].format(
                    fields=lab["field_summary"], maker=maker(shown_summary, language, view.rule.top_n)
                )
                if summary is not None or shown_summary.why is not None
                else "",
                lab["prov_group"].format(
                    fields=lab["field_score"], maker=interest_maker(item.interest, language)
                ),
            ]
            if summary is None:
                made.insert(0, lab["abstract"])
            credit = lab["prov_sep"].join(m for m in made if m)
            fe.summary(
                (_html_paragraphs(body) or _html_paragraphs(shown)) + "\n" + _html_paragraphs(credit),
                type="html",
            )
            for author in paper.authors[:10]:
                name = _one_line(author)
                if name:
                    fe.author({"name": name})
            for hit in item.keyword_hits:
                fe.category(term=_one_line(hit.keyword))
            fe.published(_midnight(item.day))
            fe.updated(_midnight(item.day))
    return fg.rss_str(pretty=True), fg.atom_str(pretty=True)


def _paragraphs(text: str) -> str:
    parts = re.split(r"\n\s*\n", xml_text(text).replace("\r\n", "\n"))
    return "\n\n".join(" ".join(p.split()) for p in parts if p.strip())


def _html_paragraphs(text: str) -> str:
    """Plain text as an HTML fragment that shows it literally: each paragraph escaped inside <p>."""
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in _paragraphs(text).split("\n\n") if p)


def _listing_url(data: SiteData) -> str:
    """arXiv's listing of the category most of the site's papers were announced in."""
    counts: dict[str, int] = {}
    for day in data.days:
        for item in day.items:
            if item.category:
                counts[item.category] = counts.get(item.category, 0) + 1
    if not counts:
        return "https://arxiv.org/"
    top = max(sorted(counts), key=lambda c: counts[c])
    return f"https://arxiv.org/list/{quote(top)}/new"
