"""The delivery tests' loopback servers and hostile digest (tests/deliver_servers.py) do what they promise."""

from __future__ import annotations

import httpx

from tests.deliver_servers import HOSTILE, Reply, SMTPServer, WebhookServer, hostile_message


# -- the helpers themselves --------------------------------------------------------------------------------
def test_webhook_server_scripts_replies_and_records() -> None:
    with WebhookServer([Reply(500, "boom")], default=Reply(200, {"ok": True})) as srv:
        first = httpx.post(srv.url("/a"), json={"x": 1})
        second = httpx.post(srv.url("/b"), content=b"raw")
    assert (first.status_code, first.text) == (500, "boom")
    assert second.json() == {"ok": True}
    assert [r.path for r in srv.requests] == ["/a", "/b"] and srv.requests[0].json() == {"x": 1}


def test_smtp_server_runs_on_an_ephemeral_port() -> None:
    import smtplib

    with SMTPServer() as srv:
        assert srv.port > 0
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nbody\r\n")
    assert srv.handler.mails[0][1] == ["b@example.com"] and srv.connections == 1


def test_hostile_fixture_reaches_the_message() -> None:
    msg = hostile_message()
    assert msg.items[0].translated_title == HOSTILE["translated_title"]
    assert msg.items[1].title == HOSTILE["titles"][1] and msg.items[0].reason == HOSTILE["reason"]
    assert "&lt;script&gt;" in msg.markdown  # the digest file itself is escaped by publish/markdown.py
