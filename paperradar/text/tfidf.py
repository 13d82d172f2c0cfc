"""tf-idf as scikit-learn's TfidfVectorizer computes it (smooth idf, optional sublinear tf, L2-normalized
rows), in plain Python for the small batches a day needs: a pool of a few hundred papers, one abstract's
sentences. Importing scikit-learn costs about a second of start-up (it pulls in SciPy), more than the whole
computation; the archive-wide index (rank/search) and the personal models still use numpy/scikit-learn.
tests/test_text_tfidf.py checks the weights equal scikit-learn's."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

# scikit-learn's ENGLISH_STOP_WORDS (BSD-3-Clause; from the Glasgow Information Retrieval Group's list),
# copied so that reading it does not import scikit-learn. The test compares it with the original.
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    [
        "a",
        "about",
        "above",
        "across",
        "after",
        "afterwards",
        "again",
        "against",
        "all",
        "almost",
        "alone",
        "along",
        "already",
        "also",
        "although",
        "always",
        "am",
        "among",
        "amongst",
        "amoungst",
        "amount",
        "an",
        "and",
        "another",
        "any",
        "anyhow",
        "anyone",
        "anything",
        "anyway",
        "anywhere",
        "are",
        "around",
        "as",
        "at",
        "back",
        "be",
        "became",
        "because",
        "become",
        "becomes",
        "becoming",
        "been",
        "before",
        "beforehand",
        "behind",
        "being",
        "below",
        "beside",
        "besides",
        "between",
        "beyond",
        "bill",
        "both",
        "bottom",
        "but",
        "by",
        "call",
        "can",
        "cannot",
        "cant",
        "co",
        "con",
        "could",
        "couldnt",
        "cry",
        "de",
        "describe",
        "detail",
        "do",
        "done",
        "down",
        "due",
        "during",
        "each",
        "eg",
        "eight",
        "either",
        "eleven",
        "else",
        "elsewhere",
        "empty",
        "enough",
        "etc",
        "even",
        "ever",
        "every",
        "everyone",
        "everything",
        "everywhere",
        "except",
        "few",
        "fifteen",
        "fifty",
        "fill",
        "find",
        "fire",
        "first",
        "five",
        "for",
        "former",
        "formerly",
        "forty",
        "found",
        "four",
        "from",
        "front",
        "full",
        "further",
        "get",
        "give",
        "go",
        "had",
        "has",
        "hasnt",
        "have",
        "he",
        "hence",
        "her",
        "here",
        "hereafter",
        "hereby",
        "herein",
        "hereupon",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "however",
        "hundred",
        "i",
        "ie",
        "if",
        "in",
        "inc",
        "indeed",
        "interest",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "keep",
        "last",
        "latter",
        "latterly",
        "least",
        "less",
        "ltd",
        "made",
        "many",
        "may",
        "me",
        "meanwhile",
        "might",
        "mill",
        "mine",
        "more",
        "moreover",
        "most",
        "mostly",
        "move",
        "much",
        "must",
        "my",
        "myself",
        "name",
        "namely",
        "neither",
        "never",
        "nevertheless",
        "next",
        "nine",
        "no",
        "nobody",
        "none",
        "noone",
        "nor",
        "not",
        "nothing",
        "now",
        "nowhere",
        "of",
        "off",
        "often",
        "on",
        "once",
        "one",
        "only",
        "onto",
        "or",
        "other",
        "others",
        "otherwise",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "part",
        "per",
        "perhaps",
        "please",
        "put",
        "rather",
        "re",
        "same",
        "see",
        "seem",
        "seemed",
        "seeming",
        "seems",
        "serious",
        "several",
        "she",
        "should",
        "show",
        "side",
        "since",
        "sincere",
        "six",
        "sixty",
        "so",
        "some",
        "somehow",
        "someone",
        "something",
        "sometime",
        "sometimes",
        "somewhere",
        "still",
        "such",
        "system",
        "take",
        "ten",
        "than",
        "that",
        "the",
        "their",
        "them",
        "themselves",
        "then",
        "thence",
        "there",
        "thereafter",
        "thereby",
        "therefore",
        "therein",
        "thereupon",
        "these",
        "they",
        "thick",
        "thin",
        "third",
        "this",
        "those",
        "though",
        "three",
        "through",
        "throughout",
        "thru",
        "thus",
        "to",
        "together",
        "too",
        "top",
        "toward",
        "towards",
        "twelve",
        "twenty",
        "two",
        "un",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "well",
        "were",
        "what",
        "whatever",
        "when",
        "whence",
        "whenever",
        "where",
        "whereafter",
        "whereas",
        "whereby",
        "wherein",
        "whereupon",
        "wherever",
        "whether",
        "which",
        "while",
        "whither",
        "who",
        "whoever",
        "whole",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)

# TfidfVectorizer's default token_pattern, lower-cased input.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def default_tokens(text: str) -> list[str]:
    """TfidfVectorizer(stop_words="english")'s analyzer: lower-case words of 2+ characters, no stop words."""
    return [w for w in _TOKEN.findall(text.lower()) if w not in ENGLISH_STOP_WORDS]


Vector = dict[str, float]


class Tfidf:
    """Fitted on `documents` (each already a list of tokens). Raises ValueError on an empty vocabulary, as
    scikit-learn does, so callers keep one way of handling "nothing but stop words"."""

    def __init__(self, documents: Iterable[Sequence[str]], *, sublinear_tf: bool = False):
        df: Counter[str] = Counter()
        n = 0
        for tokens in documents:
            n += 1
            df.update(set(tokens))
        if not df:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        self.sublinear_tf = sublinear_tf
        self.idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}

    def vector(self, tokens: Sequence[str]) -> Vector:
        """One document's row: tf (1 + ln tf when sublinear) x idf over the fitted vocabulary, unit length."""
        row: Vector = {}
        for term, count in Counter(tokens).items():
            idf = self.idf.get(term)
            if idf is not None:
                row[term] = ((1.0 + math.log(count)) if self.sublinear_tf else float(count)) * idf
        norm = math.sqrt(sum(v * v for v in row.values()))
        return {t: v / norm for t, v in row.items()} if norm > 0 else row


def fit_vectors(
    texts: Sequence[str], tokens: Callable[[str], list[str]] = default_tokens, *, sublinear_tf: bool = False
) -> list[Vector]:
    """fit_transform: each text's row, the model fitted on the texts themselves."""
    docs = [tokens(t) for t in texts]
    model = Tfidf(docs, sublinear_tf=sublinear_tf)
    return [model.vector(d) for d in docs]


def add(a: Vector, b: Vector) -> Vector:
    out = dict(a)
    for t, v in b.items():
        out[t] = out.get(t, 0.0) + v
    return out


def dot(a: Vector, b: Vector) -> float:
    if len(b) < len(a):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def norm(a: Vector) -> float:
    return math.sqrt(sum(v * v for v in a.values()))
