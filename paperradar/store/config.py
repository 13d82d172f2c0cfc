"""The [store] config section: where the archive lives."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StoreConfig(_Section):
    path: Path = Path("paperradar.db")
