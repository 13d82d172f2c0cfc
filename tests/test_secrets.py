"""Secrets never leak: an LLM API key (from the environment variable named by [[llm.endpoints]] api_key_env)
and a webhook URL with its token ([delivery.webhook] url_env) must not appear in anything a run writes.

Real processes (forked from the warm launcher of tests/process_rig.py) run with --debug, so every
log record at every level reaches stderr; stdout and stderr go to files in the run's folder. Then every
file under that folder is read byte by byte: the database and its WAL, digests, style pages, highlights,
the full-text cache, the static site, an export, and the captured output. Besides the happy path, the
servers are made hostile: the LLM endpoint answers 401 quoting the key it received (as OpenAI does), the
webhook answers 401/500 quoting the URL path with its token, so error messages, retry logs and stored
failure details are exercised too.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.deliver_servers import Reply, WebhookServer
from tests.fake_llm import Fault
from tests.process_rig import Launcher, Rig

KEY_ENV = "RADAR_SECRET_TEST_KEY"
HOOK_ENV = "RADAR_SECRET_TEST_HOOK"


def forms(secret: str) -> dict[str, bytes]:
    """The shapes a leaked secret could take in a file: as is, its distinctive core, URL-quoted, base64."""
    core = secret.removeprefix("sk-")[3:-3]
    return {
        "verbatim": secret.encode(),
        "core": core.encode(),
        "url-quoted": quote(secret, safe="").encode(),
        "base64": base64.b64encode(secret.encode()).rstrip(b"="),
        "utf-16": secret.encode("utf-16-le"),
    }


def leaks(folder: Path, secret_forms: dict[str, dict[str, bytes]]) -> list[str]:
    found = []
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for what, shapes in secret_forms.items():
            for shape, needle in shapes.items():
                if needle in data:
                    found.append(f"{what} ({shape}) in {path.relative_to(folder)}")
    return found


def run(rig: Rig, folder: Path, name: str, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    child = rig.launcher.start(
        ["--config", str(folder / "paperradar.toml"), "--debug", *argv],
        folder,
        folder / f"{name}.out",
        env=env,
        err=folder / f"{name}.err",
    )
    code = child.wait()
    return (
        code,
        (folder / f"{name}.out").read_text(encoding="utf-8", errors="replace"),
        (folder / f"{name}.err").read_text(encoding="utf-8", errors="replace"),
    )


@pytest.fixture
def secret_rig(launcher: Launcher):
    rig = Rig(launcher, latency=0.0, n_papers=30)
    try:
        yield rig
    finally:
        rig.close()


def config(rig: Rig, folder: Path) -> Path:
    return rig.config(
        folder,
        extra=f'api_key_env = "{KEY_ENV}"\n'
        f'[delivery]\nretries = 1\nbackoff = 0.0\n[delivery.webhook]\nurl_env = "{HOOK_ENV}"\n',
        llm_extra="max_retries = 1\n",
    )


def test_key_and_webhook_token_never_written_anywhere(tmp_path: Path, secret_rig: Rig):
    key = f"sk-radar-{secrets.token_hex(20)}"
    token = secrets.token_hex(16)
    hook_path = f"/hooks/T0RADAR/{token}"
    secret_rig.llm.api_key = key
    folder = tmp_path / "ok"
    config(secret_rig, folder)
    with WebhookServer() as hook:
        env = {KEY_ENV: key, HOOK_ENV: hook.url(hook_path)}
        the_forms = {
            "API key": forms(key),
            "webhook token": forms(token),
            "webhook URL": forms(hook.url(hook_path)),
        }
        code, out, err = run(secret_rig, folder, "run", ["run"], env)
        assert code == 0, err[-2000:]
        assert "delivered: webhook" in out
        # the key was really used, and the hook really called with its token
        assert all(c.headers.get("authorization") == f"Bearer {key}" for c in secret_rig.llm.chat_calls)
        assert hook.requests and hook.requests[-1].path == hook_path
        assert "DEBUG:" in err or "INFO:" in err  # --debug did turn every logger up
        for argv, name in (
            (["llm", "check"], "check"),
            (["publish", "site"], "site"),
            (["publish", "webhook"], "publish"),
            (["export", "-o", str(folder / "day.jsonl")], "export"),
        ):
            code, out, err = run(secret_rig, folder, name, argv, env)
            assert code == 0, (name, err[-2000:])
    assert (folder / "out" / "site").is_dir() and any((folder / "fulltext").iterdir())
    assert (folder / "radar.db-wal").exists() or (folder / "radar.db").exists()
    assert leaks(folder, the_forms) == []


def test_rejected_key_and_failing_hook_are_not_echoed(tmp_path: Path, secret_rig: Rig):
    key = f"sk-radar-{secrets.token_hex(20)}"
    token = secrets.token_hex(16)
    hook_path = f"/hooks/T0RADAR/{token}"
    # The endpoint rejects every call and quotes the key it got ("Incorrect API key provided: sk-...").
    secret_rig.llm.api_key = key
    secret_rig.llm.add(Fault("401", times=None))
    folder = tmp_path / "rejected"
    config(secret_rig, folder)
    echo = {"error": f"unknown hook {hook_path}", "url": f"http://127.0.0.1{hook_path}?t={token}"}
    with WebhookServer(
        replies=[Reply(status=401, body=echo)], default=Reply(status=500, body=f"hook {token} is down")
    ) as hook:
        env = {KEY_ENV: key, HOOK_ENV: hook.url(hook_path)}
        the_forms = {
            "API key": forms(key),
            "webhook token": forms(token),
            "webhook URL": forms(hook.url(hook_path)),
        }
        code, _, err = run(secret_rig, folder, "run", ["run"], env)
        # the server did echo the secrets back to the client
        assert any(c.status == 401 for c in secret_rig.llm.chat_calls)
        assert hook.requests
        # the run still publishes (extractive fields, labelled), reports both failures and names the variable
        assert code in (0, 2, 5), err[-2000:]
        assert (folder / "out" / "digests" / "2026-09-24.zh.md").exists()
        assert "delivery failed: webhook" in err
        code_check, _, err_check = run(secret_rig, folder, "check", ["llm", "check"], env)
        assert code_check == 2 and KEY_ENV in err_check
        code_pub, _, err_pub = run(secret_rig, folder, "publish", ["publish", "webhook"], env)
        assert code_pub == 5 and "webhook" in err_pub
    assert leaks(folder, the_forms) == []
