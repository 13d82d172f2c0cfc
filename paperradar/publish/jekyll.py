"""Jekyll posts for GitHub Pages (seed 000's kind of site): one Markdown post per paper, day and language.

Jekyll reads each post three ways, and each needs its own guard:
- YAML front matter: every string is a double-quoted YAML scalar (JSON string syntax, which YAML accepts),
  with characters YAML may not hold raw (controls, NEL, U+2028/2029, BOM) written as escapes.
- Liquid, run over the body before Markdown: data could contain "{{" or "{%"; every brace in the body is
  written as an HTML entity, so Liquid sees no tags while the page still shows the braces.
- kramdown Markdown with raw HTML allowed: titles and summaries go through `escape_markdown` (no tags,
  no Markdown syntax); style texts are rendered to HTML by markdown-it with raw HTML disabled and kept as
  an HTML block; "$" is an entity too, so "$$" can never open a math block.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path

from paperradar.publish.files import write_if_changed
from paperradar.publish.owned_files import write_owned
from paperradar.publish.site import render_markdown
from paperradar.publish.site_data import (
    DayItem,
    FieldRule,
    PaperView,
    Shown,
    collect_site_data,
    company_names,
    parse_highlight,
)
from paperradar.publish.site_fields import field_name, interest_maker, maker, style_notes
from paperradar.store import Store
from paperradar.text.labels import LANGUAGES, interest_reason, labels
from paperradar.text.markdown import escape_markdown

MARKER = "generator: paperradar"  # front matter line: a post an export made before manifests existed
POSTS = "_posts"
# The posts the last export wrote (a dotfile: Jekyll does not publish it). Only these are ever deleted.
JEKYLL_MANIFEST = ".paperradar-jekyll.json"

# YAML may hold these raw inside a double-quoted scalar; everything else is escaped. NEL, U+2028/2029
# and the BOM are printable in YAML's grammar but line breaks (or invisible) to some parsers.
_YAML_RAW = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class JekyllReport:
    posts: int
    changed: int  # files written because their bytes changed
    removed: int  # stale posts of an earlier export deleted
    seconds: float


def yaml_str(value: object) -> str:
    """A YAML double-quoted scalar that reads back as exactly `value` (lone surrogates become U+FFFD)."""
    text = _SURROGATE.sub("\ufffd", "" if value is None else str(value))
    quoted = json.dumps(text, ensure_ascii=False)  # escapes quotes, backslashes, \n, \t and C0 controls

    def escape(m: re.Match[str]) -> str:
        code = ord(m.group(0))
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return _YAML_RAW.sub(escape, quoted)


def post_slug(view: PaperView, language: str) -> str:
    # safe_filename already refused anything that is not an arXiv id; dots become dashes because a dot
    # in a post's slug ends up in its URL and some servers treat the rest as an extension.
    return f"{view.slug.replace('.', '-').lower()}-{language}"


def export_jekyll(
    store: Store,
    out_dir: str | os.PathLike[str],
    languages: Sequence[str],
    *,
    site_title: str = "paperradar",
    tz: tzinfo = UTC,
    force: bool = False,
    top_n: int | None = None,
    give_up_after: int | None = None,
) -> JekyllReport:
    """Write `_posts/YYYY-MM-DD-<id>-<lang>.md` for every ranked paper of every day, plus `_config.yml`
    and `index.md` when they do not exist yet (a user's own versions are never overwritten).

    The folder is usually the user's own Jekyll site, so a non-empty folder is fine; but only posts the
    last export listed in its manifest are deleted, a post of someone else's at a name we need is refused
    (unless `force`), and nothing is written through a symlink out of the folder."""
    start = time.perf_counter()
    languages = list(dict.fromkeys(languages)) or ["en"]
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        raise ValueError(f"no labels for {', '.join(unknown)}; use {', '.join(LANGUAGES)}")
    out = Path(out_dir)
    data = collect_site_data(store, languages, rule=FieldRule(top_n, give_up_after))
    files: dict[str, str] = {}
    for day in data.days:
        for item in day.items:
            for lang in languages:
                name = f"{POSTS}/{item.day.isoformat()}-{post_slug(item.paper, lang)}.md"
                files[name] = render_post(item, lang, languages, tz)
    written = write_owned(
        out,
        {name: text.encode("utf-8") for name, text in files.items()},
        manifest=JEKYLL_MANIFEST,
        generator="paperradar jekyll",
        force=force,
        require_manifest=False,
        legacy_ours=_is_ours,
    )
    changed, removed = written.changed, written.removed
    for name, text in (("_config.yml", _config(site_title)), ("index.md", _index(site_title, languages[0]))):
        path = out / name
        if path.exists() or path.is_symlink():
            continue  # the user's own (or a link they made, maybe out of the folder): never ours to write
        write_if_changed(path, text.encode("utf-8"))
        changed += 1
    return JekyllReport(len(files), changed, removed, time.perf_counter() - start)


def _is_ours(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as fh:
        head = [fh.readline() for _ in range(20)]
    return head[0].strip() == "---" and any(line.strip() == MARKER for line in head)


def render_post(item: DayItem, language: str, languages: Sequence[str], tz: tzinfo) -> str:
    view = item.paper
    paper = view.paper
    lab = labels(language)
    translated = view.titles.get(language)
    title = " ".join((translated.content if translated else paper.title).split())
    front = [
        "---",
        "layout: post",
        f"title: {yaml_str(title)}",
        f"date: {item.day.isoformat()}",
        f"arxiv_id: {yaml_str(paper.arxiv_id)}",  # quoted: unquoted 2602.14358 would read as a float
        f"tags: [{', '.join(yaml_str(hit.keyword) for hit in item.keyword_hits)}]",
        f"lang: {yaml_str(language)}",
        f"original_title: {yaml_str(' '.join(paper.title.split()))}",
        f"interest: {int(item.interest.score)}",
        f"rank: {int(item.rank)}",
        MARKER,
        "---",
    ]
    body = _body(item, language, lab, tz)
    body = body.replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")
    others = [lang for lang in languages if lang != language]
    if others:
        # Added after the brace escaping on purpose: these are our Liquid tags, built from safe names.
        links = [
            f"[{escape_markdown(labels(lang)['lang_name'])}]"
            f"({{% post_url {item.day.isoformat()}-{post_slug(view, lang)} %}})"
            for lang in others
        ]
        body += "\n" + " · ".join(links) + "\n"
    return "\n".join(front) + "\n\n" + body


def _body(item: DayItem, language: str, lab: Mapping[str, str], tz: tzinfo) -> str:
    """The post: the site's paper page in one language, with the same choices and the same words (the
    fallback rule, who made each field and why one is missing)."""
    view = item.paper
    paper = view.paper
    esc = escape_markdown
    top_n = view.rule.top_n
    link = paper.abs_url.replace("(", "%28").replace(")", "%29")
    head = f"**[arXiv:{esc(paper.versioned_id)}]({link})**"
    if item.companies:
        names = [company_names(c, [language])[language] for c in item.companies]
        head += " | " + lab["list_sep"].join(esc(name) for name in names)
    lines = [f"{item.emoji} {head}", ""]
    published = (
        paper.published.astimezone(tz).strftime("%Y-%m-%d %H:%M") if paper.published else lab["unknown"]
    )
    interest = item.interest
    title = view.shown("title", language)
    if language != "en":
        line = lab["prov_group"].format(
            fields=field_name("title", language), maker=maker(title, language, top_n)
        )
        lines += [f"*{esc(line)}*", ""]
    reason, note = interest_reason(interest, language)
    fields = []
    if title.text is not None:  # the original under a translation only
        fields.append((lab["original_title"], esc(paper.title)))
    fields += [
        (lab["authors"], esc(lab["list_sep"].join(paper.authors))),
        (lab["submitted"], esc(published)),
        (
            lab["keywords"],
            esc(lab["keyword_count"].format(n=len(item.keyword_hits)))
            + " "
            + esc(", ".join(hit.keyword for hit in item.keyword_hits)),
        ),
        (
            lab["interest"],
            esc(lab["score"].format(score=interest.score))
            + " "
            + esc(reason)
            + (f" {esc(note)}" if note else "")
            + f" *{esc(interest_maker(interest, language))}*",
        ),
    ]
    lines += [f"- **{esc(name)}**: {value}" for name, value in fields]
    summary = view.shown("summary", language)
    lines += ["", f"## {esc(lab['summary'])}", ""]
    if summary.text is not None:
        lines += [esc(summary.text.content, block=True), ""]
    lines.append(f"*{esc(_made(lab, 'summary', summary, language, top_n))}*")
    for style in view.style_names():
        shown = view.shown(style, language)
        lines += ["", f"## {esc(lab.get('style_' + style, style))}", ""]
        if shown.text is not None:
            html = str(render_markdown(parse_highlight(shown.text.content)[2])).strip()
            css = re.sub("[^a-z0-9-]+", "-", style.lower())
            lines += [f'<div class="paperradar-style paperradar-{css}" markdown="0">', html, "</div>", ""]
        lines.append(f"*{esc(_made(lab, style, shown, language, top_n))}*")
    return "\n".join(lines).rstrip() + "\n"


def _made(lab: Mapping[str, str], kind: str, shown: Shown, language: str, top_n: int | None) -> str:
    made = lab["prov_sep"].join([maker(shown, language, top_n), *style_notes(shown.text, kind, language)])
    return lab["prov_group"].format(fields=field_name(kind, language), maker=made)


def _config(site_title: str) -> str:
    return "\n".join(
        [
            f"title: {yaml_str(site_title)}",
            "theme: minima",
            "markdown: kramdown",
            "kramdown:",
            "  parse_block_html: false  # style texts arrive as finished HTML blocks",
            "permalink: /:year/:month/:day/:title.html",
            "",
        ]
    )


def _index(site_title: str, language: str) -> str:
    # Grouped by day like seed 000; titles go through Liquid's escape filter (they are raw in the YAML).
    esc_title = escape_markdown(site_title).replace("{", "&#123;").replace("}", "&#125;")
    return f"""---
layout: default
title: {yaml_str(site_title)}
---

# {esc_title}

{{% assign days = site.posts | where: "lang", "{language}" | group_by_exp: "post", "post.date | date: '%Y-%m-%d'" %}}
{{% for day in days %}}
<h2>{{{{ day.name }}}}</h2>
<ul>
{{% for post in day.items %}}
<li><a href="{{{{ post.url | relative_url }}}}">{{{{ post.title | escape }}}}</a></li>
{{% endfor %}}
</ul>
{{% endfor %}}
"""
