"""The `[llm]` config section: which writing backend, which endpoints, how hard to push them, what a run
may spend. Secrets never live here: an endpoint names the environment variable that holds its key.

    [llm]
    backend = "openai"
    [[llm.endpoints]]
    base_url = "https://api.deepseek.com/v1"
    model = "deepseek-chat"
    api_key_env = "DEEPSEEK_API_KEY"
    params = { temperature = 0.2 }
    [llm.budget]
    max_cost = 1.0
    [llm.prices.deepseek-chat]
    input_per_mtok = 0.27
    output_per_mtok = 1.10
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from paperradar.text.env_names import check_env_name

# Request fields the backend sets itself; letting `params` override them would break parsing or caching.
RESERVED_PARAMS = frozenset({"model", "messages", "stream", "response_format", "n", "tools", "tool_choice"})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EndpointConfig(_Section):
    base_url: str
    model: str = Field(min_length=1)
    # The NAME of the environment variable holding the key; None for local servers that need none.
    api_key_env: str | None = None
    timeout: float = Field(60.0, gt=0, le=3600)
    params: dict[str, Any] = Field(default_factory=dict)  # e.g. temperature, max_tokens, top_p
    rpm: float | None = Field(None, gt=0)  # requests per minute this endpoint allows
    tpm: float | None = Field(None, gt=0)  # tokens per minute (prompt + completion)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL; use e.g. 'https://api.openai.com/v1'")
        if value.endswith("/chat/completions"):
            fixed = value.removesuffix("/chat/completions")
            raise ValueError(f"base_url stops before /chat/completions; use {fixed!r}")
        return value

    @field_validator("api_key_env")
    @classmethod
    def _check_env_name(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return check_env_name(value, "api_key_env", "OPENAI_API_KEY", what="an API key")

    @field_validator("params")
    @classmethod
    def _check_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = sorted(RESERVED_PARAMS & set(value))
        if bad:
            raise ValueError(
                f"params may not set {', '.join(bad)}: paperradar sets these itself; remove them "
                "(use [llm].json_schema for response_format)"
            )
        return value


class BudgetConfig(_Section):
    """Per-run ceilings. When the next call would pass one, no more calls are made this run."""

    max_calls: int | None = Field(None, ge=0)
    max_tokens: int | None = Field(None, ge=0)  # prompt + completion tokens
    max_cost: float | None = Field(None, ge=0)  # in the currency of [llm.prices]


class PriceConfig(_Section):
    input_per_mtok: float = Field(ge=0)  # price per million prompt tokens
    output_per_mtok: float = Field(ge=0)  # price per million completion tokens


class LLMConfig(_Section):
    backend: Literal["extractive", "openai", "llamacpp"] = "extractive"
    endpoints: list[EndpointConfig] = Field(default_factory=list)
    concurrency: int = Field(8, ge=1, le=256)  # requests in flight over all endpoints
    batch_size: int = Field(8, ge=1, le=50)  # papers per interest-scoring request
    # Several readers' interest questions over the same papers share a call: up to this many readers'
    # profiles per call, the papers sent once (fewer papers per call when the answer, profiles x papers x
    # reason languages, would outgrow the endpoint's max_tokens, else 4,096 tokens). 1 = a call per reader.
    profiles_per_call: int = Field(4, ge=1, le=32)
    max_retries: int = Field(4, ge=0, le=20)  # per call, on 429 / 5xx / timeouts
    # A text whose answer failed (or stayed invalid) this many runs is not asked again until --refresh or a
    # new prompt or model: a paper that always breaks the model stops costing money.
    give_up_after: int = Field(3, ge=1, le=100)
    # One answer's size once decompressed (real ones are kilobytes); a bigger one fails that call.
    max_response_bytes: int = Field(4 * 1024 * 1024, ge=4096, le=1024**3)
    # Seconds for all model calls of one run, retries included; past it the remaining texts keep their
    # extractive/heuristic fields (labelled), like a spent budget. Each call also has its endpoint's timeout.
    stage_deadline: float = Field(3600.0, gt=0, le=7 * 86400)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    prices: dict[str, PriceConfig] = Field(default_factory=dict)  # model name -> price
    # response_format json_schema: "auto" tries it and falls back to text extraction if an endpoint rejects it.
    json_schema: Literal["auto", "on", "off"] = "auto"
    # Interest scoring reads the title and the abstract cut to about this many tokens (head and tail
    # sentences: the problem and the results/deployment). 0 = the whole abstract.
    score_abstract_tokens: int = Field(200, ge=0, le=4000)
    # llamacpp: a local GGUF file, and extra keyword arguments for llama_cpp.Llama (n_ctx, n_gpu_layers...).
    model_path: Path | None = None
    local_params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_backend(self) -> LLMConfig:
        if self.backend == "openai":
            if not self.endpoints:
                raise ValueError(
                    "backend = 'openai' needs at least one [[llm.endpoints]] table with base_url and model"
                )
            models = list(dict.fromkeys(e.model for e in self.endpoints))
            if len(models) > 1:
                # The store records one model name per text; mixing models would mix cache entries.
                raise ValueError(
                    f"all [[llm.endpoints]] must serve the same model, found {', '.join(map(repr, models))}; "
                    "use one model name (several endpoints are for spreading load)"
                )
        if self.backend == "llamacpp" and self.model_path is None:
            raise ValueError("backend = 'llamacpp' needs model_path = '/path/to/model.gguf'")
        return self

    @property
    def model(self) -> str:
        """The model name texts are recorded under."""
        if self.backend == "llamacpp" and self.model_path is not None:
            return self.model_path.stem
        return self.endpoints[0].model if self.endpoints else self.backend
