"""Extractive summarizer: sentence splitting of real abstract patterns, verbatim 2-3 sentence summaries."""

from __future__ import annotations

import pytest

from paperradar.text.extractive import EXTRACTIVE_VERSION, split_sentences, summarize
from tests.publish_fixtures import GR2, SMES, SPGL, load_records

ABSTRACTS = {r["id"]: r["abstract"] for r in load_records()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # abbreviations that never end a sentence
        (
            "Benchmarks (e.g. MTEB, BEIR) exist. Labels, i.e. Clicks, are noisy.",
            ["Benchmarks (e.g. MTEB, BEIR) exist.", "Labels, i.e. Clicks, are noisy."],
        ),
        (
            "We compare sparse vs. Dense retrieval as in Fig. 3 and Eq. 2. It works.",
            ["We compare sparse vs. Dense retrieval as in Fig. 3 and Eq. 2.", "It works."],
        ),
        # et al.: inside a sentence, and at its end (real: 2504.10509, 2412.16181)
        (
            "Recent work [He et al. ICML2022] has advanced it. Smith et al. proposed X. We go.",
            ["Recent work [He et al. ICML2022] has advanced it.", "Smith et al. proposed X.", "We go."],
        ),
        ("As proposed by Zhuang et al. We evaluate it.", ["As proposed by Zhuang et al.", "We evaluate it."]),
        # decimals, percentages, versions, dotted acronyms, initials
        (
            "It gains 0.31% and 2.4x with Mistral-7B-Instruct-v0.2 and Python 3.11.4 in U.S. Federal data. Done.",
            ["It gains 0.31% and 2.4x with Mistral-7B-Instruct-v0.2 and Python 3.11.4 in U.S. Federal data.", "Done."],
        ),
        ("Outage reports in the U.S. We describe it.", ["Outage reports in the U.S.", "We describe it."]),
        ("Following J. R. Smith, we rank. Stage I. To fill this gap, we go.", ["Following J. R. Smith, we rank.", "Stage I.", "To fill this gap, we go."]),
        ("Tests ran from Jan. 28 to Feb. 6, 2026. It helped.", ["Tests ran from Jan. 28 to Feb. 6, 2026.", "It helped."]),
        # other terminators
        ("Does it help? Yes! \"It does.\" Then more.", ["Does it help?", "Yes!", '"It does."', "Then more."]),
        ("We introduce BIP! Ranker, a library. It scales.", ["We introduce BIP! Ranker, a library.", "It scales."]),
        ("", []),
    ],
)  # fmt: skip
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_undoes_arxiv_hard_wraps() -> None:
    wrapped = (
        "  A fully differential calculation is\npresented for multi-\ntask pairs at hadron colliders. All\n"
        "next-to-leading order contributions are\n  included, e.g.\nquark-antiquark terms.\n"
    )
    assert split_sentences(wrapped) == [
        "A fully differential calculation is presented for multi-task pairs at hadron colliders.",
        "All next-to-leading order contributions are included, e.g. quark-antiquark terms.",
    ]


@pytest.mark.parametrize("arxiv_id", sorted(ABSTRACTS))
def test_summary_is_two_or_three_verbatim_sentences_in_order(arxiv_id: str) -> None:
    abstract = ABSTRACTS[arxiv_id]
    sentences = split_sentences(abstract)
    summary = summarize(abstract)
    picked = split_sentences(summary)
    assert 2 <= len(picked) <= 3
    positions = [sentences.index(s) for s in picked]  # ValueError if a sentence was altered
    assert positions == sorted(positions)
    assert summary == " ".join(picked)
    assert summarize(abstract) == summary  # deterministic


def test_boilerplate_sentence_is_excluded() -> None:
    abstract = ABSTRACTS[SPGL]
    assert "this https URL" in abstract
    assert "this https URL" not in summarize(abstract)
    # The code sentence is full of cue words (results, 12%, improvements): only the penalty keeps it out.
    padded = (
        "Dense retrievers are popular in search engines today. We propose FooRank, a sparse reranker. "
        "Code and data to reproduce our results showing 12% improvements are publicly available at "
        "https://github.com/a/b. FooRank outperforms BM25 by 3% on MS MARCO."
    )
    assert summarize(padded) == (
        "Dense retrievers are popular in search engines today. We propose FooRank, a sparse reranker. "
        "FooRank outperforms BM25 by 3% on MS MARCO."
    )


def test_summary_prefers_contribution_results_and_deployment() -> None:
    summary = summarize(ABSTRACTS[SMES])
    assert "we propose SMES" in summary
    assert "deployed in Kuaishou" in summary or "0.31% uplift" in summary
    assert "Recent advances in model scaling" not in summary  # background sentence
    assert "surpasses the state-of-the-art" in summarize(ABSTRACTS[GR2])


def test_max_sentences_and_short_abstracts() -> None:
    assert len(split_sentences(summarize(ABSTRACTS[SMES], max_sentences=2))) == 2
    short = "  We study   ranking.\nIt works well. "
    assert summarize(short) == "We study ranking. It works well."
    assert summarize("") == ""


def test_version_string() -> None:
    assert EXTRACTIVE_VERSION == "extractive-1"
