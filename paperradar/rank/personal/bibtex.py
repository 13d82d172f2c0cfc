"""A tolerant BibTeX reader for library exports (Zotero, Better BibTeX, Mendeley, Google Scholar, JabRef).

No dependency: exports use a small, regular subset of BibTeX, and bibtexparser's v1/v2 split would be a
dependency to pin for ~150 lines of parsing.
"""

from __future__ import annotations

from paperradar.errors import DataError

# One field's value after @string macro expansion. Real fields are under a few kB; macros that reference
# each other (a = b # b, b = c # c, ...) double with each level: an 812-byte file reached 2^31 characters.
MAX_VALUE_CHARS = 1 << 20

_MONTHS = {
    m: str(i)
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}


class _BibParser:
    """A tolerant BibTeX reader: @type{key, field = {..} | ".." | number | macro # ..., ...} and
    @type(...) forms, @string macros, @comment/@preamble skipped, nested braces, unknown junk between
    entries ignored (Zotero and Mendeley put none; Google Scholar's copy-paste sometimes does)."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.macros: dict[str, str] = dict(_MONTHS)

    def entries(self) -> list[tuple[str, str, dict[str, str]]]:
        out: list[tuple[str, str, dict[str, str]]] = []
        while True:
            at = self.s.find("@", self.i)
            if at < 0:
                return out
            self.i = at + 1
            kind = self._ident().lower()
            self._ws()
            if self.i >= len(self.s) or self.s[self.i] not in "{(":
                continue
            close = "}" if self.s[self.i] == "{" else ")"
            if kind in ("comment", "preamble"):
                self._skip_balanced()
                continue
            self.i += 1
            if kind == "string":
                name, value = self._field()
                if name:
                    self.macros[name] = value
                self._skip_to(close)
                continue
            key = self._until(",}" if close == "}" else ",)").strip()
            fields: dict[str, str] = {}
            while self.i < len(self.s) and self.s[self.i] == ",":
                self.i += 1
                self._ws()
                if self.i < len(self.s) and self.s[self.i] == close:
                    break
                name, value = self._field()
                if not name:
                    break
                fields[name] = value
            self._skip_to(close)
            out.append((kind, key, fields))

    def _ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def _ident(self) -> str:
        start = self.i
        while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] in "_-:.+/"):
            self.i += 1
        return self.s[start : self.i]

    def _until(self, stops: str) -> str:
        start = self.i
        while self.i < len(self.s) and self.s[self.i] not in stops:
            self.i += 1
        return self.s[start : self.i]

    def _skip_balanced(self) -> None:
        depth = 0
        while self.i < len(self.s):
            c = self.s[self.i]
            self.i += 1
            if c in "{(":
                depth += 1
            elif c in "})":
                depth -= 1
                if depth == 0:
                    return

    def _skip_to(self, close: str) -> None:
        self._ws()
        if self.i < len(self.s) and self.s[self.i] == close:
            self.i += 1

    def _field(self) -> tuple[str, str]:
        self._ws()
        name = self._ident().lower()
        self._ws()
        if not name or self.i >= len(self.s) or self.s[self.i] != "=":
            self._until(",})")
            return "", ""
        self.i += 1
        parts = []
        size = 0
        while True:
            self._ws()
            parts.append(self._value())
            size += len(parts[-1])
            if size > MAX_VALUE_CHARS:
                line = self.s.count("\n", 0, self.i) + 1
                raise DataError(
                    f"BibTeX field {name!r} near line {line} expands past {MAX_VALUE_CHARS:,} characters "
                    "(@string macros that double each other); refused",
                    hint="export the library again from Zotero/Mendeley/JabRef; real exports never do this",
                )
            self._ws()
            if self.i < len(self.s) and self.s[self.i] == "#":
                self.i += 1
                continue
            break
        return name, "".join(parts)

    def _value(self) -> str:
        if self.i >= len(self.s):
            return ""
        c = self.s[self.i]
        if c == "{":
            start = self.i + 1
            self._skip_balanced()
            return self.s[start : self.i - 1]
        if c == '"':
            self.i += 1
            start, depth = self.i, 0
            while self.i < len(self.s) and (self.s[self.i] != '"' or depth > 0):
                depth += {"{": 1, "}": -1}.get(self.s[self.i], 0)
                self.i += 1
            value = self.s[start : self.i]
            self.i += 1
            return value
        word = self._ident()
        return self.macros.get(word.lower(), word)


def parse_bibtex(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(entry type, citation key, {lower-case field: raw value}) for each entry."""
    return _BibParser(text).entries()
