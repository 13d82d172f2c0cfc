"""paperradar against real providers' dialects, replayed on loopback (tests/llm_dialect_server.py).

Each test runs the public writing API (a backend's write(), write_texts, `llm check`) against one fixture of
tests/fixtures/llm_dialects/ (the README there cites where each answer shape comes from) and asserts the
RIGHT outcome: parsed, retried, skipped with a truthful reason, or a one-line error that names the fix.
Where today's code gets it wrong the test is xfail(strict=True) with the reason, so it flips when fixed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# --- paperradar's API: the only imports of paperradar modules ----------------------------------------------
from paperradar.llm import Declined, LLMConfig, WriteRequest, get_backend, write_texts
from paperradar.llm.check import check
from paperradar.llm.default_plugins.openai import OpenAIBackend
from paperradar.models import GeneratedText, Paper
from paperradar.store import Store

# ----------------------------------------------------------------------------------------------------------
from tests.llm_dialect_server import FIXTURES, Dialect, DialectServer

PROFILE = "Industrial recommendation: retrieval, ranking, CTR prediction, generative recommendation."
ABSTRACTS = Path(__file__).parent / "fixtures" / "llm_abstracts.jsonl"
KEY = "sk-test-0123456789abcdef"  # what the fixtures' 401 bodies echo (masked) back
Start = Callable[[str], DialectServer]  # the dialect_server fixture: starts a server for a fixture name


def papers(n: int = 1, title_suffix: dict[int, str] | None = None) -> list[Paper]:
    rows = [json.loads(line) for line in ABSTRACTS.read_text(encoding="utf-8").splitlines()[:n]]
    suffix = title_suffix or {}
    return [
        Paper(r["id"], r["title"] + suffix.get(i, ""), r["authors"], r["abstract"], comment=r["comment"])
        for i, r in enumerate(rows)
    ]


def config(
    server: DialectServer, *, base_url: str | None = None, model: str | None = None, **over: Any
) -> LLMConfig:
    endpoint: dict[str, Any] = {
        "base_url": base_url or server.url,
        "model": model or server.model,
        "timeout": over.pop("timeout", 2.0),
    }
    if "api_key_env" in over:
        endpoint["api_key_env"] = over.pop("api_key_env")
    over.setdefault("max_retries", 1)
    over.setdefault("concurrency", 1)  # request counts below are exact only one at a time
    return LLMConfig.model_validate({"backend": "openai", "endpoints": [endpoint], **over})


def backend(cfg: LLMConfig) -> OpenAIBackend:
    # get_backend("openai", cfg) builds the same object; the short backoff keeps this file fast.
    return OpenAIBackend(cfg, interests=PROFILE, backoff=0.05)


def write(
    server: DialectServer, task: str = "summary", n: int = 1, lang: str = "zh", **over: Any
) -> tuple[list[Any], OpenAIBackend]:
    b = backend(config(server, **over))
    return b.write([WriteRequest(p, task, lang) for p in papers(n)]), b


def declined(result: Any) -> Declined:
    assert isinstance(result, Declined), result
    return result


# --- reasoning models ------------------------------------------------------------------------------------


def test_think_block_with_braces_before_bare_json(dialect_server: Start) -> None:
    server = dialect_server("ollama_v1_think_in_content")
    [r], _ = write(server)
    assert isinstance(r, GeneratedText) and "<think>" not in r.content and "Okay" not in r.content


def test_think_block_before_fenced_json(dialect_server: Start) -> None:
    server = dialect_server("ollama_v1_think_fenced")
    [r], b = write(server)
    assert isinstance(r, GeneratedText) and "think" not in r.content
    assert len(server.chat_calls) == 1 and b.usage.repairs == 0


def test_think_close_tag_only(dialect_server: Start) -> None:
    server = dialect_server("ollama_v1_think_close_only")
    [r], _ = write(server)
    assert isinstance(r, GeneratedText) and "</think>" not in r.content


@pytest.mark.parametrize("name", ["ollama_v1_reasoning_field", "vllm_reasoning_content"])
def test_reasoning_in_its_own_field_is_not_the_answer(dialect_server: Start, name: str) -> None:
    server = dialect_server(name)
    out, b = write(server, "interest", n=3)
    assert all(isinstance(r, GeneratedText) for r in out)
    assert all("Okay" not in r.content for r in out)  # the reasoning text never lands in a stored field
    assert len(server.chat_calls) == 1 and server.chat_calls[0].has_schema  # both honour json_schema
    assert b.usage.estimated_calls == 0 and b.usage.tokens_in > 0


def test_deepseek_reasoner_tokens_billed(dialect_server: Start) -> None:
    server = dialect_server("deepseek_reasoner")
    prices = {server.model: {"input_per_mtok": 0.55, "output_per_mtok": 2.19}}
    [r], b = write(server, prices=prices)
    assert isinstance(r, GeneratedText) and "The user wants" not in r.content
    # completion_tokens (1218) already holds the 1100 reasoning tokens: all of it is billed, once
    assert (b.usage.tokens_in, b.usage.tokens_out, b.usage.estimated_calls) == (420, 1218, 0)
    assert b.usage.cost == pytest.approx((420 * 0.55 + 1218 * 2.19) / 1e6)
    # deepseek-reasoner rejects json_schema: one rejected request, then text answers
    assert [c.has_schema for c in server.chat_calls] == [True, False]


def test_reasoning_spent_all_tokens_declined_truthfully(dialect_server: Start) -> None:
    server = dialect_server("deepseek_reasoner_length")
    [r], b = write(server)
    d = declined(r)
    assert d.status == "failed" and "cut off" in d.detail
    assert b.usage.tokens_out == 2 * 256 and b.usage.repairs == 1  # the empty answers were still paid for


# --- response_format: json_schema, json_object only, none -------------------------------------------------


@pytest.mark.parametrize("name", ["deepseek_json_schema_unavailable", "deepseek_json_schema_422_legacy"])
def test_json_schema_rejected_falls_back_to_text(dialect_server: Start, name: str) -> None:
    server = dialect_server(name)
    out, _ = write(server, n=3)
    assert all(isinstance(r, GeneratedText) for r in out)
    assert [c.has_schema for c in server.chat_calls] == [True, False, False, False]  # asked once per run
    result = check(config(server))
    assert result.error is None and result.json_schema_ok is False


def test_json_schema_supported_openai_via_get_backend(dialect_server: Start) -> None:
    server = dialect_server("openai_json_schema")
    b = get_backend("openai", config(server))
    out = b.write([WriteRequest(p, "title", "ja") for p in papers(2)])
    assert all(isinstance(r, GeneratedText) and r.mode == "gpt-4o-mini" for r in out)
    # the answer names the dated snapshot; texts are recorded under the configured name
    assert all(c.body["response_format"]["type"] == "json_schema" for c in server.chat_calls)
    assert (b.usage.tokens_in, b.usage.tokens_out) == (2 * 412, 2 * 96)  # type: ignore[attr-defined]
    result = check(config(server))
    assert result.error is None and result.json_schema_ok is True


def test_deepseek_json_mode_blank_content_is_repaired(dialect_server: Start) -> None:
    server = dialect_server("deepseek_json_mode_empty_content")
    [r], b = write(server)
    assert isinstance(r, GeneratedText)
    assert b.usage.repairs == 1 and server.chat_calls[-1].is_repair


# --- content filters and refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "azure_400_content_filter",
        "azure_200_content_filter",
        "dashscope_data_inspection_failed",
        "dashscope_data_inspection_failed_algo",
        "openai_refusal",
    ],
)
def test_content_filter_skipped_not_retried(dialect_server: Start, name: str) -> None:
    server = dialect_server(name)
    [r], b = write(server)
    d = declined(r)
    assert d.status == "skipped" and "content filter" in d.detail
    assert len(server.chat_calls) == 1 and b.usage.retries == 0 and b.usage.repairs == 0
    if name == "openai_refusal":
        assert "can't assist" in d.detail  # the model's own words, not a guess


def test_zhipu_1301_is_a_content_filter(dialect_server: Start) -> None:
    server = dialect_server("zhipu_1301_sensitive")
    [r], _ = write(server)
    d = declined(r)
    assert d.status == "skipped" and len(server.chat_calls) == 1


def test_zhipu_finish_sensitive_is_a_content_filter(dialect_server: Start) -> None:
    server = dialect_server("zhipu_finish_sensitive")
    [r], _ = write(server)
    d = declined(r)
    assert d.status == "skipped" and len(server.chat_calls) == 1


def test_deepseek_content_risk_skips_only_that_paper(dialect_server: Start) -> None:
    server = dialect_server("deepseek_content_risk")
    b = backend(config(server))
    ps = papers(4, {2: " MODERATION-MARKER"})
    out = b.write([WriteRequest(p, "interest", "zh") for p in ps])
    assert [type(r).__name__ for r in out] == ["GeneratedText", "GeneratedText", "Declined", "GeneratedText"]
    assert declined(out[2]).status == "skipped"


def test_filtered_text_is_stored_as_skipped_and_not_asked_again(
    dialect_server: Start, tmp_path: Path
) -> None:
    server = dialect_server("dashscope_data_inspection_failed")
    store = Store(tmp_path / "radar.db")
    ps = papers(1)
    store.save_papers(ps)
    b = backend(config(server))
    texts, counts, _ = write_texts(store, b, ps, ["summary"], "zh")
    assert counts.skipped == 1 and texts == {}
    calls = len(server.chat_calls)
    texts, counts, _ = write_texts(store, b, ps, ["summary"], "zh")
    assert counts.skipped == 1 and len(server.chat_calls) == calls


# --- keys, models, money ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["openai_401_bad_key", "deepseek_401_bad_key"])
def test_bad_key_names_the_env_var(dialect_server: Start, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    server = dialect_server(name)
    monkeypatch.setenv("RADAR_DIALECT_KEY", KEY)
    out, _ = write(server, n=3, api_key_env="RADAR_DIALECT_KEY")
    assert all("RADAR_DIALECT_KEY" in declined(r).detail for r in out)
    assert len(server.chat_calls) == 1  # the endpoint is disabled after the first 401
    assert server.chat_calls[0].headers["authorization"] == f"Bearer {KEY}"
    result = check(config(server, api_key_env="RADAR_DIALECT_KEY"))
    assert result.problem == "key" and result.error is not None and "RADAR_DIALECT_KEY" in result.error
    assert KEY not in result.error and "\n" not in result.error


@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("openai_json_schema", "gpt-4o-mini-typo"),
        ("ollama_v1_reasoning_field", "qwen3:4b"),
        ("vllm_reasoning_content", "Qwen/Qwen3-8B-Instruct"),
    ],
)
def test_unknown_model_names_the_model_key(dialect_server: Start, name: str, wrong: str) -> None:
    server = dialect_server(name)
    out, _ = write(server, n=2, model=wrong)
    assert all(f"model {wrong!r} not found" in declined(r).detail for r in out)
    assert all("[llm].endpoints[0].model" in declined(r).detail for r in out)
    assert len(server.chat_calls) == 1
    result = check(config(server, model=wrong))
    assert result.problem == "model" and result.error is not None and wrong in result.error


def test_base_url_without_v1_names_base_url(dialect_server: Start) -> None:
    server = dialect_server("ollama_v1_reasoning_field")  # Ollama answers gin's "404 page not found"
    [r], _ = write(server, base_url=server.root)
    assert "base_url" in declined(r).detail and "/v1" in declined(r).detail
    result = check(config(server, base_url=server.root))
    assert result.problem == "url" and result.error is not None and "/v1" in result.error


def test_insufficient_balance_stops_the_endpoint(dialect_server: Start) -> None:
    server = dialect_server("deepseek_402_insufficient_balance")
    out, _ = write(server, n=3)
    assert all("Insufficient Balance" in declined(r).detail for r in out)
    assert len(server.chat_calls) == 1


def test_insufficient_balance_check_says_so(dialect_server: Start) -> None:
    server = dialect_server("deepseek_402_insufficient_balance")
    result = check(config(server))
    assert result.error is not None and "Insufficient Balance" in result.error and "402" in result.error


def test_insufficient_quota_both_forms_stop_the_endpoint(dialect_server: Start) -> None:
    server = dialect_server("openai_429_insufficient_quota")
    out, b = write(server, n=3)
    assert all("quota" in declined(r).detail for r in out)
    assert len(server.chat_calls) == 1 and b.usage.retries == 0
    # the 2023 form (code null, type insufficient_quota) is recognised too
    out, _ = write(server, n=1)
    assert "quota exhausted" in declined(out[0]).detail and len(server.chat_calls) == 2


# --- rate limits and overload -----------------------------------------------------------------------------


def test_azure_429_honours_retry_after_ms(dialect_server: Start) -> None:
    server = dialect_server("azure_429_then_annotated_answer")
    [r], b = write(server)
    assert isinstance(r, GeneratedText)  # the content_filter_results annotations do not get in the way
    first, second = server.chat_calls
    waited = second.start - first.end
    assert 0.14 <= waited < 0.9  # retry-after-ms (150 ms), not retry-after (1 s), not our 50 ms backoff
    assert b.usage.retries == 1


def test_openai_429_waits_for_the_rate_limit_reset(dialect_server: Start) -> None:
    server = dialect_server("openai_429_rate_limit")
    [r], _ = write(server)
    assert isinstance(r, GeneratedText)
    first, second = server.chat_calls
    assert second.start - first.end >= 0.85


def test_openai_429_is_retried(dialect_server: Start) -> None:
    server = dialect_server("openai_429_rate_limit")
    [r], b = write(server)
    assert isinstance(r, GeneratedText) and b.usage.retries == 1 and b.usage.failed_calls == 1


@pytest.mark.parametrize("name", ["anthropic_529_overloaded", "proxy_502_html"])
def test_overloaded_or_bad_gateway_retried(dialect_server: Start, name: str) -> None:
    server = dialect_server(name)
    [r], b = write(server)
    assert isinstance(r, GeneratedText)
    assert [c.status for c in server.chat_calls] == [529 if "529" in name else 502, 200]
    assert b.usage.retries == 1


def test_llamacpp_loading_model_503_retried(dialect_server: Start) -> None:
    server = dialect_server("llamacpp_server")
    b = backend(config(server, model="qwen3-8b"))
    [r] = b.write([WriteRequest(papers(1, {0: " LOADING-MARKER"})[0], "summary", "zh")])
    assert isinstance(r, GeneratedText)
    assert [c.status for c in server.chat_calls] == [503, 200]


# --- usage and truncation ---------------------------------------------------------------------------------


def test_missing_usage_is_estimated_and_says_so(dialect_server: Start) -> None:
    server = dialect_server("no_usage")
    [r], b = write(server)
    assert isinstance(r, GeneratedText)
    assert b.usage.estimated_calls == 1 and b.usage.as_dict()["tokens_estimated"] is True
    assert b.usage.tokens_in > 0 and b.usage.tokens_out > 0


def test_length_cut_json_repaired_and_both_calls_billed(dialect_server: Start) -> None:
    server = dialect_server("length_truncated")
    [r], b = write(server)
    assert isinstance(r, GeneratedText)
    repair = server.chat_calls[1].body["messages"][-1]["content"]
    assert "cut off" in repair
    assert (b.usage.tokens_in, b.usage.tokens_out) == (2 * 412, 64 + 96)


# --- /v1/models and `llm check` ---------------------------------------------------------------------------


def test_check_says_which_model_a_server_really_serves(dialect_server: Start) -> None:
    server = dialect_server("llamacpp_server")
    result = check(config(server, model="qwen3-8b"))
    assert "Qwen3-8B-Q4_K_M.gguf" in str(result)


def test_llamacpp_accepts_any_model_name_today(dialect_server: Start) -> None:
    """What the xfail above is about: the write succeeds and records the configured name."""
    server = dialect_server("llamacpp_server")
    [r], _ = write(server, model="qwen3-8b")
    assert isinstance(r, GeneratedText) and r.mode == "qwen3-8b"


@pytest.mark.parametrize(
    "name", ["minimal_no_models_route", "openai_json_schema", "ollama_v1_reasoning_field"]
)
def test_check_passes_with_or_without_a_models_route(dialect_server: Start, name: str) -> None:
    server = dialect_server(name)
    result = check(config(server))
    assert result.error is None and result.problem is None


# --- transport --------------------------------------------------------------------------------------------


def test_slow_first_answer_times_out_then_retried(dialect_server: Start) -> None:
    server = dialect_server("transport_slow")
    [r], b = write(server, timeout=0.4)
    assert isinstance(r, GeneratedText) and b.usage.retries == 1 and len(server.chat_calls) == 2


def test_gzip_body(dialect_server: Start) -> None:
    server = dialect_server("transport_gzip")
    [r], b = write(server)
    assert isinstance(r, GeneratedText) and b.usage.tokens_in == 412


def test_body_cut_mid_json_retried(dialect_server: Start) -> None:
    server = dialect_server("transport_cut")
    [r], b = write(server)
    assert isinstance(r, GeneratedText) and b.usage.retries == 1 and len(server.chat_calls) == 2


def test_huge_looping_answer_declined_briefly(dialect_server: Start) -> None:
    server = dialect_server("transport_huge_loop")
    [r], b = write(server)
    d = declined(r)
    assert d.status == "failed" and len(d.detail) < 400
    echoed = server.chat_calls[1].body["messages"][2]["content"]
    assert len(echoed) <= 4000  # the repair does not send 4 MB back
    assert b.usage.tokens_out == 2 * 1_000_000  # what the server says was generated is what is billed


def test_html_page_with_200_names_base_url(dialect_server: Start) -> None:
    server = dialect_server("webui_200_html")
    [r], _ = write(server)
    assert "base_url" in declined(r).detail


def test_html_page_with_200_check_names_base_url(dialect_server: Start) -> None:
    server = dialect_server("webui_200_html")
    result = check(config(server))
    assert result.problem == "url" and result.error is not None and "base_url" in result.error


def test_unrequested_sse_stream(dialect_server: Start) -> None:
    server = dialect_server("sse_unrequested")
    [r], _ = write(server)
    if not isinstance(r, GeneratedText):
        assert len(server.chat_calls) == 1 and "stream" in declined(r).detail.lower()


# --- the fixtures themselves ------------------------------------------------------------------------------


def test_every_fixture_is_cited_in_the_readme() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    names = sorted(p.stem for p in FIXTURES.glob("*.json"))
    assert names and all(f"`{n}`" in readme for n in names), [n for n in names if f"`{n}`" not in readme]
    for name in names:
        dialect = Dialect.load(name)  # loads, and every reply parses
        assert dialect.sources and all(s.strip() for s in dialect.sources)
        assert re.fullmatch(r"[a-z0-9_]+", name)
