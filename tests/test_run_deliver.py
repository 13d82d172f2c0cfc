"""Delivery from the CLI: `run` sends the day to every configured channel after writing the digest; a failed
delivery exits 5 and keeps the digest; `publish CHANNEL` re-sends; `init --github-actions` writes a workflow."""

from __future__ import annotations

import yaml

from tests.cli_runner import cli
from tests.deliver_servers import Reply, WebhookServer

HOOK_SECRET = "/hooks/T0SECRET/abcdef0123456789"


def test_run_delivers_to_the_webhook(write_config, monkeypatch, capsys):
    with WebhookServer() as server:
        monkeypatch.setenv("RADAR_HOOK", server.url(HOOK_SECRET))
        cfg = write_config(
            '[delivery]\nretries = 1\nbackoff = 0.0\n[delivery.webhook]\nurl_env = "RADAR_HOOK"\n'
        )
        assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-10") == 0
        body = server.requests[-1].json()
    assert body["day"] == "2026-02-10" and len(body["items"]) == 20
    out = capsys.readouterr().out
    assert "delivered: webhook" in out and "abcdef0123456789" not in out


def test_failed_delivery_exits_5_and_keeps_the_digest(write_config, monkeypatch, capsys):
    with WebhookServer(default=Reply(status=500, body=b"down")) as server:
        monkeypatch.setenv("RADAR_HOOK", server.url(HOOK_SECRET))
        cfg = write_config(
            '[delivery]\nretries = 1\nbackoff = 0.0\n[delivery.webhook]\nurl_env = "RADAR_HOOK"\n'
        )
        assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-10") == 5
    captured = capsys.readouterr()
    assert (
        "delivery failed: webhook" in captured.err and "abcdef0123456789" not in captured.err + captured.out
    )
    assert (cfg.parent / "out" / "digests" / "2026-02-10.zh.md").exists()
    # once the hook is back, publish re-sends the stored day without recomputing anything
    with WebhookServer() as server:
        monkeypatch.setenv("RADAR_HOOK", server.url(HOOK_SECRET))
        assert cli("--config", str(cfg), "publish", "webhook", "--date", "2026-02-10") == 0
        assert server.requests[-1].json()["day"] == "2026-02-10"


def test_unconfigured_channel_is_a_usage_error(write_config, capsys):
    cfg = write_config()
    assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-10") == 0
    assert cli("--config", str(cfg), "publish", "slack", "--date", "2026-02-10") == 2


def test_init_github_actions_writes_a_workflow(tmp_path, capsys):
    cfg = tmp_path / "paperradar.toml"
    cfg.write_text(
        '[llm]\nbackend = "openai"\n[[llm.endpoints]]\nbase_url = "https://api.deepseek.com/v1"\n'
        'model = "deepseek-chat"\napi_key_env = "DEEPSEEK_API_KEY"\n',
        encoding="utf-8",
    )
    assert cli("init", "--path", str(cfg), "--github-actions") == 0
    workflow = tmp_path / ".github" / "workflows" / "paperradar.yml"
    doc = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    text = workflow.read_text(encoding="utf-8")
    assert "schedule" in doc[True] or "schedule" in doc.get("on", {})
    assert "${{ secrets.DEEPSEEK_API_KEY }}" in text and "paperradar run" in text
    assert "DEEPSEEK_API_KEY" in capsys.readouterr().out
    assert cli("init", "--path", str(cfg), "--github-actions") == 2  # exists: needs --force
