"""Text helpers any stage may use: sentence splitting and the extractive summary, token estimates,
Markdown escaping, and the zh/ja/en label catalogs. A leaf: it imports nothing of paperradar but models."""
