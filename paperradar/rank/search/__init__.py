"""Search by words and by meaning over the archive: the vector index (`paperradar index`) and its fusion
with the FTS5 ranking. Front ends (CLI, web UI, MCP) call `search_archive` with an index from
`load_index` or an `IndexCache`."""

from paperradar.rank.search.hybrid import SearchHit, SearchMode, SearchResult, search_archive
from paperradar.rank.search.index import IndexCache, IndexReport, VectorIndex, build_index, load_index

__all__ = [
    "IndexCache",
    "IndexReport",
    "SearchHit",
    "SearchMode",
    "SearchResult",
    "VectorIndex",
    "build_index",
    "load_index",
    "search_archive",
]
