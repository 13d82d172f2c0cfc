"""The `[mcp]` config section of `paperradar mcp`.

The server only reads the archive unless `allow_rating` is on: an agent can then rate papers up or down
like the reader does with `paperradar rate` or the web UI's buttons (the next ranking uses the ratings).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class McpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    allow_rating: bool = False
    # Most results a search may return (an agent asking for more gets this many).
    max_results: int = Field(50, ge=1, le=500)
    # `paperradar mcp --http`: the port on 127.0.0.1 for the streamable-HTTP transport.
    http_port: int = Field(8766, ge=0, le=65535)
