"""What answers cost before they are asked: typical answer sizes per task (tokens), used to size each call's
timeout (a dialogue takes longer than a title) and by `paperradar run --estimate` to price a day.

The sizes are medians of the realistic-answer corpus (tests/fixtures/answers/corpus.jsonl: real model output
in these genres, seeds 000-004 and their variants), rounded up, in paperradar's own token estimate.
"""

from __future__ import annotations

# Output tokens of one answer; interest is per paper and per reason language.
OUTPUT_TOKENS: dict[str, int] = {
    "interest": 70,
    "title": 40,
    "summary": 250,
    "brief": 290,  # a title and a summary
    "company": 30,
    "style:highlight": 240,
    "style:review": 1500,
    "style:dialogue": 1500,
}
TIMEOUT_PER_1000_TOKENS = 1.0  # a call's timeout grows by its endpoint timeout per 1,000 expected tokens


def expected_output(task: str, papers: int = 1, languages: int = 1) -> int:
    """Typical answer tokens of one call for `task` ("style_review" and "style:review" both work)."""
    key = task.replace("style_", "style:", 1)
    base = OUTPUT_TOKENS.get(key, 200)
    return base * papers * languages if key == "interest" else base


def timeout_for(task: str, base: float, papers: int = 1, languages: int = 1) -> float:
    """The endpoint's timeout, stretched for long answers: a model writes a 1,500-token review slower than a
    title, and a request abandoned on a short timeout is paid for and asked again."""
    return base * max(1.0, TIMEOUT_PER_1000_TOKENS * expected_output(task, papers, languages) / 1000)
