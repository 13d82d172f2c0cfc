"""Store stage: the SQLite archive every other stage reads from and writes to."""

from paperradar.store.archive import SaveStats, Store
from paperradar.store.migrations import SCHEMA_VERSION
from paperradar.store.search import fts_query

__all__ = ["SCHEMA_VERSION", "SaveStats", "Store", "fts_query"]
