"""The [delivery] section (validation, secrets by name only), DigestMessage construction, dispatch."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from paperradar.publish.deliver import (
    DeliveryConfig,
    DigestMessage,
    Redactor,
    deliver,
    deliver_all,
    from_digest,
    from_records,
)
from paperradar.publish.deliver.config import TEMPLATE
from paperradar.publish.deliver.mail import build_email
from paperradar.publish.deliver.message import safe_link
from tests.deliver_servers import hostile_digest, message_for, zh_message
from tests.publish_fixtures import SMES, build_digest

FULL = """
[delivery]
retries = 2
timeout = 10.0
[delivery.mail]
host = "smtp.example.com"
username = "digest@example.com"
password_env = "SMTP_PASSWORD"
from_addr = "paperradar <digest@example.com>"
to = ["me@example.com"]
[delivery.slack]
webhook_url_env = "SLACK_URL"
[delivery.discord]
webhook_url_env = "DISCORD_URL"
[delivery.feishu]
webhook_url_env = "FEISHU_URL"
secret_env = "FEISHU_SECRET"
[delivery.wecom]
webhook_url_env = "WECOM_URL"
[delivery.webhook]
url_env = "HOOK_URL"
headers_env = { Authorization = "HOOK_AUTH" }
"""


def parse(text: str) -> DeliveryConfig:
    return DeliveryConfig.model_validate(tomllib.loads(text)["delivery"])


def test_full_section_parses_with_defaults() -> None:
    cfg = parse(FULL)
    assert cfg.configured() == ["mail", "slack", "discord", "feishu", "wecom", "webhook"]
    assert cfg.mail is not None and cfg.mail.security == "starttls" and cfg.mail.effective_port == 587
    assert cfg.retries == 2 and cfg.timeout == 10.0 and cfg.backoff == 2.0
    assert DeliveryConfig().configured() == []


def test_template_is_valid_toml_and_configures_nothing() -> None:
    cfg = parse(TEMPLATE)
    assert cfg.configured() == [] and cfg.retries == 3


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            '[delivery.slack]\nwebhook_url_env = "https://hooks.slack.com/services/T1/B1/SECRETSECRET"',
            "looks like the secret",
        ),
        ('[delivery.slack]\nwebhook_url = "https://hooks.slack.com/x"', "Extra inputs are not permitted"),
        ('[delivery.discord]\nwebhook_url_env = "MY URL"', "not an environment variable name"),
        (
            '[delivery.mail]\nhost = "h"\nfrom_addr = "a@b.c"\nto = ["x@y.z"]\nusername = "u"',
            "password_env is not",
        ),
        (
            '[delivery.mail]\nhost = "h"\nfrom_addr = "a@b.c"\nto = ["x@y.z"]\nusername = "u"\n'
            'password_env = "P"\nsecurity = "none"',
            "unencrypted",
        ),
        (
            '[delivery.mail]\nhost = "h"\nfrom_addr = "a@b.c"\nto = ["x@y.z"]\nsubject_template = "{day.year}"',
            "{day.year}",
        ),
        ('[delivery.mail]\nhost = "h"\nfrom_addr = "not an address"\nto = ["x@y.z"]', "not a mail address"),
        ('[delivery.mail]\nhost = "h"\nfrom_addr = "a@b.c"\nto = []', "at least 1"),
        ('[delivery.mail]\nhost = "h"\nfrom_addr = "a@b.c"\nto = ["x@y.z"]\nsecurity = "tls"', "starttls"),
        ('[delivery.webhook]\nurl = "https://x.example/h"\nurl_env = "U"', "exactly one"),
        ('[delivery.webhook]\nurl = "ftp://x.example/h"', "http(s)"),
        (
            '[delivery.feishu]\nwebhook_url_env = "F"\nsecret_env = "sk-abcdefSECRETVALUE"',
            "looks like the secret",
        ),
    ],
)
def test_bad_sections_name_the_problem(snippet: str, expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse("[delivery]\n" + snippet)
    # What load_config reports (config._explain): each error's message, never pydantic's input echo.
    message = " ".join(e["msg"] for e in info.value.errors())
    assert expected in message
    assert "SECRETSECRET" not in message and "SECRETVALUE" not in message  # a pasted secret is never echoed


def test_from_digest_matches_the_markdown_choices() -> None:
    msg = zh_message()
    assert msg.title == "ArXiv cs.IR 每日论文摘要" and msg.day == date(2026, 2, 17) and msg.language == "zh"
    assert msg.header_line == "2026年02月17日 · 论文数量: 5 篇（当日公布 5 篇，Top 20）"
    first = msg.items[0]
    assert (first.rank, first.arxiv_id, first.link) == (1, SMES, "https://arxiv.org/abs/2602.09386v1")
    assert first.translated_title == "SMES：通过专家稀疏化实现可扩展的多任务推荐" and not first.untranslated
    assert first.companies == ("快手",) and first.keywords[:2] == ("kuaishou", "ranking")
    assert first.extractive_summary and first.heuristic_score and first.summary
    assert msg.items[2].translated_title is None and msg.items[2].untranslated  # no zh title for paper 3
    assert msg.digest_path == Path("out/2026-02-17.md") and msg.markdown.startswith("# ArXiv cs.IR")


def test_english_digest_has_nothing_untranslated() -> None:
    msg = message_for(build_digest("en"))
    assert all(it.translated_title is None and not it.untranslated for it in msg.items)
    assert msg.items[0].display_title == msg.items[0].title


def test_empty_digest_says_why() -> None:
    digest = dataclasses.replace(
        build_digest("zh"), items=[], announced=0, empty_reason="arXiv 周六、周日不公布论文"
    )
    msg = from_digest(digest, "# x\n", None)
    assert (
        msg.items == []
        and msg.empty_text == "2026年02月17日 没有新论文公布。 原因：arXiv 周六、周日不公布论文"
    )


def test_from_records_accepts_plain_dicts_and_drops_unsafe_links() -> None:
    msg = from_records(
        date(2026, 2, 17),
        "en",
        "# digest\n",
        [
            {
                "title": "A",
                "link": "https://arxiv.org/abs/1",
                "score": 4,
                "reason": "r",
                "company": "Meta",
                "keywords": ["ctr"],
            },
            {"title": "B", "link": "javascript:alert(1)", "score": "2", "summary": "s"},
        ],
    )
    assert [it.rank for it in msg.items] == [1, 2] and msg.items[0].companies == ("Meta",)
    assert msg.items[1].link is None and msg.items[1].score == 2 and not msg.items[1].untranslated
    assert (
        safe_link("https://a.example/x y") is None
        and safe_link("http://a.example/ok") == "http://a.example/ok"
    )


def test_mail_subject_is_one_line_even_from_hostile_config_text() -> None:
    msg = dataclasses.replace(zh_message(), title="Digest\r\nBcc: victim@example.com")
    cfg = parse(FULL).mail
    assert cfg is not None
    email = build_email(msg, cfg)
    assert "\n" not in str(email["Subject"]) and email["Bcc"] is None


def test_hostile_digest_items_are_raw_for_the_channels_to_escape() -> None:
    msg = message_for(hostile_digest())
    assert "<script>" in msg.items[0].display_title  # raw here; each channel escapes for its own markup
    assert isinstance(msg, DigestMessage)


def test_unconfigured_and_unknown_channels() -> None:
    result = deliver("slack", zh_message(), DeliveryConfig(), env={})
    assert (result.ok, result.failure, result.attempts) == (False, "config", 0)
    assert "[delivery.slack]" in result.detail
    with pytest.raises(ValueError, match="unknown delivery channel"):
        deliver("sms", zh_message(), DeliveryConfig())
    results = deliver_all(zh_message(), parse(FULL), env={})
    assert [r.channel for r in results] == ["mail", "slack", "discord", "feishu", "wecom", "webhook"]
    assert all(r.failure == "config" and "is not set" in r.detail for r in results)


def test_redactor_covers_url_parts() -> None:
    url = "https://hooks.slack.com/services/T0AAAA/B0BBBB/TOKENtoken1234567890"
    redact = Redactor([url, "pw", None])
    text = f"failed {url} / path /services/T0AAAA/B0BBBB/TOKENtoken1234567890 / TOKENtoken1234567890 / pw ok"
    out = redact(text)
    assert "TOKENtoken" not in out and "hooks.slack.com" not in out.replace("[redacted]", "")
    assert out.endswith("pw ok")  # secrets shorter than 4 characters are not redacted (they would eat words)
