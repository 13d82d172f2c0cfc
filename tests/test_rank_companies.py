"""Gazetteer: real sentences from the cs.IR listings, negatives that matter more than misses, provenance."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperradar.errors import ConfigError
from paperradar.models import CompanyHit, Paper
from paperradar.rank.companies import Gazetteer


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def paper(
    abstract: str = "",
    title: str = "A paper",
    comment: str | None = None,
    affiliations: list[str] | None = None,
) -> Paper:
    return Paper(
        "2501.00001", title, ["A. Author"], abstract, comment=comment, affiliations=affiliations or []
    )


def companies(gaz: Gazetteer, text: str) -> list[str]:
    return [h.company for h in gaz.detect(paper(text), "en")]


# Real abstract sentences (arXiv id in the comment) that say where the work was deployed.
POSITIVE = [
    # 2504.14243
    (
        "Moreover, deployment in Kuaishou's large-scale online video ranking system demonstrates that the "
        "method's calibration improvements translate into enhanced business metrics.",
        "kuaishou",
    ),
    # 2603.06631
    ("To address these challenges in Amazon's online grocery business, we propose T-REX.", "amazon"),
    # 2508.02929
    ("Our approach is now deployed at Meta serving tens of billions of user requests daily.", "meta"),
    # 2607.11030
    ("Notably, MMRM has been successfully deployed in the JD e-commerce search engine.", "jd"),
    # 2502.13539 ("Like" inside a product name is not "platforms like X")
    ('Now, it has been fully deployed in the "Guess What You Like" of the Taobao App homepage.', "alibaba"),
    # 2505.17925
    (
        "Moreover, online A/B testing on Tencent's advertising platforms demonstrates a 1.19% GMV lift.",
        "tencent",
    ),
    # 2607.10239
    ("Apple Music serves listeners across 150+ storefronts in dozens of languages.", "apple"),
    # 2602.12968: the company's own industrial data is evidence
    (
        "Extensive experiments on a large-scale industrial dataset from Shopee demonstrate gains in GAUC.",
        "shopee",
    ),
    ("The model was deployed on Douyin and Douyin Lite.", "bytedance"),
    ("We report online A/B tests on Xiaohongshu's Explore Feed.", "xiaohongshu"),
    ("DaRL has been deployed online to serve the Alipay's insurance product search.", "ant"),
    ("Deployed at production scale on Facebook and Meta AI products.", "meta"),
]


@pytest.mark.parametrize(("text", "company"), POSITIVE)
def test_real_positive_sentences(gaz: Gazetteer, text: str, company: str) -> None:
    assert company in companies(gaz, text)


NEGATIVE = [
    # 2504.04386
    "Extensive experiments and detailed analysis on three Amazon datasets validate the theoretical equivalence.",
    # 2506.01910
    "We evaluate GLoSS on three real-world Amazon review datasets: Beauty, Toys, and Sports.",
    # 2505.05989
    "Experiments conducted on real-world datasets such as Amazon-Book show that the proposed method wins.",
    "We assessed the performance using real-world datasets from Amazon Reviews in classification tasks.",
    "Experiments on Amazon Beauty and MovieLens-1M show gains.",
    "Experiments on the Yelp dataset and Amazon Books.",
    "Labels were collected on Amazon Mechanical Turk.",
    # 2510.21021
    "Extensive experiments on JD and Amazon datasets demonstrate that GMFlowRec achieves state-of-the-art results.",
    # 2506.07563
    "We evaluate MoE-MLoRA across eight CTR models on Movielens and Taobao, showing that it improves performance.",
    "Comprehensive experiments on Taobao dataset show that ULIM achieves substantial improvements.",
    # 2412.11846
    "Comparative experiments across three benchmark datasets, Tmall, RetailRocket and Diginetica, demonstrate it.",
    # 2503.00619
    "Online platforms like Pinterest hosting vast content collections traditionally rely on manual curation.",
    # 2505.16121
    "Recommender systems are critical technologies for large internet companies such as Amazon and TikTok.",
    # 2503.00238
    "Each method leverages a Meta Llama model for context understanding and generating queries and responses.",
    "Dynamic Multimodal Fusion via Meta-Learning Towards Micro-Video Recommendation",
    "We use meta learning and a meta-path encoder; meta data is filtered.",
    "This paper describes the solutions of all tasks in Meta KDD Cup'25 from BlackPearl team.",
    "Users who bought an apple also bought a banana; apple juice is popular.",
    "Omni-Modal Search on Apple Silicon",
    "PaSa outperforms baselines including Google, Google Scholar and Google with GPT-4.",
    "Experiments use OpenAI's GPT-4o and text-embedding-3-large.",
    "Gene expression measured in vivo and ex vivo.",
    "Social media platforms such as Twitter and Facebook have become embedded in our life.",
    "The JD degree is a professional doctorate.",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_real_negative_sentences(gaz: Gazetteer, text: str) -> None:
    assert companies(gaz, text) == []


def test_cjk_alias_and_display_names(gaz: Gazetteer) -> None:
    hits = gaz.detect(paper("该方法已在快手和淘宝部署。"), "zh")
    assert [(h.company, h.name, h.matched) for h in hits] == [
        ("kuaishou", "快手", "快手"),
        ("alibaba", "阿里巴巴", "淘宝"),
    ]
    assert gaz.display_name("shopee", "zh") == "Shopee（虾皮）"
    assert gaz.display_name("alibaba", "ja") == "アリババ"
    assert gaz.display_name("amazon", "en") == "Amazon"
    assert gaz.display_name("no-such-company", "zh") == "no-such-company"


def test_unknown_in_each_language(gaz: Gazetteer) -> None:
    assert [gaz.unknown(lang) for lang in ("zh", "ja", "en")] == ["未知", "不明", "unknown"]


def test_affiliation_provenance_and_priority(gaz: Gazetteer) -> None:
    p = paper(
        abstract="Deployed in the Kuaishou App and tested at Meta.",
        title="Ranking at Kuaishou",
        comment="Work done during internship at Alibaba.",
        affiliations=["Meta", "Tsinghua University"],
    )
    hits = gaz.detect(p, "en")
    assert hits == [
        CompanyHit("meta", "Meta", "affiliation", "Meta"),
        CompanyHit("kuaishou", "Kuaishou", "title", "Kuaishou"),
        CompanyHit("alibaba", "Alibaba", "comment", "Alibaba"),
    ]


def test_bare_ambiguous_names_count_in_affiliations_only(gaz: Gazetteer) -> None:
    assert [h.company for h in gaz.detect(paper(affiliations=["JD Explore Academy, Beijing"]), "en")] == [
        "jd"
    ]
    assert [h.company for h in gaz.detect(paper(affiliations=["JD, Beijing"]), "en")] == ["jd"]
    assert gaz.detect(paper("Results on JD."), "en") == []
    # Case still matters in affiliations: "apple" is not Apple.
    assert gaz.detect(paper(affiliations=["apple orchard institute"]), "en") == []
    assert [h.company for h in gaz.detect(paper(affiliations=["Amazon"]), "en")] == ["amazon"]


def test_one_hit_per_company_longest_alias(gaz: Gazetteer) -> None:
    hits = gaz.detect(paper("Work at Google DeepMind; we also deployed on YouTube surfaces at Google."), "en")
    assert [(h.company, h.matched) for h in hits] == [("google", "Google DeepMind")]


def test_user_file_extends_and_disables(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(
        """
[companies.acme]
names = { en = "Acme", zh = "阿克米" }
aliases = ["Acme Corp", { text = "ACME", cased = true }]

[companies.kuaishou]
aliases = ["KwaiPro"]

[companies.amazon]
disabled = true
""",
        encoding="utf-8",
    )
    gaz = Gazetteer.load(extra)
    assert [h.company for h in gaz.detect(paper("Shipped at Acme Corp."), "zh")] == ["acme"]
    assert gaz.display_name("acme", "ja") == "Acme"  # falls back to en
    assert [h.company for h in gaz.detect(paper("Launched in KwaiPro and Kwai."), "en")] == ["kuaishou"]
    assert gaz.detect(paper(affiliations=["Amazon"]), "en") == []
    assert gaz.detect(paper("the acme of design"), "en") == []


def test_bad_user_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[companies.x]\nnames = { en = 'X' }\nalias = ['X']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key"):
        Gazetteer.load(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        Gazetteer.load(tmp_path / "missing.toml")
