"""Static site: pages from a real store (the bundled sample run through the pipeline), escaping of hostile
text, relative links, byte-stable output, the search index and the read model's choices."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from bench.site_bench import sample_store
from paperradar.models import Announcement, GeneratedText, KeywordHit
from paperradar.publish.site import SITE_MANIFEST, build_site, render_markdown
from paperradar.publish.site_data import (
    THEME_OTHER,
    collect_site_data,
    parse_highlight,
    slugify,
    theme_for,
    topic_theme,
)
from paperradar.store import Store
from paperradar.text.style_labels import TOPICS, topic_of
from tests.site_fixtures import (
    ABSTRACT_WORD,
    DAY,
    HOSTILE_ID,
    HOSTILE_STYLE,
    LANGS,
    built_store,
    hostile_papers,
)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_store(tmp_path_factory)


@pytest.fixture(scope="module")
def site(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "out"
    with Store(store_path) as store:
        report = build_site(store, out, LANGS, "Radar <b>test</b>")
    assert report.pages > 0
    return out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse_tags(path: Path) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tags


def test_pages_for_days_papers_tags_and_companies(site: Path, store_path: Path) -> None:
    with Store(store_path) as store:
        days = [d for d in store.announcement_days() if store.ranks(d)]
        ranked_ids = {r.arxiv_id for d in days for r in store.ranks(d)}
    for name in ("index.html", "archive.html", "search.html", "tags.html", "feed.xml", "atom.xml"):
        assert (site / name).is_file(), name
    assert sorted(p.stem for p in (site / "days").glob("*.html")) == [d.isoformat() for d in days]
    assert len(list((site / "papers").glob("*.html"))) == len(ranked_ids)
    assert (site / "tags" / "recommendation.html").is_file()
    assert (site / "companies" / "airbnb.html").is_file()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.index(f'id="d-{DAY.isoformat()}"') < index.index('id="d-2026-02-16"')  # newest first
    assert "🔍" in index and "检索与匹配" in index  # the highlight page's name for the topic (one taxonomy)
    assert "Radar &lt;b&gt;test&lt;/b&gt;" in index


def test_paper_page_has_every_field_style_and_language(site: Path) -> None:
    html = (site / "papers" / "2602.14358.html").read_text(encoding="utf-8")
    for text in (
        "【译】High Precision Audience Expansion",  # translated title (zh)
        "【訳】High Precision Audience Expansion",  # and ja
        "英文标题",
        "Dillon Davis",
        "2026-02-16 00:23 UTC",
        "https://arxiv.org/abs/2602.14358v1",
        "Airbnb",
        "retrieval",
        "【4分】",
        "启发式评分",  # interest made by the heuristic, said so
        "本文研究：",  # zh summary
        "大模型 synthetic",  # its mode
        "<h2>Strengths</h2>",  # review style rendered from Markdown
        "<code>code</code>",
        "<strong>Q:</strong>",  # dialogue style
        "亮点",
        "ハイライト",
    ):
        assert text in html, text
    assert (
        'class="l l-zh texts"' in html and 'class="l l-ja texts"' in html and 'class="l l-en texts"' in html
    )


def test_hostile_text_is_escaped_everywhere(site: Path) -> None:
    page = site / "papers" / f"{HOSTILE_ID}.html"
    html = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;iframe" in html
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img" not in text and "<iframe" not in text, path
        for tag, attrs in parse_tags(path):
            assert not any(name.startswith("on") for name in attrs), (path, tag, attrs)
            for name in ("href", "src"):
                assert not (attrs.get(name) or "").lower().startswith("javascript:"), (path, tag, attrs)
            if tag == "script":
                assert attrs.get("src", "").endswith((".js",)), (path, attrs)  # only our own files


def test_old_style_id_is_a_file_not_a_path(site: Path) -> None:
    assert (site / "papers" / "hep-th_9901001.html").is_file()
    assert not (site / "papers" / "hep-th").exists()


def test_links_are_relative_and_resolve(site: Path) -> None:
    for path in site.rglob("*.html"):
        for tag, attrs in parse_tags(path):
            for name in ("href", "src", "action"):
                value = attrs.get(name)
                if value is None or (tag == "a" and value.startswith(("https://", "http://"))):
                    continue  # outbound links (arXiv, links inside model text); our own pages are relative
                parts = urlsplit(value)
                assert not parts.scheme and not parts.netloc and not value.startswith("/"), (path, value)
                target = (path.parent / unquote(parts.path)).resolve()
                assert target.is_file() and target.is_relative_to(site.resolve()), (path, value)


def test_output_is_byte_stable(site: Path, store_path: Path, tmp_path: Path) -> None:
    other = tmp_path / "again"
    with Store(store_path) as store:
        build_site(store, other, LANGS, "Radar <b>test</b>")
        again = build_site(store, site, LANGS, "Radar <b>test</b>")
    assert again.changed == 0 and again.removed == 0
    files = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file())
    for rel in files:
        assert (site / rel).read_bytes() == (other / rel).read_bytes(), rel


def test_stale_pages_go_other_files_stay(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    with Store(store_path) as store:
        build_site(store, out, ["en"], "Radar")
    # a page an earlier build wrote (listed in its manifest) that this build no longer makes, and the
    # user's own files, one of them in a folder the site writes to
    (out / "papers" / "9999.99999.html").write_text("old", encoding="utf-8")
    manifest = json.loads((out / SITE_MANIFEST).read_text(encoding="utf-8"))
    manifest["files"].append("papers/9999.99999.html")
    (out / SITE_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    (out / "CNAME").write_text("radar.example.org", encoding="utf-8")
    (out / "papers" / "my-notes.html").write_text("mine", encoding="utf-8")
    with Store(store_path) as store:
        report = build_site(store, out, ["en"], "Radar")
    assert report.removed == 1 and not (out / "papers" / "9999.99999.html").exists()
    assert (out / "CNAME").read_text(encoding="utf-8") == "radar.example.org"
    assert (out / "papers" / "my-notes.html").read_text(encoding="utf-8") == "mine"
    assert 'name="lang"' not in (out / "index.html").read_text(encoding="utf-8")  # one language: no switch


def test_search_index_json_and_js(site: Path) -> None:
    docs = json.loads((site / "search-index.json").read_text(encoding="utf-8"))
    hostile = next(d for d in docs if d["id"] == HOSTILE_ID)
    assert ABSTRACT_WORD in hostile["ab"] and (site / hostile["u"]).is_file()
    assert any("本文研究" in s for d in docs for s in d["s"])  # model summaries are searchable
    js = (site / "search-index.js").read_text(encoding="utf-8")
    assert js.startswith("window.PAPERRADAR_SEARCH = ") and "<" not in js
    assert json.loads(js[len("window.PAPERRADAR_SEARCH = ") :].rstrip().rstrip(";")) == docs


def test_markdown_rendering_disables_html() -> None:
    html = str(render_markdown(HOSTILE_STYLE))
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_empty_store_builds_a_site(tmp_path: Path) -> None:
    with Store(tmp_path / "empty.db") as store:
        report = build_site(store, tmp_path / "site", ["ja"], "空")
    assert report.pages == 4  # index, archive, search, tags
    assert "ランキング済みの論文はまだありません" in (tmp_path / "site" / "index.html").read_text(
        encoding="utf-8"
    )


def test_text_choice_prefers_model_and_current_version(tmp_path: Path, sql) -> None:
    with Store(tmp_path / "t.db") as store:
        p = hostile_papers()[1]
        store.save_papers([p, replace(p, version=2, source="api")])
        store.save_announcements([Announcement(p.arxiv_id, DAY, "cs.IR", "new", 2)])
        sql(store).execute(
            "INSERT INTO ranks (day, arxiv_id, rank, keyword_count, keyword_hits, companies, interest_score, "
            "interest_reason, interest_mode, explanation) VALUES (?, ?, 1, 0, '[]', '[]', 3, 'r', 'heuristic', '{}')",
            (DAY.isoformat(), p.arxiv_id),
        )
        made = datetime(2026, 2, 1, tzinfo=UTC)
        for version, model, content in (
            (1, "m", "old version"),
            (2, "extractive", "extr"),
            (2, "m", "model"),
        ):
            store.save_text(
                GeneratedText(p.arxiv_id, version, "summary", "en", content, model, "h", made), None
            )
        data = collect_site_data(store, ["en"])
    view = data.papers[p.arxiv_id]
    assert view.summaries["en"].content == "model"
    assert view.text_for("summary", "zh") == view.summaries["en"]  # fallback to English


def test_themes_and_highlight_topics() -> None:
    rec = KeywordHit("recommendation", "technical", ("recommend", "recommendation", "recommended"))
    ret = KeywordHit("retrieval", "technical", ("retrieval",))
    paper = hostile_papers()[1]  # "An old-style identifier paper about retrieval"
    assert theme_for([ret, rec], paper).key == "recsys"  # more forms wins the tie
    # No voting keyword: the topic the extractive highlight gives the paper (style_labels.topic_of).
    assert theme_for([KeywordHit("kuaishou", "company", ("kuaishou",))], paper).key == topic_of(paper)
    assert theme_for([KeywordHit("quantum", "technical", ("quantum",))], paper).key == "search"
    assert theme_for([], replace(paper, title="On nothing", abstract="Nothing at all.")) == THEME_OTHER
    # One taxonomy: every theme the site can show is a highlight topic, named as the highlight page names it.
    for key in TOPICS:
        assert topic_theme(key).names == {lang: TOPICS[key][lang] for lang in ("zh", "ja", "en")}
    topic, emoji, body = parse_highlight("Topic: 生成式推荐\n### 🛒 OneMall\n\ntext")
    assert (topic, emoji) == ("生成式推荐", "🛒") and body.startswith("### 🛒 OneMall")
    assert parse_highlight("plain text") == (None, None, "plain text")


def test_slugs_are_safe_and_distinct() -> None:
    taken: set[str] = set()
    assert slugify("cold-start", taken) == "cold-start"
    lossy = slugify("click-through rate", taken)
    assert re.fullmatch(r"click-through-rate-[0-9a-f]{8}", lossy)
    assert re.fullmatch(r"t-[0-9a-f]{8}", slugify("推荐", taken))
    assert slugify("../etc/passwd", taken).startswith("etc-passwd-")


@pytest.mark.slow
def test_bench_site_reports_pages_per_second() -> None:
    from bench.site_bench import run_bench

    result = run_bench(150)
    assert result["papers"] >= 150 and result["pages"] > result["papers"]
    assert result["cold_pages_per_s"] > 0 and result["warm_changed_files"] == 0


def test_sample_store_helper_closes_cleanly(tmp_path: Path) -> None:
    # sample_store without styles: only the pipeline's own texts (extractive summaries, English).
    store = sample_store(tmp_path, styled=False)
    try:
        data = collect_site_data(store, ["zh"])
    finally:
        store.close()
    assert data.days and all(not v.styles for v in data.papers.values())
    assert {t.mode for v in data.papers.values() for t in v.summaries.values()} == {"extractive"}
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_control_characters_never_reach_html(site: Path) -> None:
    html = (site / "papers" / f"{HOSTILE_ID}.html").read_text(encoding="utf-8")
    assert "\x0b" not in html and "\x1f" not in html and "Control  characters" not in html
