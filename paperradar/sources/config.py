"""The [sources] config section: which categories, which announcement kinds, where arXiv is, how politely."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

# arXiv archive names are lower case (cs, math, hep-th, q-bio, astro-ph); subject classes are upper case
# (IR, CO) except for physics archives whose subclasses are lower case words (cond-mat.str-el, physics.optics).
_CATEGORY_RE = re.compile(r"^[a-z][a-z-]*(\.([A-Z]{2}|[a-z][a-z-]*))?$")
_KNOWN_UPPER_ARCHIVES = ("cs", "math", "stat", "eess", "econ", "q-bio", "q-fin", "astro-ph")
MIB = 1 << 20


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SourcesConfig(_Section):
    categories: list[str] = Field(default_factory=lambda: ["cs.IR"], min_length=1)
    include_cross_lists: bool = True
    include_replacements: bool = False
    contact: str = ""
    rss_url: str = "https://rss.arxiv.org/rss/"
    api_url: str = "https://export.arxiv.org/api/query"
    html_url: str = "https://arxiv.org/html"
    # The digest's top papers without a known company: read their author block from arXiv's HTML (one
    # request each, cached) before the model is asked. See rank/affiliations.py.
    company_from_html: bool = True
    pdf_url: str = "https://arxiv.org/pdf"
    request_delay: float = Field(3.0, ge=0)
    timeout: float = Field(30.0, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    batch_size: int = Field(200, ge=1, le=2000)
    # Limits (issue 12): what arrives is bounded in size, and nothing waits forever. Defaults are far above
    # real data: the cs.IR feed is ~1 MB, a 200-id API page ~1 MB, a PDF rarely over 30 MB.
    max_retry_after: float = Field(300.0, ge=0, le=86400)  # a longer Retry-After: give up (exit 3)
    request_deadline: float = Field(120.0, gt=0, le=3600)  # one request, all its bytes
    stage_deadline: float = Field(1800.0, gt=0, le=86400)  # intake (feed + look-ups), full text: each
    max_feed_bytes: int = Field(64 * MIB, ge=64 * 1024)  # the RSS feed, decompressed
    max_api_bytes: int = Field(64 * MIB, ge=64 * 1024)  # one API page, decompressed
    max_fulltext_bytes: int = Field(128 * MIB, ge=64 * 1024)  # one HTML or PDF rendering, decompressed
    max_line_bytes: int = Field(16 * MIB, ge=4096)  # one JSON line of an imported file
    max_field_chars: int = Field(256 * 1024, ge=1024)  # one stored text field (title, abstract, authors...)

    @field_validator("categories")
    @classmethod
    def _check_categories(cls, value: list[str]) -> list[str]:
        for cat in value:
            check_category(cat)
        return list(dict.fromkeys(value))

    @property
    def kinds(self) -> frozenset[str]:
        """The announcement kinds a day's digest lists: new papers, cross-lists and replacements as configured."""
        kinds = {"new"}
        if self.include_cross_lists:
            kinds.add("cross")
        if self.include_replacements:
            kinds |= {"replace", "replace-cross"}
        return frozenset(kinds)


def check_category(cat: str) -> str:
    """Raise ValueError with the likely fix when `cat` is not an arXiv category name."""
    if not isinstance(cat, str) or not _CATEGORY_RE.match(cat):
        suggestion = ""
        if isinstance(cat, str) and "." in cat:
            archive, _, sub = cat.partition(".")
            if archive.lower() in _KNOWN_UPPER_ARCHIVES and sub.isalpha() and len(sub) == 2:
                suggestion = f"; did you mean '{archive.lower()}.{sub.upper()}'?"
        raise ValueError(f"{cat!r} is not an arXiv category name (like cs.IR or math.CO){suggestion}")
    archive, _, sub = cat.partition(".")
    if archive in _KNOWN_UPPER_ARCHIVES and sub and not sub.isupper():
        raise ValueError(f"{cat!r} is not an arXiv category name; did you mean '{archive}.{sub.upper()}'?")
    return cat
