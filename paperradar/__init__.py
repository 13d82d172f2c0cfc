"""paperradar: watch arXiv for a reader, rank what matters, explain it, publish it daily."""

__version__ = "0.1.0"
