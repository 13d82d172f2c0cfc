"""`paperradar init --github-actions`: the workflow parses, passes the GitHub workflow schema
(check-jsonschema's vendored copy of SchemaStore's github-workflow.json), runs on the right schedule with
the right permissions, carries the archive between runs (cache + durable copy on a data branch), every
script is valid bash that takes no ${{ }} in its text, and it only ever references secrets by name.
The cache-miss path itself is played in tests/test_deploy_cache_miss.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from paperradar.config import load_config
from paperradar.publish.github_actions import (
    DATA_BRANCH,
    DEFAULT_CRON,
    render_workflow,
    secret_names,
    write_workflow,
)
from tests.workflow_player import Contexts, expressions, run_scripts

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

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
    cfg = load_config(cfg_path)
    names = secret_names(cfg.llm.endpoints, cfg.delivery)
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
        {"data_branch": "data branch"},
        {"data_branch": "../main"},
        {"data_branch": "x\n  evil: 1"},
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


def schema_errors(*paths: Path) -> dict[str, int]:
    """check-jsonschema over the files in one call: {file name: number of schema errors} (0: valid)."""
    result = subprocess.run(
        [
            str(CHECK_JSONSCHEMA),
            "-o",
            "json",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert not report["parse_errors"], report["parse_errors"]
    counts = {path.name: 0 for path in paths}
    for error in report["errors"]:
        counts[Path(error["filename"]).name] += 1
    assert (result.returncode == 0) == (sum(counts.values()) == 0), result.stderr
    return counts


def test_workflow_passes_the_github_workflow_schema(tmp_path: Path) -> None:
    path = write_workflow(
        tmp_path / "good.yml", secrets=["DEEPSEEK_API_KEY"], deliver=["mail", "slack"], cron="15 6 * * 1-5"
    )
    text = path.read_text(encoding="utf-8")
    # the linter has teeth: a misspelt permission, and a step with both `uses` and `run`, fail it
    misspelt = tmp_path / "misspelt.yml"
    misspelt.write_text(text.replace("contents: write", "contents: writ"), encoding="utf-8")
    both = tmp_path / "both.yml"
    both.write_text(
        text.replace(
            "      - uses: actions/checkout@v4\n", "      - uses: actions/checkout@v4\n        run: x\n"
        ),
        encoding="utf-8",
    )
    errors = schema_errors(path, misspelt, both)
    assert errors["good.yml"] == 0 and errors["misspelt.yml"] > 0 and errors["both.yml"] > 0, errors


def test_every_script_is_bash_that_takes_no_expression_in_its_text(tmp_path: Path) -> None:
    data = load(write_workflow(tmp_path, secrets=["DEEPSEEK_API_KEY"], deliver=["webhook"]))
    scripts = list(run_scripts(data))
    assert len(scripts) >= 7
    for name, script in scripts:
        result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        assert result.returncode == 0, (name, result.stderr)
        # values reach scripts through env: (data to the shell), never pasted into the code
        assert "${{" not in script, name
        if "\n" in script.strip():
            assert script.lstrip().startswith(("set -euo pipefail", "status=0")), name


def test_expressions_use_known_contexts_declared_inputs_and_declared_secrets(tmp_path: Path) -> None:
    secrets = ["DEEPSEEK_API_KEY", "PAPERRADAR_SLACK_WEBHOOK"]
    path = write_workflow(tmp_path, secrets=secrets, deliver=["slack"])
    text = path.read_text(encoding="utf-8")
    data = load(path)
    step_ids = {s["id"] for job in data["jobs"].values() for s in job["steps"] if "id" in s}
    declared_inputs = set(data["on"]["workflow_dispatch"]["inputs"])
    found_secrets = set()
    ctx = Contexts(
        github={"run_id": "1", "run_attempt": "1", "token": "t", "event_name": "schedule"},
        inputs={},
        secrets={name: "x" for name in secrets},
        env={},
        steps={i: {"outcome": "success", "outputs": {}} for i in step_ids},
    )
    conditions = [str(s["if"]) for job in data["jobs"].values() for s in job["steps"] if "if" in s]
    for expr in expressions(text) + conditions:
        ctx.evaluate(expr)  # parses, and names only contexts the player (and GitHub) know
        for context, name in re.findall(r"\b(secrets|inputs|steps)\.([A-Za-z0-9_\-]+)", expr):
            if context == "secrets":
                found_secrets.add(name)
            elif context == "inputs":
                assert name in declared_inputs, expr
            else:
                assert name in step_ids, expr
    assert found_secrets == set(secrets)  # every secret referenced is one the config names, and vice versa


def test_durable_copy_restore_guard_and_save_come_in_order(tmp_path: Path) -> None:
    data = load(write_workflow(tmp_path))
    assert data["permissions"] == {"contents": "read"}
    job = data["jobs"]["digest"]
    assert job["permissions"] == {"contents": "write", "actions": "write"}  # push the data branch; keepalive
    assert (
        data["env"]["PAPERRADAR_DATA_BRANCH"] == DATA_BRANCH
        and data["env"]["PAPERRADAR_DB"] == "paperradar.db"
    )
    names = [s.get("name") or s["uses"].split("@")[0] for s in job["steps"]]
    order = [
        "Restore the archive (cache)",
        "Restore the archive (durable copy) when the cache missed or is stale",
        "Run (fetch, rank, write, publish)",
        "Build the site",
        "Refuse a site with fewer days than the last deployment",
        f"Save the archive's durable copy ({DATA_BRANCH} branch)",
        "Save the archive (cache)",
        "actions/upload-pages-artifact",
    ]
    assert [names.index(n) for n in order] == sorted(names.index(n) for n in order)
    steps = {s.get("name"): s for s in job["steps"]}
    save = steps[f"Save the archive's durable copy ({DATA_BRANCH} branch)"]
    assert "steps.guard.outcome != 'failure'" in save["if"] and save["if"].startswith("always()")
    assert "git push --quiet origin" in save["run"] and "--force" not in save["run"]  # never rewrites history
    assert "paperradar import --archive" in steps[order[1]]["run"]
    keepalive = steps["Keep the schedule alive"]
    assert keepalive["continue-on-error"] is True and "/enable" in keepalive["run"]
    assert data["on"]["workflow_dispatch"]["inputs"]["allow_fewer_days"]["default"] is False


def test_init_writes_the_configured_store_path_into_the_workflow(tmp_path: Path) -> None:
    from tests.cli_runner import cli

    cfg = tmp_path / "paperradar.toml"
    cfg.write_text('[store]\npath = "data/radar.db"\n', encoding="utf-8")
    assert cli("init", "--path", str(cfg), "--github-actions") == 0
    data = load(tmp_path / ".github" / "workflows" / "paperradar.yml")
    assert data["env"]["PAPERRADAR_DB"] == "data/radar.db"
    assert steps_by_use(data["jobs"]["digest"])["actions/cache/restore"]["with"]["path"] == "data/radar.db*"
