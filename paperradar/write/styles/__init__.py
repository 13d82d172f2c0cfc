"""The highlight, review and dialogue styles: config and plan, the LLM tasks that write them (tasks.py),
their answer schemas, the extractive highlight, and the stored form. Pages are rendered by publish/."""
