"""Full text from a loopback arXiv: LaTeXML HTML parsed into sections/tables/affiliations, PDF fallback
(a PDF made here with fpdf2), the on-disk cache, politeness, and fitting a token budget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperradar.errors import DataError, NetworkError
from paperradar.models import Paper
from paperradar.sources.fulltext import (
    FullText,
    Section,
    fetch_fulltext,
    fit_to_budget,
    parse_html,
    parse_pdf,
    prepare_sources,
)
from paperradar.sources.http import PoliteClient
from paperradar.text.extractive import split_sentences
from paperradar.text.tokens import estimate_tokens
from tests.arxiv_server import ArxivServer, Reply
from tests.fake_llm_styles import FULLTEXT_FIXTURES
from tests.fake_time import FakeTime  # the clock that only moves when the client sleeps

HTML = (FULLTEXT_FIXTURES / "2602.09386v1.html").read_bytes()
HTML_TYPE = "text/html; charset=utf-8"


def client(fake: FakeTime, **kwargs: object) -> PoliteClient:
    options: dict[str, object] = {"delay": 3.0, "timeout": 5.0, "max_retries": 2, "contact": "me@example.org"}
    options.update(kwargs)
    return PoliteClient(sleep=fake.sleep, clock=fake.clock, **options)  # type: ignore[arg-type]


def bases(server: ArxivServer) -> dict[str, str]:
    return {"html_base": server.url + "/html", "pdf_base": server.url + "/pdf"}


def make_pdf() -> bytes:
    """A small one-column paper PDF, written with fpdf2 (dev dependency)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()

    def line(height: float, text: str) -> None:
        pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("Helvetica", "B", 14)
    line(8, "Sparse Experts for Multi-Task Ranking")
    pdf.set_font("Helvetica", size=10)
    for text in ("Ada Lovelace, Alan Turing", "Kuaishou Technology, Beijing, China", "ada@example.com"):
        line(6, text)
    body = {
        "Abstract": "We study sparse experts for ranking. The method serves 400 million users. "
        "It improves watch time by 0.31%.",
        "1 Introduction": "Multi-task models predict many signals. Dense scaling is expensive for sparse tasks.",
        "2 Method": "Each instance activates shared experts and private experts. A regularizer balances load.",
        "3 Experiments": "Online tests ran for seven days. Watch time rose by 0.31% and GAUC by 0.29%.",
        "4 Conclusion": "Sparse experts scale multi-task ranking at low cost.",
        "References": "[1] J. Ma et al. Modeling task relationships. KDD 2018.",
    }
    for heading, text in body.items():
        pdf.set_font("Helvetica", "B", 12)
        line(7, heading)
        pdf.set_font("Helvetica", size=10)
        line(5, text)
    return bytes(pdf.output())


# --- HTML ------------------------------------------------------------------------------------------------


def test_html_from_loopback_is_parsed(arxiv_server: ArxivServer, tmp_path: Path) -> None:
    arxiv_server.route("/html/2602.09386v1", Reply(200, HTML, content_type=HTML_TYPE))
    fake = FakeTime()
    with client(fake) as c:
        full = fetch_fulltext("2602.09386", 1, c, cache_dir=tmp_path, **bases(arxiv_server))
    assert full.source == "html"
    assert full.title == "SMES: Towards Scalable Multi-Task Recommendation via Expert Sparsity"
    titles = [(s.level, s.title) for s in full.sections]
    assert titles[:4] == [(1, "Abstract"), (1, "1. Introduction"), (1, "2. Related Work"), (1, "3. Method")]
    assert (2, "3.1. Progressive Expert Routing") in titles and (2, "4.3. Online A/B Test") in titles
    assert not any("References" in t or t == "Abstract." for _, t in titles)  # bibliography is not text
    text = {s.title: s.text for s in full.sections}
    assert (
        text["Abstract"].startswith("Industrial recommender systems") and "0.31% uplift" in text["Abstract"]
    )
    assert "k_{s} shared experts" in text["3.1. Progressive Expert Routing"]  # math as its TeX
    assert "Code will be released" not in "\n".join(text.values())  # footnotes are left out
    assert "experimental HTML" not in "\n".join(text.values())  # arXiv's page chrome too
    assert full.tables == [
        [
            ["Model", "Watch time", "Like"],
            ["MMoE", "0.6812", "0.7420"],
            ["PLE", "0.6825", "0.7431"],
            ["SMES", "0.6854", "0.7452"],
        ]
    ]
    assert full.table_captions == ["Table 1. Offline GAUC on the industrial dataset."]
    assert full.affiliations == [
        "Kuaishou Technology, Beijing, China",
        "Department of Computer Science, Tsinghua University, Beijing, China",
    ]
    (request,) = arxiv_server.requests
    assert request.path == "/html/2602.09386v1"
    assert (
        request.headers["user-agent"].startswith("paperradar/")
        and "me@example.org" in request.headers["user-agent"]
    )


def test_second_fetch_comes_from_the_cache(arxiv_server: ArxivServer, tmp_path: Path) -> None:
    arxiv_server.route("/html/2602.09386v1", Reply(200, HTML, content_type=HTML_TYPE))
    fake = FakeTime()
    with client(fake) as c:
        first = fetch_fulltext("2602.09386", 1, c, cache_dir=tmp_path, **bases(arxiv_server))
    with client(fake) as c:  # a new client (a new run): the file on disk answers
        second = fetch_fulltext("arXiv:2602.09386", 1, c, cache_dir=tmp_path, **bases(arxiv_server))
        assert c.request_count == 0
    assert len(arxiv_server.requests) == 1
    assert second == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2602.09386v1.json"]
    arxiv_server.route("/html/2602.09386v2", Reply(200, HTML, content_type=HTML_TYPE))
    with client(fake) as c:
        fetch_fulltext("2602.09386", 2, c, cache_dir=tmp_path, **bases(arxiv_server))  # another version
    assert len(arxiv_server.requests) == 2


def test_old_style_ids_get_safe_cache_names(arxiv_server: ArxivServer, tmp_path: Path) -> None:
    arxiv_server.route("/html/hep-th/9901001v3", Reply(200, HTML, content_type=HTML_TYPE))
    with client(FakeTime()) as c:
        fetch_fulltext("hep-th/9901001", 3, c, cache_dir=tmp_path, **bases(arxiv_server))
    assert [p.name for p in tmp_path.iterdir()] == ["hep-th_9901001v3.json"]


# --- PDF fallback ----------------------------------------------------------------------------------------


def test_html_404_falls_back_to_pdf_politely(arxiv_server: ArxivServer, tmp_path: Path) -> None:
    arxiv_server.route(
        "/html/2602.09386v1", Reply(404, b"No HTML for '2602.09386v1'", content_type="text/html")
    )
    arxiv_server.route("/pdf/2602.09386v1", Reply(200, make_pdf(), content_type="application/pdf"))
    fake = FakeTime()
    with client(fake) as c:
        full = fetch_fulltext("2602.09386", 1, c, cache_dir=tmp_path, **bases(arxiv_server))
    assert [r.path for r in arxiv_server.requests] == ["/html/2602.09386v1", "/pdf/2602.09386v1"]
    assert fake.sleeps == [3.0]  # the PDF request waited arXiv's spacing after the HTML one
    assert full.source == "pdf" and full.tables == []
    assert full.title == "Sparse Experts for Multi-Task Ranking"
    titles = [s.title for s in full.sections]
    assert titles == ["Abstract", "1 Introduction", "2 Method", "3 Experiments", "4 Conclusion", "References"]
    assert "0.31%" in full.sections[0].text and "400 million users" in full.sections[0].text
    assert full.affiliations == ["Kuaishou Technology, Beijing, China"]
    budgeted = fit_to_budget(full, 0)
    assert "## 3 Experiments" in budgeted and "Modeling task relationships" not in budgeted


def test_no_rendering_at_all_is_a_data_error_and_the_abstract_is_used(
    arxiv_server: ArxivServer, tmp_path: Path
) -> None:
    arxiv_server.route("/html/2602.09386v1", Reply(200, b"<html><body>Conversion failed</body></html>"))
    arxiv_server.route("/pdf/2602.09386v1", Reply(404, b"not found", content_type="text/plain"))
    with client(FakeTime()) as c, pytest.raises(DataError) as info:
        fetch_fulltext("2602.09386", 1, c, cache_dir=tmp_path, **bases(arxiv_server))
    assert "no usable full text for 2602.09386v1" in info.value.message
    assert "not an arXiv LaTeXML rendering" in info.value.message and "PDF: HTTP 404" in info.value.message
    assert list(tmp_path.iterdir()) == []  # failures are not cached: the next run tries again
    paper = Paper("2602.09386", "SMES", ["Y. Zhang"], "Abstract text.")
    with client(FakeTime()) as c:
        sources = prepare_sources([paper], c, cache_dir=tmp_path, **bases(arxiv_server))
    assert sources["2602.09386"].origin == "abstract" and sources["2602.09386"].text == ""


def test_server_errors_stay_network_errors(arxiv_server: ArxivServer, tmp_path: Path) -> None:
    arxiv_server.route("/html/2602.09386v1", Reply(503))
    fake = FakeTime()
    with client(fake, max_retries=1) as c, pytest.raises(NetworkError):
        fetch_fulltext("2602.09386", 1, c, cache_dir=tmp_path, **bases(arxiv_server))
    assert len(arxiv_server.requests) == 2 and fake.sleeps  # retried once, after waiting


def test_unparseable_inputs_say_what_is_wrong() -> None:
    with pytest.raises(DataError, match="not an arXiv LaTeXML rendering"):
        parse_html("<html><body><p>Hello</p></body></html>", url="http://x/html/1")
    with pytest.raises(DataError, match="no sections"):
        parse_html('<html><body><article class="ltx_document"></article></body></html>')
    with pytest.raises(DataError, match="not a PDF"):
        parse_pdf(b"<html>oops</html>")
    with pytest.raises(DataError, match=r"unreadable PDF|no extractable text"):
        parse_pdf(b"%PDF-1.4\n garbage without objects")


# --- fitting a budget ------------------------------------------------------------------------------------


def long_paper() -> FullText:
    def para(tag: str, n: int) -> str:
        return " ".join(
            f"{tag} sentence {i} reports e.g. a 0.{i}% gain vs. the baseline (Fig. 2)." for i in range(n)
        )

    sections = [
        Section("Abstract", para("Abstract", 6)),
        Section("1 Introduction", para("Intro", 12) + "\n" + para("Intro2", 8)),
        Section("2 Related Work", para("Related", 30)),
        Section("3 Method", para("Method", 20)),
        Section("3.1 Encoder", para("Encoder", 15), 2),
        Section("4 Experiments", para("Experiment", 25)),
        Section("5 Conclusion", para("Conclusion", 5)),
        Section("Acknowledgments", para("Thanks", 3)),
        Section("References", para("Ref", 40)),
        Section("A Proofs", para("Proof", 30)),
    ]
    return FullText(
        sections, [[["Model", "NDCG"], ["Ours", "0.512"]]], [], "html", table_captions=["Table 1"]
    )


@pytest.mark.parametrize("budget", [40, 120, 300, 700, 1500, 3000, 0])
def test_fit_to_budget_never_cuts_a_sentence(budget: int) -> None:
    full = long_paper()
    sentences = {s for sec in full.sections for para in sec.text.split("\n") for s in split_sentences(para)}
    out = fit_to_budget(full, budget)
    if budget:
        assert estimate_tokens(out) <= budget * 1.05 + 10
    for line in out.splitlines():
        if not line or line.startswith("#") or line in ("Table 1", "Model | NDCG", "Ours | 0.512", "…"):
            continue
        for piece in split_sentences(line.removesuffix(" …")):
            assert piece in sentences, piece  # every sentence whole, as written
    assert "Thanks sentence" not in out and "Ref sentence" not in out  # never acknowledgements/references


def test_fit_to_budget_priorities() -> None:
    full = long_paper()
    small = fit_to_budget(full, 300)
    assert small.startswith("## Abstract\nAbstract sentence 0")
    assert "Related sentence" not in small and "Proof sentence" not in small
    medium = fit_to_budget(full, 1500)
    heads = re.findall(r"^#+ .*$", medium, re.M)
    assert heads[:2] == ["## Abstract", "## 1 Introduction"]
    assert (
        "Experiment sentence 0" in medium and "Ours | 0.512" in medium
    )  # results and tables before related work
    assert "Related sentence 29" not in medium
    everything = fit_to_budget(full, 0)
    assert "Related sentence 29" in everything and "Proof sentence 29" in everything
    order = [h for h in re.findall(r"^#+ (.*)$", everything, re.M)]
    assert order.index("4 Experiments") < order.index("Tables") < order.index("5 Conclusion")
