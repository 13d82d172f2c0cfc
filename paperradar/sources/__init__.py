"""sources: where papers come from. The daily RSS feed, the query API (look-ups and searches), and
offline files (JSON-lines dumps, saved Atom responses). Everything network-bound goes through
PoliteClient, which keeps arXiv's request spacing and retry rules."""

from paperradar.sources.api import ArxivAPI
from paperradar.sources.atom import ArxivApiError, AtomPage, parse_atom
from paperradar.sources.files import JsonlReader, ReadStats, detect_format, read_atom_file, read_jsonl
from paperradar.sources.http import HTTPStatusError, PoliteClient, user_agent
from paperradar.sources.ids import from_safe_filename, parse_arxiv_id, safe_filename
from paperradar.sources.rss import EMPTY_NOTE, fetch_feed, parse_rss

__all__ = [
    "EMPTY_NOTE",
    "ArxivAPI",
    "ArxivApiError",
    "AtomPage",
    "HTTPStatusError",
    "JsonlReader",
    "PoliteClient",
    "ReadStats",
    "detect_format",
    "fetch_feed",
    "from_safe_filename",
    "parse_arxiv_id",
    "parse_atom",
    "parse_rss",
    "read_atom_file",
    "read_jsonl",
    "safe_filename",
    "user_agent",
]
