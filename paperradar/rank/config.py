"""The rank stage's config: the [keywords], [reader] and [muted] sections, and the settings one day's ranking
runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paperradar.llm.seam import InterestProfile
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


class MutedConfig(_Section):
    """The [muted] section (and a reader's `muted` table): papers the reader does not want at the top.
    `terms` are matched like keyword groups (inflection-aware, whole words, phrases) over title, abstract
    and comment; `categories` against the paper's primary category; `authors` like followed_authors.
    `drop` leaves a muted paper out of the digest, `demote` lists it after every other paper; either way
    the digest says how many were muted and which term, category or author did it."""

    terms: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    mode: Literal["drop", "demote"] = "drop"

    @field_validator("terms", "categories", "authors")
    @classmethod
    def _check_entries(cls, value: list[str]) -> list[str]:
        if any(not v.strip() for v in value):
            raise ValueError("has an empty entry; remove it")
        return [v.strip() for v in value]

    @property
    def active(self) -> bool:
        return bool(self.terms or self.categories or self.authors)


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
    muted: MutedConfig = field(default_factory=MutedConfig)
    # Whose interest answers these are when several readers share the archive (None: the one reader of a
    # config without [[readers]], scored with the backend's own interests text, as before readers existed).
    profile: InterestProfile | None = None
