"""Checks on model text: faithfulness of numbers and names to the paper, and venues from the comment."""
