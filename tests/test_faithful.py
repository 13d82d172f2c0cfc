"""The faithfulness guard on real abstracts: numbers across units and scripts, names, companies in any
script, the visible mark, and a review whose model invents a number (fake server, real HTTP)."""

from __future__ import annotations

import pytest

from paperradar.publish.style_render import render_style, write_style
from paperradar.write.checks.faithful import Claim, Report, check_faithfulness, mark_unverified
from paperradar.write.styles.stored import count_unverified, report_of
from tests.fake_llm import Fault
from tests.fake_llm_styles import FakeStyleLLM, sample_papers, smes_source, style_backend

ABSTRACTS = {p.arxiv_id: p.abstract for p in sample_papers(
    "2602.09386", "2602.07309", "2602.09935", "2602.06935", "2602.14706", "2602.12510"
)}  # fmt: skip
SMES = "2602.09386"  # "...supporting over 400 million daily active users ... GAUC gain of 0.29% and a 0.31% uplift"

CASES = [
    # (paper, generated text, language, {surface: verified})
    (SMES, "SMES已在快手部署，支持超过4亿日活用户。", "zh", {"4亿": True, "快手": True, "SMES": True}),
    (SMES, "支持超过400万日活用户。", "zh", {"400万": False}),
    (SMES, "用户观看时长提升0.31%，GAUC提升0.29%。", "zh", {"0.31%": True, "0.29%": True, "GAUC": True}),
    (SMES, "用户观看时长提升0.3%。", "zh", {"0.3%": False}),
    (SMES, "GAUCが0.29ポイント向上し、4億DAUで運用。", "ja", {"0.29ポイント": True, "4億": True, "DAU": True}),
    (SMES, "視聴時間は０.３１％向上。", "ja", {"０.３１％": True}),
    (SMES, "Serves 0.4 billion users (400M DAU, 400,000,000 in all) with a 0.31 percent uplift.", "en",
     {"0.4 billion": True, "400M": True, "400,000,000": True, "0.31 percent": True, "DAU": True}),
    (SMES, "Serves 4 million users, or 4,000,000.", "en", {"4 million": False, "4,000,000": False}),
    (SMES, "阿里巴巴也部署了该方法，Kwai 的用户增长了。", "zh", {"阿里巴巴": False, "Kwai": True}),
    ("2602.07309", "排序吞吐量提升超过75倍，Small Language Model 负责打分。", "zh", {"75倍": True, "Small": True}),
    ("2602.07309", "排序吞吐量提升57倍，并使用GPT-4o。", "zh", {"57倍": False, "GPT-4o": False}),
    ("2602.09935", "嵌入尺寸缩小10倍而精度不变，缩小100倍时仅损失2.5%；缩小1000倍则未提及。", "zh",
     {"10倍": True, "100倍": True, "2.5%": True, "1000倍": False}),
    ("2602.06935", "Cotten4Rec 比 BERT4Rec 和 LinRec 更省资源，优于SASRec。", "zh",
     {"Cotten4Rec": True, "BERT4Rec": True, "LinRec": True, "SASRec": False}),
    ("2602.14706", "在MovieLens-1M、Foursquare-Tokyo和Yelp上评测。", "zh",
     {"MovieLens-1M": True, "Foursquare-Tokyo": True, "Yelp": False}),
    ("2602.12510", "ColSmol-500MでQPSが約4倍、ROIも高いAI検索。", "ja", {"ColSmol-500M": True, "4倍": True}),
]  # fmt: skip


@pytest.mark.parametrize(("pid", "generated", "lang", "expected"), CASES)
def test_claims_against_real_abstracts(
    pid: str, generated: str, lang: str, expected: dict[str, bool]
) -> None:
    report = check_faithfulness(generated, [ABSTRACTS[pid]], lang)
    got = {c.surface: c.verified for c in report.items}
    assert {s: got.get(s) for s in expected} == expected, report.items
    # Inside a name, or generic words (faithful_words.toml: QPS is a unit like ms): not claims.
    assert not (set(got) & {"500M", "ROI", "AI", "ColSmol", "QPS"})
    assert len(report.unverified) == sum(not v for v in expected.values())


def test_verified_claims_say_what_they_matched() -> None:
    report = check_faithfulness("支持超过4亿日活用户，由快手部署。", [ABSTRACTS[SMES]], "zh")
    matched = {c.surface: c.matched for c in report.items}
    assert matched == {"4亿": "400 million", "快手": "Kuaishou"}


@pytest.mark.parametrize(
    ("lang", "text", "marked"),
    [
        ("zh", "支持超过400万日活用户。", "支持超过【⚠ 未检验: 400万】日活用户。"),
        ("ja", "400万人のユーザー", "【⚠ 未検証: 400万】人のユーザー"),
        ("en", "serves 4 million users", "serves (⚠ unverified: 4 million) users"),
    ],
)
def test_mark_unverified(lang: str, text: str, marked: str) -> None:
    report = check_faithfulness(text, [ABSTRACTS[SMES]], lang)
    assert mark_unverified(text, report, lang) == marked
    assert mark_unverified(text, report.as_dict(), lang) == marked  # the stored form marks the same
    assert mark_unverified(text, Report(), lang) == text


def test_mark_is_whole_token_only() -> None:
    report = Report([Claim("number", "400万", False), Claim("entity", "Rec", False)])
    text = "400万和1400万、4000万；Rec与BERT4Rec"
    assert (
        mark_unverified(text, report, "zh")
        == "【⚠ 未检验: 400万】和1400万、4000万；【⚠ 未检验: Rec】与BERT4Rec"
    )


def test_mark_finds_names_in_escaped_markdown() -> None:
    report = check_faithfulness("使用了GPT_4_turbo模型", ["We use BERT."], "zh")
    assert [c.surface for c in report.unverified] == ["GPT_4_turbo"]
    assert "【⚠ 未检验: GPT\\_4\\_turbo】" in mark_unverified("使用了GPT\\_4\\_turbo模型", report, "zh")


@pytest.mark.parametrize(("lang", "mark"), [("ja", "【⚠ 未検証: 400万】"), ("zh", "【⚠ 未检验: 400万】")])
def test_review_with_a_wrong_number_is_marked_and_counted(
    fake_style_llm: FakeStyleLLM, lang: str, mark: str
) -> None:
    (paper,) = sample_papers(SMES)
    fake_style_llm.add(Fault("wrong_number", task="style_review", times=None))  # says 400万 for 400 million
    result = write_style("review", paper, lang, style_backend(fake_style_llm), source=smes_source())
    assert result.status == "written"
    page = result.markdown
    results_section = page.split("### 3.2")[1].split("### 3.3")[0]
    assert mark in results_section
    assert "0.29%" in results_section and "⚠" not in results_section.replace(mark, "")  # the right one is not
    assert result.unverified == 1
    assert count_unverified([result.stored, None]).unverified == 1
    report = report_of(result.stored)
    assert report is not None and [c.surface for c in report.unverified] == ["400万"]
    assert "⚠" in page.rsplit("---", 1)[1]  # the footer says how many claims are unverified
    # Re-rendering the stored text marks the same claim: the check ran once, at write time.
    assert mark in render_style("review", paper, result.stored, lang, {"mode": "fake-model"})


def test_faithful_review_has_no_marks(fake_style_llm: FakeStyleLLM) -> None:
    (paper,) = sample_papers(SMES)
    result = write_style("review", paper, "ja", style_backend(fake_style_llm), source=smes_source())
    assert result.unverified == 0 and "⚠" not in result.markdown
    faithful = result.stored["faithful"] if result.stored else {}
    assert faithful["checked"] >= 3  # 400 million, 0.29%, SMES... were checked and found
