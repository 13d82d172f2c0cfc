"""Faithfulness guard: every number and every named thing in a generated text must be in the paper.

A model asked to explain a paper in Chinese writes "支持超过4亿日活用户" for "supports over 400 million
daily active users": the number changed script and unit but not value, so it is verified. "400万" (4 million)
is not; nor is "0.3%" when the paper says 0.31%. Numbers are compared by value after unit conversion
(万, 亿/億, K/M/B, million/billion, %, pp, ×/倍/times, ms/s), so script and unit variants match and nothing
else does: rounding is a change of claim and gets marked.

Checked: numbers with a unit, decimals (a bare "0.933" is a measured value) and big integers
("400,000,000", "12000"). Small bare integers are not
("三つの柱", "3 datasets", years): a paraphrase ("three" vs "3") would raise false alarms every day.
Named things: Latin-script tokens that look like names (capitals after the first letter, or digits:
"MovieLens-1M", "BERT4Rec", "GPT-4o"; in Chinese/Japanese text any capitalised token, e.g. "Kuaishou"), and
company names in any script via the gazetteer's aliases (快手 = Kuaishou = Kwai).

A name is found in the sources when its letters and digits are those of consecutive whole words there,
whatever the spacing, hyphens and case ("Qwen2.5-72B" = "Qwen 2.5 72B", "ColBERT v2" = "ColBERTv2"). Names
joined by "/" are separate claims ("Contriever/E5/ColBERTv2"). An abbreviation is found when the initials
of consecutive words spell it (SFT = "supervised fine-tuning", VLM = "visual-language model", MoE =
"mixture of experts"). A hyphenated compound not in the sources as written is checked without its generic
parts ("LLM-based", "ColBERT-style"). Generic words (AI, ROI, OJT, QPS...) are never claims: the lists are
data, in faithful_words.toml. The sources are everything we know the paper says: title, abstract, comment,
authors, affiliations, full text.

The check never changes what the model said; `mark_unverified` adds a visible mark next to each claim it
could not find, and the caller counts them per run.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

from paperradar.text.source_index import SourceIndex
from paperradar.text.source_index import fold as _fold

ClaimKind = Literal["number", "entity"]

WORDS_FILE = "faithful_words.toml"  # the generic words, compound affixes and irregular abbreviations


@dataclass(frozen=True, slots=True)
class _Words:
    generic: frozenset[str]  # lower-case
    affixes: frozenset[str]
    expansions: dict[str, tuple[str, ...]]  # lower-case abbreviation -> what it may stand for


@cache
def _words() -> _Words:
    """faithful_words.toml, shipped with the package (data, not code: see its header)."""
    raw = tomllib.loads(resources.files("paperradar.write.checks").joinpath(WORDS_FILE).read_text("utf-8"))
    generic = {w.lower() for group in raw.get("generic", {}).values() for w in group}
    expansions = {k.lower(): tuple(v) for k, v in raw.get("expansions", {}).items()}
    affixes = frozenset(a.lower() for a in raw.get("compound", {}).get("affixes", []))
    return _Words(frozenset(generic), affixes, expansions)


_MARK = {"zh": "【⚠ 未检验: {s}】", "ja": "【⚠ 未検証: {s}】", "en": "(⚠ unverified: {s})"}

# --- normalization: same length as the input, so spans found in it are spans of the original ------------


# --- numbers ---------------------------------------------------------------------------------------------

_SCALE_CHARS = dict(zip("十百千万萬亿億兆", (10, 100, 1000, 10**4, 10**4, 10**8, 10**8, 10**12), strict=True))
_CJK_DIGITS = dict(zip("〇零一二两兩三四五六七八九", (0, 0, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
)
_WORDS += " seventeen eighteen nineteen twenty"
_WORD_NUMBERS = dict(zip(_WORDS.split(), range(21), strict=True))
_WORD_NUMBERS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
_WORD_NUMBERS |= {"ninety": 90, "hundred": 100}

# Units, longest alternatives first inside each group. A Latin unit ends where letters end, not at \b:
# CJK characters are word characters, and "400 millionの" must still read as 400 million. Letter units
# that are also common words or symbols (K, M, B, T, x, s, h) count only when attached ("400M", "2x").
_END = r"(?![A-Za-z])"
_UNIT = (
    rf"(?P<pp>\s?(?:percentage\s+points?|个百分点|百分点|ポイント|pp{_END}|p\.p\.|points?{_END}|pts?{_END}))"
    rf"|(?P<pct>\s?(?:%|percent{_END}|per\s?cent{_END}))"
    rf"|(?P<times>[x×](?![A-Za-z0-9])|\s?(?:×|times{_END}|-?fold{_END}|倍))"
    r"|(?P<cjk>[十百千万萬亿億兆]+)"
    rf"|(?P<word>\s?(?:thousand|million|billion|trillion)s?{_END}|\s?(?:mn|bn){_END}|[kKMBT](?![A-Za-z0-9]))"
    rf"|(?P<time>\s?(?:milliseconds?{_END}|ms{_END}|毫秒|ミリ秒|seconds?{_END}|secs?{_END}|秒|minutes?{_END}"
    rf"|mins?{_END}|分钟|分間|hours?{_END}|hrs?{_END}|小时|時間)|[sh](?![A-Za-z0-9]))"
)
_DIGITS = r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(?P<frac>\d+))?"
_NUMBER = re.compile(rf"(?<![A-Za-z0-9.,])[+-]?{_DIGITS}(?:{_UNIT})?")
_CJK_NUMBER = re.compile(
    r"(?<![数幾几多余餘0-9.])(?P<num>[〇零一二两兩三四五六七八九十百千]+)(?P<unit>[万萬亿億兆]+|倍|%)"
)
_WORD_NUMBER = re.compile(
    r"\b(?P<num>"
    + "|".join(_WORD_NUMBERS)
    + r")[\s-]+(?P<unit>times|fold|percent|thousand|million|billion)\b",
    re.I,
)
_WORD_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "mn": 1e6, "bn": 1e9}
_LETTER_SCALE = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
_TIME_MS = {
    "ms": 1,
    "millisecond": 1,
    "毫秒": 1,
    "ミリ秒": 1,
    "s": 1000,
    "sec": 1000,
    "second": 1000,
    "秒": 1000,
}
_TIME_MS |= {"min": 60000, "minute": 60000, "分钟": 60000, "分間": 60000, "h": 3600000, "hr": 3600000}
_TIME_MS |= {"hour": 3600000, "小时": 3600000, "時間": 3600000}
# A Latin name-like token: starts with a letter, parts joined by - _ . & ' ("Llama-3.1-8B", "Q&A"). A "/"
# separates names ("Contriever/E5/ColBERTv2" is three claims).
_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-_.&'][A-Za-z0-9]+)*")
# "CPU-75%": a name, then a signed number with a unit, not a name "CPU-75" that would hide the number.
_SIGNED_TAIL = re.compile(r"-\d+(?:\.\d+)?$")
_UNIT_AFTER = re.compile(r"\s?(?:%|倍|个百分点|百分点|ポイント|pp(?![A-Za-z])|x(?![A-Za-z0-9])|×|percent)")


@dataclass(frozen=True, slots=True)
class Quantity:
    kind: str  # count | percent | pp | times | time | plain
    value: float
    start: int
    end: int
    decimal: bool  # written with a fractional part
    grouped: bool = False  # a big integer ("400,000,000", "12000"): a claim, unlike "3" or a year


def _cjk_value(num: str) -> float | None:
    """A Chinese/Japanese numeral up to 9999 ("三", "十五", "两千"), else None."""
    total, digit = 0, None
    for ch in num:
        if ch in _CJK_DIGITS:
            digit = _CJK_DIGITS[ch]
        elif ch in ("十", "百", "千"):
            total += (1 if digit is None else digit) * _SCALE_CHARS[ch]
            digit = None
        else:
            return None
    return float(total + (digit or 0))


def _scale(chars: str) -> float:
    value = 1.0
    for ch in chars:
        value *= _SCALE_CHARS[ch]
    return value


def _name_spans(folded: str) -> list[tuple[int, int]]:
    """(start, end) of every name-like token of a folded text, a signed number with a unit split off the
    end ("CPU-75%" is the name CPU and -75%)."""
    spans = []
    for m in _TOKEN.finditer(folded):
        start, end = m.span()
        tail = _SIGNED_TAIL.search(m.group())
        if tail and _UNIT_AFTER.match(folded, end):
            end = start + tail.start()
        spans.append((start, end))
    return spans


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=32)
def _source_quantities(text: str) -> tuple[Quantity, ...]:
    """The quantities of a paper's sources, computed once for the several answers checked against them
    (a day checks up to three styles in three languages of one paper against the same full text)."""
    return tuple(quantities(text))


def quantities(text: str) -> list[Quantity]:
    """Every number in `text` with its unit folded into (kind, value). Spans index into `text`."""
    folded = _fold(text)
    # Digits inside names ("Llama-3.1-8B", "top-10", "BERT4Rec") are part of the name, not numbers.
    masked = list(folded)
    for start, end in _name_spans(folded):
        if _DIGIT.search(folded, start, end):
            masked[start:end] = "_" * (end - start)
    masked_text = "".join(masked)
    out: list[Quantity] = []
    for m in _NUMBER.finditer(masked_text):
        value = float(m.group("int").replace(",", "") + ("." + m.group("frac") if m.group("frac") else ""))
        kind = "plain"
        unit = next((g for g in ("pp", "pct", "times", "cjk", "word", "time") if m.group(g)), None)
        end = m.end()
        if unit == "pp":
            kind = "pp"
        elif unit == "pct":
            kind = "percent"
        elif unit == "times":
            kind = "times"
        elif unit == "cjk":
            kind, value = "count", value * _scale(m.group("cjk"))
        elif unit == "word":
            word = m.group("word").strip()
            scale = (
                _LETTER_SCALE.get(word) or _WORD_SCALE[word.lower().rstrip("s") if len(word) > 2 else word]
            )
            kind, value = "count", value * scale
        elif unit == "time":
            word = m.group("time").strip().lower()
            base = word if word in _TIME_MS else word.rstrip("s")
            kind, value = "time", value * _TIME_MS[base]
        start = m.start() + (1 if m.group().startswith(("+", "-")) else 0)
        digits = m.group("int")
        grouped = "," in digits or len(digits) >= 5
        out.append(Quantity(kind, value, start, end, bool(m.group("frac")), grouped))
    for m in _CJK_NUMBER.finditer(folded):
        base = _cjk_value(m.group("num"))
        if base is None:
            continue
        unit = m.group("unit")
        if unit == "倍":
            out.append(Quantity("times", base, m.start(), m.end(), False))
        elif unit == "%":
            out.append(Quantity("percent", base, m.start(), m.end(), False))
        else:
            out.append(Quantity("count", base * _scale(unit), m.start(), m.end(), False))
    for m in _WORD_NUMBER.finditer(folded):
        base, unit = float(_WORD_NUMBERS[m.group("num").lower()]), m.group("unit").lower()
        if unit in ("times", "fold"):
            out.append(Quantity("times", base, m.start(), m.end(), False))
        elif unit == "percent":
            out.append(Quantity("percent", base, m.start(), m.end(), False))
        else:
            out.append(Quantity("count", base * _WORD_SCALE[unit], m.start(), m.end(), False))
    return sorted(out, key=lambda q: q.start)


def _claimed(q: Quantity) -> bool:
    """Which generated numbers are claims to check: anything with a unit, decimals, big integers."""
    return q.kind != "plain" or q.decimal or q.grouped


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _matches(q: Quantity, s: Quantity) -> bool:
    """Does the source quantity `s` say what the generated quantity `q` says?"""
    if q.kind == "count":
        return s.kind in ("count", "plain") and _same(q.value, s.value)
    if q.kind in ("percent", "pp"):
        # "0.31%" = "0.31 percent"; a table cell "93.3" or "0.933" under an "Acc (%)" header says 93.3%.
        if s.kind in ("percent", "pp", "plain") and _same(q.value, s.value):
            return True
        return s.kind == "plain" and _same(q.value / 100, s.value)
    if q.kind in ("times", "time"):
        return s.kind == q.kind and _same(q.value, s.value)
    # A bare decimal may be any of the source's numbers, or a percentage written as a fraction.
    return _same(q.value, s.value) or (s.kind == "percent" and _same(q.value * 100, s.value))


# --- entities --------------------------------------------------------------------------------------------


@cache
def _company_aliases() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """({alias lower-cased: company key}, {company key: all its aliases}) from the built-in gazetteer."""
    from paperradar.rank.companies import Gazetteer  # lazy: the TOML is parsed only when a check runs

    gaz = Gazetteer.load()
    by_alias: dict[str, str] = {}
    by_company: dict[str, tuple[str, ...]] = {}
    for key, company in gaz.companies.items():
        names = [a.text for a in company.aliases] + [n for n in company.names.values() if n]
        for name in names:
            by_alias.setdefault(name.lower(), key)
        by_company[key] = tuple(dict.fromkeys(names))
    return by_alias, by_company


@cache
def _cjk_aliases() -> tuple[str, ...]:
    """The gazetteer's Chinese/Japanese aliases, longest first (found by substring: no word breaks)."""
    return tuple(sorted((a for a in _company_aliases()[0] if _is_cjk(a)), key=len, reverse=True))


@lru_cache(maxsize=32)
def _source_index(sources: tuple[str, ...]) -> SourceIndex:
    """One index per paper's sources, shared by the answers checked against them."""
    return SourceIndex(list(sources))


def _is_cjk(text: str) -> bool:
    return any(0x3040 <= ord(c) <= 0x30FF or 0x4E00 <= ord(c) <= 0x9FFF for c in text)


def _name_like(token: str, language: str) -> bool:
    words = _words()
    if len(token) < 2 or token.lower() in words.generic or token.lower().rstrip("s") in words.generic:
        return False
    if any(c.isdigit() for c in token) or any(c.isupper() for c in token[1:]):
        return True
    # In Chinese/Japanese prose a capitalised Latin word is a name; in English it may start a sentence.
    return language in ("zh", "ja") and token[0].isupper()


_WORD = re.compile(r"[a-z0-9]+")


def _abbreviation(token: str) -> bool:
    """Letters only, 2 to 6 of them (a plural "s" aside), at least two capitals: SFT, MoE, VLMs, dLLM."""
    core = token[:-1] if token.endswith("s") and len(token) > 2 else token
    return core.isalpha() and 2 <= len(core) <= 6 and sum(c.isupper() for c in core) >= 2


def _find_name(token: str, index: SourceIndex) -> str | None:
    """Where the sources support the name `token`: as written, by its initials, by a listed expansion,
    or (a hyphenated compound) without its generic parts. None when they do not."""
    found = index.find(token)
    if found is None and _abbreviation(token):
        found = index.find_initials(token)
    for expansion in _words().expansions.get(token.lower(), ()) if found is None else ():
        found = index.find(expansion) or found
    return found


def _without_affixes(token: str) -> str | None:
    """A hyphenated compound without its generic parts ("LLM-based" -> "LLM"); None when it has none."""
    parts = token.split("-")
    kept = [p for p in parts if p.lower() not in _words().affixes]
    return "-".join(kept) if 0 < len(kept) < len(parts) else ("" if not kept else None)


def _alias_in(alias: str, index: SourceIndex) -> bool:
    if _is_cjk(alias):
        return alias in index.text
    return index.find(alias) is not None


# A piece that may continue a name across a space: a version or size ("Qwen 2.5 72B", "ColBERT v2").
_NAME_PIECE = re.compile(r"[ \-](?:[vV]?\d+(?:\.\d+)*[A-Za-z]{0,2})(?![A-Za-z0-9])")


def _extended_name(folded: str, start: int, end: int, index: SourceIndex) -> tuple[int, str] | None:
    """The longest run of the name at [start, end) plus version/size pieces ("Qwen" + " 2.5" + " 72B")
    that the sources spell as one name, as (its end, the source's spelling); None when none is longer."""
    ends = []
    at = end
    for _ in range(3):
        m = _NAME_PIECE.match(folded, at)
        if m is None:
            break
        at = m.end()
        ends.append(at)
    for stop in reversed(ends):
        found = index.find(folded[start:stop])
        if found is not None:
            return stop, found
    return None


# --- the report ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    kind: ClaimKind
    surface: str  # exactly as written in the generated text
    verified: bool
    matched: str | None = None  # what was found in the source


@dataclass(slots=True)
class Report:
    items: list[Claim] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return len(self.items)

    @property
    def unverified(self) -> list[Claim]:
        return [c for c in self.items if not c.verified]

    def merge(self, other: Report) -> Report:
        seen = {(c.kind, c.surface) for c in self.items}
        self.items += [c for c in other.items if (c.kind, c.surface) not in seen]
        return self

    def as_dict(self) -> dict[str, object]:
        """The stored form (kept with a generated text so a re-render marks the same claims)."""
        return {
            "checked": self.checked,
            "unverified": [{"kind": c.kind, "surface": c.surface} for c in self.unverified],
        }


def check_faithfulness(text: str, sources: list[str] | SourceIndex, lang: str) -> Report:
    """Every checked number and name in `text`, and whether `sources` (paper title, abstract, authors,
    affiliations, full text, table cells...) support it. Each distinct surface form is one claim."""
    index = sources if isinstance(sources, SourceIndex) else _source_index(tuple(sources))
    folded = _fold(text)
    items: dict[tuple[str, str], Claim] = {}
    by_alias, by_company = _company_aliases()
    seen_companies: set[str] = set()
    inside_names: list[tuple[int, int]] = []  # "Qwen 2.5 72B" found as one name: its numbers are no claims

    def claim(kind: ClaimKind, surface: str, found: str | None) -> None:
        if (kind, surface) not in items:
            items[(kind, surface)] = Claim(kind, surface, found is not None, found)

    def company_claim(surface: str, key: str) -> None:
        if key in seen_companies:
            return
        seen_companies.add(key)
        found = next((a for a in by_company[key] if _alias_in(a, index)), None)
        claim("entity", surface, found)

    skip_to = 0
    for start, end in _name_spans(folded):
        if start < skip_to:
            continue
        token = text[start:end]
        if token.endswith(("'s", "\u2019s")):  # "Kuaishou's": the name is Kuaishou
            token, end = token[:-2], end - 2
        if len(token) < 2:
            continue
        # A lower-case "apple" or "meta" is a word, not the company.
        key = by_alias.get(token.lower()) if token[0].isupper() else None
        if key is not None:
            company_claim(token, key)
            continue
        longer = _extended_name(folded, start, end, index)
        if longer is not None:
            skip_to = longer[0]
            inside_names.append((start, longer[0]))
            claim("entity", text[start : longer[0]], longer[1])
            continue
        if not _name_like(token, lang):
            continue
        found = _find_name(token, index)
        if found is None and "-" in token:
            head = _without_affixes(token)
            if head == "" or (head and not _name_like(head, lang)):
                continue  # only generic words: "LLM-based"
            if head:
                found = _find_name(head, index)
        claim("entity", token, found)
    for alias in _cjk_aliases():
        if alias in text:
            company_claim(alias, by_alias[alias])
    source_qs = _source_quantities(index.text)
    numbers: dict[tuple[str, str], Claim] = {}
    for q in quantities(text):
        if not _claimed(q) or any(s <= q.start and q.end <= e for s, e in inside_names):
            continue
        surface = text[q.start : q.end].strip()
        if ("number", surface) in numbers:
            continue
        hit = next((s for s in source_qs if _matches(q, s)), None)
        matched = index.text[hit.start : hit.end].strip() if hit else None
        numbers[("number", surface)] = Claim("number", surface, hit is not None, matched)
    return Report(list(numbers.values()) + list(items.values()))


def mark_unverified(text: str, report: Report | dict[str, object], lang: str) -> str:
    """`text` with each unverified claim of `report` (or its stored dict form) visibly marked:
    "…支持超过【⚠ 未检验: 400万】日活用户…". Whole-token matches only: marking "400万" leaves "1400万" alone."""
    if isinstance(report, Report):
        surfaces = [c.surface for c in report.unverified]
    else:
        raw = report.get("unverified")
        surfaces = [str(c["surface"]) for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []
    surfaces = sorted({s for s in surfaces if s}, key=len, reverse=True)
    if not surfaces:
        return text
    template = _MARK.get(lang, _MARK["en"])
    # Markdown-escaped text ("GPT\-4o"): also find the escaped spelling of each surface.
    variants = set(surfaces) | {re.sub(r"([\\`*_\[\]|~#])", r"\\\1", s) for s in surfaces}
    pattern = re.compile(
        r"(?<![A-Za-z0-9.０-９])("
        + "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
        + r")"
        r"(?![0-9０-９]|(?<=[A-Za-z])[A-Za-z0-9])"
    )
    return pattern.sub(lambda m: template.format(s=m.group(1)), text)
