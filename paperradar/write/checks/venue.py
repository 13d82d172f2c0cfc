"""The venue a paper was accepted at, from its arXiv comment ("Accepted at ECIR 2026" -> "ECIR 2026").

Only acceptances count: "Under review at SIGIR 2026", "Submitted to ...", "an ICLR 2026 submission" name a
venue the paper has not got into, and showing it next to the paper would mislead. Known IR/ML/NLP venues
are recognised in any spelling arXiv authors use ("SIGIR '26", "The Web Conference 2026", "EACL SRW 26");
an unknown acronym with a year counts only in an acceptance sentence ("Accepted ... PacificVis 2026").
"""

from __future__ import annotations

import re

# Canonical name -> pattern. Case-sensitive: "ACL" is a venue, "acl" is not.
_KNOWN: dict[str, str] = {
    "SIGIR": r"SIGIR",
    "KDD": r"(?:SIG)?KDD",
    "WWW": r"WWW|TheWebConf|(?:[Tt]he\s+)?(?:ACM\s+)?Web\s+Conference",
    "ECIR": r"ECIR",
    "CIKM": r"CIKM",
    "WSDM": r"WSDM",
    "RecSys": r"RecSys|RECSYS",
    "ICTIR": r"ICTIR",
    "CHIIR": r"CHIIR",
    "ICML": r"ICML",
    "NeurIPS": r"NeurIPS|NIPS",
    "ICLR": r"ICLR",
    "COLM": r"COLM",
    "AAAI": r"AAAI",
    "IJCAI": r"IJCAI",
    "ACL": r"ACL",
    "EMNLP": r"EMNLP",
    "NAACL": r"NAACL",
    "EACL": r"EACL",
    "COLING": r"COLING",
    "LREC": r"LREC(?:-COLING)?",
    "ICDE": r"ICDE",
    "ICDM": r"ICDM",
    "SDM": r"SDM",
    "VLDB": r"VLDB|PVLDB",
    "SIGMOD": r"SIGMOD",
    "CVPR": r"CVPR",
    "ICCV": r"ICCV",
    "ECCV": r"ECCV",
    "ACM MM": r"ACM\s+MM|ACM\s+Multimedia|ACMMM",
    "UMAP": r"UMAP",
    "ECML-PKDD": r"ECML[\s-]?PKDD",
    "PAKDD": r"PAKDD",
    "DASFAA": r"DASFAA",
    "ICASSP": r"ICASSP",
    "Interspeech": r"INTERSPEECH|Interspeech",
    "AISTATS": r"AISTATS",
    "UAI": r"UAI",
    "TREC": r"TREC",
    "CLEF": r"CLEF",
    "TOIS": r"TOIS|ACM\s+Transactions\s+on\s+Information\s+Systems",
    "TKDE": r"TKDE",
    "TORS": r"TORS",
}
_YEAR = r"(?:(?P<y4>(?:19|20)\d\d)|['’‘](?P<y2q>\d\d)|(?P<y2>\d\d))(?![\d])"
# Up to three qualifier words between a venue and its year: "KDD TSMO 2025", "SIGIR LiveRAG Workshop 2025".
_MID = r"(?P<mid>(?:[\s-]+(?!(?:19|20)\d\d)(?:\([A-Za-z]+\)|[A-Za-z][A-Za-z&]*)){0,3}?)"
_VENUE = re.compile(
    r"(?<![A-Za-z])(?P<venue>"
    + "|".join(f"(?P<v{i}>{p})" for i, p in enumerate(_KNOWN.values()))
    + r")"
    + r"(?![A-Za-z])"
    + _MID
    + r"[\s-]*"
    + _YEAR
)
_VENUE_ALONE = re.compile(
    r"(?<![A-Za-z])(?P<venue>"
    + "|".join(f"(?P<v{i}>{p})" for i, p in enumerate(_KNOWN.values()))
    + r")(?![A-Za-z])"
)
_GENERIC = re.compile(
    r"(?<![A-Za-z])(?P<venue>[A-Z][A-Za-z]*[A-Z][A-Za-z]*)[\s-]?'?(?P<y4>(?:19|20)\d\d)(?!\d)"
)
_NOT_VENUES = frozenset(
    {"IEEE", "ACM", "LLM", "LLMS", "GPU", "API", "ARXIV", "OPENREVIEW", "USA", "UK", "PMLR"}
)
_NEGATIVE = re.compile(
    r"submitted|under\s+review|in\s+review|under\s+submission|rejected|preprint\s+of\s+a", re.I
)
_POSITIVE = re.compile(
    r"accepted|to\s+appear|appear(?:s|ed)?\s+in|published|camera[\s-]ready|proceedings|presented|conference",
    re.I,
)
_SUBMISSION_AFTER = re.compile(r"^[\s,]{0,3}(?:\w+\s+)?submission\b", re.I)  # not "(Submission 2664)"
_PAREN_QUAL = re.compile(
    r"^\s*\((?P<q>(?:short|long|full|main|oral|spotlight|poster|demo|findings|industry|workshop)\b[^()\d]{0,30}"
    r"|[^()\d]{0,30}\b(?:track|paper|papers)\b[^()\d]{0,10})\)",
    re.I,
)
_TRACK_AFTER = re.compile(r"^\)?\s*,?\s*(?P<q>(?:[A-Z][a-z]+\s+)?Track)\b")
_KIND_BEFORE = re.compile(r"\b(?P<q>full|short|long|demo|industry|resource|poster)\s+paper\b", re.I)
_FILLER = frozenset({"the", "conference", "annual", "acm", "ieee", "international", "on", "of", "and"})


def _clauses(comment: str) -> list[str]:
    # Sentences of a comment; "Proc." and decimals do not end one.
    # A URL is no venue statement ("github.com/x/KDD2025-demo"); "KDD TSMO 2025: https://..." keeps its name.
    text = " ".join(re.sub(r"\s*:?\s*(?:https?://|www\.)\S+", " ", comment).split())
    return [c for c in re.split(r"(?<!Proc)(?<!\d)[.;](?!\d)\s*", text) if c.strip()]


def _year(m: re.Match[str]) -> str:
    if m.group("y4"):
        return m.group("y4")
    return "20" + (m.group("y2q") or m.group("y2"))


def _canonical(m: re.Match[str]) -> str:
    names = list(_KNOWN)
    return next(names[i] for i in range(len(names)) if m.group(f"v{i}") is not None)


def _qualifier(clause: str, m: re.Match[str], mid: str) -> str | None:
    after = clause[m.end() :]
    paren = _PAREN_QUAL.match(after)
    if paren:
        return paren.group("q").strip()
    track = _TRACK_AFTER.match(after)
    if track:
        return track.group("q")
    words = [w for w in re.split(r"[\s-]+", mid) if w and w.strip("()").lower() not in _FILLER]
    words = [w for w in words if not (w.startswith("(") and w.endswith(")"))]  # "(WWW)" repeats the venue
    if words:
        return " ".join(words)
    before = clause[: m.start()]
    kind = _KIND_BEFORE.search(before)
    if kind:
        return f"{kind.group('q').capitalize()} Paper"
    if re.search(r"\bfindings\b", before, re.I):
        return "Findings"
    if re.search(r"\bworkshop\b", clause, re.I):
        return "workshop"
    return None


def venue_from_comment(comment: str | None) -> str | None:
    """ "ECIR 2026", "WWW 2026 (short)", "ACL 2025 (Industry Track)", "SIGIR 2026" (from "SIGIR '26"), or None
    when the comment names no venue the paper was accepted at."""
    if not comment:
        return None
    for clause in _clauses(comment):
        for m in _VENUE.finditer(clause):
            if _NEGATIVE.search(clause[: m.start()]) or _SUBMISSION_AFTER.match(clause[m.end() :]):
                continue
            if m.group("y2") and not re.match(r"^\s*(?:\)|,|$|\()", clause[m.end() :]) and not m.group("mid"):
                continue  # "KDD 26 pages": a bare two-digit number is a year only where a year fits
            name = f"{_canonical(m)} {_year(m)}"
            qualifier = _qualifier(clause, m, m.group("mid") or "")
            return f"{name} ({qualifier})" if qualifier else name
        if _NEGATIVE.search(clause):
            continue
        if _POSITIVE.search(clause):
            for m in _GENERIC.finditer(clause):
                if m.group("venue").upper() in _NOT_VENUES:
                    continue
                paren = _PAREN_QUAL.match(clause[m.end() :])
                name = f"{m.group('venue')} {m.group('y4')}"
                return f"{name} ({paren.group('q').strip()})" if paren else name
            if re.search(r"\baccepted\b", clause, re.I):
                alone = _VENUE_ALONE.search(clause)
                if alone:
                    return _canonical(alone)
    return None
