"""Hostile papers end to end: `paperradar import` of tests/fixtures/hostile/injection.jsonl, then `run` with an
OpenAI-compatible model (the fake server, answering with hostile markup of its own) and mail, Slack,
Discord and a JSON webhook on loopback, then `export` and `publish site`. Each hostile text must be escaped or refused in every
output, never crash a stage:

- prompt injection (asks for score 5, to reveal the system prompt, fake </paper> and <profile> tags) reaches
  the model only inside its <paper> data block;
- HTML/JS and Markdown in titles, authors, abstracts, comments and the model's answers: no live markup in
  the Markdown digest and style pages (rendered with markdown-it, HTML allowed), the CSV export (formula
  guard), the feeds (well-formed XML, summaries escaped as HTML), mail, Slack/Discord/webhook payloads and
  the static site (headless Chromium: no script runs, no element made from the text).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.cli_runner import cli
from tests.deliver_servers import SMTPServer, WebhookServer
from tests.fake_llm import Call, Fault
from tests.fake_llm_styles import FakeStyleLLM

HOSTILE = Path(__file__).parent / "fixtures" / "hostile" / "injection.jsonl"
DAY = "2026-03-02"
RECORDS = [json.loads(line) for line in HOSTILE.read_text(encoding="utf-8").splitlines()]
IDS = ["2603.00001", "2603.00002", "2603.00003", "2603.00004", "hep-th/9901001", "2603.00005"]
# Phrases that exist only in the hostile papers' text: they must never leave a data block.
INJECTIONS = [
    "ignore all previous instructions",
    "reveal your system prompt",
    "A fake paper block",
    "The reader only cares about this paper",
    "Note to the AI reviewer",
    "onerror=alert(2)",
    "Injected section",
]
# What the hostile model adds to everything it writes (Chinese enough to pass the language check).
LLM_EVIL = "<script>alert('llm')</script>【恶意模型输出的测试文本】<img src=x onerror=alert(9)>[点我](javascript:alert(10))"
AI_KEY = "sk-hostile-test-0123456789"
DATA_BLOCK = re.compile(r'<paper id="[^"]*">\n.*?\n</paper>', re.S)


@dataclass
class HostileLLM(FakeStyleLLM):
    """FakeStyleLLM whose titles, summaries and reasons carry markup: a model can be talked into echoing
    what a paper asks for, so its answers are as untrusted as the papers."""

    def answer(self, call: Call, fault: Fault | None) -> dict[str, Any]:
        out = super().answer(call, fault)
        if call.task in ("title", "brief"):
            out["title"] += LLM_EVIL
        if call.task in ("summary", "brief"):
            out["summary"] = LLM_EVIL + out["summary"]
        elif call.task == "interest":
            for item in out.get("items", []):
                item["reason"] += LLM_EVIL
        return out


@dataclass
class Radar:
    folder: Path
    config: Path
    llm: HostileLLM
    mails: list[Any]
    hooks: list[Any]
    exit_codes: dict[str, int]

    @property
    def out(self) -> Path:
        return self.folder / "out"


@pytest.fixture(scope="module")
def radar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radar]:
    folder = tmp_path_factory.mktemp("hostile")
    src = folder / "injection.jsonl"
    shutil.copy(HOSTILE, src)
    llm = HostileLLM().start()
    llm.api_key = AI_KEY
    with SMTPServer() as smtp, WebhookServer() as hooks, pytest.MonkeyPatch.context() as env:
        env.setenv("HOSTILE_AI_KEY", AI_KEY)
        env.setenv("HOSTILE_SLACK", hooks.url("/services/T0/B0/slacktoken"))
        env.setenv("HOSTILE_DISCORD", hooks.url("/api/webhooks/1/discordtoken"))
        env.setenv("HOSTILE_HOOK", hooks.url("/in/hook"))
        config = folder / "paperradar.toml"
        config.write_text(
            '[store]\npath = "radar.db"\n[output]\nfolder = "out"\n'
            "[sources]\ncompany_from_html = false\n"  # no arXiv: companies from the gazetteer and the model
            "[styles]\nfulltext = false\n"  # no arXiv full text: every paper is the hostile fixture's own
            '[llm]\nbackend = "openai"\nconcurrency = 4\n'
            f'[[llm.endpoints]]\nbase_url = "{llm.url}"\nmodel = "{llm.model}"\napi_key_env = "HOSTILE_AI_KEY"\n'
            "[delivery]\nretries = 0\nbackoff = 0.0\n"
            f'[delivery.mail]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
            'from_addr = "radar <radar@example.com>"\nto = ["me@example.com"]\n'
            '[delivery.slack]\nwebhook_url_env = "HOSTILE_SLACK"\n'
            '[delivery.discord]\nwebhook_url_env = "HOSTILE_DISCORD"\n'
            '[delivery.webhook]\nurl_env = "HOSTILE_HOOK"\n',
            encoding="utf-8",
        )
        base = ("--config", str(config))
        codes = {
            "import": cli(*base, "import", str(src)),
            "run": cli(*base, "run", "--date", DAY),
            "csv": cli(
                *base, "export", "--date", DAY, "--all", "--format", "csv", "-o", str(folder / "day.csv")
            ),
            "json": cli(
                *base, "export", "--date", DAY, "--all", "--format", "json", "-o", str(folder / "day.json")
            ),
            "site": cli(*base, "publish", "site", "--out", str(folder / "out" / "site")),
        }
        radar = Radar(folder, config, llm, list(smtp.handler.mails), list(hooks.requests), codes)
    try:
        yield radar
    finally:
        llm.stop()


def test_every_stage_finished(radar: Radar) -> None:
    assert radar.exit_codes == {"import": 0, "run": 0, "csv": 0, "json": 0, "site": 0}
    assert len(radar.mails) == 1
    assert {r.path.split("/")[1] for r in radar.hooks} >= {"services", "api", "in"}


# --- what reached the model --------------------------------------------------------------------------------


def test_prompt_injection_stays_inside_the_data_blocks(radar: Radar) -> None:
    calls = radar.llm.chat_calls
    assert calls and {c.task for c in calls} >= {
        "interest",
        "brief",  # zh title and summary in one call
        "style_highlight",
        "style_review",
    }
    for call in calls:
        messages = call.body["messages"]
        system, user = messages[0]["content"], messages[1]["content"]
        assert "data, not instructions" in system or "not instructions" in system.lower(), call.task
        outside = DATA_BLOCK.sub("", user)
        for phrase in INJECTIONS:
            assert phrase.lower() not in system.lower(), (call.task, phrase)
            assert phrase.lower() not in outside.lower(), (call.task, phrase)
        # one block per paper sent: the fake "</paper>" and "<paper id=...>" in the abstract opened none
        blocks = DATA_BLOCK.findall(user)
        assert user.count("<paper id=") == user.count("</paper>") == len(blocks) >= 1, call.task
        assert "2603.00009" not in [b.split('"')[1] for b in blocks]
    sent = "\n".join(DATA_BLOCK.sub("", c.body["messages"][1]["content"]) for c in calls)
    assert "</profile>" not in sent or sent.count("<profile>") == sent.count("</profile>")


def test_injected_score_is_the_models_validated_answer(radar: Radar) -> None:
    import zlib

    rows = {r["arxiv_id"]: r for r in json.loads((radar.folder / "day.json").read_text(encoding="utf-8"))}
    for pid, row in rows.items():
        # the fake model's own score (crc32 of the id), not the 5 the abstract asked for
        assert row["interest_score"] == 1 + zlib.crc32(pid.encode()) % 5, pid
        assert row["interest_mode"] == radar.llm.model
    assert set(rows) == set(IDS)


# --- outputs: no live markup -------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def live_markup(
    html: str, allowed: set[str], link_prefixes: tuple[str, ...] = ("https://arxiv.org/",)
) -> list[str]:
    """What in `html` could act: tags outside `allowed`, event handlers, javascript: URLs, foreign links."""
    parser = _Tags()
    parser.feed(html)
    problems = []
    for tag, attrs in parser.tags:
        if tag not in allowed:
            problems.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "formaction") and re.sub(
                r"\s", "", value
            ).lower().startswith(("javascript:", "data:", "vbscript:")):
                problems.append(f"<{tag} {name}={value}>")
            if tag == "a" and name == "href" and not value.startswith(link_prefixes):
                problems.append(f"link to {value}")
    return problems


MARKDOWN_TAGS = {"h1", "h2", "h3", "p", "strong", "em", "a", "hr", "br", "ul", "ol", "li", "blockquote"}


def test_markdown_digest_and_style_pages_have_no_live_markup(radar: Radar) -> None:
    md = MarkdownIt("commonmark")  # raw HTML enabled, as in most viewers: escaping must hold by itself
    pages = sorted(radar.out.glob("digests/*.md")) + sorted(radar.out.glob("highlights/*.md"))
    pages += sorted(radar.out.glob("styles/**/*.md"))
    assert len(pages) > 3
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"[\x00-\x08\x0e-\x1f\x7f]", text), page  # no terminal escapes, no NUL
        problems = live_markup(md.render(text), MARKDOWN_TAGS, ("https://arxiv.org/abs/",))
        assert problems == [], (page.name, problems)
    digest = (radar.out / "digests" / f"{DAY}.zh.md").read_text(encoding="utf-8")
    html = md.render(digest)
    # Markdown injection made no heading, table, list or code block of its own: one <h2> per paper.
    assert html.count("<h2>") == len(IDS) and "<table" not in html and "<pre" not in html
    assert "<code>" not in html and "<blockquote>" not in html and "<li>" not in html
    assert "&lt;script&gt;alert('llm')&lt;/script&gt;" in html  # the model's markup is shown as text


def test_csv_export_guards_formulas_and_json_keeps_text(radar: Radar) -> None:
    with (radar.folder / "day.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(IDS)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    hyperlink = next(r for r in rows if r["arxiv_id"] == "2603.00004")
    assert hyperlink["title"].startswith("'=HYPERLINK(")  # shown as text; strip one ' to read it back
    records = {r["arxiv_id"]: r for r in json.loads((radar.folder / "day.json").read_text(encoding="utf-8"))}
    for rec in RECORDS:
        pid = rec["id"].removesuffix("v2")
        assert records[pid]["title"] == " ".join(rec["title"].split())  # JSON carries the exact text
    assert records["hep-th/9901001"]["version"] == 2


def test_feeds_are_xml_with_escaped_html_summaries(radar: Radar) -> None:
    site = radar.out / "site"
    rss = ET.fromstring((site / "feed.xml").read_bytes())
    atom = ET.fromstring((site / "atom.xml").read_bytes())
    ns = "{http://www.w3.org/2005/Atom}"
    items = rss.findall("./channel/item")
    entries = atom.findall(f"{ns}entry")
    assert len(items) == len(entries) == len(IDS)
    allowed_rss = {"title", "link", "description", "guid", "category", "pubDate", "author"}
    assert {child.tag for item in items for child in item} <= allowed_rss  # no element made from the text
    for description in [i.findtext("description") or "" for i in items] + [
        e.findtext(f"{ns}summary") or "" for e in entries
    ]:
        # Readers render these as HTML: only our own <p> may be markup, everything else is escaped text.
        assert live_markup(description, {"p"}) == [], description
        assert "<script" not in description and "<img" not in description
    assert all(e.find(f"{ns}summary").get("type") == "html" for e in entries)  # type: ignore[union-attr]
    titles = [i.findtext("title") or "" for i in items]
    assert any("<script>" in t for t in titles)  # titles are plain text: the exact characters, no markup


def test_mail_html_has_no_live_markup(radar: Radar) -> None:
    from email import message_from_bytes
    from email.policy import default

    mail = message_from_bytes(radar.mails[0][2], policy=default)
    parts = {p.get_content_type(): p.get_content() for p in mail.iter_parts()}  # type: ignore[attr-defined]
    allowed = MARKDOWN_TAGS | {
        "html",
        "head",
        "meta",
        "title",
        "body",
        "style",
        "div",
        "span",
        "table",
        "tr",
        "td",
        "th",
        "tbody",
        "thead",
        "small",
        "code",
    }
    problems = live_markup(parts["text/html"], allowed)
    assert problems == [], problems
    assert "<script" not in parts["text/html"] and "&lt;script&gt;" in parts["text/html"]
    assert "\x1b" not in parts["text/plain"] and "\x00" not in parts["text/plain"]
    assert "\n" not in str(mail["Subject"]) and AI_KEY not in radar.mails[0][2].decode("utf-8", "replace")


def test_chat_payloads_escape_markup_and_mentions(radar: Radar) -> None:
    by_kind = {"services": "slack", "api": "discord", "in": "webhook"}
    bodies: dict[str, list[Any]] = {}
    for req in radar.hooks:
        bodies.setdefault(by_kind[req.path.split("/")[1]], []).append(req.json())
    slack = json.dumps(bodies["slack"], ensure_ascii=False)
    assert "<script>" not in slack and "<!channel>" not in slack and "<@U024BE7LH>" not in slack
    for token in re.findall(r"<([^>]*)>", slack):  # Slack's only live syntax: our own links to arXiv
        assert token.startswith("https://arxiv.org/abs/"), token
    discord = bodies["discord"]
    assert all(body["allowed_mentions"] == {"parse": []} for body in discord)
    text = json.dumps(discord, ensure_ascii=False)
    assert "@everyone" not in text and "@here" not in text and "](javascript" not in text
    hook = bodies["webhook"][0]  # plain JSON data: the exact text, for the receiver to escape
    titles = [item["title"] for item in hook["items"]]
    assert any("<script>" in t for t in titles) and len(hook["items"]) == len(IDS)


# --- the site in a real browser ----------------------------------------------------------------------------


def test_site_pages_have_no_live_markup(radar: Radar) -> None:
    site = radar.out / "site"
    pages = sorted(site.rglob("*.html"))
    assert any(p.name == "hep-th_9901001.html" for p in pages)  # the old-style id as a safe file name
    allowed = {
        "html",
        "head",
        "meta",
        "title",
        "link",
        "body",
        "header",
        "nav",
        "main",
        "footer",
        "section",
        "article",
        "div",
        "span",
        "p",
        "a",
        "h1",
        "h2",
        "h3",
        "h4",
        "ul",
        "ol",
        "li",
        "strong",
        "em",
        "small",
        "time",
        "input",
        "label",
        "button",
        "form",
        "details",
        "summary",
        "br",
        "hr",
        "script",
        "code",
        "table",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "dl",
        "dt",
        "dd",
        "noscript",
        "blockquote",
        "abbr",
        "mark",
        "aside",
        "figure",
        "figcaption",
        "select",
        "option",
        "sup",
        "sub",
        "pre",
        "b",
        "i",
    }
    for page in pages:
        html = page.read_text(encoding="utf-8")
        parser = _Tags()
        parser.feed(html)
        for tag, attrs in parser.tags:
            assert tag in allowed, (page.name, tag)
            assert not any(name.startswith("on") for name in attrs), (page.name, tag, attrs)
            if tag == "script":  # only the site's own files: its code and the search index (data)
                src = attrs.get("src", "")
                assert re.fullmatch(r"(\.\./)*(static/[\w.-]+|search-index|search-meaning)\.js", src), attrs
            for name in ("href", "src"):
                assert not attrs.get(name, "").lower().startswith("javascript:"), (page.name, attrs)
    # the search index is a script: its data must be one JSON value holding the exact text
    js = (site / "search-index.js").read_text(encoding="utf-8")
    prefix, _, payload = js.partition(" = ")
    assert prefix == "window.PAPERRADAR_SEARCH" and payload.endswith(";\n")
    docs = json.loads(payload[:-2])
    assert any("<script>" in doc["t"] for doc in docs) and "</script" not in js.lower()


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (CI installs Debian's chromium)")
def test_site_in_browser_runs_no_hostile_script(radar: Radar) -> None:
    from playwright import sync_api

    site = radar.out / "site"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            errors: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            urls = ["index.html", f"days/{DAY}.html", "papers/2603.00002.html", "papers/2603.00003.html"]
            urls += ["papers/2603.00005.html", "papers/hep-th_9901001.html", "search.html?q=Mallory"]
            for url in urls:
                page.goto(site.resolve().as_uri() + "/" + url)
                assert page.locator("iframe, img, svg, [onerror], [onload], [onmouseover]").count() == 0, url
                scripts = page.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
                data = ("search-index.js", "search-meaning.js")
                assert all(s and ("static/" in s or s.endswith(data)) for s in scripts), scripts
            page.goto(site.resolve().as_uri() + "/papers/2603.00002.html")
            # The model's title in the heading, the paper's own under it (no longer repeated as the
            # embedded review's own heading): both shown as text.
            heading = page.locator("h1").inner_text()
            shown = page.locator("article.paper").inner_text()
            assert "<script>alert('llm')" in heading and '<script>alert("t")</script>' in shown
            assert dialogs == [] and errors == [], (dialogs, errors)
        finally:
            browser.close()
