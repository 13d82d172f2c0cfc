"""A site folder written by a paperradar from before the ownership manifest (publish/owned_files.py):
recognised by what every such build wrote, and adopted rather than refused.

Every site paperradar ever built holds `search-index.js`, starting with the search index's global, and
`static/search.js`, the code that reads that global. Both together, as regular files, do not happen by
chance in a folder someone else made; either alone is not enough. An adopted folder's files at the names
the new build writes are overwritten (the old build wrote them) and its manifest is written from then on;
nothing is deleted, since which files the old build wrote is not recorded anywhere (a page it made for a
paper no longer in the archive stays, as it would have with that old version).
"""

from __future__ import annotations

from pathlib import Path

INDEX_SCRIPT = "search-index.js"
INDEX_PREFIX = b"window.PAPERRADAR_SEARCH = "
SEARCH_CODE = "static/search.js"
SEARCH_CODE_MARK = b'"PAPERRADAR_SEARCH"'


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _starts_with(path: Path, prefix: bytes) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(prefix)) == prefix


def is_legacy_site(folder: Path, manifest: str) -> bool:
    """Whether `folder` has no `manifest` and is a site an older paperradar built."""
    if (folder / manifest).exists() or (folder / manifest).is_symlink():
        return False
    index, code = folder / INDEX_SCRIPT, folder / SEARCH_CODE
    try:
        return (
            _regular(index)
            and _regular(code)
            and _starts_with(index, INDEX_PREFIX)
            and code.stat().st_size < 1_000_000  # our search code is a few kB; do not read a large file
            and SEARCH_CODE_MARK in code.read_bytes()
        )
    except OSError:  # unreadable: not something we can call ours
        return False
