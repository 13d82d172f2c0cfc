"""The faithfulness check's name rules (issue 15, item 1), each on real text: sentences a model wrote
about real papers (tests/fixtures/answers/), checked against those papers' own abstracts. Every rule is
tested both ways: the correct-but-tricky spelling is found, and a wrong name of the same shape is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperradar.models import Paper
from paperradar.write.checks.faithful import SourceIndex, _words, check_faithfulness
from paperradar.write.styles.tasks import check_answer

PAPERS = {
    r["id"]: r
    for r in map(json.loads, (Path(__file__).parent / "fixtures/answers/papers.jsonl").open(encoding="utf-8"))
}


def marks(text: str, pid: str, lang: str) -> list[str]:
    r = PAPERS[pid]
    report = check_faithfulness(text, [r["title"], r["abstract"], *r["authors"]], lang)
    return [c.surface for c in report.unverified]


CASES = [
    # (rule, paper, language, generated text, the marks expected)
    # An abbreviation of a phrase the paper spells out: its initials, across hyphens, never across a clause.
    ("initials", "2602.07774", "zh", "SFT：更强的LLM通过提示与拒绝采样生成推理轨迹", []),  # supervised fine-tuning
    ("initials", "2602.08575", "zh", "IAP：listwise DPO建模层次化偏好与偏序", []),  # direct preference optimization
    ("initials", "2602.10321", "en", "Standard PRF fails when the first retrieval is poor.", []),
    ("initials", "2601.21853", "ja", "マルチベクトル検索を1層NNの教師あり学習問題に定式化", []),  # neural network
    ("initials", "2601.20623", "ja", "2Bパラメータの軽量VLMで高性能", []),  # visual-language model
    ("initials", "2602.09901", "ja", "段階的3ステージ・アラインメント＋多報酬RL", []),  # Reinforcement Learning
    ("initials", "2602.07774", "zh", "用RLHF对齐推理轨迹", ["RLHF"]),  # not spelled out anywhere
    ("initials", "2602.09386", "en", "SMES is trained with PPO.", ["PPO"]),
    # "/" separates names.
    ("slash", "2602.10321", "en", "reranking with Contriever/E5/ColBERTv2", []),
    ("slash", "2601.20623", "ja", "TREC/BEIR（テキスト）とINQUIRE/MMDocIR（画像）", []),
    ("slash", "2602.10321", "en", "reranking with Contriever/E7/ColBERTv2", ["E7"]),
    # A hyphenated compound is checked by its name part; generic parts alone are no claim.
    ("compound", "2602.12968", "zh", "把LLM-based语义推理器与QE-Rec结合", []),
    ("compound", "2601.20623", "en", "an image branch from MLLM-captioned pairs", []),
    ("compound", "2601.21853", "en", "a ColBERT-style late-interaction index", []),
    ("compound", "2601.21853", "en", "a SPLADE-style sparse index", ["SPLADE-style"]),
    # Spacing, hyphens and case of a name do not matter; its letters and digits do.
    ("spelling", "2602.10321", "en", "listwise reranking with Qwen2.5-72B", []),  # the paper: "Qwen 2.5 72B"
    ("spelling", "2601.20316", "en", "GPT-4o-mini, DeepSeek-V3 and Qwen 2.5 72B", []),  # the paper: "Qwen2.5-72B"
    ("spelling", "2601.21853", "en", "Besides ColBERT v2 embeddings", []),  # the paper: "ColBERTv2"
    ("spelling", "2602.10321", "ja", "最後のQwen2.5-32Bによるリランキング", ["Qwen2.5-32B"]),
    ("spelling", "2601.20316", "en", "Qwen 2.5 32B was the slowest", ["32B"]),  # "Qwen 2.5" is in the paper
    ("spelling", "2601.21853", "en", "Besides ColBERTv3 embeddings", ["ColBERTv3"]),
    # Generic words are data (faithful_words.toml): business words of the dialogue genre, units.
    ("generic", "2602.10321", "ja", "担当者にOJTで教えられる程度の仕組みです。", []),
    ("generic", "2602.08575", "zh", "实时系统QPS近1万", []),
    ("generic", "2602.08575", "zh", "实时系统QPS近10万", ["10万"]),  # the number next to it still counts
    # A signed number after a name is a number ("CPU-75%"), so a wrong one is caught.
    ("signed", "2602.11562", "zh", "SeqVault：检索延迟-50%、CPU-75%", []),
    ("signed", "2602.11562", "zh", "SeqVault：检索延迟-50%、CPU-57%", ["57%"]),
    # A possessive is the name: a wrong company is caught in "Meituan's team".
    ("possessive", "2602.12530", "en", "Meituan's team evaluated it on three Amazon datasets.", ["Meituan"]),
    ("possessive", "2602.09386", "en", "Kuaishou’s short-video service", []),
    # Authors are sources: a text may credit the people the paper names.
    ("authors", "2602.14358", "zh", "Dillon Davis等人介绍了Airbnb搜索", []),
    ("authors", "2602.14358", "zh", "Jane Smith等人介绍了Airbnb搜索", ["Jane", "Smith"]),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "pid", "lang", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_name_rules_on_real_text(rule: str, pid: str, lang: str, text: str, expected: list[str]) -> None:
    assert marks(text, pid, lang) == expected


def test_numbers_stay_as_strict() -> None:
    """The name rules do not hide numbers: rounded, scaled and unit-changed values are still marked, and a
    number is only folded into a name when the paper spells that very name ("Qwen 2.5 72B")."""
    smes = "2602.09386"
    assert marks("观看时长提升0.3%，服务4000万日活用户", smes, "zh") == ["0.3%", "4000万"]
    assert marks("检索延迟降低50毫秒", "2602.11562", "zh") == ["50毫秒"]
    assert marks("SMES 0.31% uplift for 400M DAU", smes, "en") == []
    assert marks("SMES 0.13% uplift", smes, "en") == ["0.13%"]


def test_initials_stay_inside_one_phrase() -> None:
    index = SourceIndex("We train a model. Then we test it. Supervised fine-tuning (SFT) follows.")
    assert index.find_initials("MT") is None  # "model. Then": a sentence ends between the words
    assert index.find_initials("SFT") == "supervised fine tuning"
    assert index.find("Fine-Tuning") == "fine-tuning"


def test_initials_are_read_where_papers_spell_their_terms() -> None:
    """Initials are read in the title and abstract (the first INITIALS_WORDS words), where a paper spells
    out its terms: read anywhere in a long full text, they would spell most made-up 3-letter names."""
    gr2 = PAPERS["2602.07774"]["abstract"]
    assert SourceIndex(gr2).find_initials("SFT") == "supervised fine tuning"
    assert SourceIndex("Results. " + "more text here. " * 300 + gr2).find_initials("SFT") is None
    assert SourceIndex("sparse mixture of experts").find_initials("MoE") == "mixture of experts"
    assert SourceIndex("sparse mixture of experts").find_initials("MOE") is None  # a capital is not "of"


def test_generic_words_are_data() -> None:
    words = _words()
    assert {"ojt", "qps", "roi", "llm"} <= words.generic
    assert "based" in words.affixes and words.expansions["cvr"] == ("conversion rate",)


def test_check_answer_reads_authors_title_and_affiliations() -> None:
    r = PAPERS["2602.14358"]
    paper = Paper(r["id"], r["title"], r["authors"], r["abstract"], affiliations=["Airbnb, Inc."])
    data = {
        "explanation": "Dillon Davis and Sanjeev Katariya (Airbnb, Inc.) describe High Precision Audience Expansion."
    }
    assert check_answer(data, paper, None, "en").unverified == []
