"""The highlight without an LLM: sentences copied from the abstract, labelled extractive (nothing faked)."""

from __future__ import annotations

from paperradar.models import Paper
from paperradar.text.extractive import split_sentences, summarize
from paperradar.text.style_labels import TOPICS, topic_of
from paperradar.write.checks.faithful import quantities
from paperradar.write.styles.stored import StoredStyle


def key_sentence(abstract: str) -> str | None:
    """The abstract's sentence with the strongest number: a %, ×, pp or scaled count beats a bare decimal;
    then more numbers; then the earlier sentence. None when no sentence has a number with a unit."""
    weight = {"percent": 3, "pp": 3, "times": 3, "count": 2, "time": 2, "plain": 1}
    best: tuple[int, int, int] | None = None
    chosen = None
    for i, sentence in enumerate(split_sentences(abstract)):
        qs = [q for q in quantities(sentence) if q.kind != "plain" or q.decimal]
        if not qs:
            continue
        key = (max(weight[q.kind] for q in qs), len(qs), -i)
        if best is None or key > best:
            best, chosen = key, sentence
    return chosen


def extractive_highlight(paper: Paper) -> StoredStyle:
    """The highlight without an LLM, as a stored-form dict: copied sentences only, labelled extractive."""
    topic = topic_of(paper)
    key = key_sentence(paper.abstract) or ""
    explanation = summarize(paper.abstract)
    if key and key in explanation and explanation != key:  # shown once: in bold, as the key result
        explanation = " ".join(explanation.replace(key, " ").split())
    return {
        "style": "highlight",
        "extractive": True,
        "source": "abstract",
        "data": {
            "topic": topic,
            "emoji": TOPICS[topic]["emoji"],
            "explanation": explanation,
            "points": [],
            "key_result": key,
        },
    }
