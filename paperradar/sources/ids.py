"""arXiv identifiers: one canonical form for every way people and feeds write them.

Canonical means: no version suffix, no "arXiv:" / URL / OAI prefix, and for old-style ids no subject
class ("math.CO/0601001" is the paper "math/0601001"; the class was never part of the identifier, and
the API answers with the short form). Everything else in paperradar keys papers by this form.
"""

from __future__ import annotations

import re

from paperradar.errors import DataError

# New style (April 2007 on): YYMM.NNNN until 2014, YYMM.NNNNN from 2015. We check the shape only, not
# whether the month or the digit count fits the year: the API itself answers such ids with an empty
# result, and callers are better served by "the API did not return 0808.05394" than by our guess.
_NEW_RE = re.compile(r"(\d{4}\.\d{4,5})(?:v(\d+))?", re.ASCII)
# Old style: archive[.subject-class]/YYMMNNN, e.g. hep-th/9901001, math.CO/0601001, cond-mat.str-el/0101001.
_OLD_RE = re.compile(r"([a-z]+(?:-[a-z]+)*)(?:\.[A-Za-z]+(?:-[A-Za-z]+)*)?/(\d{7})(?:v(\d+))?", re.ASCII)
# Prefixes that wrap an id; checked case-insensitively, longest first.
_URL_RE = re.compile(
    r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(.+)",
    re.ASCII | re.IGNORECASE,
)
_EXAMPLES = (
    "use a form like 2602.09386, 2602.09386v2, arXiv:2602.09386, hep-th/9901001 or an arxiv.org/abs URL"
)


def _refuse(text: str) -> DataError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return DataError(f"{shown!r} is not an arXiv identifier", hint=_EXAMPLES)


# Found by fuzzing (tests/test_fuzz_parsers.py): "2602.09386v" + 5,000 digits made int() raise ValueError
# (Python's digit limit) instead of DataError, and a 20-digit version passed, only to overflow SQLite's
# INTEGER when stored. No arXiv paper has more than a few dozen versions; four digits is plenty.
MAX_VERSION_DIGITS = 4
# Old-style archive names are at most 8 letters ("cond-mat", "astro-ph"); a 300-letter "archive" would make
# a file name longer than the file system allows (found by fuzzing). 16 leaves room for the odd one.
MAX_ARCHIVE_LENGTH = 16


def _version(raw: str | None, text: str) -> int | None:
    if raw is None:
        return None
    if len(raw) > MAX_VERSION_DIGITS:
        raise _refuse(text)
    version = int(raw)
    if version < 1:  # versions start at v1
        raise _refuse(text)
    return version


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """Return (canonical id without version, version or None); DataError naming `text` otherwise."""
    if not isinstance(text, str):
        raise _refuse(repr(text))
    # Fast path: a bare new-style id without version is what bulk imports carry 155k times over.
    n = len(text)
    if (
        (n == 10 or n == 9)
        and text[4] == "."
        and text.isascii()
        and text[:4].isdigit()
        and text[5:].isdigit()
    ):
        return text, None
    return _parse_slow(text)


def _parse_slow(text: str) -> tuple[str, int | None]:
    s = text.strip()
    lowered = s.lower()
    if lowered.startswith("oai:arxiv.org:"):
        s = s[len("oai:arxiv.org:") :]
    elif lowered.startswith("arxiv:"):
        s = s[len("arxiv:") :]
    else:
        url = _URL_RE.fullmatch(s)
        if url:
            # Drop query string, fragment, a trailing slash and the ".pdf" of PDF links.
            s = url.group(1).split("?", 1)[0].split("#", 1)[0].rstrip("/")
            if s.lower().endswith(".pdf"):
                s = s[:-4]
    m = _NEW_RE.fullmatch(s)
    if m:
        return m.group(1), _version(m.group(2), text)
    m = _OLD_RE.fullmatch(s)
    if m and len(m.group(1)) <= MAX_ARCHIVE_LENGTH:
        return f"{m.group(1)}/{m.group(2)}", _version(m.group(3), text)
    raise _refuse(text)


def canonical_id(text: str) -> str:
    """The id without version (shorthand for parse_arxiv_id(text)[0])."""
    return parse_arxiv_id(text)[0]


def safe_filename(arxiv_id: str) -> str:
    """A file-name-safe form: '/' becomes '_' ("hep-th/9901001" -> "hep-th_9901001"); a version is kept.

    Reversible: archive names contain '-' but never '_', so `from_safe_filename` undoes it. Anything
    parse_arxiv_id refuses is refused here too, so a crafted id can never escape a folder.
    """
    base, version = parse_arxiv_id(arxiv_id)
    name = base.replace("/", "_")
    return f"{name}v{version}" if version is not None else name


def from_safe_filename(name: str) -> tuple[str, int | None]:
    """Undo safe_filename: ("hep-th/9901001", 3) for "hep-th_9901001v3"."""
    return parse_arxiv_id(name.replace("_", "/", 1))
