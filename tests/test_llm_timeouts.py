"""Timeouts sized for long answers, and a request given up on closes its connection (a server that keeps
computing an abandoned answer keeps billing it)."""

from __future__ import annotations

import socket
import threading
import time

from paperradar.llm import Declined, LLMConfig, WriteRequest
from paperradar.llm.default_plugins.openai import OpenAIBackend
from paperradar.llm.estimate import expected_output, timeout_for
from paperradar.models import Paper


def test_long_answers_get_longer_timeouts() -> None:
    assert timeout_for("title", 60.0) == 60.0
    assert timeout_for("style_review", 60.0) == 90.0  # ~1,500 tokens
    assert timeout_for("interest", 60.0, papers=8, languages=3) > timeout_for("interest", 60.0)
    assert expected_output("style:dialogue") == expected_output("style_dialogue")


def test_a_request_given_up_on_closes_its_connection() -> None:
    """A server that reads the request and never answers: after the client's timeout, the server sees the
    connection closed (recv returns b""), so it can stop computing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    closed_after: list[float] = []
    got_request = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        got_request.set()
        start = time.monotonic()
        conn.settimeout(5)
        try:
            while conn.recv(65536):
                pass
            closed_after.append(time.monotonic() - start)
        except TimeoutError:
            pass
        conn.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    cfg = LLMConfig.model_validate(
        {
            "backend": "openai",
            "max_retries": 0,
            "endpoints": [{"base_url": f"http://127.0.0.1:{port}/v1", "model": "m", "timeout": 0.3}],
        }
    )
    paper = Paper("2602.00001", "A title", ["A"], "An abstract. It has sentences. Three of them.")
    [result] = OpenAIBackend(cfg, backoff=0.01).write([WriteRequest(paper, "summary", "en")])
    listener.close()
    server.join(6)  # the server notices the close on its own thread: wait for it, not for luck
    assert got_request.is_set()
    assert isinstance(result, Declined) and "within" in result.detail
    assert closed_after and closed_after[0] < 1.5  # closed when given up on (0.3 s), not left open
