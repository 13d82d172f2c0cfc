"""Publish stage: render a Digest as Markdown and export its records (JSONL, JSON, CSV)."""

from __future__ import annotations

from paperradar.publish.export import EXPORT_COLUMNS, export_records, write_export
from paperradar.publish.markdown import render_digest
from paperradar.text.labels import labels
from paperradar.text.markdown import escape_markdown

__all__ = ["EXPORT_COLUMNS", "escape_markdown", "export_records", "labels", "render_digest", "write_export"]
