"""The [store] config section: where the archive lives."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StoreConfig(_Section):
    path: Path = Path("paperradar.db")
    # The longest a writer (`run --wait`, `import`, `fetch`, ...) queues behind another run, in seconds.
    lock_wait: float = Field(7200.0, ge=0, le=7 * 86400)
