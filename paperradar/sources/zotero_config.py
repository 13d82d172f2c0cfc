"""The `[zotero]` config section: which Zotero library `paperradar library sync` reads and where
`paperradar library save` (and the web UI's "save to Zotero" button) puts a paper.

    [zotero]
    library_id = "1234567"          # the number in zotero.org/settings/keys ("Your userID") or a group's id
    library_type = "user"           # user | group
    api_key_env = "ZOTERO_API_KEY"  # the NAME of the environment variable holding the key, never the key
    collection = "Reading"          # sync only this collection (its name or 8-character key); all when unset
    save_collection = "paperradar"  # where saved papers go (name or key); else `collection`, else the root

The section is absent by default: without it nothing talks to Zotero and the web UI shows no Zotero button.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paperradar.text.env_names import check_env_name

DEFAULT_BASE_URL = "https://api.zotero.org"
# Zotero object keys: 8 characters from this alphabet (Zotero Web API v3, write requests, "Object Keys").
KEY_ALPHABET = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
_KEY_RE = re.compile(f"^[{KEY_ALPHABET}]{{8}}$")


def is_zotero_key(value: str) -> bool:
    return bool(_KEY_RE.match(value))


class ZoteroConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    library_id: str = Field(min_length=1)
    library_type: Literal["user", "group"] = "user"
    api_key_env: str = "ZOTERO_API_KEY"
    collection: str | None = None
    save_collection: str | None = None
    # Tags put on every saved item, so the reader can find what paperradar added.
    save_tags: list[str] = Field(default_factory=lambda: ["paperradar"])
    # Tests point this at a loopback server; you never need to change it.
    base_url: str = DEFAULT_BASE_URL
    timeout: float = Field(30.0, gt=0)
    # Zotero may ask a client to wait (Backoff / Retry-After). Waits up to this long are honoured in place;
    # a longer one stops the command with a message saying when to try again.
    max_wait: float = Field(60.0, ge=0)

    @field_validator("library_id", mode="before")
    @classmethod
    def _check_library_id(cls, value: object) -> str:
        text = str(value).strip()  # TOML may give it as a number
        if not text.isdigit():
            raise ValueError(
                f"{text!r} is not a Zotero library id; it is a number (zotero.org/settings/keys shows yours, "
                "a group's is in its URL)"
            )
        return text

    @field_validator("api_key_env")
    @classmethod
    def _check_env(cls, value: str) -> str:
        return check_env_name(value, "api_key_env", "ZOTERO_API_KEY")

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("collection", "save_collection")
    @classmethod
    def _check_collection(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("an empty collection name; remove the key to use the whole library")
        return value.strip() if value is not None else None

    @property
    def library_path(self) -> str:
        """'users/123' or 'groups/456': the API's <userOrGroupPrefix> without the slash, and the name the
        sync state and the library rows are kept under."""
        return f"{self.library_type}s/{self.library_id}"
