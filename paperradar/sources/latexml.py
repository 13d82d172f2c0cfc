"""arXiv's HTML rendering of a paper (LaTeXML output) read into plain parts: title, sections, tables,
affiliations. fulltext.py turns them into a FullText.

Parsed with the standard library's html.parser into a small tree: LaTeXML writes well-formed markup with
stable class names (ltx_document, ltx_section, ltx_title_section, ltx_para, ltx_tabular, ltx_tr/ltx_td,
ltx_authors, ltx_personname, ltx_role_affiliation), so a full HTML5 parser (lxml, html5lib) would add a
compiled dependency for nothing. arXiv's own page chrome (header, navigation, footer, "ds-" classes) and
LaTeXML's machinery (table of contents, footnotes, bibliography, equation numbers) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from paperradar.errors import DataError


@dataclass(frozen=True, slots=True)
class LatexmlDoc:
    title: str
    sections: list[tuple[str, str, int]]  # (title, text, level), the abstract first
    tables: list[list[list[str]]]
    captions: list[str]  # parallel to tables
    affiliations: list[str]


# --- the tree ----------------------------------------------------------------------------------------

_VOID_NAMES = "area base br col embed hr img input link meta source track wbr"
_VOID = frozenset(_VOID_NAMES.split())
# Site chrome and machinery around the paper (arXiv's header/footer, LaTeXML's navigation and notes).
_SKIP_TAGS_NAMES = "script style head nav svg button dialog form header footer aside noscript"
_SKIP_TAGS = frozenset(_SKIP_TAGS_NAMES.split())
_SKIP_CLASSES_NAMES = "ltx_page_navbar ltx_page_footer ltx_page_header ltx_TOC ltx_toclist ltx_bibliography"
_SKIP_CLASSES_NAMES += (
    " ltx_note ltx_tag_equation ltx_rdf ltx_dates ltx_role_email package-alerts ltx_authors"
)
_SKIP_CLASSES_NAMES += " ltx_abstract"
_SKIP_CLASSES = frozenset(_SKIP_CLASSES_NAMES.split())
_SECTION_CLASSES = ("ltx_chapter", "ltx_section", "ltx_subsection", "ltx_subsubsection", "ltx_appendix")
_BLOCK_NAMES = "p div section figure figcaption table tr li ul ol h1 h2 h3 h4 h5 h6 blockquote"
_BLOCK = frozenset(_BLOCK_NAMES.split())
_AFFILIATION_CLASSES = frozenset(
    ("ltx_role_affiliation", "ltx_role_affiliationtext", "ltx_role_institutetext", "ltx_role_address")
)
INSTITUTION = re.compile(
    r"universit|institut|college|school|academy|laborator|\blab\b|research|technolog|\binc\b|\bltd\b|"
    r"corporation|company|group|centre|center|大学|研究",
    re.I,
)


class _Node:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]):
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find_all(self, pred: object) -> list[_Node]:
        """Descendants matching `pred`, in document order."""
        return [n for n in self.walk() if pred(n)]  # type: ignore[operator]

    def walk(self) -> list[_Node]:
        """Every descendant in document (pre-)order."""
        out: list[_Node] = []
        stack: list[_Node] = [self]
        while stack:
            node = stack.pop()
            if node is not self:
                out.append(node)
            stack += reversed([c for c in node.children if isinstance(c, _Node)])
        return out

    def first(self, pred: object) -> _Node | None:
        return next((n for n in self.walk() if pred(n)), None)  # type: ignore[operator]


# Found by fuzzing (tests/test_fuzz_parsers.py): a few thousand nested elements made the recursive text
# collection below raise RecursionError (and take quadratic time). Real LaTeXML pages nest ~20 deep; past
# MAX_DEPTH an element's content is kept but flattened into the deepest open element, so sloppy markup
# (say, hundreds of unclosed <li>) still reads, and recursion stays bounded.
MAX_DEPTH = 300


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID and len(self.stack) <= MAX_DEPTH:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching open tag; a stray end tag (no such open element) is ignored.
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _has_class(*names: str) -> object:
    wanted = set(names)
    return lambda n: bool(wanted & n.classes)


def _skipped(node: _Node) -> bool:
    if node.tag in _SKIP_TAGS:
        return True
    classes = node.classes
    return bool(classes & _SKIP_CLASSES) or any(c.startswith("ds-") for c in classes)


def _collect(node: _Node, out: list[str], stop: object = None) -> None:
    """Text of `node` into `out`: math as its TeX alttext, block elements on their own lines, tables of
    results as their caption only (the cells go to FullText.tables), nested sections left to `stop`."""
    for child in node.children:
        if isinstance(child, str):
            out.append(child)
            continue
        if _skipped(child) or (stop is not None and stop(child)):  # type: ignore[operator]
            continue
        if child.tag == "math":
            alt = child.attrs.get("alttext", "")
            out.append(f" {alt} " if alt else "")
            continue
        if child.tag == "br":
            out.append("\n")
            continue
        classes = child.classes
        if "ltx_table" in classes and child.tag == "figure":
            caption = child.first(lambda n: n.tag == "figcaption")
            if caption is not None:
                out.append("\n")
                _collect(caption, out)
                out.append("\n")
            continue
        block = child.tag in _BLOCK or "ltx_para" in classes
        if block:
            out.append("\n")
        _collect(child, out, stop)
        if block:
            out.append("\n")


def _clean(parts: list[str]) -> str:
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _text_of(node: _Node, stop: object = None) -> str:
    out: list[str] = []
    _collect(node, out, stop)
    return _clean(out)


def _is_section(node: _Node) -> bool:
    return node.tag == "section" and bool(node.classes & set(_SECTION_CLASSES))


def _is_title(node: _Node) -> bool:
    return node.tag in ("h1", "h2", "h3", "h4", "h5", "h6") and "ltx_title" in node.classes


def _sections(node: _Node, level: int, out: list[tuple[str, str, int]]) -> None:
    for child in node.children:
        if not isinstance(child, _Node) or _skipped(child):
            continue
        if _is_section(child):
            heading = next((c for c in child.children if isinstance(c, _Node) and _is_title(c)), None)
            title = " ".join(_text_of(heading).split()) if heading is not None else ""
            body = _text_of(child, stop=lambda n, h=heading: _is_section(n) or n is h)
            if title or body:
                out.append((title, body, level))
            _sections(child, level + 1, out)
        else:
            _sections(child, level, out)


def _tables(root: _Node) -> tuple[list[list[list[str]]], list[str]]:
    tables: list[list[list[str]]] = []
    captions: list[str] = []
    tabulars = root.find_all(_has_class("ltx_tabular"))
    nested = {id(t) for outer in tabulars for t in outer.find_all(_has_class("ltx_tabular"))}
    owner: dict[int, _Node] = {}  # tabular -> the innermost figure holding it (for its caption)
    for figure in root.find_all(lambda n: n.tag == "figure"):
        for tab in figure.find_all(_has_class("ltx_tabular")):
            owner[id(tab)] = figure
    for tab in tabulars:
        if id(tab) in nested:
            continue
        rows: list[list[str]] = []
        for row in tab.find_all(lambda n: n.tag == "tr" or "ltx_tr" in n.classes):
            cells = [
                " ".join(_text_of(c).split())
                for c in row.children
                if isinstance(c, _Node) and (c.tag in ("td", "th") or c.classes & {"ltx_td", "ltx_th"})
            ]
            if any(cells):
                rows.append(cells)
        if not rows:
            continue
        holder = owner.get(id(tab))
        caption = holder.first(lambda n: n.tag == "figcaption") if holder is not None else None
        tables.append(rows)
        captions.append(" ".join(_text_of(caption).split()) if caption is not None else "")
    return tables, captions


def _affiliations(root: _Node) -> list[str]:
    authors = root.first(_has_class("ltx_authors"))
    if authors is None:
        return []
    found: list[str] = []
    for node in authors.find_all(lambda n: bool(n.classes & _AFFILIATION_CLASSES)):
        # ACM-style blocks split institution, city and country into child spans: one line, comma-separated.
        parts = [
            _text_of(c)
            for c in node.find_all(lambda n: any(k.startswith("ltx_affiliation_") for k in n.classes))
        ]
        if not parts:
            parts = _text_of(node).split("\n")
        text = ", ".join(part for part in parts if part)
        found.append(text)
    if not found:
        # Some templates put the affiliation lines inside the person name, after <br>.
        for person in authors.find_all(_has_class("ltx_personname")):
            lines = _text_of(person).split("\n")[1:]
            found += [line for line in lines if INSTITUTION.search(line)]
    cleaned = []
    for text in found:
        text = re.sub(r"^[\s\d*†‡§¶,]+", "", text).strip(" ,;")
        if text and "@" not in text:
            cleaned.append(text)
    return list(dict.fromkeys(cleaned))


def parse_latexml(html: str, url: str = "") -> LatexmlDoc:
    """The parts of an arXiv LaTeXML page; DataError when it is not one or has no sections."""
    builder = _TreeBuilder()
    try:
        builder.feed(html)
        builder.close()
    except (AssertionError, ValueError) as exc:  # html.parser's own failures on garbage input
        raise DataError(f"unreadable HTML at {url or 'the given page'}: {exc}") from None
    document = builder.root.first(_has_class("ltx_document"))
    if document is None:
        raise DataError(f"{url or 'the page'} is not an arXiv LaTeXML rendering (no ltx_document)")
    sections: list[tuple[str, str, int]] = []
    abstract = document.first(_has_class("ltx_abstract"))
    if abstract is not None:
        text = _text_of(abstract, stop=_is_title)
        if text:
            sections.append(("Abstract", text, 1))
    _sections(document, 1, sections)
    if not sections:
        raise DataError(f"{url or 'the page'} has no sections (the HTML conversion may have failed)")
    heading = document.first(_has_class("ltx_title_document"))
    tables, captions = _tables(document)
    title = " ".join(_text_of(heading).split()) if heading is not None else ""
    return LatexmlDoc(title, sections, tables, captions, _affiliations(document))
