"""Search by meaning on the static site, with no server: per-paper tf-idf vectors the browser compares with
the query's (site_static/search.js), fused with the word matches the way `paperradar search` fuses them.

What is shipped (search-meaning.json, and search-meaning.js for file:// pages):
- the vocabulary and its idf, fitted on the site's own papers (title and abstract, the text the CLI's
  index embeds: rank/search/index.py), weighted as the CLI's tf-idf search weights them (rank/search/
  tfidf.py, equal to scikit-learn's TfidfVectorizer(stop_words="english", sublinear_tf=True,
  strip_accents="unicode", min_df=2)), computed by the plain-Python text/tfidf.py;
- per paper, only its `TOP_TERMS` heaviest words, weights of the full l2-normalised row times 1000,
  rounded. Not renormalised after the cut: a dot product with the query then approximates the full
  cosine, the dropped words being the lightest. A site of 1,000 papers ships about 0.3 MB (see
  docs/BENCHMARKS.md);
- the fusion constants of the CLI's tf-idf search (rank/search/hybrid.py: FUSION_TFIDF), so both rank
  alike: score = 1/(k + word rank) + w/(k + meaning rank).

No stop-word list is shipped: stop words never enter the vocabulary, so a query's stop words fall out as
every other word outside it does. Only words in some paper's shipped top words are shipped; a query word
outside them matches no paper's row anyway (it changes only the query's length, which the ranking by dot
product ignores). CJK text has no tf-idf words here (scikit-learn's pattern makes a whole run of ideographs
one token): CJK queries are served by the word path alone.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from paperradar.rank.search.hybrid import DEPTH, FUSION_TFIDF
from paperradar.text.tfidf import ENGLISH_STOP_WORDS, Tfidf

FORMAT = "paperradar-site-meaning-1"
MEANING_GLOBAL = "PAPERRADAR_MEANING"
TOP_TERMS = 24  # words kept per paper: measured on 1,000 real abstracts (docs/BENCHMARKS.md)
MIN_DF = 2  # as the CLI's index: a word in one paper only says nothing about its neighbours
WEIGHT_SCALE = 1000  # weights as integers: "137" is shorter than "0.137" and keeps three digits
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


def _strip_accents(text: str) -> str:
    """scikit-learn's strip_accents="unicode": NFKD, combining marks dropped."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """The CLI's search tokens (ArchiveTfidf.tokens): lower case, accents stripped, words of two or more
    word characters, English stop words out. search.js's `tokens` does the same in the browser."""
    return [t for t in _TOKEN.findall(_strip_accents(text.lower())) if t not in ENGLISH_STOP_WORDS]


@dataclass(frozen=True, slots=True)
class MeaningIndex:
    terms: list[str]  # the shipped vocabulary, most common first (small numbers for the common words)
    idf: list[float]
    ids: list[str]  # arXiv ids, aligned with rows
    rows: list[list[int]]  # per paper: [term, weight x 1000, term, weight x 1000, ...], heaviest first

    def to_json(self) -> str:
        body = {
            "format": FORMAT,
            "how": (
                "tf-idf of title and abstract (sublinear tf x smooth idf, l2-normalised; scikit-learn "
                f"token pattern, English stop words, accents stripped, words in at least {MIN_DF} papers), "
                f"fitted on this site's papers; the {TOP_TERMS} heaviest words per paper, "
                f"weights x {WEIGHT_SCALE}"
            ),
            "fusion": {"k": FUSION_TFIDF.k, "w": FUSION_TFIDF.vector_weight, "depth": DEPTH},
            "terms": self.terms,
            "idf": self.idf,
            "ids": self.ids,
            "rows": self.rows,
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def paper_text(title: str, abstract: str) -> str:
    return f"{title}. {abstract}".strip()  # as rank/search/index.py (and rank/personal/embeddings.py)


def build_meaning_index(papers: Iterable[tuple[str, str]], top_terms: int = TOP_TERMS) -> MeaningIndex:
    """`papers`: (arXiv id, title and abstract as paper_text makes it). Papers with no word in the
    vocabulary get an empty row (the word path still finds them). The idf is text/tfidf.py's; the rows are
    its `vector` (sublinear tf x idf, l2) computed here from counts made once per paper (calling `vector`
    per paper counted every paper twice and was the largest cost), then cut to the heaviest words."""
    ids: list[str] = []
    counted: list[Counter[str]] = []
    for arxiv_id, text in papers:
        ids.append(arxiv_id)
        counted.append(Counter(tokens(text)))
    df: Counter[str] = Counter()
    for counts in counted:
        df.update(counts.keys())
    floor = MIN_DF if len(counted) >= 20 else 1  # as the CLI: a tiny archive keeps every word
    kept = {t for t, n in df.items() if n >= floor}
    if not kept:
        return MeaningIndex([], [], ids, [[] for _ in ids])
    idf = Tfidf([[t for t in counts if t in kept] for counts in counted], sublinear_tf=True).idf
    log, sqrt = math.log, math.sqrt
    heaviest: list[list[tuple[str, int]]] = []
    used: Counter[str] = Counter()
    for counts in counted:
        row = [(-(1.0 + log(n)) * idf[t], t) for t, n in counts.items() if t in idf]  # idf: kept words
        if not row:
            heaviest.append([])
            continue
        scale = WEIGHT_SCALE / sqrt(sum(w * w for w, _ in row))
        row.sort()  # heaviest first, equal weights by the word: the same cut on every build
        scaled = [(t, round(-w * scale)) for w, t in row[:top_terms]]
        scaled = [(t, w) for t, w in scaled if w > 0]
        heaviest.append(scaled)
        used.update(t for t, _ in scaled)
    terms = sorted(used, key=lambda t: (-used[t], t))
    number = {t: i for i, t in enumerate(terms)}
    rows = [[x for t, w in row for x in (number[t], w)] for row in heaviest]
    return MeaningIndex(terms, [round(idf[t], 4) for t in terms], ids, rows)


def rank_by_meaning(index: MeaningIndex, query: str, order: list[str] | None = None) -> list[str]:
    """The papers search.js ranks by meaning for `query`, best first (at most DEPTH): the query's
    (1 + ln count) x idf per word, dot product with each paper's shipped weights; equal scores in `order`
    (the search index's order, newest first; default the index's own). The reference the browser tests
    hold search.js to, and what the relevance check measures."""
    number = {t: i for i, t in enumerate(index.terms)}
    counts = Counter(t for t in tokens(query) if t in number)
    weights = {number[t]: (1.0 + math.log(c)) * index.idf[number[t]] for t, c in counts.items()}
    scores: dict[str, float] = {}
    for arxiv_id, row in zip(index.ids, index.rows, strict=True):
        score = sum(weights[t] * w for t, w in zip(row[::2], row[1::2], strict=True) if t in weights)
        if score > 0:
            scores[arxiv_id] = score
    place = {a: i for i, a in enumerate(order if order is not None else index.ids)}
    return sorted(scores, key=lambda a: (-scores[a], place.get(a, len(place))))[:DEPTH]
