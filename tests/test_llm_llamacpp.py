"""The optional in-process GGUF backend (`pip install 'paperradar[local]'`). Compiling llama-cpp-python takes
~20 min here and no model small enough to ship writes usable zh/ja on a CPU, so the real-model test runs only
where the package and a model file (PAPERRADAR_GGUF=/path/to/model.gguf) are present."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from paperradar.errors import ConfigError
from paperradar.llm import WriteRequest
from paperradar.llm.config import LLMConfig
from paperradar.llm.default_plugins.llamacpp import LlamaCppBackend
from paperradar.models import GeneratedText, Paper

HAVE_PACKAGE = importlib.util.find_spec("llama_cpp") is not None
MODEL = os.environ.get("PAPERRADAR_GGUF")


def test_missing_model_path_says_what_to_set(tmp_path):
    from paperradar.config import load_config

    path = tmp_path / "c.toml"
    path.write_text('[llm]\nbackend = "llamacpp"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="model_path"):
        load_config(path)


@pytest.mark.skipif(
    HAVE_PACKAGE, reason="llama-cpp-python is installed: the missing-package error cannot occur"
)
def test_missing_package_says_how_to_install(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(ConfigError) as info:
        LlamaCppBackend(LLMConfig(backend="llamacpp", model_path=model))
    assert "paperradar[local]" in str(info.value)


@pytest.mark.skipif(
    not HAVE_PACKAGE, reason="llama-cpp-python is not installed (optional extra paperradar[local])"
)
@pytest.mark.skipif(not (MODEL and Path(MODEL).exists()), reason="no GGUF model file: set PAPERRADAR_GGUF")
def test_real_model_writes_a_validated_title():
    backend = LlamaCppBackend(LLMConfig(backend="llamacpp", model_path=Path(MODEL or "")))
    paper = Paper(
        "2602.09386",
        "SMES: Towards Scalable Multi-Task Recommendation via Expert Sparsity",
        ["A"],
        "Industrial recommender systems rely on multi-task learning.",
    )
    [result] = backend.write([WriteRequest(paper, "title", "zh")])
    assert isinstance(result, GeneratedText) and result.mode == backend.name
