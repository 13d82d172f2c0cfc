"""In-process GGUF backend through llama-cpp-python (`pip install 'paperradar[local]'`), for readers who
want no network and no key. Same prompts, schemas, validation and repair as the OpenAI backend; calls are
sequential (one model in memory, one context), and answers are grammar-constrained to the JSON schema.

llama_cpp is imported only when this backend is built, so it is never a requirement of paperradar.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Sequence
from typing import Any

from paperradar.errors import ConfigError
from paperradar.llm.chat import ChatBackend
from paperradar.llm.client import CallDeclined, ChatReply
from paperradar.llm.config import LLMConfig
from paperradar.llm.hookspecs import hookimpl
from paperradar.llm.prompts import Prompt
from paperradar.llm.seam import Backend, BackendFactory
from paperradar.models import Usage
from paperradar.text.tokens import estimate_tokens

# local_params keys that are sampling options for create_chat_completion; every other key goes to Llama().
SAMPLING_KEYS = frozenset({"temperature", "top_p", "top_k", "min_p", "max_tokens", "repeat_penalty", "seed"})


def _import_llama() -> Any:
    try:
        return importlib.import_module("llama_cpp")
    except ImportError:
        raise ConfigError(
            "backend 'llamacpp' needs llama-cpp-python, which is not installed",
            hint="pip install 'paperradar[local]'  (or set [llm].backend to 'openai' or 'extractive')",
        ) from None


class LlamaCppBackend(ChatBackend):
    def __init__(
        self, cfg: LLMConfig, *, interests: str = "", languages: Sequence[str] = (), llama: Any = None
    ):
        if cfg.model_path is None:
            raise ConfigError(
                "backend 'llamacpp' needs a model file", hint="set [llm].model_path = '/path/to/model.gguf'"
            )
        sampling = {k: v for k, v in cfg.local_params.items() if k in SAMPLING_KEYS}
        sampling.setdefault("temperature", 0.2)
        super().__init__(cfg, interests, sampling, languages)
        self.name = cfg.model
        self._usage = Usage()
        if llama is None:  # tests pass a stand-in object with create_chat_completion
            module = _import_llama()
            path = cfg.model_path
            if not path.exists():
                raise ConfigError(f"model file {path} does not exist", hint="fix [llm].model_path")
            options = {k: v for k, v in cfg.local_params.items() if k not in SAMPLING_KEYS}
            options.setdefault("n_ctx", 8192)
            options.setdefault("verbose", False)
            llama = module.Llama(model_path=str(path), **options)
        self.llama = llama
        self._lock: asyncio.Lock | None = None  # made per write(): a lock belongs to one event loop

    def _session(self) -> Any:
        return _Session(self)

    async def _call(
        self,
        prompt: Prompt,
        task: str,
        schema: dict[str, Any] | None,
        messages: list[dict[str, str]] | None = None,
    ) -> ChatReply:
        msgs = messages or prompt.messages
        budget = self.cfg.budget.max_calls
        if budget is not None and self.usage.calls >= budget:
            raise CallDeclined("budget", f"budget exhausted: max_calls={budget} reached")
        kwargs: dict[str, Any] = dict(self.params)
        if schema is not None and self.cfg.json_schema != "off":
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        self.usage.calls += 1
        self.usage.task(task).calls += 1
        assert self._lock is not None
        async with self._lock:  # one context: strictly one generation at a time
            try:
                out = await asyncio.to_thread(self.llama.create_chat_completion, messages=msgs, **kwargs)
            except Exception as exc:  # llama.cpp raises plain ValueError/RuntimeError (e.g. context full)
                self.usage.failed_calls += 1
                self.usage.task(task).failed_calls += 1
                raise CallDeclined("failed", f"llama.cpp: {type(exc).__name__}: {exc}") from None
        choice = out["choices"][0]
        content = choice["message"].get("content") or ""
        usage = out.get("usage") or {}
        estimated = "prompt_tokens" not in usage
        tokens_in = prompt.est_tokens if estimated else int(usage["prompt_tokens"])
        tokens_out = estimate_tokens(content) if estimated else int(usage.get("completion_tokens") or 0)
        self.usage.tokens_in += tokens_in
        self.usage.tokens_out += tokens_out
        self.usage.task(task).tokens_in += tokens_in
        self.usage.task(task).tokens_out += tokens_out
        self.usage.estimated_calls += estimated
        return ChatReply(
            content,
            str(choice.get("finish_reason") or ""),
            tokens_in,
            tokens_out,
            estimated,
            "response_format" in kwargs,
        )


class _Session:
    def __init__(self, backend: LlamaCppBackend):
        self.backend = backend

    async def __aenter__(self) -> None:
        self.backend._lock = asyncio.Lock()

    async def __aexit__(self, *exc: object) -> None:
        self.backend._lock = None


def _llamacpp(config: LLMConfig, *, interests: str = "", languages: Sequence[str] = ()) -> Backend:
    return LlamaCppBackend(config, interests=interests, languages=languages)


@hookimpl
def register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    register("llamacpp", _llamacpp)
