"""Plays the GitHub Actions workflow that `paperradar init --github-actions` writes, on this machine.

Every `run:` step runs in bash exactly as written (GitHub's default shell for `run`, `bash -e {0}`), with the
workflow's, job's and step's `env:` and the GITHUB_* variables a runner sets. The `uses:` steps are emulated
with the semantics their documentation gives:
- actions/checkout: a fresh shallow clone (`--depth 1`, over file://) of a local bare repository standing
  for GitHub; git's credentials are not needed on loopback, so pushes work as the persisted token's do.
- actions/cache/restore and /save: a folder of immutable entries; restore takes the exact key, else the
  newest entry whose key starts with a restore-key (https://github.com/actions/cache#cache-version,
  "restore-keys ... the most recently created cache that matches"); outputs cache-hit ('true' only on an
  exact match) and cache-matched-key. Saving an existing key is refused with a warning, as GitHub does.
- actions/upload-pages-artifact and actions/deploy-pages: a copy of the folder; the deployment replaces
  the previous one.
- actions/setup-python: nothing (the test's interpreter is on PATH).
An unknown action fails the play: the player must know every action the workflow uses.

`${{ }}` and `if:` are evaluated by a small evaluator for the subset GitHub's expression syntax the
workflow uses (contexts github/inputs/secrets/steps/env, == != && || !, always() success() failure()
cancelled() hashFiles()); an `if:` without a status function gets an implicit `success() &&`, as on GitHub.

Each play is a fresh runner: a new workspace; only the bare repository, the cache folder and the
deployment survive between plays. `paperradar` is whatever command the caller puts on PATH (see
`PaperradarShim`): the real CLI in a subprocess, or the same `main()` served in-process for speed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STATUS_FUNCTIONS = re.compile(r"\b(always|success|failure|cancelled)\(")
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)*))"
)


def load_workflow(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the bare key `on` as true
    return data


@dataclass
class Contexts:
    github: dict[str, Any]
    inputs: dict[str, Any]
    secrets: dict[str, str]
    env: dict[str, str]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_failed: bool = False
    workspace: Path = Path()

    def lookup(self, dotted: str) -> Any:
        head, *rest = dotted.split(".")
        value: Any = {
            "github": self.github,
            "inputs": self.inputs,
            "secrets": self.secrets,
            "env": self.env,
            "steps": self.steps,
        }.get(head)
        if value is None:
            raise ValueError(f"unknown context {head!r} in {dotted!r}")
        for part in rest:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def hash_files(self, *patterns: str) -> str:
        found = [p for pat in patterns for p in sorted(self.workspace.glob(pat)) if p.is_file()]
        return "hash:" + ",".join(str(p) for p in found) if found else ""

    def evaluate(self, expr: str) -> Any:
        """Translate the expression to Python over these contexts and evaluate it."""
        out: list[str] = []
        pos = 0
        expr = expr.strip()
        while pos < len(expr):
            m = _TOKEN.match(expr, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot parse {expr[pos:]!r} in {expr!r}")
            pos = m.end()
            if m.group("str") is not None:
                out.append(repr(m.group("str")[1:-1].replace("''", "'")))
            elif m.group("num") is not None:
                out.append(m.group("num"))
            elif m.group("op") is not None:
                out.append({"&&": " and ", "||": " or ", "!": " not "}.get(m.group("op"), m.group("op")))
            else:
                name = m.group("name")
                literal = {"true": "True", "false": "False", "null": "None"}.get(name)
                if literal:
                    out.append(literal)
                elif expr[pos:].lstrip().startswith("("):
                    out.append(f"_f_{name}")
                else:
                    out.append(f"_ctx({name!r})")
        namespace = {
            "_ctx": self.lookup,
            "_f_always": lambda: True,
            "_f_success": lambda: not self.job_failed,
            "_f_failure": lambda: self.job_failed,
            "_f_cancelled": lambda: False,
            "_f_hashFiles": self.hash_files,
        }
        return eval("".join(out), {"__builtins__": {}}, namespace)

    def render(self, value: Any) -> str:
        """A `with:`/`env:` value with every ${{ }} replaced (null renders as '', booleans as true/false)."""

        def one(m: re.Match[str]) -> str:
            result = self.evaluate(m.group(1))
            if result is None:
                return ""
            if isinstance(result, bool):
                return "true" if result else "false"
            return str(result)

        return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    log: str = ""
    seconds: float = 0.0


@dataclass
class PlayResult:
    run_id: int
    steps: list[StepResult]
    deployed: bool
    job_failed: bool

    def step(self, fragment: str) -> StepResult:
        return next(s for s in self.steps if fragment in s.name)

    def log(self) -> str:
        return "\n".join(f"## {s.name} [{s.outcome}]\n{s.log}" for s in self.steps)


class Runner:
    """GitHub for one repository: the bare origin, the Actions cache, the Pages deployment."""

    def __init__(self, root: Path, workflow_text: str, secrets: dict[str, str], path_prefix: Path):
        self.root = root
        self.workflow = load_workflow(workflow_text)
        self.secrets = secrets
        self.path_prefix = path_prefix  # a folder whose `paperradar` is the command under test
        self.origin = root / "origin.git"
        self.cache = root / "cache"
        self.deployed = root / "deployed"
        self.artifact = root / "artifact"
        self.cache.mkdir(parents=True, exist_ok=True)
        self.run_id = 1000
        self._cache_seq = 0
        self.skip_steps: set[str] = {"Install paperradar"}  # already installed in this interpreter

    # -- the repository -------------------------------------------------------------------------------
    def create_repository(self, files: dict[str, str]) -> None:
        seed = self.root / "seed"
        _git(self.root, "init", "-q", "--bare", str(self.origin))
        _git(self.root, "init", "-q", str(seed))
        for name, text in files.items():
            (seed / name).parent.mkdir(parents=True, exist_ok=True)
            (seed / name).write_text(text, encoding="utf-8")
        _git(seed, "add", "-A")
        _git(
            seed,
            "-c",
            "user.name=Reader",
            "-c",
            "user.email=reader@example.org",
            "commit",
            "-qm",
            "paperradar",
        )
        _git(seed, "push", "-q", str(self.origin), "HEAD:refs/heads/main")
        _git(self.origin, "symbolic-ref", "HEAD", "refs/heads/main")
        shutil.rmtree(seed)

    def branch_tip(self, branch: str) -> str | None:
        proc = subprocess.run(
            ["git", "-C", str(self.origin), "rev-parse", "--verify", "-q", f"refs/heads/{branch}"],
            capture_output=True,
            text=True,
        )
        return proc.stdout.strip() or None

    # -- the cache --------------------------------------------------------------------------------------
    def cache_entries(self) -> list[Path]:
        return sorted(self.cache.iterdir(), key=lambda p: int(p.name.split("~", 1)[0]))

    def evict(self, keep: int = 0) -> None:
        """Drop cache entries, oldest kept: keep=0 is a full miss, keep=1 leaves only the oldest one."""
        for entry in self.cache_entries()[keep:]:
            shutil.rmtree(entry)

    def _cache_restore(self, ws: Path, with_: dict[str, str]) -> dict[str, str]:
        entries = self.cache_entries()
        key = with_["key"]
        chosen = next((e for e in entries if e.name.split("~", 1)[1] == key), None)
        hit = chosen is not None
        if chosen is None:
            for prefix in [k.strip() for k in with_.get("restore-keys", "").splitlines() if k.strip()]:
                matches = [e for e in entries if e.name.split("~", 1)[1].startswith(prefix)]
                if matches:
                    chosen = matches[-1]  # the most recently created
                    break
        if chosen is None:
            return {"cache-hit": "", "cache-matched-key": ""}
        for path in chosen.rglob("*"):
            if path.is_file():
                target = ws / path.relative_to(chosen)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        return {"cache-hit": "true" if hit else "false", "cache-matched-key": chosen.name.split("~", 1)[1]}

    def _cache_save(self, ws: Path, with_: dict[str, str]) -> str:
        key = with_["key"]
        if any(e.name.split("~", 1)[1] == key for e in self.cache_entries()):
            return f"warning: cache entry {key} exists (entries are immutable)"
        self._cache_seq += 1  # creation order: what "most recently created" means for restore-keys
        entry = self.cache / f"{self._cache_seq}~{key}"
        entry.mkdir()
        saved = 0
        for pattern in [p.strip() for p in with_["path"].splitlines() if p.strip()]:
            for path in sorted(ws.glob(pattern)):
                if path.is_file():
                    shutil.copy2(path, entry / path.relative_to(ws))
                    saved += 1
        return f"saved {saved} files under {key}"

    # -- a run ------------------------------------------------------------------------------------------
    def play(
        self,
        *,
        event: str = "schedule",
        inputs: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> PlayResult:
        """One scheduled (or manual) run on a fresh runner: the digest job, then deploy if it succeeded."""
        self.run_id += 1
        runner = self.root / f"runner-{self.run_id}"
        ws = runner / "work"
        temp = runner / "temp"
        temp.mkdir(parents=True)
        ctx = Contexts(
            github={
                "run_id": str(self.run_id),
                "run_attempt": "1",
                "event_name": event,
                "token": "ghs_fake_token_for_the_player",
                "repository": "reader/radar",
                "workflow_ref": "reader/radar/.github/workflows/paperradar.yml@refs/heads/main",
                "workspace": str(ws),
            },
            inputs=dict(inputs or {}),
            secrets=dict(self.secrets),
            env={},
            workspace=ws,
        )
        steps: list[StepResult] = []
        digest = self.workflow["jobs"]["digest"]
        self._run_job(digest, ctx, ws, temp, steps, env or {})
        deployed = False
        deploy = self.workflow["jobs"]["deploy"]
        if not ctx.job_failed and deploy.get("needs") == "digest":
            dctx = Contexts(ctx.github, ctx.inputs, ctx.secrets, {}, workspace=ws)
            self._run_job(deploy, dctx, ws, temp, steps, env or {})
            deployed = not dctx.job_failed
        else:
            steps.append(StepResult("deploy (job)", "skipped", "the digest job failed"))
        return PlayResult(self.run_id, steps, deployed, ctx.job_failed)

    def _run_job(
        self,
        job: dict[str, Any],
        ctx: Contexts,
        ws: Path,
        temp: Path,
        steps: list[StepResult],
        extra_env: dict[str, str],
    ) -> None:
        base_env = {
            "PATH": f"{self.path_prefix}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(temp),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(ws),
            "GITHUB_RUN_ID": ctx.github["run_id"],
            "GITHUB_RUN_ATTEMPT": ctx.github["run_attempt"],
            "GITHUB_EVENT_NAME": ctx.github["event_name"],
            "GITHUB_REPOSITORY": ctx.github["repository"],
            "GITHUB_WORKFLOW_REF": ctx.github["workflow_ref"],
            "RUNNER_TEMP": str(temp),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(temp / "gitconfig"),
            **extra_env,
        }
        for name, value in (self.workflow.get("env") or {}).items():
            ctx.env[name] = ctx.render(value)
        for name, value in (job.get("env") or {}).items():
            ctx.env[name] = ctx.render(value)
        for index, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step.get("run", "")[:40]
            condition = str(step.get("if", "success()"))
            if not STATUS_FUNCTIONS.search(condition):
                condition = f"success() && ({condition})"
            if name in self.skip_steps or not ctx.evaluate(condition):
                steps.append(StepResult(name, "skipped"))
                self._record(ctx, step, "skipped", {})
                continue
            step_env = {k: ctx.render(v) for k, v in (step.get("env") or {}).items()}
            with_ = {k: ctx.render(v) for k, v in (step.get("with") or {}).items()}
            outputs: dict[str, str] = {}
            started = time.perf_counter()
            try:
                if "run" in step:
                    outcome, log, outputs = self._run_script(
                        step["run"], ws, temp, index, {**base_env, **ctx.env, **step_env}
                    )
                else:
                    outcome, log, outputs = self._use(step["uses"], ws, with_)
            except Exception as exc:  # an emulation error is a failed step, reported
                outcome, log = "failure", f"{type(exc).__name__}: {exc}"
            steps.append(StepResult(name, outcome, log, time.perf_counter() - started))
            self._record(ctx, step, outcome, outputs)
            if outcome == "failure" and not step.get("continue-on-error"):
                ctx.job_failed = True

    @staticmethod
    def _record(ctx: Contexts, step: dict[str, Any], outcome: str, outputs: dict[str, str]) -> None:
        if "id" in step:
            ctx.steps[step["id"]] = {"outcome": outcome, "conclusion": outcome, "outputs": outputs}

    def _run_script(
        self, script: str, ws: Path, temp: Path, index: int, env: dict[str, str]
    ) -> tuple[str, str, dict[str, str]]:
        path = temp / f"step-{index}.sh"
        path.write_text(script, encoding="utf-8")
        output_file = temp / f"output-{index}"
        output_file.touch()
        proc = subprocess.run(
            ["bash", "-e", str(path)],
            cwd=ws,
            env={**env, "GITHUB_OUTPUT": str(output_file)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        outputs = dict(
            line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines() if "=" in line
        )
        return ("success" if proc.returncode == 0 else "failure"), proc.stdout + proc.stderr, outputs

    def _use(self, uses: str, ws: Path, with_: dict[str, str]) -> tuple[str, str, dict[str, str]]:
        action = uses.split("@", 1)[0]
        if action == "actions/checkout":
            ws.parent.mkdir(parents=True, exist_ok=True)
            _git(ws.parent, "clone", "-q", "--depth", "1", self.origin.as_uri(), str(ws))
            return "success", "cloned", {}
        if action == "actions/setup-python":
            return "success", f"using {sys.executable}", {}
        if action == "actions/cache/restore":
            outputs = self._cache_restore(ws, with_)
            return "success", json.dumps(outputs), outputs
        if action == "actions/cache/save":
            return "success", self._cache_save(ws, with_), {}
        if action == "actions/upload-pages-artifact":
            shutil.rmtree(self.artifact, ignore_errors=True)
            shutil.copytree(ws / with_["path"], self.artifact, symlinks=True)
            return "success", "uploaded", {}
        if action == "actions/deploy-pages":
            shutil.rmtree(self.deployed, ignore_errors=True)
            shutil.copytree(self.artifact, self.deployed, symlinks=True)
            return "success", "deployed", {"page_url": "https://reader.github.io/radar/"}
        raise ValueError(f"the player does not know the action {uses}")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"},
    )


# -- `paperradar` on PATH -------------------------------------------------------------------------------
_SUBPROCESS_SHIM = """#!/bin/bash
# The real CLI, with `run` pointed at the bundled sample day the play simulates (no network).
if [ "$1" = run ]; then shift; set -- run --sample --date "$PAPERRADAR_SIM_DAY" "$@"; fi
exec {python} -m paperradar "$@"
"""

_SOCKET_SHIM = """#!{python} -S
# Sends the command line to the test process, which runs paperradar's main() in-process (no interpreter
# start-up and imports per call); prints what it printed and exits with its code.
import json, os, socket, sys
argv = sys.argv[1:]
if argv[:1] == ["run"]:
    argv = ["run", "--sample", "--date", os.environ["PAPERRADAR_SIM_DAY"], *argv[1:]]
s = socket.socket(socket.AF_UNIX)
s.connect({socket_path!r})
s.sendall(json.dumps({{"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}}).encode() + b"\\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
reply = json.loads(data)
sys.stdout.write(reply["stdout"])
sys.stderr.write(reply["stderr"])
sys.exit(reply["code"])
"""


class PaperradarShim:
    """A folder to put first on PATH whose `paperradar` is the CLI under test. `in_process=False` runs the
    installed CLI in a subprocess (what a runner does); `in_process=True` serves the same `main()` from
    this process over a Unix socket, one call at a time (the tests' speed)."""

    def __init__(self, folder: Path, *, in_process: bool):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.calls: list[list[str]] = []
        self._server: socket.socket | None = None
        script = folder / "paperradar"
        if in_process:
            socket_path = str(folder / "cli.sock")
            self._server = socket.socket(socket.AF_UNIX)
            self._server.bind(socket_path)
            self._server.listen(4)
            threading.Thread(target=self._serve, daemon=True).start()
            script.write_text(
                _SOCKET_SHIM.format(python=sys.executable, socket_path=socket_path), encoding="utf-8"
            )
        else:
            script.write_text(_SUBPROCESS_SHIM.format(python=sys.executable), encoding="utf-8")
        script.chmod(0o755)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def _serve(self) -> None:
        assert self._server is not None
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                request = json.loads(data)
                self.calls.append(request["argv"])
                code, out, err = run_main_in_process(request["argv"], Path(request["cwd"]), request["env"])
                conn.sendall(json.dumps({"code": code, "stdout": out, "stderr": err}).encode())


@contextlib.contextmanager
def _patched_process(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    old_cwd, old_env = os.getcwd(), dict(os.environ)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)


def run_main_in_process(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    from paperradar.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with _patched_process(cwd, env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        except BaseException as exc:  # a crash is exit 1 with its message, like the real process
            err.write(f"{type(exc).__name__}: {exc}\n")
            code = 1
    return code, out.getvalue(), err.getvalue()


def run_scripts(workflow: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(step name, script) for every `run:` step of every job."""
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if "run" in step:
                yield step.get("name", step["run"][:40]), step["run"]


def expressions(text: str) -> list[str]:
    return [m.strip() for m in re.findall(r"\$\{\{(.*?)\}\}", text)]
