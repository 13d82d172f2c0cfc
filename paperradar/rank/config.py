"""The rank stage's config: the [keywords] and [reader] sections, and the settings one day's ranking runs with."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paperradar.models import Language
from paperradar.rank.personal.config import PersonalConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class KeywordsConfig(_Section):
    groups: dict[str, list[str]] = Field(default_factory=dict)
    aliases: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("groups")
    @classmethod
    def _check_groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for group, words in value.items():
            for word in words:
                if not word.strip():
                    raise ValueError(f"group {group!r} has an empty keyword; remove it")
        return value


class ReaderConfig(_Section):
    interests: str = ""


@dataclass(frozen=True, slots=True)
class RankSettings:
    """What ranking one day needs, taken from [sources], [keywords], [reader], [output] and [personal]."""

    categories: tuple[str, ...]
    kinds: frozenset[str]  # announcement kinds the digest lists (new, cross, replace...)
    language: Language  # the digest language: heuristic reasons and company names are written in it
    languages: tuple[str, ...]  # every output language: each gets its own reason
    top_n: int
    order: tuple[str, ...]
    keywords: KeywordsConfig
    interests: str
    personal: PersonalConfig
