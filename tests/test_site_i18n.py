"""What a site reader sees in each language: one label catalog for the digest, the site and the styles; the
one fallback rule (own language → the same model's English → extractive, each labelled with why); truthful
reasons for a missing field (declined, given up, below the day's top N, no model); each field credited
once; the style texts embedded without their page's header; per-language feeds.

The store is a real SQLite archive written through the Store's own API (papers, announcements, a ranking,
texts and the markers a failed answer leaves), so the site reads exactly what a run would leave."""

from __future__ import annotations

import json
import re
import string
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from paperradar.models import Announcement, CompanyHit, GeneratedText, Interest, KeywordHit, Paper, Ranked
from paperradar.publish.site import build_site
from paperradar.publish.site_data import FieldRule, PaperView, TextView
from paperradar.publish.site_fields import card_fields, maker, provenance_line
from paperradar.publish.style_render import StyleMeta, render_style
from paperradar.store import Store
from paperradar.text.labels import LANGUAGES, labels
from paperradar.text.style_labels import STRINGS, TOPICS
from tests.publish_fixtures import build_digest

DAY = date(2026, 2, 10)
MODEL = "fake-model"
TOP, LOW, SOLO = "2602.00001", "2602.00002", "2602.00003"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_one_catalog_every_language_has_every_key_and_placeholder() -> None:
    tables = {lang: labels(lang) for lang in LANGUAGES}
    assert set(tables["zh"]) == set(tables["ja"]) == set(tables["en"])
    for key in tables["zh"]:
        assert _fields(tables["zh"][key]) == _fields(tables["ja"][key]) == _fields(tables["en"][key]), key
    assert set(STRINGS["zh"]) == set(STRINGS["ja"]) == set(STRINGS["en"])
    for key in STRINGS["zh"]:
        assert _fields(STRINGS["zh"][key]) == _fields(STRINGS["ja"][key]) == _fields(STRINGS["en"][key]), key
    # The site's own labels (navigation, search, metadata) live in the same catalog as the digest's.
    assert labels("ja")["search_placeholder"] != labels("zh")["search_placeholder"]
    assert labels("en")["kind_cross"] == "cross-list" and labels("zh")["appeared"] == "出现日期"


def test_one_topic_taxonomy_in_the_markdown_highlight_and_on_the_site(tmp_path: Path) -> None:
    # D7: the highlight page said 检索与匹配 where the site said 检索与相关性. Both now name TOPICS.
    from paperradar.publish.style_render import render_highlight_day

    paper = _paper(TOP, "Dense retrieval for search")
    page = render_highlight_day(DAY, [(paper, _highlight("search"))], "zh")
    assert f"## {DAY.isoformat()} {TOPICS['search']['zh']}专题" in page
    store = _store(tmp_path)
    with store:
        build_site(store, tmp_path / "site", ["zh"], "R", top_n=2)
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert TOPICS["search"]["zh"] in index and "检索与相关性" not in index


# -- the fallback rule, on hand-built views -----------------------------------------------------------------


def _view(rule: FieldRule | None = None) -> PaperView:
    return PaperView(_paper(TOP, "A paper"), TOP, rule=rule or FieldRule(top_n=20, give_up_after=3))


def test_own_language_model_text_wins() -> None:
    view = _view()
    view.summaries = {"zh": TextView("中文", MODEL, "zh"), "en": TextView("English", MODEL, "en")}
    shown = view.shown("summary", "zh")
    assert shown.text == view.summaries["zh"] and shown.why is None and not shown.stands_in


def test_same_models_english_stands_in_labelled_with_language_and_why() -> None:
    view = _view()
    view.summaries = {
        "ja": TextView("extractive sentences", "extractive", "ja"),
        "en": TextView("English", MODEL, "en"),
    }
    view.declines = {("summary", "ja"): ("invalid", 1)}
    shown = view.shown("summary", "ja")
    assert shown.text == view.summaries["en"] and shown.why == "invalid"  # before the extractive one
    said = maker(shown, "ja", 20)
    assert "英語版" in said and "日本語版" in said and labels("ja")["why_invalid"] in said


def test_extractive_stands_in_when_no_model_text_exists_and_says_why() -> None:
    view = _view()
    view.summaries = {"zh": TextView("sentences", "extractive", "zh")}
    view.declines = {("summary", "zh"): ("failed", 3)}  # failed give_up_after times: no longer asked
    shown = view.shown("summary", "zh")
    assert shown.text == view.summaries["zh"] and shown.why == "given_up"
    assert maker(shown, "zh", 20) == f"抽取式（{labels('zh')['why_given_up']}）"
    view.declines = {}
    assert view.shown("summary", "zh").why == "no_model"  # nothing was asked of a model


def test_below_top_n_is_said_not_no_model() -> None:
    view = _view(FieldRule(top_n=1))
    view.appearances = [_item(view, rank=2)]
    for kind in ("title", "summary"):
        shown = view.shown(kind, "zh")
        assert shown.text is None and shown.why == "outside_top"
    said = maker(view.shown("summary", "en"), "en", 1)
    assert "top 1" in said and "no LLM" not in said
    assert view.shown("title", "en").why is None  # an English reader's title is the original: not missing


def test_not_asked_in_this_language_when_others_have_model_text() -> None:
    view = _view()
    view.styles = {"review": {"en": TextView("review", MODEL, "en")}}
    assert view.missing("review", "ja") == "not_asked"
    assert view.shown("review", "ja").text is not None  # the English review stands in, labelled
    # A highlight never asked in English gets no extractive stand-in (only a failed one does): the card
    # shows the summary instead.
    view.styles["highlight"] = {"zh": TextView("亮点", MODEL, "zh")}
    shown = view.shown("highlight", "en")
    assert shown.text is None and shown.why == "not_asked"


def test_a_failed_review_gets_a_section_with_why_and_a_failed_highlight_its_extractive_one() -> None:
    view = _view()
    view.declines = {
        ("style:review", "zh"): ("refused", 1),
        ("style:highlight", "zh"): ("failed", 1),
    }
    assert view.style_names() == ["highlight", "review"]
    review = view.shown("review", "zh")
    assert review.text is None and review.why == "refused"
    highlight = view.shown("highlight", "zh")
    assert highlight.text is not None and highlight.text.mode == "extractive" and highlight.why == "failed"


def test_a_card_credits_one_model_once() -> None:
    view = _view()
    view.titles = {"zh": TextView("标题", MODEL, "zh")}
    view.summaries = {"zh": TextView("摘要", MODEL, "zh")}
    item = _item(view, rank=1, interest=Interest(4, "理由", MODEL, reasons={"zh": "理由"}))
    line = provenance_line(card_fields(item, "zh"), "zh")
    assert line == f"标题、摘要、评分：大模型 {MODEL}" and line.count(MODEL) == 1


# -- the built site ------------------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    with _store(tmp_path) as store:
        build_site(store, tmp_path / "site", ["zh", "ja", "en"], "Radar", top_n=2, give_up_after=3)
    return tmp_path / "site"


def test_below_top_n_the_site_says_so(site: Path) -> None:
    html = _unescape((site / "papers" / f"{SOLO}.html").read_text(encoding="utf-8"))
    why = labels("zh")["why_outside_top"].format(top_n=2)
    assert why in html and labels("zh")["why_no_model"] not in html
    assert labels("en")["why_outside_top"].format(top_n=2) in html


def test_failures_are_explained_on_the_paper_page(site: Path) -> None:
    html = (site / "papers" / f"{TOP}.html").read_text(encoding="utf-8")
    zh = _section(html, "zh")
    assert labels("zh")["why_refused"] in zh  # the dialogue: a section with why, not silence
    assert "style-dialogue" in zh and labels("zh")["style_dialogue"] in zh
    ja = _section(html, "ja")
    assert "英語版" in ja and labels("ja")["why_invalid"] in ja  # the English summary stands in
    assert "Summary in English" in ja


def test_no_repeats_on_a_card(site: Path) -> None:
    day = (site / "days" / f"{DAY.isoformat()}.html").read_text(encoding="utf-8")
    card = re.search(rf'<article class="card" id="p-{re.escape(TOP)}">(.*?)</article>', day, re.S)
    assert card is not None
    body = card.group(1)
    assert body.count(f"arXiv:{TOP}") == 1  # the highlight's own id line is not embedded
    for lang in ("zh", "ja", "en"):
        block = re.search(rf'<div class="l l-{lang} body">(.*?)</div>\s*(?=<div class="l|$)', body, re.S)
        assert block is not None and block.group(1).count(MODEL) == 1, lang  # credited once
    # In English the title is the original: no identical "original title" line under it.
    orig = re.search(r'<p class="orig l ([^"]*)"', body)
    assert orig is not None and orig.group(1).split() == ["l-zh", "l-ja"]


def test_every_label_switches(site: Path) -> None:
    html = (site / "papers" / f"{TOP}.html").read_text(encoding="utf-8")
    for key in ("latest", "archive", "tags", "authors", "appeared", "interest", "company"):
        for lang in LANGUAGES:  # one span per distinct text, classed with every language that shows it
            span = re.search(
                rf'<span class="l[^"]* l-{lang}[ "][^>]*>{re.escape(labels(lang)[key])}</span>', html
            )
            assert span is not None, (key, lang)
    # attributes: primary language by default, every language in the table site.js applies
    table = json.loads(
        _unescape(re.search(r'type="search" name="q" [^>]*data-i18n="([^"]*)"', html).group(1))
    )
    assert table["placeholder"]["ja"] == labels("ja")["search_placeholder"]
    assert f'placeholder="{labels("zh")["search_placeholder"]}"' in html
    # kinds and ranks in each language; companies by their gazetteer names; authors joined per language
    assert labels("en")["kind_new"] in html and labels("ja")["kind_new"] in html
    assert labels("ja")["kind_cross"] in (site / "papers" / f"{LOW}.html").read_text(encoding="utf-8")
    assert ">快手<" in html and ">Kuaishou<" in html
    assert "Ann Lee、Bo Chen" in html and "Ann Lee, Bo Chen" in html


def test_feeds_per_language(site: Path) -> None:
    for name, lang in (("feed.xml", "zh"), ("feed.ja.xml", "ja"), ("feed.en.xml", "en")):
        root = ET.fromstring((site / name).read_bytes())
        assert root.findtext("./channel/language") == lang
        description = root.findtext("./channel/item/description") or ""
        assert labels(lang)["field_score"] in description  # who scored it, in the feed's language
    assert (site / "atom.ja.xml").is_file()
    assert "日本語" in (ET.fromstring((site / "feed.ja.xml").read_bytes()).findtext("./channel/title") or "")


def test_embedded_style_has_no_page_header_or_footer() -> None:
    paper = _paper(TOP, "A paper")
    full = render_style("highlight", paper, _highlight("search"), "zh", StyleMeta(mode=MODEL))
    embedded = render_style("highlight", paper, _highlight("search"), "zh", StyleMeta(mode=MODEL, embed=True))
    assert f"arXiv:{TOP}" in full and MODEL in full
    assert f"arXiv:{TOP}" not in embedded and MODEL not in embedded and "Paper explains" in embedded


def test_style_page_says_why_a_model_text_is_missing() -> None:
    paper = _paper(TOP, "A paper")
    page = render_style("review", paper, None, "zh", StyleMeta(missing="failed"))
    assert labels("zh")["why_failed"] in page and "需要大模型" not in page
    assert "需要大模型" in render_style("review", paper, None, "zh", StyleMeta(missing="no_model"))


def test_digest_labels_the_english_summary_standing_in() -> None:
    from paperradar.publish import render_digest

    digest = build_digest("zh")
    first = digest.items[0].paper.arxiv_id
    digest.texts[first]["summary"] = GeneratedText(first, 1, "summary", "en", "English text.", MODEL, "h1")
    digest.missing = {first: {"summary": "failed"}}
    md = render_digest(digest, 4)
    assert f"（{MODEL} 生成的英文版本；中文版本未生成：{labels('zh')['why_failed']}）" in md


# -- helpers ----------------------------------------------------------------------------------------------


def _paper(arxiv_id: str, title: str) -> Paper:
    return Paper(
        arxiv_id,
        title,
        ["Ann Lee", "Bo Chen"],
        "Paper explains 3 things. It reports a 12% gain at Kuaishou.",
        categories=["cs.IR"],
        published=datetime(2026, 2, 9, 1, 0, tzinfo=UTC),
        source="sample",
    )


def _highlight(topic: str) -> dict[str, object]:
    return {
        "style": "highlight",
        "model": MODEL,
        "source": "abstract",
        "faithful": {},
        "data": {
            "topic": topic,
            "emoji": TOPICS[topic]["emoji"],
            "explanation": "Paper explains 3 things.",
            "points": [],
            "key_result": "a 12% gain",
        },
    }


def _item(view: PaperView, rank: int, interest: Interest | None = None):  # type: ignore[no-untyped-def]
    from paperradar.publish.site_data import THEME_OTHER, DayItem

    interest = interest or Interest(3, "r", "heuristic", reasons={"zh": "r", "ja": "r", "en": "r"})
    return DayItem(view, DAY, rank, "new", "cs.IR", [], [], interest, THEME_OTHER, "📄")


def _save(store: Store, arxiv_id: str, task: str, lang: str, content: str, reason: str | None = None) -> None:
    text = GeneratedText(arxiv_id, 1, task, lang, "" if reason else content, MODEL, "h1")
    store.save_text(text, None, reason=reason)  # type: ignore[arg-type]


def _store(tmp_path: Path) -> Store:
    """Three papers ranked on DAY with top N = 2: TOP (everything, some of it failed), LOW (rank 2, a
    cross-list), SOLO (rank 3: below the top N, so no title or summary by design)."""
    store = Store(tmp_path / "radar.db")
    papers = [_paper(TOP, "Dense retrieval for search"), _paper(LOW, "Ranking"), _paper(SOLO, "Search")]
    store.save_papers(papers)
    kinds = {TOP: "new", LOW: "cross", SOLO: "new"}
    store.save_announcements(Announcement(p.arxiv_id, DAY, "cs.IR", kinds[p.arxiv_id], 1) for p in papers)
    hit = KeywordHit("retrieval", "technical", ("retrieval",))
    company = CompanyHit("kuaishou", "快手", "abstract", "Kuaishou")
    ranked = [
        Ranked(
            p,
            Announcement(p.arxiv_id, DAY, "cs.IR", kinds[p.arxiv_id], 1),  # type: ignore[arg-type]
            [hit],
            [company] if p.arxiv_id == TOP else [],
            Interest(4, "理由", MODEL, reasons={"zh": "理由"}),
            rank,
        )
        for rank, p in enumerate(papers, 1)
    ]
    store.save_ranks(DAY, ranked, None)
    for lang in ("zh", "ja"):
        _save(store, TOP, "title", lang, f"译 {lang}")
        _save(store, LOW, "title", lang, f"译 {lang}")
    _save(store, TOP, "summary", "zh", "中文摘要。")
    _save(store, TOP, "summary", "en", "Summary in English.")
    _save(store, TOP, "summary", "ja", "", reason="invalid")
    for lang in ("zh", "ja", "en"):
        _save(store, TOP, "style:highlight", lang, json.dumps(_highlight("search"), ensure_ascii=False))
        _save(store, TOP, "style:dialogue", lang, "", reason="refused")
        _save(store, LOW, "summary", lang, f"summary {lang}")
    return store


def _section(html: str, lang: str) -> str:
    found = re.search(rf'<section class="l l-{lang} texts" lang="{lang}">(.*?)\n  </section>', html, re.S)
    assert found is not None
    return found.group(1)


def _unescape(value: str) -> str:
    import html as html_module

    return html_module.unescape(value)


def test_digest_header_does_not_say_no_llm_when_a_model_failed() -> None:
    from paperradar.publish import render_digest

    digest = build_digest("zh")
    first = digest.items[0].paper.arxiv_id
    digest.texts[first]["summary"] = GeneratedText(first, 1, "summary", "zh", "Copied.", "extractive", "x")
    header = render_digest(digest, 4).split("---", 1)[0]
    assert "摘要: 抽取式（无大模型）" in header  # nothing failed: no model was asked for it
    digest.missing = {first: {"summary": "failed"}}
    header = render_digest(digest, 4).split("---", 1)[0]
    assert "抽取式（无大模型）" not in header and "摘要: 抽取式" in header
