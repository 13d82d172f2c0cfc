"""The backends paperradar ships, each a plugin like any installed one (see llm/plugins.py)."""
