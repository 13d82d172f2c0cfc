"""Markdown escaping and field clipping, shared by every stage that writes Markdown (digest, style pages,
mail): paper and model text always renders as literal text, never as markup or live HTML."""

from __future__ import annotations

import re

# Characters with inline meaning in CommonMark/GFM. A backslash before ASCII punctuation always renders as
# the bare character, so over-escaping is harmless while under-escaping lets a title start a link or table.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")
# "&lt;" in a title is text, not an entity: escape "&" only where a renderer would decode an entity.
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# Block markers that only matter at the start of a line: list items, setext underlines, ordered lists.
_LINE_START = re.compile(r"^([-+=])|^(\d+)([.)])")
# C0/C1 control characters other than whitespace. Found by the hostile-input tests: a title with
# "\x1b[31m" or "\x1b]0;…\x07" reached the digest file raw, so `cat`-ing the digest recoloured the
# terminal or retitled its window, and NUL ended up in a text file. They carry no text; drop them.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")


def escape_markdown(value: object, block: bool = False) -> str:
    """Make `value` render as literal text in Markdown, with no live HTML.

    `<` and `>` become entities so no tag (e.g. `<script>`) survives even in renderers that allow HTML.
    Inline (default): all whitespace collapses to single spaces, so a title cannot break out of its line.
    `block=True` keeps paragraph breaks (a model summary may have several) but nothing else of layout.
    """
    text = _CONTROL.sub("", "" if value is None else str(value))
    if block:
        paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
        lines = [" ".join(p.split()) for p in paragraphs]
        return "\n\n".join(_escape_line(line) for line in lines if line)
    return _escape_line(" ".join(text.split()))


def _escape_line(line: str) -> str:
    line = _ENTITY_LIKE.sub("&amp;", line)
    line = line.replace("<", "&lt;").replace(">", "&gt;")
    line = _MD_SPECIAL.sub(r"\\\1", line)
    return _LINE_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", line)


# Longest text a digest shows of one field. Found by the hostile-input tests: a 100 KB title (JSONL import
# takes any size) appeared twice in full, and a model's summary or reason has no length limit of its own.
# Real arXiv titles stay under 300 characters and abstracts under 2,000; a cut is marked with "…".
MAX_CHARS = {"title": 1000, "author": 200, "reason": 2000, "summary": 6000}


def clip(value: str | None, limit: int) -> str | None:
    """`value` cut to at most `limit` characters, the cut marked with "…"."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"
