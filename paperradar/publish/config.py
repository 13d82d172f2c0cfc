"""The [output] config section: the digest's language, length, order, folder and time zone."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

OrderKey = Literal["keywords", "interest", "recency"]
ORDER_KEYS: tuple[OrderKey, ...] = ("keywords", "interest", "recency")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class OutputConfig(_Section):
    language: Literal["zh", "ja", "en"] = "zh"
    top_n: int = Field(20, ge=1, le=1000)
    max_authors: int = Field(4, ge=1, le=100)
    folder: Path = Path("out")
    timezone: str = "Asia/Shanghai"
    order: list[OrderKey] = Field(default_factory=lambda: list(ORDER_KEYS), min_length=1)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai' or 'UTC'"
            ) from None
        return value

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)
