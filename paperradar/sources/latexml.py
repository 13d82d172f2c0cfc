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
    r"universit|institut|college|school|academy|laborator|\blabs?\b|research|technolog|\binc\b|\bltd\b|"
    r"\bllc\b|gmbh|\bcorp\b|corporation|company|group|centre|center|大学|研究|公司",
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


# --- the author block ----------------------------------------------------------------------------------
# How arXiv's LaTeXML writes affiliations (pages in tests/fixtures/fulltext/author_blocks/, see its README):
# - one `ltx_contact ltx_role_affiliation` per author (and per affiliation), inside `ltx_author_notes`; since
#   LaTeXML oxide it opens with `<span class="ltx_contact_name">Affiliation: </span>`;
# - acmart splits it into `ltx_affiliation_institution` / `_department` / `_city` / `_country` spans;
# - \address (revtex) is `ltx_role_address`; \institute (llncs) an `ltx_role_institutetext` note, placed
#   before the title (outside ltx_authors), its text after a mark and "institutetext: ";
# - templates without an affiliation command put the lines in the person name, after <br> ("A, B\\
#   Kuaishou Technology\\ {a,b}@kuaishou.com"), with superscript marks glued to the words ("1Kuaishou");
# - an affiliation may carry an e-mail or a project-page line after <br>: those lines go, the rest stays.

# Inside the author block: labels, marks and contacts that are not part of an institution's name.
_AUTHOR_SKIP = frozenset(
    ("ltx_contact_name", "ltx_note_mark", "ltx_note_type", "ltx_role_email", "ltx_role_homepage", "ltx_orcid")
)
_INSTITUTE_NOTES = frozenset(("ltx_role_institutetext", "ltx_role_affiliationtext"))
# A superscript that is only a mark ("1", "2,3", "*", "†", "a"), not a word.
_MARK = re.compile(r"^[\s\d,*∗⋆†‡§¶♠♣♡♢♮♭♯#]*$|^\s*[a-z]\s*$")
_MARK_SEP = "\u2063"  # where a mark stood: "¹Kuaishou Technology, ²Tsinghua University" is two institutions
_NOT_AN_INSTITUTION = re.compile(
    r"@|://|www\.|^(e-?mail|project\s*(page|website)|code|demo|homepage|website|dataset|equal\s+contribution"
    r"|corresponding\s+author)\b",
    re.I,
)
_LEADING_LABEL = re.compile(r"^(affiliations?|address|institutetext)\s*:\s*", re.I)


def _author_collect(node: _Node, out: list[str], depth: int = 0) -> None:
    """Text of an author-block element: <br> as a line break (a newline in the source is a space, as in
    TeX), a superscript mark as _MARK_SEP (so a glued "1Kuaishou" reads "Kuaishou"), contact labels and
    e-mails left out, math as its TeX."""
    for child in node.children:
        if isinstance(child, str):
            out.append(child.replace("\n", " "))
            continue
        if child.tag in ("script", "style", "svg") or child.classes & _AUTHOR_SKIP:
            out.append(" ")
            continue
        if child.tag == "br":
            out.append("\n")
        elif child.tag == "a" and child.attrs.get("href", "").startswith("mailto:"):
            out.append(" ")
        elif child.tag == "math":
            out.append(f" {child.attrs.get('alttext', '')} ")
        elif child.tag == "sup" and _MARK.match(_text_of(child)):
            out.append(f" {_MARK_SEP} ")
        elif depth < MAX_DEPTH:
            _author_collect(child, out, depth + 1)


def _author_groups(node: _Node) -> list[list[str]]:
    """Lines of an author-block element, each as its items: a line with two or more marks is split at
    them (each marked item is its own institution); a single mark is dropped."""
    out: list[str] = []
    _author_collect(node, out)
    groups: list[list[str]] = []
    for line in _clean(out).split("\n"):
        items = [item.strip(" ,;") for item in line.split(_MARK_SEP)]
        items = [item for item in items if item]
        if items:
            groups.append(items if line.count(_MARK_SEP) >= 2 else [" ".join(items)])
    return groups


def _author_lines(node: _Node) -> list[str]:
    return [item for group in _author_groups(node) for item in group]


def _clean_affiliation(line: str) -> str:
    line = _LEADING_LABEL.sub("", line.strip())
    line = re.sub(r"^[\s\d*∗⋆†‡§¶,;:.]+", "", line)
    line = re.sub(r"\s+([,;])", r"\1", line)  # "Samsung , Seoul" (acmart's separators) -> "Samsung, Seoul"
    return line.strip(" ,;")


def _kept_lines(lines: list[str]) -> list[str]:
    cleaned = (_clean_affiliation(line) for line in lines if not _NOT_AN_INSTITUTION.search(line.strip()))
    return [line for line in cleaned if line and not _NOT_AN_INSTITUTION.search(line)]


def _affiliation_text(node: _Node) -> list[str]:
    """One affiliation element as one or more strings."""
    # acmart: institution, department, city, country as child spans; one comma-separated line.
    parts = [
        _clean_affiliation(" ".join(_author_lines(c)))
        for c in node.find_all(lambda n: any(k.startswith("ltx_affiliation_") for k in n.classes))
    ]
    parts = [part for part in parts if part and not _NOT_AN_INSTITUTION.search(part)]
    if parts:
        return [", ".join(parts)]
    groups = _author_groups(node)
    lines = _kept_lines([item for group in groups for item in group])
    # Marked items ("¹Spectacular AI, ²ETH Zurich") and lines that each name an institution ("Kuaishou
    # Technology" <br> "Tsinghua University") are separate affiliations; other lines are one address
    # ("Department of CS" <br> "Tsinghua University, Beijing").
    if any(len(group) > 1 for group in groups) or (
        len(lines) > 1 and all(INSTITUTION.search(line) for line in lines)
    ):
        return lines
    return [", ".join(lines)] if lines else []


def _affiliations(root: _Node) -> list[str]:
    authors = root.first(_has_class("ltx_authors"))
    nodes = authors.find_all(lambda n: bool(n.classes & _AFFILIATION_CLASSES)) if authors else []
    seen = {id(n) for n in nodes}
    # llncs' \institute notes stand before the title, outside the author block.
    nodes += [n for n in root.find_all(lambda n: bool(n.classes & _INSTITUTE_NOTES)) if id(n) not in seen]
    found: list[str] = []
    for node in nodes:
        found += _affiliation_text(node)
    if not found and authors is not None:
        # Templates without an affiliation command: the lines after the names in each person name. Only
        # lines that look like an institution: the rest are names, cities and e-mails.
        for person in authors.find_all(_has_class("ltx_personname")):
            after_names = [item for group in _author_groups(person)[1:] for item in group]
            found += [line for line in _kept_lines(after_names) if INSTITUTION.search(line)]
    if not found and authors is not None:
        # Last resort: \thanks notes of the author block ("Thanks: DualverseAI; University of Cambridge").
        for note in authors.find_all(_has_class("ltx_role_thanks")):
            found += [line for line in _kept_lines(_author_lines(note)) if INSTITUTION.search(line)]
    return list(dict.fromkeys(found))


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
