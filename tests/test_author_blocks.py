"""Company from the paper's own author block (issue 11, item 7): affiliations read from arXiv's HTML
rendering (recorded pages in tests/fixtures/fulltext/author_blocks/, see its README), the gazetteer run over
them before any model is asked, provenance "affiliation (html)"; arXiv played on loopback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from paperradar.config import load_config
from paperradar.models import Paper
from paperradar.pipeline import run_pipeline
from paperradar.rank.affiliations import FIELD, academic_only
from paperradar.rank.companies import Gazetteer
from paperradar.sources.fulltext import prepare_sources
from paperradar.sources.http import PoliteClient
from paperradar.sources.latexml import parse_latexml
from paperradar.store import Store
from paperradar.text.labels import LANGUAGES, company_source
from tests.arxiv_server import ArxivServer, RecordedRequest, Reply, synthetic_day
from tests.cli_runner import cli
from tests.fake_llm import FakeLLM

PAGES = Path(__file__).parent / "fixtures" / "fulltext" / "author_blocks"
EXPECTED: dict[str, list[str]] = {
    k: v for k, v in json.loads((PAGES / "expected.json").read_text(encoding="utf-8")).items() if k[0] != "_"
}
HTML_TYPE = "text/html; charset=utf-8"
DAY = "2026-09-24"  # synthetic_day's announcement day


# --- reading the author block ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_pages_give_their_affiliations(name: str) -> None:
    # Labels ("Affiliation:"), e-mail lines, project pages, marks and llncs' "institutetext:" stay out.
    doc = parse_latexml((PAGES / name).read_text(encoding="utf-8"))
    assert doc.affiliations == EXPECTED[name]


def test_affiliation_lines_in_the_person_name_with_glued_marks() -> None:
    # Built, not recorded: the shape LaTeXML gives \author{A$^1$, B$^2$ \\ $^1$X, $^2$Y \\ emails} in
    # article-class papers (the lines after <br> in ltx_personname, marks as <sup>).
    html = (
        '<article class="ltx_document"><div class="ltx_authors"><span class="ltx_creator ltx_role_author">'
        '<span class="ltx_personname">Jingdong Wang<sup class="ltx_sup">1</sup>, Alexa Li<sup class="ltx_sup">'
        '2</sup><br class="ltx_break"><sup class="ltx_sup">1</sup>Kuaishou Technology, <sup class="ltx_sup">2'
        '</sup>Tsinghua University<br class="ltx_break">{jd,alexa}@kuaishou.com</span></span></div>'
        '<div class="ltx_abstract"><p class="ltx_p">A.</p></div></article>'
    )
    affiliations = parse_latexml(html).affiliations
    assert affiliations == ["Kuaishou Technology", "Tsinghua University"]
    # The names never reach the gazetteer: "Jingdong" (JD) and "Alexa" (Amazon) are people here.
    hits = Gazetteer.load().from_affiliations(affiliations, "en", FIELD)
    assert [(h.company, h.field, h.matched) for h in hits] == [("kuaishou", FIELD, "Kuaishou")]


def test_academic_only() -> None:
    assert academic_only(["University of Southern California", "Massachusetts Institute of Technology"])
    assert not academic_only(["Spectacular AI", "Aalto University"])
    assert not academic_only(["Zhejiang Lab"]) and not academic_only([])


def test_provenance_is_labelled_in_every_language() -> None:
    for lang in LANGUAGES:
        label = company_source(FIELD, lang)
        assert "HTML" in label and label != FIELD
        assert company_source("llm", lang) != "llm"


# --- the rank step against a loopback arXiv --------------------------------------------------------------

# Pages served to the day's top papers in the order arXiv is asked (rank order); None is a 404.
SERVED = ["2606.05868.html", "2312.17527v1.html", None, "2403.13327v3.html", "2609.01222v2.html"]


class Pages:
    """/html/<id>v<n>: the recorded pages, handed out to the papers in the order they are asked for."""

    def __init__(self, served: list[str | None]) -> None:
        self.served = list(served)
        self.given: dict[str, str | None] = {}

    def __call__(self, request: RecordedRequest) -> Reply:
        vid = request.path.removeprefix("/html/")
        if vid not in self.given:
            self.given[vid] = self.served[len(self.given) % len(self.served)]
        page = self.given[vid]
        if page is None:
            return Reply(404, b"No HTML for this paper", content_type="text/plain")
        return Reply(body=(PAGES / page).read_bytes(), content_type=HTML_TYPE)


def sources(arxiv: ArxivServer, extra: str = "") -> str:
    return (
        f'[sources]\nrss_url = "{arxiv.rss_url}"\napi_url = "{arxiv.api_url}"\nhtml_url = "{arxiv.url}/html"\n'
        f'pdf_url = "{arxiv.url}/pdf"\nrequest_delay = 0.0\n{extra}'
    )


def export(cfg: Path) -> list[dict[str, object]]:
    path = cfg.parent / "day.jsonl"
    assert cli("--config", str(cfg), "export", "--date", DAY, "-o", str(path)) == 0
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run_stats(cfg: Path) -> dict[str, object]:
    conn = sqlite3.connect(cfg.parent / "radar.db")
    try:
        return dict(json.loads(conn.execute("SELECT stats FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]))
    finally:
        conn.close()


def test_company_from_the_author_block_once_per_paper(write_config, capsys) -> None:
    with ArxivServer() as arxiv:
        synthetic_day(40, ["cs.IR"]).install(arxiv)  # no company in any title or abstract
        arxiv.route("/html/", handler=Pages(SERVED), prefix=True)
        cfg = write_config("top_n = 5\n" + sources(arxiv))
        assert cli("--config", str(cfg), "run") == 0
        html = [r.path for r in arxiv.requests if r.path.startswith("/html/")]
        out = capsys.readouterr().out

        rows = export(cfg)
        # one request per top paper without a company, nothing for the rest of the day
        assert len(html) == len(set(html)) == 5
        assert {f"/html/{r['arxiv_id']}v{r['version']}" for r in rows} == set(html)
        companies = {str(r["arxiv_id"]): r["company"] for r in rows}
        top = f"{rows[0]['arxiv_id']}"
        assert companies[top] == [
            {"company": "huawei", "field": "affiliation (html)", "matched": "Huawei", "name": "华为"}
        ]
        assert all(companies[str(r["arxiv_id"])] == [] for r in rows[1:])
        stats = run_stats(cfg)["author_blocks"]
        assert stats == {
            "papers": 5, "cached": 0, "fetched": 4, "no_html": 1, "failed": 0, "not_fetched": 0,
            "with_affiliations": 4, "companies": 1, "academic": 2,
        }  # fmt: skip
        assert "company from arXiv HTML: 5 top papers without a company: 4 author blocks read" in out
        # the digest shows the company found in the author block
        digest = (cfg.parent / "out" / "digests" / f"{DAY}.zh.md").read_text(encoding="utf-8")
        assert "**所属公司**: 华为" in digest

        # a re-run reads the cache (and remembers the 404): no request to arXiv's HTML at all
        arxiv.reset()
        synthetic_day(40, ["cs.IR"]).install(arxiv)
        arxiv.route("/html/", Reply(500), prefix=True)  # would fail the run's step if it were asked
        assert cli("--config", str(cfg), "run") == 0
        assert not [r for r in arxiv.requests if r.path.startswith("/html/")]
        again = run_stats(cfg)["author_blocks"]
        assert (again["cached"], again["no_html"], again["fetched"], again["companies"]) == (4, 1, 0, 1)

        # the review and dialogue styles find the same pages in the full-text cache
        cache = cfg.parent / "fulltext"
        assert len(list(cache.glob("*.json"))) == 4 and len(list(cache.glob("*.no-html"))) == 1
        client = PoliteClient(delay=0.0, max_retries=0)
        paper = Paper(top, "t", [], "a", version=int(str(rows[0]["version"])))
        got = prepare_sources([paper], client, cache_dir=cache, html_base=f"{arxiv.url}/html")
        assert got[top].origin == "html" and "Huawei Technologies, Shenzhen, China" in got[top].affiliations
        assert client.request_count == 0


def test_the_model_is_asked_only_where_the_author_block_did_not_settle_it(
    write_config,
    fake_llm: FakeLLM,
) -> None:
    with ArxivServer() as arxiv:
        synthetic_day(40, ["cs.IR"]).install(arxiv)
        arxiv.route("/html/", handler=Pages(SERVED), prefix=True)
        cfg = write_config(
            "top_n = 5\n"
            + sources(arxiv)
            + f'[llm]\nbackend = "openai"\n[[llm.endpoints]]\nbase_url = "{fake_llm.url}"\n'
            f'model = "{fake_llm.model}"\n'
        )
        assert cli("--config", str(cfg), "run") == 0
    asked = [c for c in fake_llm.chat_calls if c.task == "company"]
    # Huawei came from the author block, two blocks are universities only, one paper has no HTML: only the
    # paper whose block names "Spectacular AI" (not in the word list) and ETH Zurich is asked about.
    assert len(asked) == 1
    assert "Affiliations: Spectacular AI; ETH Zurich; Aalto University" in asked[0].text
    stats = run_stats(cfg)
    assert stats["author_blocks"]["companies"] == 1 and stats["company"]["written"] == 1  # type: ignore[index]


def test_arxiv_down_costs_one_retry_cycle_then_the_cache_only(tmp_path: Path) -> None:
    with ArxivServer() as arxiv:
        synthetic_day(40, ["cs.IR"]).install(arxiv)
        arxiv.route("/html/", Reply(503), prefix=True)
        (tmp_path / "paperradar.toml").write_text(
            '[store]\npath = "radar.db"\n[output]\nfolder = "out"\ntop_n = 5\n' + sources(arxiv),
            encoding="utf-8",
        )
        cfg = load_config(tmp_path / "paperradar.toml")
        client = PoliteClient(delay=0.0, max_retries=2, sleep=lambda _: None)
        with Store(cfg.db_path) as store:
            result = run_pipeline(cfg, store, client=client)
        html = [r.path for r in arxiv.requests if r.path.startswith("/html/")]
    # the first paper: its request and two retries; the other four are not asked this run
    assert len(html) == 3 and len(set(html)) == 1
    counts = result.stats.author_blocks
    assert counts is not None
    assert (counts.failed, counts.not_fetched, counts.fetched) == (1, 4, 0)
    assert counts.note is not None and "did not answer" in counts.note
    assert not list((tmp_path / "fulltext").glob("*.no-html"))  # an outage is not remembered as "no HTML"


def test_sample_run_is_offline_and_says_so(write_config, capsys) -> None:
    with ArxivServer() as arxiv:
        cfg = write_config(sources(arxiv))
        assert cli("--config", str(cfg), "run", "--sample", "--date", "2026-02-17") == 0
        assert arxiv.requests == []
    stats = run_stats(cfg)["author_blocks"]
    assert stats["fetched"] == 0 and stats["not_fetched"] == stats["papers"] == 16  # type: ignore[index]
    assert "offline run (--sample)" in str(stats["note"])  # type: ignore[index]
    assert "offline run (--sample): no arXiv request" in capsys.readouterr().out


def test_switched_off(write_config) -> None:
    with ArxivServer() as arxiv:
        synthetic_day(40, ["cs.IR"]).install(arxiv)
        arxiv.route("/html/", handler=Pages(SERVED), prefix=True)
        cfg = write_config("top_n = 5\n" + sources(arxiv, "company_from_html = false\n"))
        assert cli("--config", str(cfg), "run") == 0
        assert not [r for r in arxiv.requests if r.path.startswith("/html/")]
    assert "author_blocks" not in run_stats(cfg)
