"""`paperradar init --github-actions`: the workflow parses, runs on the right schedule with the right
permissions, carries the archive between runs, and only ever references secrets by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from paperradar.config import load_config
from paperradar.publish.github_actions import DEFAULT_CRON, render_workflow, secret_names, write_workflow

FAKE_KEY = "sk-live-0123456789abcdefFAKEKEY"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean true; GitHub reads it as "on".
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps_by_use(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}


def cron_matches(expr: str, minute: int, hour: int, weekday: int) -> bool:
    """Tiny cron check (numbers, ranges, lists, *) for the five-field expressions GitHub accepts."""

    def field(spec: str, value: int) -> bool:
        for part in spec.split(","):
            if part == "*":
                return True
            lo, _, hi = part.partition("-")
            if int(lo) <= value <= int(hi or lo):
                return True
        return False

    m, h, dom, mon, dow = expr.split()
    return field(m, minute) and field(h, hour) and dom == "*" and mon == "*" and field(dow, weekday)


def test_workflow_parses_and_has_schedule_permissions_and_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DEEPSEEK_API_KEY", FAKE_KEY
    )  # present in the environment, must not leak into the file
    path = write_workflow(tmp_path, secrets=["DEEPSEEK_API_KEY"])
    assert path == tmp_path / ".github" / "workflows" / "paperradar.yml"
    text = path.read_text(encoding="utf-8")
    data = load(path)
    assert data["on"]["schedule"] == [{"cron": DEFAULT_CRON}] and "workflow_dispatch" in data["on"]
    # 05:30 UTC Monday to Friday: after the RSS rebuild at 05:00 UTC, on the feed's five days.
    assert all(cron_matches(DEFAULT_CRON, 30, 5, d) for d in range(1, 6))
    assert not any(cron_matches(DEFAULT_CRON, 30, 5, d) for d in (0, 6))
    assert data["permissions"] == {"contents": "read"}
    deploy = data["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "digest" and deploy["environment"]["name"] == "github-pages"
    assert steps_by_use(deploy)["actions/deploy-pages"]["id"] == "deployment"
    job = data["jobs"]["digest"]
    uses = steps_by_use(job)
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    run_step = next(s for s in job["steps"] if "paperradar run" in s.get("run", ""))
    assert run_step["env"] == {"DEEPSEEK_API_KEY": "${{ secrets.DEEPSEEK_API_KEY }}"}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_site"
    assert any(s.get("run") == "paperradar publish site --out _site" for s in job["steps"])
    assert FAKE_KEY not in text and not re.search(r"\bsk-[A-Za-z0-9]", text)
    # Every secret is a ${{ secrets.X }} reference; nothing else is assigned to a key-like variable.
    assert re.findall(r"DEEPSEEK_API_KEY: (.*)", text) == ["${{ secrets.DEEPSEEK_API_KEY }}"]


def test_archive_is_restored_and_saved_every_run(tmp_path: Path) -> None:
    data = load(write_workflow(tmp_path, db_path="data/radar.db"))
    job = data["jobs"]["digest"]
    names = [s.get("uses", s.get("run", "")).split("@")[0] for s in job["steps"]]
    run = next(i for i, n in enumerate(names) if "paperradar run" in n)
    assert names.index("actions/cache/restore") < run < names.index("actions/cache/save")
    uses = steps_by_use(job)
    assert uses["actions/cache/restore"]["with"]["path"] == "data/radar.db*"
    assert uses["actions/cache/restore"]["with"]["restore-keys"].strip() == "paperradar-db-"
    assert uses["actions/cache/save"]["with"]["key"] == uses["actions/cache/restore"]["with"]["key"]
    assert uses["actions/cache/save"]["if"].startswith("always()")  # saved after a failed run too


def test_exit_code_5_does_not_stop_the_site(tmp_path: Path) -> None:
    data = load(write_workflow(tmp_path))
    script = next(s["run"] for s in data["jobs"]["digest"]["steps"] if "paperradar run" in s.get("run", ""))
    assert '"$status" -eq 5' in script and 'exit "$status"' in script


def test_delivery_steps_and_secret_names_from_config(tmp_path: Path) -> None:
    cfg_path = tmp_path / "paperradar.toml"
    cfg_path.write_text(
        '[llm]\nbackend = "openai"\n[[llm.endpoints]]\nbase_url = "https://api.deepseek.com/v1"\n'
        'model = "deepseek-chat"\napi_key_env = "DEEPSEEK_API_KEY"\n',
        encoding="utf-8",
    )
    names = secret_names(load_config(cfg_path))
    assert names == ["DEEPSEEK_API_KEY"]
    data = load(write_workflow(tmp_path, secrets=[*names, "PAPERRADAR_SLACK_WEBHOOK"], deliver=["slack"]))
    step = next(s for s in data["jobs"]["digest"]["steps"] if s.get("run") == "paperradar publish slack")
    assert step["continue-on-error"] is True
    assert step["env"]["PAPERRADAR_SLACK_WEBHOOK"] == "${{ secrets.PAPERRADAR_SLACK_WEBHOOK }}"


def test_custom_cron_and_python(tmp_path: Path) -> None:
    target = tmp_path / "custom.yml"
    data = load(write_workflow(target, cron="15 6 * * 1-5", python="3.12"))
    assert data["on"]["schedule"] == [{"cron": "15 6 * * 1-5"}]
    assert steps_by_use(data["jobs"]["digest"])["actions/setup-python"]["with"]["python-version"] == "3.12"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secrets": [FAKE_KEY]},  # a key pasted where a name belongs
        {"secrets": ["A B"]},
        {"secrets": ["X }}\n  evil: ${{ github.token"]},
        {"cron": "30 5 * *"},
        {"cron": "30 5 * * 1-5\n  evil: 1"},
        {"python": "3.11\nevil"},
        {"db_path": "../etc/passwd"},
        {"deliver": ["sms"]},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as info:
        render_workflow(**kwargs)
    assert FAKE_KEY not in str(info.value)


def test_existing_file_needs_force(tmp_path: Path) -> None:
    path = write_workflow(tmp_path)
    path.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_workflow(tmp_path)
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert write_workflow(tmp_path, force=True) == path and "paperradar run" in path.read_text(
        encoding="utf-8"
    )
