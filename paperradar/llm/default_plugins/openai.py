"""The OpenAI-compatible backend (OpenAI, DeepSeek, Qwen/DashScope, Moonshot, Zhipu, vLLM, SGLang, Ollama,
llama.cpp server, LM Studio): the task logic of llm/chat.py over the HTTP client of llm/client.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from paperradar.errors import ConfigError
from paperradar.llm.chat import ChatBackend
from paperradar.llm.client import ChatClient, ChatReply
from paperradar.llm.config import LLMConfig
from paperradar.llm.estimate import timeout_for
from paperradar.llm.hookspecs import hookimpl
from paperradar.llm.prompts import Prompt
from paperradar.llm.seam import Backend, BackendFactory, CallProgress
from paperradar.text.tokens import estimate_tokens


class OpenAIBackend(ChatBackend):
    """`OpenAIBackend(cfg, interests=...)`: the [llm] section and the reader's interests text (part of the
    interest task's prompt). `usage` accumulates over write() calls; `progress` gets a Progress after every
    request."""

    def __init__(
        self,
        cfg: LLMConfig,
        *,
        interests: str = "",
        languages: Sequence[str] = (),
        progress: Callable[[CallProgress], None] | None = None,
        backoff: float = 0.5,
    ):
        if not cfg.endpoints:
            raise ConfigError(
                "the openai backend needs at least one endpoint",
                hint="add [[llm.endpoints]] with base_url, model and api_key_env to the config",
            )
        super().__init__(cfg, interests, dict(cfg.endpoints[0].params), languages)
        self.client = ChatClient(cfg, progress=progress, backoff=backoff)
        self.name = cfg.endpoints[0].model
        self._usage = self.client.usage

    def on_progress(self, callback: Callable[[CallProgress], None] | None) -> None:
        self.client.progress = callback

    async def _call(
        self,
        prompt: Prompt,
        task: str,
        schema: dict[str, Any] | None,
        messages: list[dict[str, str]] | None = None,
    ) -> ChatReply:
        msgs = messages or prompt.messages
        est = prompt.est_tokens + sum(estimate_tokens(m["content"]) for m in msgs[2:])
        # Long answers get longer: the timeout grows with the answer's typical size (llm/estimate.py).
        if prompt.reasons:  # several readers' reasons in one answer (llm/panel.py)
            stretch = timeout_for(task, 1.0, prompt.reasons)
        else:
            stretch = timeout_for(
                task, 1.0, len(prompt.ids) or 1, len(self.reason_languages("en")) if task == "interest" else 1
            )
        return await self.client.chat(msgs, task, schema, est, timeout_factor=stretch)

    def _session(self) -> Any:
        return self.client.session()

    def _plan(self, calls: int) -> None:
        self.client.planned = calls


def _openai(config: LLMConfig, *, interests: str = "", languages: Sequence[str] = ()) -> Backend:
    return OpenAIBackend(config, interests=interests, languages=languages)


@hookimpl
def register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    register("openai", _openai)
