"""venue_from_comment on real arXiv comments (from tests/fixtures/arxiv and the bundled sample) and on the
spellings the highlight page must recognise."""

from __future__ import annotations

import pytest

from paperradar.models import Paper
from paperradar.publish.style_render import render_style
from paperradar.write.checks.venue import venue_from_comment

CASES = [
    # real comments
    ("Accepted at ECIR 2026", "ECIR 2026"),
    ("Accepted to AAAI 2026 (Main Track)", "AAAI 2026 (Main Track)"),
    ("Accepted by ACL 2025 (main)", "ACL 2025 (main)"),
    ("Accepted as a Full Paper at WWW 2026", "WWW 2026 (Full Paper)"),
    ("In the proceedings of the Web Conference (WWW) 2026 (4 pages)", "WWW 2026"),
    ("To be published at The Web Conference 2026 (WWW 2026)", "WWW 2026"),
    (
        "Accepted to the 63rd Annual Meeting of the Association for\n  Computational Linguistics (ACL 2025) "
        "Industry Track, 10 pages",
        "ACL 2025 (Industry Track)",
    ),
    (
        "4 pages, 3 tables, 2 figures. Accepted at the SIGIR LiveRAG Workshop\n  2025 (Submission 2664)",
        "SIGIR 2025 (LiveRAG Workshop)",
    ),
    ("KDD TSMO 2025: https://sites.google.com/view/tsmo2025/accepted-papers?authuser=0", "KDD 2025 (TSMO)"),
    ("Presented in AAAI 2026 Singapore at the workshop of Health Intelligence", "AAAI 2026 (workshop)"),
    ("Accepted at EACL SRW 26", "EACL 2026 (SRW)"),
    ("Accepted at CHIIR 2025", "CHIIR 2025"),
    ("AAAI 2025", "AAAI 2025"),
    (
        "9+2 pages, 8 figures. Accepted for publication in IEEE PacificVis 2026 (Conference Track). "
        "Interactive composed image retrieval (CIR) and ranking explanation",
        "PacificVis 2026 (Conference Track)",
    ),
    (
        "17 pages, 2 figures, The Pacific Rim International Conference on\n  Artificial Intelligence "
        "(PRICAI-2025) Conference",
        "PRICAI 2025",
    ),
    # real comments naming a venue the paper has not (yet) got into, or none at all
    ("Under review at SIGIR 2026", None),
    (
        "4 pages, 3 figures. Submitted to SIGIR 2026 Demonstrations Track. Project website: "
        "https://github.com/Ara-Yeroyan/visual-rag-toolkit",
        None,
    ),
    (
        "An earlier version of this work was publicly available on OpenReview as an ICLR 2026 submission in "
        "September 2025",
        None,
    ),
    ("10 pages, 23 figures and 2 tables. Accepted for publication by MNRAS.", None),
    ("submitted to IEEE conference", None),
    ("14 pages, 12 figures, conference", None),
    (None, None),
    # spellings
    ("ECIR 2026", "ECIR 2026"),
    ("KDD 2025", "KDD 2025"),
    ("Accepted to ICML 2026", "ICML 2026"),
    ("SIGIR '26", "SIGIR 2026"),
    ("WWW 2026 (short)", "WWW 2026 (short)"),
    ("Findings of EMNLP 2025", "EMNLP 2025 (Findings)"),
    ("Accepted by TOIS", "TOIS"),
    ("12 pages; KDD 26 pages of appendix", None),
    ("Code: https://github.com/someone/KDD2025-demo", None),
    ("Accepted at CIKM'25. Code at https://github.com/x/y", "CIKM 2025"),
]


@pytest.mark.parametrize(("comment", "venue"), CASES)
def test_venue_from_comment(comment: str | None, venue: str | None) -> None:
    assert venue_from_comment(comment) == venue


def test_highlight_shows_the_venue_next_to_the_link() -> None:
    paper = Paper("2601.22008", "LANCER: LLM Reranking for Nugget Coverage", ["A B"], "We rerank. It helps.")
    paper.comment = "Accepted at ECIR 2026"
    page = render_style("highlight", paper, None, "ja")
    assert "**[arXiv:2601.22008](https://arxiv.org/abs/2601.22008)** | ECIR 2026\n" in page
