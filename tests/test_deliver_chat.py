"""Chat delivery against a loopback HTTP server: payload shapes and limits (Slack, Discord, Feishu, WeCom,
generic webhook), splitting, escaping of hostile text, retries, Retry-After, failures, secret redaction."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any

import pytest

from paperradar.publish.deliver import DeliveryConfig, DigestMessage, deliver
from paperradar.publish.deliver.chat import (
    DISCORD_MAX_EMBED_TOTAL,
    discord_payloads,
    feishu_payloads,
    feishu_sign,
    slack_payloads,
    wecom_payloads,
)
from tests.deliver_servers import (
    SLACK_PATH,
    WECOM_PATH,
    Reply,
    WebhookServer,
    big_message,
    dead_port,
    hostile_message,
    zh_message,
)

FEISHU_SECRET = "feishu-signing-SECRET-42"
FEISHU_PATH = "/open-apis/bot/v2/hook/6e3c1a2b-0d4f-4b7e-9c1a-FEISHUTOKEN"
DISCORD_PATH = "/api/webhooks/112233445566/DiScOrDtOkEn-abcdefghijklmnop"
HOOK_AUTH = "Bearer hook-auth-TOKEN-777"
PATHS = {
    "slack": SLACK_PATH,
    "discord": DISCORD_PATH,
    "feishu": FEISHU_PATH,
    "wecom": WECOM_PATH,
    "webhook": "/in/hook-TOKEN-99999",
}
OK = {
    "slack": Reply(200, "ok"),
    "discord": Reply(204, b""),
    "feishu": Reply(200, {"code": 0, "msg": "success", "data": {}}),
    "wecom": Reply(200, {"errcode": 0, "errmsg": "ok"}),
    "webhook": Reply(200, {"received": True}),
}
SECTIONS: dict[str, dict[str, Any]] = {
    "slack": {"webhook_url_env": "SLACK_URL"},
    "discord": {"webhook_url_env": "DISCORD_URL"},
    "feishu": {"webhook_url_env": "FEISHU_URL", "secret_env": "FEISHU_SECRET"},
    "wecom": {"webhook_url_env": "WECOM_URL"},
    "webhook": {
        "url_env": "HOOK_URL",
        "headers": {"X-Source": "paperradar"},
        "headers_env": {"Authorization": "HOOK_AUTH"},
    },
}
ENV_NAMES = {
    "slack": "SLACK_URL",
    "discord": "DISCORD_URL",
    "feishu": "FEISHU_URL",
    "wecom": "WECOM_URL",
    "webhook": "HOOK_URL",
}


def cfg(channel: str, **extra: Any) -> DeliveryConfig:
    return DeliveryConfig.model_validate({channel: SECTIONS[channel], "retries": 2, "backoff": 0.5} | extra)


def env_for(srv_port: int, channel: str) -> dict[str, str]:
    return {
        ENV_NAMES[channel]: f"http://127.0.0.1:{srv_port}{PATHS[channel]}",
        "FEISHU_SECRET": FEISHU_SECRET,
        "HOOK_AUTH": HOOK_AUTH,
    }


def send(
    channel: str, message: DigestMessage, replies: list[Reply] = (), **extra: Any
) -> tuple[Any, WebhookServer, list[float]]:
    sleeps: list[float] = []
    with WebhookServer(replies, default=OK[channel]) as srv:
        result = deliver(
            channel, message, cfg(channel, **extra), env=env_for(srv.port, channel), sleep=sleeps.append
        )
    return result, srv, sleeps


def mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    texts = [payload["text"]]
    for block in payload["blocks"]:
        if block.get("text", {}).get("type") == "mrkdwn":
            texts.append(block["text"]["text"])
        texts += [el["text"] for el in block.get("elements", []) if el.get("type") == "mrkdwn"]
    return texts


# -- Slack -----------------------------------------------------------------------------------------------
def test_slack_splits_a_120_paper_digest_under_50_blocks() -> None:
    message = big_message(120)
    result, srv, sleeps = send("slack", message)
    assert result.ok, result.detail
    bodies = [r.json() for r in srv.requests]
    assert len(bodies) >= 8 and result.messages == len(bodies) == result.attempts
    assert all(len(body["blocks"]) <= 50 for body in bodies)
    assert bodies[0]["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "ArXiv cs.IR 每日论文摘要"},
    }
    assert all(body["blocks"][0]["type"] == "context" for body in bodies[1:])  # "(2/8)" continuation line
    ranks = [int(m) for body in bodies for t in mrkdwn_texts(body) for m in re.findall(r"\|(\d+)\. ", t)]
    assert ranks == list(range(1, 121))  # every paper once, in order, none split across messages
    assert bodies[-1]["text"].endswith(f"({len(bodies)}/{len(bodies)})")
    assert sleeps == [1.0] * (len(bodies) - 1)  # paced under Slack's 1 message/s
    assert all(r.headers["content-type"].startswith("application/json") for r in srv.requests)


def test_slack_escapes_mentions_links_and_html() -> None:
    result, srv, _ = send("slack", hostile_message())
    assert result.ok
    texts = [t for r in srv.requests for t in mrkdwn_texts(r.json())]
    joined = "\n".join(texts)
    assert "&lt;!channel&gt;" in joined and "&lt;script&gt;alert(1)&lt;/script&gt;" in joined
    assert "<!channel>" not in joined and "<!here>" not in joined and "<@U024BE7LH>" not in joined
    for text in texts:  # the only <...> tokens left are our own links to arXiv
        assert all(tok.startswith("https://arxiv.org/abs/") for tok in re.findall(r"<([^>]*)>", text)), text
    assert "*Original title*" not in joined and "*英文标题*" in joined  # zh labels, bold


# -- Discord ---------------------------------------------------------------------------------------------
def test_discord_respects_embed_and_content_limits() -> None:
    payloads = discord_payloads(big_message(120))
    assert len(payloads) >= 12
    assert [len(p["embeds"]) for p in payloads].count(0) == 0
    for p in payloads:
        assert len(p["embeds"]) <= 10 and len(p["content"]) <= 2000
        sizes = [len(e["title"]) + len(e["description"]) + len(e["footer"]["text"]) for e in p["embeds"]]
        assert sum(sizes) <= DISCORD_MAX_EMBED_TOTAL
        assert all(len(e["title"]) <= 256 and len(e["description"]) <= 4096 for e in p["embeds"])
        assert p["allowed_mentions"] == {"parse": []}
    titles = [e["title"] for p in payloads for e in p["embeds"]]
    assert [int(t.split(".")[0]) for t in titles] == list(range(1, 121))


def test_discord_neutralises_mass_mentions_and_markdown() -> None:
    result, srv, _ = send("discord", hostile_message())
    assert result.ok and result.attempts == 1
    body = srv.requests[0].json()
    assert body["allowed_mentions"] == {"parse": []}
    text = json.dumps(body, ensure_ascii=False)
    assert "@everyone" not in text and "@here" not in text and "@\u200beveryone" in text
    assert "<script>" not in text and "\\\\<script\\\\>" in text  # backslash-escaped (JSON doubles it)
    assert "[click me](javascript" not in text and "[phish](" not in text
    assert body["embeds"][0]["url"].startswith("https://arxiv.org/abs/")


# -- Feishu ----------------------------------------------------------------------------------------------
def test_feishu_card_is_signed_with_the_secret() -> None:
    result, srv, _ = send("feishu", zh_message())
    assert result.ok, result.detail
    body = srv.requests[0].json()
    ts = int(body["timestamp"])
    assert abs(time.time() - ts) < 120
    expected = base64.b64encode(
        hmac.new(f"{ts}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert body["sign"] == expected == feishu_sign(FEISHU_SECRET, ts)
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["title"] == {"tag": "plain_text", "content": "ArXiv cs.IR 每日论文摘要"}
    first = body["card"]["elements"][2]["text"]
    assert first["tag"] == "lark_md" and first["content"].startswith("**[1. SMES：通过专家稀疏化")


def test_feishu_escapes_at_all_and_splits_under_20kb() -> None:
    result, srv, _ = send("feishu", hostile_message())
    assert result.ok
    text = json.dumps(srv.requests[0].json(), ensure_ascii=False)
    assert "<at id=all>" not in text and "&#60;at id=all&#62;" in text and "<script>" not in text
    payloads = feishu_payloads(big_message(120))
    assert len(payloads) > 1
    assert all(len(json.dumps(p, ensure_ascii=False).encode()) + 100 <= 20 * 1024 for p in payloads)


def test_feishu_error_code_in_a_200_answer_is_a_failure() -> None:
    reply = Reply(
        200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
    )
    result, _, sleeps = send("feishu", zh_message(), [reply])
    assert not result.ok and result.failure == "refused" and result.attempts == 1 and sleeps == []
    assert "19021" in result.detail and "secret_env" in result.detail


# -- WeCom -----------------------------------------------------------------------------------------------
def test_wecom_messages_stay_under_4096_bytes() -> None:
    payloads = wecom_payloads(big_message(120))
    assert len(payloads) > 3
    contents = [p["markdown"]["content"] for p in payloads]
    assert all(p["msgtype"] == "markdown" for p in payloads)
    assert all(len(c.encode("utf-8")) <= 4096 for c in contents)
    ranks = [int(m) for c in contents for m in re.findall(r"^\*\*\[(\d+)\. ", c, re.MULTILINE)]
    assert ranks == list(range(1, 121))


def test_wecom_rate_limit_code_waits_a_minute_and_escapes() -> None:
    result, srv, sleeps = send(
        "wecom", hostile_message(), [Reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    )
    # Five papers make two WeCom messages: the first is retried after a minute, then paced (20/min).
    assert result.ok and result.messages == 2 and result.attempts == len(srv.requests) == 3
    assert sleeps == [60.0, 3.1]
    content = "\n".join(r.json()["markdown"]["content"] for r in srv.requests)
    assert "<@all>" not in content and "＜@all＞" in content and "<script>" not in content
    assert "[click me](javascript" not in content
    assert srv.requests[0].path == WECOM_PATH


# -- generic webhook -------------------------------------------------------------------------------------
def test_generic_webhook_posts_the_digest_as_json() -> None:
    message = zh_message()
    result, srv, _ = send("webhook", message)
    assert result.ok
    req = srv.requests[0]
    body = req.json()
    assert {"day", "language", "items", "digest_markdown"} <= set(body)
    assert (body["day"], body["language"], body["digest_markdown"]) == ("2026-02-17", "zh", message.markdown)
    first = body["items"][0]
    assert first["translated_title"] == "SMES：通过专家稀疏化实现可扩展的多任务推荐"
    assert first["link"] == "https://arxiv.org/abs/2602.09386v1" and first["score"] == 5
    assert first["companies"] == ["快手"] and first["keywords"][0] == "kuaishou"
    assert first["extractive_summary"] and first["heuristic_score"]
    assert req.headers["authorization"] == HOOK_AUTH and req.headers["x-source"] == "paperradar"
    assert HOOK_AUTH not in result.detail


# -- retries and failures (any channel shares the sender) -----------------------------------------------
def test_server_error_then_success_is_retried() -> None:
    result, srv, sleeps = send("slack", zh_message(), [Reply(500, "internal_error")])
    assert result.ok and result.attempts == 2 and sleeps == [0.5] and len(srv.requests) == 2


def test_429_retry_after_header_is_honoured() -> None:
    result, _, sleeps = send("slack", zh_message(), [Reply(429, "rate_limited", {"Retry-After": "7"})])
    assert result.ok and result.attempts == 2 and sleeps == [7.0]


def test_429_retry_after_in_discord_body_is_honoured() -> None:
    reply = Reply(429, {"message": "You are being rate limited.", "retry_after": 1.25, "global": False})
    result, _, sleeps = send("discord", zh_message(), [reply])
    assert result.ok and sleeps == [1.25]


def test_retry_after_longer_than_allowed_is_reported_not_waited() -> None:
    result, _, sleeps = send("slack", zh_message(), [Reply(429, "rate_limited", {"Retry-After": "86400"})])
    assert not result.ok and result.failure == "unavailable" and sleeps == [] and result.attempts == 1
    assert "86400" in result.detail and "max_retry_after" in result.detail


def test_other_client_error_fails_at_once() -> None:
    result, srv, sleeps = send("slack", zh_message(), [Reply(404, "no_service")])
    assert not result.ok and result.failure == "refused"
    assert result.attempts == 1 and len(srv.requests) == 1 and sleeps == []
    assert result.detail.startswith("slack:") and "404" in result.detail and "no_service" in result.detail


def test_persistent_server_errors_give_up() -> None:
    result, srv, sleeps = send("discord", zh_message(), [Reply(503, "down")] * 3)
    assert not result.ok and result.failure == "unavailable" and len(srv.requests) == 3
    assert result.attempts == 3 and sleeps == [0.5, 1.0] and "503" in result.detail


def test_split_delivery_reports_which_message_failed() -> None:
    result, _, _ = send("slack", big_message(120), [Reply(200, "ok"), Reply(400, "invalid_blocks")])
    assert not result.ok and result.messages == 1 and result.attempts == 2
    assert "message 2 of" in result.detail and "1 delivered before it" in result.detail


@pytest.mark.parametrize("channel", ["slack", "discord", "feishu", "wecom", "webhook"])
def test_network_down_names_the_channel_not_the_url(channel: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps: list[float] = []
    env = env_for(dead_port(), channel)
    result = deliver(channel, zh_message(), cfg(channel), env=env, sleep=sleeps.append)
    assert not result.ok and result.failure == "unavailable" and result.attempts == 3 and len(sleeps) == 2
    assert result.detail.startswith(f"{channel}: could not reach 127.0.0.1")
    token = PATHS[channel].rsplit("/", 1)[-1].split("=")[-1]
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert token not in result.detail and token not in logged and env[ENV_NAMES[channel]] not in logged


# -- secrets ---------------------------------------------------------------------------------------------
def test_secrets_are_redacted_from_results_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = SLACK_PATH.rsplit("/", 1)[-1]
    # A server that echoes the request path (with its token) in its error: the detail must not repeat it.
    result, _, _ = send("slack", zh_message(), [Reply(400, f"invalid_token for {SLACK_PATH}")])
    assert not result.ok and "[redacted]" in result.detail and token not in result.detail
    requests = [r for r in caplog.records if r.name == "httpx" and "HTTP Request" in r.getMessage()]
    assert requests and all("[redacted]" in r.getMessage() for r in requests)  # httpx logged, but redacted
    assert token not in caplog.text
    for channel, secret in (("feishu", FEISHU_SECRET), ("webhook", HOOK_AUTH)):
        caplog.clear()
        res, _, _ = send(channel, zh_message(), [Reply(400, f"bad {secret} {PATHS[channel]}")])
        assert not res.ok and secret not in res.detail and secret not in caplog.text
        assert PATHS[channel] not in res.detail and PATHS[channel] not in caplog.text


def test_missing_or_malformed_url_variable_is_a_config_failure() -> None:
    result = deliver("slack", zh_message(), cfg("slack"), env={})
    assert (result.ok, result.failure, result.attempts) == (False, "config", 0)
    assert "SLACK_URL is not set" in result.detail
    result = deliver(
        "slack", zh_message(), cfg("slack"), env={"SLACK_URL": "hooks.slack.com/services/T/B/SECRETSECRET"}
    )
    assert (
        result.failure == "config"
        and "not hold an http(s) URL" in result.detail
        and "SECRETSECRET" not in result.detail
    )


def test_an_empty_day_still_sends_a_message() -> None:
    empty = dataclasses.replace(zh_message(), items=[], empty_text="2026年02月17日 没有新论文公布。")
    for fmt in (slack_payloads, discord_payloads, feishu_payloads, wecom_payloads):
        payloads = fmt(empty)
        assert len(payloads) == 1 and "没有新论文公布" in json.dumps(payloads, ensure_ascii=False)
