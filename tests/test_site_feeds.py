"""RSS and Atom feeds of the site: well-formed XML whatever the text, newest papers first, stable bytes,
and Jekyll posts whose YAML, Liquid and Markdown cannot be broken by a title."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from paperradar.publish.feeds import render_feeds, xml_text
from paperradar.publish.jekyll import JEKYLL_MANIFEST, export_jekyll, yaml_str
from paperradar.publish.site_data import collect_site_data
from paperradar.store import Store
from tests.site_fixtures import DAY, HOSTILE_ID, HOSTILE_TITLE, built_store

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_store(tmp_path_factory)


@pytest.fixture(scope="module")
def feeds(store_path: Path) -> tuple[bytes, bytes]:
    with Store(store_path) as store:
        data = collect_site_data(store, ["en", "zh"])
    return render_feeds(data, 'Radar & "friends" <x>', limit=500)


def test_rss_is_valid_xml_with_hostile_title_as_text(feeds: tuple[bytes, bytes]) -> None:
    rss, _ = feeds
    root = ET.fromstring(rss)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    titles = [i.findtext("title") for i in items]
    assert HOSTILE_TITLE in titles  # the exact text, escaped in the XML and unescaped by the parser
    hostile = items[titles.index(HOSTILE_TITLE)]
    assert hostile.findtext("link") == f"https://arxiv.org/abs/{HOSTILE_ID}v1"
    assert "\x0b" not in (hostile.findtext("description") or "")  # XML-forbidden controls dropped
    assert root.findtext("./channel/lastBuildDate") == "Tue, 17 Feb 2026 00:00:00 +0000"  # from the data
    assert root.findtext("./channel/title") == 'Radar & "friends" <x>'
    assert b"<script>" not in rss


def test_atom_is_valid_and_newest_first(feeds: tuple[bytes, bytes]) -> None:
    _, atom = feeds
    root = ET.fromstring(atom)
    entries = root.findall(f"{ATOM}entry")
    days = [e.findtext(f"{ATOM}published") for e in entries]
    assert days == sorted(days, reverse=True) and days[0].startswith(DAY.isoformat())
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == len(set(ids))  # one entry per paper
    parsed = feedparser.parse(atom)
    assert not parsed.bozo and parsed.feed.title == 'Radar & "friends" <x>'


def test_feeds_limit_and_base_url(store_path: Path) -> None:
    with Store(store_path) as store:
        data = collect_site_data(store, ["zh"])
    rss, atom = render_feeds(data, "Radar", "https://example.org/radar", limit=3)
    root = ET.fromstring(rss)
    links = [i.findtext("link") for i in root.findall("./channel/item")]
    assert len(links) == 3 and all(link.startswith("https://example.org/radar/papers/") for link in links)
    self_link = [
        ln.get("href") for ln in ET.fromstring(atom).findall(f"{ATOM}link") if ln.get("rel") == "self"
    ]
    assert self_link == ["https://example.org/radar/atom.xml"]
    assert render_feeds(data, "Radar", "https://example.org/radar", limit=3) == (rss, atom)  # stable bytes


def test_xml_text_drops_what_xml_cannot_hold() -> None:
    assert xml_text("a\x00b\x0bc\ud800d\ufffee\tf\n") == "abcde\tf\n"


# -- Jekyll ------------------------------------------------------------------------------------------------

NASTY = [
    "a: b",
    "#x",
    "\"q\" \\ 's'",
    "line\nbreak",
    "- item",
    "{{ x }}",
    "@at",
    "no\x00nul",
    "\u2028sep",
    "ｔａｂ\t",
]


def test_yaml_str_round_trips() -> None:
    yaml = pytest.importorskip("yaml")
    for text in [*NASTY, HOSTILE_TITLE, "2602.14358", "yes", "null", "~"]:
        assert yaml.safe_load(f"title: {yaml_str(text)}\n") == {"title": text}, text


def test_jekyll_posts(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "pages"
    (out / "_posts").mkdir(parents=True)
    (out / "index.md").write_text("my own index", encoding="utf-8")
    (out / "_posts" / "2020-01-01-mine.md").write_text("---\ntitle: mine\n---\nhello\n", encoding="utf-8")
    with Store(store_path) as store:
        report = export_jekyll(store, out, ["zh", "en"], site_title='Radar: "one" #1')
        again = export_jekyll(store, out, ["zh", "en"])
    assert report.posts > 100 and again.changed == 0 and again.posts == report.posts
    assert (out / "index.md").read_text(encoding="utf-8") == "my own index"  # never overwritten
    assert (out / "_posts" / "2020-01-01-mine.md").exists()  # not ours: kept
    assert (out / "_config.yml").is_file()
    post = (out / "_posts" / f"{DAY.isoformat()}-2602-99999-zh.md").read_text(encoding="utf-8")
    front, body = post.split("\n---\n", 1)
    assert "<script" not in body and "<img" not in body and "{{" not in body and "$$" not in body
    assert body.count("{%") == 1  # our post_url link to the English post, nothing from the data
    assert (out / "_posts" / f"{DAY.isoformat()}-hep-th_9901001-en.md").is_file()
    yaml = pytest.importorskip("yaml")
    meta = yaml.safe_load(front.removeprefix("---\n"))
    assert meta["original_title"] == HOSTILE_TITLE and meta["arxiv_id"] == HOSTILE_ID
    assert meta["layout"] == "post" and meta["lang"] == "zh" and str(meta["date"]) == DAY.isoformat()
    assert "recommendation" in meta["tags"]
    assert yaml.safe_load((out / "_config.yml").read_text(encoding="utf-8"))["title"] == 'Radar: "one" #1'


def test_jekyll_removes_its_own_stale_posts(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "pages"
    with Store(store_path) as store:
        export_jekyll(store, out, ["en"])
    # a post an earlier export wrote (in its manifest) that is no longer produced: removed; a post that
    # only looks like ours (the marker line, not in the manifest): kept
    stale = out / "_posts" / "2019-01-01-1901-00001-en.md"
    stale.write_text("---\nlayout: post\ngenerator: paperradar\n---\n", encoding="utf-8")
    lookalike = out / "_posts" / "2019-01-02-1901-00002-en.md"
    lookalike.write_text("---\nlayout: post\ngenerator: paperradar\n---\nmy copy\n", encoding="utf-8")
    manifest = json.loads((out / JEKYLL_MANIFEST).read_text(encoding="utf-8"))
    manifest["files"].append("_posts/2019-01-01-1901-00001-en.md")
    (out / JEKYLL_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with Store(store_path) as store:
        report = export_jekyll(store, out, ["en"])
    assert report.removed == 1 and not stale.exists() and lookalike.exists()
