"""Every wrong config is a usage error: exit 2, one `error:` line that names the key, one `hint:` line that
says how to fix it, never a traceback. Table-driven: each leaf of a complete, valid config gets values of the
wrong type, each table gets an unknown key, plus out-of-range values and files that are missing, not
TOML, not UTF-8 or not files at all."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from paperradar.config import load_config
from tests.cli_runner import cli

# A complete config with every section and channel filled in: valid as a whole, so that a case changes
# exactly one thing and the error must be about that one thing.
BASE: dict[str, Any] = {
    "sources": {
        "categories": ["cs.IR", "cs.LG"],
        "include_cross_lists": True,
        "include_replacements": False,
        "contact": "me@example.com",
        "rss_url": "https://rss.arxiv.org/rss/",
        "api_url": "https://export.arxiv.org/api/query",
        "html_url": "https://arxiv.org/html",
        "pdf_url": "https://arxiv.org/pdf",
        "request_delay": 3.0,
        "timeout": 30.0,
        "max_retries": 4,
        "batch_size": 200,
    },
    "keywords": {"groups": {"technical": ["ranking", "ctr"]}, "aliases": {"ctr": ["click-through rate"]}},
    "reader": {"interests": "ranking and recommendation"},
    "output": {
        "language": "zh",
        "top_n": 20,
        "max_authors": 4,
        "folder": "out",
        "timezone": "Asia/Shanghai",
        "order": ["keywords", "interest", "recency"],
    },
    "store": {"path": "radar.db"},
    "styles": {
        "languages": ["en"],
        "fulltext": True,
        "fulltext_tokens": 6000,
        "templates_dir": "templates",
        "bands": [{"style": "highlight", "top": 10}],
    },
    "llm": {
        "backend": "openai",
        "concurrency": 8,
        "batch_size": 8,
        "max_retries": 4,
        "json_schema": "auto",
        "score_abstract_tokens": 200,
        "endpoints": [
            {
                "base_url": "http://127.0.0.1:9/v1",
                "model": "m",
                "api_key_env": "RADAR_KEY",
                "timeout": 60.0,
                "rpm": 500.0,
                "params": {"temperature": 0.2},
            }
        ],
        "budget": {"max_calls": 500, "max_tokens": 2_000_000, "max_cost": 1.0},
        "prices": {"m": {"input_per_mtok": 0.27, "output_per_mtok": 1.1}},
    },
    "delivery": {
        "retries": 3,
        "timeout": 30.0,
        "backoff": 2.0,
        "max_retry_after": 300.0,
        "mail": {
            "host": "smtp.example.com",
            "port": 587,
            "security": "starttls",
            "username": "me",
            "password_env": "SMTP_PW",
            "from_addr": "radar <radar@example.com>",
            "to": ["me@example.com"],
            "subject_template": "{title} {date}",
        },
        "slack": {"webhook_url_env": "SLACK_URL"},
        "discord": {"webhook_url_env": "DISCORD_URL"},
        "feishu": {"webhook_url_env": "FEISHU_URL", "secret_env": "FEISHU_SECRET"},
        "wecom": {"webhook_url_env": "WECOM_URL"},
        "webhook": {
            "url_env": "HOOK_URL",
            "headers": {"X-Radar": "1"},
            "headers_env": {"Authorization": "HOOK_AUTH"},
        },
    },
}
# Tables whose keys are the user's own names (groups, model names, HTTP headers...): no "unknown key" there.
FREE_FORM = {
    ("keywords", "groups"),
    ("keywords", "aliases"),
    ("llm", "prices"),
    ("llm", "endpoints", 0, "params"),
    ("delivery", "webhook", "headers"),
    ("delivery", "webhook", "headers_env"),
}
# Bugs in files this suite may not edit: the case is kept, marked, and reported.
KNOWN_BUGS: dict[str, str] = {}  # input -> reason; empty since config.py handles every case


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml(doc: dict[str, Any]) -> str:
    """One `key = value` line per top-level section (inline tables): any nesting, any wrong type."""
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in doc.items())


def leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict) and path not in FREE_FORM:
        return [leaf for key, value in node.items() for leaf in leaves(value, (*path, key))]
    if isinstance(node, list) and node and isinstance(node[0], dict):
        return [leaf for i, value in enumerate(node) for leaf in leaves(value, (*path, i))]
    return [(path, node)]


def tables(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        own = [] if path in FREE_FORM else [path]
        return own + [t for key, value in node.items() for t in tables(value, (*path, key))]
    if isinstance(node, list):
        return [t for i, value in enumerate(node) for t in tables(value, (*path, i))]
    return []


def wrong_values(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return ["maybe", 2]
    if isinstance(value, int):
        return ["many", 1.5, {"x": 1}]
    if isinstance(value, float):
        return ["fast", [1.0]]
    if isinstance(value, str):
        return [12, {"x": 1}]
    if isinstance(value, list):
        return [{"x": 1}, 7]
    return ["text", [1]]  # a free-form table given something that is not a table


def with_value(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(BASE))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def name(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


CASES: list[Any] = []
for path, value in leaves(BASE):
    for bad in wrong_values(value):
        CASES.append(pytest.param(toml(with_value(path, bad)), path[-1], id=f"{name(path)}={bad!r}"))
UNKNOWN_KEY_CASES: list[Any] = []
for path in tables(BASE):
    doc = json.loads(json.dumps(BASE))
    node: Any = doc
    for key in path:
        node = node[key]
    sibling = next(iter(node))  # a real key of the same table: the "known keys" list must offer it
    node["colour"] = "red"
    where = name(path) or "top level"
    marks: list[Any] = []
    UNKNOWN_KEY_CASES.append(pytest.param(toml(doc), sibling, id=f"unknown key in {where}", marks=marks))
    CASES.append(pytest.param(toml(doc), "colour", id=f"unknown key in {where}"))
# Right type, wrong value: ranges, choices, names.
for path, bad in [
    (("output", "top_n"), 0),
    (("output", "top_n"), 10**6),
    (("output", "max_authors"), -1),
    (("output", "language"), "fr"),
    (("output", "timezone"), "Mars/Base"),
    (("output", "order"), ["keywords", "bogus"]),
    (("sources", "categories"), []),
    (("sources", "categories"), ["cs.ir"]),
    (("sources", "categories"), ["../../etc"]),
    (("sources", "request_delay"), -1.0),
    (("sources", "batch_size"), 5000),
    (("llm", "backend"), "gpt"),
    (("llm", "concurrency"), 0),
    (("llm", "json_schema"), "maybe"),
    (("llm", "endpoints", 0, "timeout"), 0.0),
    (("llm", "endpoints", 0, "model"), ""),
    (("delivery", "mail", "port"), 70000),
    (("delivery", "mail", "security"), "tls"),
    (("delivery", "mail", "to"), []),
    (("delivery", "retries"), 99),
    (("styles", "bands", 0, "style"), "poem"),
    (("styles", "fulltext_tokens"), 10),
    (("styles", "languages"), ["xx"]),
]:
    CASES.append(pytest.param(toml(with_value(path, bad)), path[-1], id=f"{name(path)}={bad!r}"))
for text, key in [
    ("keywords = 3\n", "keywords"),
    ("output = 3\n", "output"),
    ("llm = [1, 2]\n", "llm"),
    ("delivery = 'mail'\n", "delivery"),
    ("[[output]]\ntop_n = 1\n", "output"),
    ("[llm]\nendpoints = {base_url = 'x', model = 'm'}\n", "endpoints"),
    ("[delivery.mail]\nhost = 'x'\n", "mail"),  # required keys missing
    ("[[llm.endpoints]]\nbse_url = 'http://x'\nmodel = 'm'\n", "bse_url"),
]:
    marks = (
        [pytest.mark.xfail(reason=KNOWN_BUGS[text.strip()], strict=False)]
        if text.strip() in KNOWN_BUGS
        else []
    )
    CASES.append(pytest.param(text, key, id=text.strip().replace("\n", " | "), marks=marks))


def run(config: Path, *extra: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli("--config", str(config), *extra, "run", "--sample", "--date", "2026-02-10")
    return code, err.getvalue()


def assert_one_line_usage_error(code: int, err: str, key: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert 1 <= len(lines) <= 2 and lines[0].startswith("error: "), err  # error + hint, nothing else
    assert key in lines[0], (key, lines[0])
    assert len(lines) == 2 and lines[1].startswith("hint: "), err  # the fix: a hint line after the error


def test_base_config_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "paperradar.toml"
    path.write_text(toml(BASE), encoding="utf-8")
    cfg = load_config(path)
    assert cfg.llm.endpoints[0].model == "m" and cfg.delivery.mail is not None
    assert len(CASES) > 100  # the table below is really "every key"


@pytest.mark.parametrize(("text", "key"), CASES)
def test_bad_config_is_one_line_usage_error(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "paperradar.toml"
    path.write_text(text, encoding="utf-8")
    code, err = run(path)
    assert_one_line_usage_error(code, err, str(key))


@pytest.mark.parametrize(("text", "sibling"), UNKNOWN_KEY_CASES)
def test_unknown_key_error_lists_that_tables_keys(tmp_path: Path, text: str, sibling: str) -> None:
    path = tmp_path / "paperradar.toml"
    path.write_text(text, encoding="utf-8")
    code, err = run(path)
    first = err.splitlines()[0]
    assert code == 2 and "unknown key" in first and "colour" in first, err
    assert "known keys here:" not in first or sibling in first.split("known keys here:", 1)[1], first


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        ("missing", "does not exist"),
        ("env-missing", "does not exist"),
        ("directory", "cannot read"),
        ("not-utf8", "cannot read"),
        ("not-toml", "not valid TOML"),
        ("binary", "cannot read"),
    ],
)
def test_bad_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str, needle: str) -> None:
    path = tmp_path / "paperradar.toml"
    extra: tuple[str, ...] = ()
    if setup == "missing":
        path = tmp_path / "nope.toml"
    elif setup == "env-missing":
        monkeypatch.setenv("PAPERRADAR_CONFIG", str(tmp_path / "nope.toml"))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli("run", "--sample", "--date", "2026-02-10")
        assert code == 2 and needle in err.getvalue() and "Traceback" not in err.getvalue()
        return
    elif setup == "directory":
        path.mkdir()
    elif setup == "not-utf8":
        path.write_bytes(b'[output]\nlanguage = "\xff\xfe"\n')
    elif setup == "not-toml":
        path.write_text("[output\nlanguage = zh\n", encoding="utf-8")
    elif setup == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    code, err = run(path, *extra)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and needle in lines[0] and len(lines) <= 2 and "Traceback" not in err, err


def test_config_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    """Editors on Windows save UTF-8 with a byte-order mark; that is still the user's config."""
    from paperradar.config import load_config

    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[output]\nlanguage = 'en'\n")
    assert load_config(path).output.language == "en"
