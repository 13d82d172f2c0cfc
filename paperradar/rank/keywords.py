"""Keyword matching over titles, abstracts and comments: case-insensitive, whole words, inflection-aware.

How a text token matches a keyword token
----------------------------------------
Every lower-cased token gets a set of *keys*: the token itself, its lemmas, and a derivation family (below).
A text token matches a keyword token when their key sets share a key. Because both sides are reduced the
same way, matching works in both directions: keyword ``ranking`` (keys ranking, rank) hits rank / ranks /
ranked / rankings, and keyword ``rank`` hits ranking / rankings too.

* In-vocabulary words use lemminflect's ``getAllLemmas`` (all parts of speech). An ``-ing`` noun lemma is
  also followed to its verb (rankings -> ranking -> rank), because "ranking" is both a noun and a verb form.
* Out-of-vocabulary tokens (reranking, debiased, CTRs, DAUs) get a small suffix rule set, ``oov_stems``:
  -s / -es / -ies, -ed and -ing, with the e-restoring and doubled-consonant variants. lemminflect's own OOV
  lemmatiser is not used on text: it turns "debias" into "debia" and "debiased" into "debiase", so the two
  would never meet. The rules only strip suffixes, so "ctrl" never becomes "ctr", "rankine" never becomes
  "rank" and "dauphin" never becomes "dau".

Derivational forms
------------------
Derivations are not inflections and do not match in general: ``explore`` does not hit "explorer",
``relevance`` does not hit "relevant", ``diversity`` does not hit "diverse" (generic adjectives that would
flood a digest). The exception is ``DERIVATIONS``, a short table of families where an IR/recsys reader
means the same topic whichever form the paper uses: causal ~ causality ~ causally, recommendation ~
recommender ~ recommend, explore ~ exploration (explore/exploit), rerank ~ reranker, ranking ~ ranker,
retrieval ~ retriever ~ retrieve, diversity ~ diversify ~ diversification, advertising ~ advertisement ~
advertiser, serendipity ~ serendipitous. Members are lemmas, so their inflections count as well.

Hyphens, phrases and aliases
----------------------------
Hyphen (or slash) and space are equivalent between the tokens of a phrase ("cold start" = "cold-start" and
"cold-started"), and a hyphenated pair also counts as one joined word ("re-ranking" = "reranking", so it
hits ``rerank``; keyword ``re-rank`` likewise hits "reranked"). A token inside a hyphenated compound is a
whole word of its own, so "re-ranking" also hits ``ranking`` while "reranking" does not. Phrases never span
punctuation other than a hyphen. Per-keyword aliases are matched the same way and reported under the
keyword, with the alias's surface form in ``forms``. Keywords containing CJK characters are matched as
substrings (CJK text has no spaces to mark words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from lemminflect import getAllLemmas

from paperradar.models import KeywordHit

# Families of derivationally related lemmas that count as one keyword; the dict key names the family.
DERIVATIONS: dict[str, tuple[str, ...]] = {
    "causal": ("causal", "causality", "causally"),
    "recommendation": ("recommendation", "recommender", "recommend"),
    "explore": ("explore", "exploration"),
    "rerank": ("rerank", "reranker"),
    "rank": ("rank", "ranker"),
    "retrieval": ("retrieval", "retriever", "retrieve"),
    "diversity": ("diversity", "diversify", "diversification"),
    "advertising": ("advertising", "advertise", "advertisement", "advertiser"),
    "serendipity": ("serendipity", "serendipitous"),
}

# Letters and digits (any script); "_" is punctuation here. One regex, one pass per text.
_TOKEN_RE = re.compile(r"[^\W_]+")
_HYPHENS = "-\u2010\u2011"
# A hyphen (or a slash, as in "A/B test") between two tokens: same as a space in a phrase, and the two
# tokens also form one joined word ("re-ranking" -> "reranking").
_HYPHEN_GAP_RE = re.compile(rf"\s*[{_HYPHENS}/]\s*")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WS_RE = re.compile(r"\s+")
_VOWELS = frozenset("aeiouy")

# Gap kinds between two consecutive tokens.
_SPACE, _HYPHEN, _BREAK = 0, 1, 2


def oov_stems(word: str) -> set[str]:
    """Candidate lemmas for a word lemminflect does not know, by suffix stripping only.

    Over-generation is harmless (a junk stem such as "debiase" matches nothing real); the rules never add
    letters except a final "e" or "y", so a token can only meet keywords it starts with.
    """
    out: set[str] = set()
    if word.endswith("ies") and len(word) > 4:
        out.add(word[:-3] + "y")
    elif word.endswith("es") and len(word) > 4:
        out.update((word[:-2], word[:-1]))  # debiases -> debias; caches -> cache
    elif word.endswith("s") and len(word) > 3 and not word.endswith("ss"):
        out.add(word[:-1])  # ctrs -> ctr, daus -> dau, recommenders -> recommender
    for plural in list(out):  # rerankings -> reranking -> rerank
        if plural.endswith("ing"):
            out.update(_strip_verb_suffix(plural, "ing"))
    if word.endswith("ed") and len(word) > 4:
        out.update(_strip_verb_suffix(word, "ed"))
    elif word.endswith("ing") and len(word) > 5:
        out.update(_strip_verb_suffix(word, "ing"))
    return out


def _strip_verb_suffix(word: str, suffix: str) -> set[str]:
    base = word[: -len(suffix)]
    out = {base, base + "e"}  # reranked -> rerank; "cached" -> cache
    if len(base) > 2 and base[-1] == base[-2] and base[-1] not in _VOWELS:
        out.add(base[:-1])  # "rerunning" -> rerun
    return out


def _derivation_index(derivations: Mapping[str, Iterable[str]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for family, members in derivations.items():
        index[family] = family
        for member in members:
            index[member.lower()] = family
    return index


_DEFAULT_FAMILY = _derivation_index(DERIVATIONS)


@lru_cache(maxsize=262_144)
def lemma_keys(token: str) -> frozenset[str]:
    """The match keys of one lower-cased token (without derivation families). Cached: abstracts repeat."""
    if token.isdigit():
        return frozenset((token,))
    keys = {token}
    lemmas = getAllLemmas(token)
    if lemmas:
        for forms in lemmas.values():
            keys.update(forms)
        for lemma in list(keys):
            if lemma != token and lemma.endswith("ing"):
                keys.update(getAllLemmas(lemma).get("VERB", ()))
    else:
        keys.update(oov_stems(token))
    return frozenset(keys)


def norm_key(token: str) -> str:
    """One canonical key per token (derivation family, else the shortest key): for tf-idf features."""
    keys = lemma_keys(token)
    families = sorted(_DEFAULT_FAMILY[k] for k in keys if k in _DEFAULT_FAMILY)
    if families:
        return families[0]
    return min(keys, key=lambda k: (len(k), k))


@dataclass(slots=True, frozen=True)
class _Pattern:
    target: int  # index into KeywordMatcher._targets
    tokens: tuple[frozenset[str], ...]  # key set per token


@dataclass(slots=True)
class _Text:
    """One tokenized text: lower-cased tokens, their spans, and the gap kind before each next token."""

    raw: str
    tokens: list[str]
    starts: list[int]
    ends: list[int]
    gaps: list[int]  # gaps[i] is the gap between tokens[i] and tokens[i + 1]


def _tokenize(text: str) -> _Text:
    tokens: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _TOKEN_RE.finditer(text):
        tokens.append(m.group().lower())
        starts.append(m.start())
        ends.append(m.end())
    gaps: list[int] = []
    for i in range(len(tokens) - 1):
        gap = text[ends[i] : starts[i + 1]]
        if gap.isspace():
            gaps.append(_SPACE)
        elif _HYPHEN_GAP_RE.fullmatch(gap):
            gaps.append(_HYPHEN)
        else:
            gaps.append(_BREAK)
    return _Text(text, tokens, starts, ends, gaps)


def _split_phrase(phrase: str) -> list[list[str]]:
    """Token sequences for a configured keyword or alias: split on space/hyphen, and with hyphens joined."""
    t = _tokenize(phrase)
    if not t.tokens:
        return []
    split = list(t.tokens)
    joined = [t.tokens[0]]
    for i, gap in enumerate(t.gaps):
        if gap == _HYPHEN:
            joined[-1] += t.tokens[i + 1]
        else:
            joined.append(t.tokens[i + 1])
    return [split] if joined == split else [split, joined]


class KeywordMatcher:
    """Matches configured keyword groups (and per-keyword aliases) against texts.

    Build once per run: keyword key sets are precomputed and token look-ups are cached per matcher, so
    matching a text costs one regex pass plus a dict look-up per token.
    """

    def __init__(
        self,
        groups: dict[str, list[str]],
        aliases: dict[str, list[str]] | None = None,
        *,
        derivations: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._family = _DEFAULT_FAMILY if derivations is None else _derivation_index(derivations)
        self._targets: list[tuple[str, str]] = []  # (group, keyword), in configured order
        self._patterns: list[_Pattern] = []
        self._cjk: list[tuple[int, str]] = []  # (target, lower-cased needle)
        aliases = {k.strip().lower(): v for k, v in (aliases or {}).items()}
        for group, words in groups.items():
            seen: set[str] = set()
            for word in words:
                keyword = word.strip()
                if not keyword or keyword.lower() in seen:
                    continue
                seen.add(keyword.lower())
                target = len(self._targets)
                self._targets.append((group, keyword))
                for phrase in [keyword, *aliases.get(keyword.lower(), [])]:
                    self._add_phrase(target, phrase)
        # First-token index: key -> patterns whose first token has that key.
        self._by_first_key: dict[str, list[int]] = {}
        for pid, pattern in enumerate(self._patterns):
            for key in pattern.tokens[0]:
                self._by_first_key.setdefault(key, []).append(pid)
        self._first_cache: dict[str, tuple[int, ...]] = {}

    @property
    def keywords(self) -> list[tuple[str, str]]:
        """(group, keyword) pairs in match order."""
        return list(self._targets)

    def _add_phrase(self, target: int, phrase: str) -> None:
        phrase = phrase.strip()
        if not phrase:
            return
        if _CJK_RE.search(phrase):
            self._cjk.append((target, phrase.lower()))
            return
        for seq in _split_phrase(phrase):
            self._patterns.append(_Pattern(target, tuple(self._keys(tok) for tok in seq)))

    def _keys(self, token: str) -> frozenset[str]:
        keys = lemma_keys(token)
        families = {self._family[k] for k in keys if k in self._family}
        return keys | families if families else keys

    def _first(self, unit: str) -> tuple[int, ...]:
        """Patterns whose first token matches `unit`; cached because abstracts share most words."""
        hit = self._first_cache.get(unit)
        if hit is None:
            pids: set[int] = set()
            for key in self._keys(unit):
                pids.update(self._by_first_key.get(key, ()))
            hit = tuple(sorted(pids))
            self._first_cache[unit] = hit
        return hit

    def match(self, *texts: str | None) -> list[KeywordHit]:
        """Hits in configured group order, then keyword order; each with the sorted distinct forms found."""
        found: dict[int, set[str]] = {}
        for text in texts:
            if text:
                self._match_text(text, found)
        return [
            KeywordHit(keyword=kw, group=group, forms=tuple(sorted(found[i])))
            for i, (group, kw) in enumerate(self._targets)
            if i in found
        ]

    def _match_text(self, text: str, found: dict[int, set[str]]) -> None:
        t = _tokenize(text)
        tokens, gaps = t.tokens, t.gaps
        n = len(tokens)
        for p in range(n):
            for unit, nxt in self._units(tokens, gaps, p, n):
                for pid in self._first(unit):
                    pattern = self._patterns[pid]
                    for end in self._rest(pattern.tokens, 1, t, nxt, n):
                        form = _WS_RE.sub(" ", text[t.starts[p] : t.ends[end - 1]].lower())
                        for h in _HYPHENS[1:]:
                            form = form.replace(h, "-")
                        found.setdefault(pattern.target, set()).add(form)
        if self._cjk:
            low = text.lower()
            for target, needle in self._cjk:
                if needle in low:
                    found.setdefault(target, set()).add(needle)

    @staticmethod
    def _units(tokens: list[str], gaps: list[int], p: int, n: int) -> list[tuple[str, int]]:
        """Word units starting at token p: the token, and the hyphen-joined pair when there is one."""
        units = [(tokens[p], p + 1)]
        if p + 1 < n and gaps[p] == _HYPHEN:
            units.append((tokens[p] + tokens[p + 1], p + 2))
        return units

    def _rest(self, pat: tuple[frozenset[str], ...], j: int, t: _Text, p: int, n: int) -> Iterable[int]:
        """End positions (exclusive) where pattern tokens j.. match text from token p onwards."""
        if j == len(pat):
            yield p
            return
        if p >= n or t.gaps[p - 1] == _BREAK:
            return
        for unit, nxt in self._units(t.tokens, t.gaps, p, n):
            if not self._keys(unit).isdisjoint(pat[j]):
                yield from self._rest(pat, j + 1, t, nxt, n)
