"""Extractive summaries: the fallback when no LLM is configured, and the baseline an LLM summary is judged by.

The summary is 2-3 sentences copied verbatim from the English abstract, so it is honest by construction:
publish labels it as extractive, and nothing in it was written by a model. Deterministic for a given
abstract (no randomness, ties broken by position), so `EXTRACTIVE_VERSION` can serve as the cache key.
"""

from __future__ import annotations

import re

from paperradar.text.tfidf import Vector, add, dot, fit_vectors, norm

# Bump whenever split_sentences or the scoring changes: the write stage caches by this string.
EXTRACTIVE_VERSION = "extractive-1"

# --- sentence splitting -----------------------------------------------------------------------------------

# Abbreviations that never end a sentence in an abstract, compared lower-cased without the final period.
_HARD_ABBREV = frozenset(
    {
        "e.g", "i.e", "vs", "cf", "viz", "fig", "figs", "eq", "eqs", "sec", "secs", "tab", "ref", "refs",
        "approx", "resp", "w.r.t", "a.k.a", "incl", "esp", "dr", "prof", "mr", "mrs", "ms", "jr", "sr", "st",
        "ca",
    }
)  # fmt: skip
# Abbreviations that only precede a number ("No. 5", "pp. 12", "Jan. 28"): hard before a digit only.
_NUMERIC_ABBREV = frozenset(
    {"no", "nos", "vol", "pp", "p", "ch", "thm", "def", "alg", "app"}
    | {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
)
# Abbreviations that may also end a sentence ("... by Zhuang et al. We evaluate", "in the U.S. We ...").
# They end one only when the next word is a typical sentence opener (see _OPENERS).
_SOFT_ABBREV = frozenset({"al", "etc", "inc", "ltd", "corp", "co"})
# Words that open abstract sentences. Used only to disambiguate soft abbreviations, initials and dotted
# acronyms: "U.S. Department" stays one sentence, "U.S. We describe" becomes two.
_OPENER_WORDS = """
    a an as at by for from in on of to with we our us this these that those the it its they their there
    however moreover furthermore additionally finally first second third next then lastly overall here
    further therefore thus hence specifically also experiments experimental extensive results empirical
    evaluation evaluations comprehensive both each such existing recent current most many while although
    despite through based compared unlike using given since when where code data ablation ablations
    notably importantly meanwhile consequently besides instead inspired motivated building
"""
_OPENERS = frozenset(_OPENER_WORDS.split())
_DOTTED_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")  # "U.S" of "U.S.", "U.K" of "U.K."
_INITIAL = re.compile(r"^[A-Z]$")  # "J" of "J. Smith"
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace, next token.
_BOUNDARY = re.compile(r"([.!?]+)([\"'”’)\]]*)\s+(?=(\S+))")
_LEADING_PUNCT = "([{\"'“‘"


def _normalize(text: str) -> str:
    """Undo arXiv's hard line wraps and collapse whitespace.

    A hyphen at the end of a wrapped line is a real hyphen in arXiv abstracts ("multi-\\ntask" is
    "multi-task"), so the wrap is removed without inserting a space.
    """
    text = re.sub(r"(?<=\w)-[ \t]*\r?\n\s*(?=\w)", "-", text)
    return " ".join(text.split())


def _is_boundary(prev_token: str, punct: str, closers: str, next_token: str) -> bool:
    if next_token[0].islower():
        return False  # "et al. proposed", "e.g. bm25", "vs. dense" never start a sentence
    word = prev_token.lstrip(_LEADING_PUNCT)
    if punct == "!" and not closers and word[:1].isupper():
        # Names with a bang ("BIP! Ranker", "CheckThat! 2025") are more common in abstracts than exclamations.
        return next_token.strip(_LEADING_PUNCT + ",;:").lower() in _OPENERS
    if punct != "." or closers:
        return True  # "?", "!", "...", or a period followed by a closing quote/bracket
    key = word.lower()
    if key in _HARD_ABBREV:
        return False
    if key in _NUMERIC_ABBREV and next_token[0].isdigit():
        return False
    if key in _SOFT_ABBREV or _DOTTED_ACRONYM.match(word) or _INITIAL.match(word):
        return next_token.strip(_LEADING_PUNCT + ",;:").lower() in _OPENERS
    return True


def split_sentences(text: str) -> list[str]:
    """Split an English abstract into sentences.

    Does not break inside decimals ("0.31%") or version numbers ("v0.2") because a boundary needs
    whitespace after the period; does not break after "e.g.", "i.e.", "vs.", "Fig.", "Eq." and similar;
    "et al.", "etc.", initials ("J. Smith") and dotted acronyms ("U.S.") end a sentence only when the next
    word is a typical sentence opener. Sentences never start with a lower-case letter.
    """
    flat = _normalize(text)
    if not flat:
        return []
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(flat):
        punct, closers, next_token = m.group(1), m.group(2), m.group(3)
        prev = flat[start : m.start()].rsplit(" ", 1)[-1]
        if not prev:
            continue
        if _is_boundary(prev, punct, closers, next_token):
            sentences.append(flat[start : m.start(3)].rstrip())
            start = m.start(3)
    tail = flat[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# --- scoring ----------------------------------------------------------------------------------------------

# Cue phrases, each with a weight added to the sentence's centroid similarity. Weights are small next to
# the boilerplate penalty so a cue can reorder content sentences but never rescue boilerplate.
_CUES: tuple[tuple[re.Pattern[str], float], ...] = (
    # contribution statements
    (re.compile(r"\b(we|this (paper|work|study|article)|our (work|paper))\s+(propose|introduce|present|develop|design|devise|formulate)", re.I), 0.35),
    (re.compile(r"\b(propose[sd]?|introduces?|presents?|novel|framework)\b", re.I), 0.12),
    # findings
    (re.compile(r"\b(results|experiments|evaluations?|findings)\b.{0,40}\b(show|demonstrate|indicate|reveal|confirm|suggest)", re.I), 0.25),
    (re.compile(r"\b(outperform\w*|surpass\w*|improv\w*|significant(ly)?|state-of-the-art|SOTA|beats?|gains?|achiev\w*)\b", re.I), 0.18),
    # numbers with units: "0.31%", "2.4x", "400 million", "12 ms", "+3.1 points"
    (re.compile(r"\d(\.\d+)?\s?(%|×|x\b|times\b|points?\b|pp\b|ms\b|million\b|billion\b|k\b)", re.I), 0.15),
    # real-world evidence
    (re.compile(r"\b(deployed|deployment|in production|online (a/?b|experiment|test)|a/b test\w*|daily active users|industrial)\b", re.I), 0.25),
)  # fmt: skip
# Sentences that carry no content about the paper: code/data links, venue notes, page counts.
_BOILERPLATE = re.compile(
    r"this https? URL|https?://|github\.com|\b(code|data|dataset|datasets|implementation|models?|resources?)"
    r"\b[^.]{0,60}\b(is|are|will be|has been|have been)\s+(publicly\s+|freely\s+|openly\s+)?"
    r"(available|released|open[- ]sourced|accessible)|\b(we|our)\s+(release|open-source|make)\b[^.]{0,40}"
    r"\b(code|publicly|available)|\baccepted (at|to|by|for)\b|\b\d+\s+pages\b|\bsubmitted to\b",
    re.I,
)
_BOILERPLATE_PENALTY = 10.0
# Openers that lean on the previous sentence ("First, ...", "4) Fine-tuning ...") read worse out of context.
_DEPENDENT_OPENER = re.compile(
    r"^(\(?\d+\)|\(?[ivx]+\)|first(ly)?|second(ly)?|third(ly)?|next|then|finally|lastly|moreover|"
    r"furthermore|additionally|also|in addition|besides|meanwhile)\b",
    re.I,
)
_DEPENDENT_PENALTY = 0.12
_MAX_CHARS = 900  # a third sentence is added only while the summary stays readable at a glance


def _centroid_scores(sentences: list[str]) -> list[float]:
    """Cosine similarity of each sentence's tf-idf vector to the abstract's centroid: how central it is."""
    try:
        rows = fit_vectors(
            sentences, sublinear_tf=True
        )  # TfidfVectorizer(stop_words="english", sublinear_tf=True)
    except ValueError:  # empty vocabulary: only stop words or symbols
        return [0.0] * len(sentences)
    centroid: Vector = {}
    for row in rows:
        centroid = add(centroid, row)
    size = norm(centroid)  # the mean's direction is the sum's: the count divides out of the cosine
    if size == 0.0:
        return [0.0] * len(sentences)
    # Rows are unit length, so the dot product with the unit centroid is the cosine.
    return [dot(row, centroid) / size for row in rows]


def _score(sentence: str, centrality: float) -> float:
    score = centrality
    for pattern, weight in _CUES:
        if pattern.search(sentence):
            score += weight
    if _BOILERPLATE.search(sentence):
        score -= _BOILERPLATE_PENALTY
    if _DEPENDENT_OPENER.match(sentence):
        score -= _DEPENDENT_PENALTY
    words = len(sentence.split())
    if words < 6:
        score -= 0.3  # fragments ("1) Unsupervised retrievers ...") read badly out of context
    return score


def summarize(abstract: str, max_sentences: int = 3) -> str:
    """The 2-`max_sentences` most informative sentences of `abstract`, verbatim, in their original order.

    Abstracts with at most `max_sentences` sentences come back whole (whitespace collapsed). Boilerplate
    (code links, venue notes) is chosen only if nothing else is left.
    """
    max_sentences = max(1, max_sentences)
    sentences = split_sentences(abstract)
    if len(sentences) <= max_sentences:
        return " ".join(sentences)
    centrality = _centroid_scores(sentences)
    scores = [_score(s, c) for s, c in zip(sentences, centrality, strict=True)]
    # Highest score first; ties go to the earlier sentence so the result never depends on sort stability.
    ranking = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    chosen: list[int] = []
    length = 0
    for i in ranking:
        if len(chosen) >= max_sentences:
            break
        if len(chosen) >= 2 and (scores[i] < 0 or length + len(sentences[i]) > _MAX_CHARS):
            break  # two good sentences beat three where the third is boilerplate or makes it a wall of text
        chosen.append(i)
        length += len(sentences[i]) + 1
    return " ".join(sentences[i] for i in sorted(chosen))
