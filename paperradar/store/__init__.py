"""Store stage: the SQLite archive every other stage reads from and writes to."""

from paperradar.store.archive import SaveStats, Store, fts_query
from paperradar.store.migrations import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "SaveStats", "Store", "fts_query"]
