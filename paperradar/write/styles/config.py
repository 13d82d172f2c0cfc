"""The [styles] config section and the plan it gives: which papers get which style, in which languages."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

STYLES = ("digest", "highlight", "review", "dialogue")
Language = Literal["zh", "ja", "en"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StyleBand(_Section):
    """The top `top` papers of the day get `style` (top = 0 turns a style off)."""

    style: Literal["digest", "highlight", "review", "dialogue"]
    top: int = Field(ge=0, le=1000)


def _default_bands() -> list[StyleBand]:
    return [
        StyleBand(style="digest", top=20),
        StyleBand(style="highlight", top=10),
        StyleBand(style="review", top=3),
        StyleBand(style="dialogue", top=1),
    ]


class StyleConfig(_Section):
    """The [styles] config section.

    [styles]
    languages = ["zh", "ja"]
    templates_dir = "my-templates"   # files named <style>.<lang>.md.j2 there replace the built-in ones
    fulltext = true                  # review and dialogue read the paper's HTML/PDF, not only the abstract
    [[styles.bands]]
    style = "review"
    top = 3
    """

    bands: list[StyleBand] = Field(default_factory=_default_bands)
    # Empty: the [output] language only. The digest and every style are written in each language listed.
    languages: list[Language] = Field(default_factory=list)
    templates_dir: Path | None = None
    fulltext: bool = True
    fulltext_tokens: int = Field(6000, ge=500, le=200_000)  # budget for the paper text in a prompt

    @field_validator("bands")
    @classmethod
    def _unique_styles(cls, value: list[StyleBand]) -> list[StyleBand]:
        seen = [b.style for b in value]
        dupes = sorted({s for s in seen if seen.count(s) > 1})
        if dupes:
            raise ValueError(
                f"style {dupes[0]!r} has more than one band; keep one [[styles.bands]] per style"
            )
        return value

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


def style_task(style: str) -> str:
    """The write task of a style: "style:review". The digest's per-paper text is the existing "summary"."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
    return "summary" if style == "digest" else f"style:{style}"


def plan_styles(
    ranked_ids_in_order: Iterable[str], cfg_styles: StyleConfig, default_language: str = "zh"
) -> list[tuple[str, str, str]]:
    """(arxiv_id, style, language) for every page to make: band order, then rank, then language."""
    ids = list(dict.fromkeys(ranked_ids_in_order))
    languages: list[str] = list(cfg_styles.languages) or [default_language]
    return [
        (pid, band.style, lang) for band in cfg_styles.bands for pid in ids[: band.top] for lang in languages
    ]
