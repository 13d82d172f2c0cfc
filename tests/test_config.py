import tomllib
from pathlib import Path

import pytest

from paperradar.config import default_config, load_config, template_text
from paperradar.errors import ConfigError
from paperradar.sources.config import check_category


def test_defaults_are_the_commented_template():
    cfg = default_config()
    raw = tomllib.loads(template_text())
    assert cfg.keywords.groups == raw["keywords"]["groups"]
    assert cfg.sources.categories == ["cs.IR"]
    assert cfg.sources.include_cross_lists is True
    assert cfg.output.language == "zh" and cfg.output.top_n == 20 and cfg.output.max_authors == 4
    # exactly the seed-002 tool's lists
    assert cfg.keywords.groups["company"] == [
        "taobao",
        "jingdong",
        "amazon",
        "shopee",
        "kuaishou",
        "facebook",
        "tencent",
        "airbnb",
        "wechat",
        "twitter",
        "spotify",
        "pinterest",
        "tiktok",
        "douyin",
        "xiaohongshu",
        "meituan",
    ]
    assert cfg.keywords.groups["technical"] == [
        "retrieval",
        "ranking",
        "rerank",
        "recommendation",
        "uplift",
        "ctr",
        "cvr",
        "explore",
        "diversity",
        "serendipity",
        "cold-start",
        "ltv",
        "dau",
        "relevance",
        "advertising",
        "debias",
        "causal",
    ]


def _load(tmp_path: Path, text: str):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_partial_file_keeps_other_defaults_and_resolves_paths(tmp_path):
    cfg = _load(tmp_path, '[output]\nlanguage = "ja"\n[store]\npath = "x/r.db"\n')
    assert cfg.output.language == "ja"
    assert cfg.output.top_n == 20
    assert cfg.db_path == tmp_path / "x" / "r.db"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[output]\nlangauge = 'zh'\n", "unknown key [output].langauge; did you mean 'language'?"),
        ("[outptu]\ntop_n = 3\n", "unknown key outptu"),
        ("[output]\nlanguage = 'fr'\n", "unknown language 'fr'; use one of zh, ja, en"),
        ("[output]\ntop_n = 'twenty'\n", "[output].top_n: Input should be a valid integer"),
        ("[sources]\ncategories = ['cs.ir']\n", "did you mean 'cs.IR'?"),
        ("[sources]\ncategories = ['information retrieval']\n", "is not an arXiv category name"),
        ("[output]\ntimezone = 'Mars/Base'\n", "unknown time zone 'Mars/Base'"),
        ("[output\n", "not valid TOML"),
    ],
)
def test_bad_config_names_key_and_fix(tmp_path, text, expected):
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert expected in str(info.value)
    assert info.value.exit_code == 2


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert "paperradar init" in (info.value.hint or "")


def test_env_var_names_the_config(tmp_path, monkeypatch):
    path = tmp_path / "env.toml"
    path.write_text("[output]\nlanguage = 'en'\n", encoding="utf-8")
    monkeypatch.setenv("PAPERRADAR_CONFIG", str(path))
    assert load_config(None).output.language == "en"


@pytest.mark.parametrize(
    "good", ["cs.IR", "math.CO", "stat.ML", "hep-th", "astro-ph.GA", "cond-mat.str-el", "q-bio.NC"]
)
def test_real_category_names_pass(good):
    assert check_category(good) == good
