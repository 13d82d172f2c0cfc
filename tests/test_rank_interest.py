"""HeuristicInterest: the documented rule, monotone in evidence, reasons in zh/ja/en, empty profile."""

from __future__ import annotations

import pytest

from paperradar.models import CompanyHit, KeywordHit, Paper
from paperradar.rank.interest import (
    SIM_HIGH,
    SIM_MEDIUM,
    HeuristicInterest,
    points_to_score,
    similarity_points,
)

GROUPS = {"company": ["kuaishou"], "technical": ["ranking", "ctr", "rerank", "cold-start", "causal"]}
PROFILE = "Industrial recommendation: ranking and re-ranking, CTR prediction, cold-start, causal debiasing."

ON_TOPIC = Paper(
    "2501.00001",
    "Re-ranking for CTR Prediction in Industrial Recommendation",
    [],
    "We study ranking and re-ranking for CTR prediction with cold-start items and causal debiasing.",
)
OFF_TOPIC = Paper(
    "2501.00002",
    "Protein Folding with Graph Networks",
    [],
    "We predict protein structures from amino acid sequences using message passing on residue graphs.",
)
MIDDLE = Paper(
    "2501.00003",
    "Query Understanding for Web Search",
    [],
    "We classify web queries into intents and evaluate ranking quality on a search engine log.",
)
POOL = [ON_TOPIC, OFF_TOPIC, MIDDLE]


def kw(*words: str, group: str = "technical") -> list[KeywordHit]:
    return [KeywordHit(w, group, (w,)) for w in words]


KUAISHOU = [CompanyHit("kuaishou", "快手", "abstract", "Kuaishou")]


def test_similarity_orders_pool() -> None:
    sims = HeuristicInterest(PROFILE, GROUPS).similarities(POOL)
    assert sims["2501.00001"] > sims["2501.00003"] > sims["2501.00002"]
    assert sims["2501.00001"] >= SIM_HIGH
    assert sims["2501.00002"] < SIM_MEDIUM


def test_title_weighs_more_than_abstract() -> None:
    a = Paper(
        "a", "CTR prediction and re-ranking", [], "Protein folding with amino acid graphs and residues."
    )
    b = Paper(
        "b", "Protein folding with amino acid graphs", [], "CTR prediction and re-ranking with residues."
    )
    sims = HeuristicInterest(PROFILE, GROUPS).similarities([a, b, OFF_TOPIC])
    assert sims["a"] > sims["b"]


def test_rule_recomputes_from_evidence() -> None:
    h = HeuristicInterest(PROFILE, GROUPS)
    hits = {
        "2501.00001": kw("ranking", "ctr", "rerank", "cold-start", "causal") + kw("kuaishou", group="company")
    }
    res = h.score(POOL, hits, {"2501.00001": KUAISHOU}, "en")
    for paper in POOL:
        interest = res[paper.arxiv_id]
        ev = interest.evidence
        assert interest.mode == "heuristic"
        assert set(ev) == {"technical", "company", "similarity", "points"}
        points = (
            min(len(ev["technical"]), 4) + (1 if ev["company"] else 0) + similarity_points(ev["similarity"])
        )
        assert ev["points"] == points
        assert interest.score == points_to_score(points, True)
    top = res["2501.00001"]
    assert top.evidence["technical"] == [
        "ranking",
        "ctr",
        "rerank",
        "cold-start",
        "causal",
    ]  # company group excluded
    assert top.evidence["company"] == ["快手"]
    assert top.score == 5
    assert res["2501.00002"].score == 1


def test_company_keyword_alone_adds_nothing() -> None:
    h = HeuristicInterest("", GROUPS)
    with_kw = h.score([OFF_TOPIC], {OFF_TOPIC.arxiv_id: kw("kuaishou", group="company")}, {}, "en")
    without = h.score([OFF_TOPIC], {}, {}, "en")
    assert with_kw[OFF_TOPIC.arxiv_id].score == without[OFF_TOPIC.arxiv_id].score == 1


@pytest.mark.parametrize("profile", [PROFILE, ""])
def test_monotone_in_evidence(profile: str) -> None:
    h = HeuristicInterest(profile, GROUPS)
    words = ["ranking", "ctr", "rerank", "cold-start", "causal"]

    def score(n: int, company: bool) -> int:
        comp = {MIDDLE.arxiv_id: KUAISHOU} if company else {}
        return h.score(POOL, {MIDDLE.arxiv_id: kw(*words[:n])}, comp, "en")[MIDDLE.arxiv_id].score

    for company in (False, True):
        scores = [score(n, company) for n in range(len(words) + 1)]
        assert scores == sorted(scores) and scores[0] < scores[-1]
    for n in range(len(words) + 1):
        assert score(n, True) >= score(n, False)
    assert score(0, False) == 1 and score(len(words), True) == 5
    # And in similarity, with keyword and company evidence held fixed.
    for pts in range(6):
        assert points_to_score(pts, True) <= points_to_score(pts + 1, True)
        assert points_to_score(pts, False) <= points_to_score(pts + 1, False)
    assert (
        similarity_points(None)
        == similarity_points(0.0)
        <= similarity_points(SIM_MEDIUM)
        <= similarity_points(SIM_HIGH)
    )


def test_higher_similarity_never_lowers_score() -> None:
    h = HeuristicInterest(PROFILE, GROUPS)
    res = h.score(POOL, {p.arxiv_id: kw("ranking") for p in POOL}, {}, "en")
    by_sim = sorted(POOL, key=lambda p: res[p.arxiv_id].evidence["similarity"])
    scores = [res[p.arxiv_id].score for p in by_sim]
    assert scores == sorted(scores)
    assert scores[0] < scores[-1]


def test_reasons_in_each_language() -> None:
    h = HeuristicInterest(PROFILE, GROUPS)
    hits = {"2501.00001": kw("ranking", "ctr")}
    comps = {"2501.00001": KUAISHOU}
    zh = h.score(POOL, hits, comps, "zh")["2501.00001"].reason
    ja = h.score(POOL, hits, comps, "ja")["2501.00001"].reason
    en = h.score(POOL, hits, comps, "en")["2501.00001"].reason
    assert zh.startswith("启发式评分：命中技术关键词 ranking、ctr，公司 快手；与兴趣描述的相似度 0.")
    assert zh.endswith("（较高）")
    assert ja.startswith(
        "ヒューリスティック評価：技術キーワード ranking、ctr に一致、企業 快手；関心の記述との類似度 0."
    )
    assert ja.endswith("（高い）")
    assert en.startswith(
        "Heuristic score: matched technical keywords ranking, ctr; company 快手; similarity to your"
    )
    assert en.endswith("(high).")
    off = h.score(POOL, {}, {}, "zh")["2501.00002"].reason
    assert off.startswith("启发式评分：未命中技术关键词；") and off.endswith("（较低）")


def test_empty_profile_still_scores_and_says_so() -> None:
    h = HeuristicInterest("   \n", GROUPS)
    res = h.score(POOL, {"2501.00001": kw("ranking", "ctr", "rerank", "causal")}, {}, "zh")
    top = res["2501.00001"]
    assert top.evidence["similarity"] is None
    assert top.score == 5  # 4 points of 5 possible without a profile
    assert "未填写兴趣描述" in top.reason
    assert "no interest profile" in h.score(POOL, {}, {}, "en")["2501.00002"].reason
    assert "類似度は未計算" in h.score(POOL, {}, {}, "ja")["2501.00002"].reason
    assert res["2501.00002"].score == 1


def test_degenerate_pools() -> None:
    h = HeuristicInterest(PROFILE, GROUPS)
    assert h.score([], {}, {}, "en") == {}
    empty = Paper("x", "", [], "")
    assert h.score([empty], {}, {}, "en")["x"].score == 1
    stop = HeuristicInterest("the and of", GROUPS)
    assert stop.score([Paper("y", "the of", [], "and the")], {}, {}, "en")["y"].evidence["similarity"] == 0.0
