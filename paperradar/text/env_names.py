"""Names of environment variables that a config file writes where a secret would otherwise go: checked
the same way in every section ([llm] keys, [delivery] passwords and webhooks, [zotero], the workflow)."""

from __future__ import annotations

import re

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Shapes of real secrets: "://" (a webhook URL), OpenAI/DeepSeek "sk-", Slack "xox?-", Google "AIza", HF "hf_",
# Groq "gsk_", xAI "xai-", or a long token. Checked before the name pattern, so an error message never
# echoes a pasted secret back.
SECRET_LIKE = re.compile(r"://|^(sk-|sk_|xox[abp]-|AIza|hf_|gsk_|xai-)|^[A-Za-z0-9_\-]{40,}$")


def check_env_name(value: str, key: str, example: str = "PAPERRADAR_SECRET", what: str = "the secret") -> str:
    """`value` stripped, or ValueError saying what to write instead (never repeating a secret)."""
    value = value.strip()
    if SECRET_LIKE.search(value):
        raise ValueError(
            f"{key} looks like {what} itself; put it in an environment variable and write that "
            f"variable's name here (e.g. {key} = '{example}')"
        )
    if not ENV_NAME.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name; use letters, digits and _ (e.g. '{example}')"
        )
    return value
