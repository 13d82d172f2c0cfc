"""`paperradar serve` without a browser: pages, escaping, ids with '/', ratings and their CSRF guard,
Host checks and the loopback default. The store served is tests/serve_fixtures.py's `build_store`."""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import paperradar.serve as serve_pkg
from paperradar.config import Config
from paperradar.errors import DataError, UsageError
from paperradar.serve import BackgroundServer, create_app, exposure_warning, is_loopback, serve
from paperradar.store import Store
from tests.serve_fixtures import HOSTILE_ID, OLD_ID, SAMPLE_DAY, build_store, token_of


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config]:
    return build_store(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def server(built: tuple[Path, Config]) -> Iterator[BackgroundServer]:
    # A real server on a free loopback port: the tests see exactly what a browser would.
    db, cfg = built
    with BackgroundServer(create_app(db, cfg)) as running:
        yield running


@pytest.fixture
def base(server: BackgroundServer) -> str:
    return server.url.rstrip("/")


@pytest.fixture
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as http:
        yield http


def ratings(db: Path) -> dict[str, int]:
    with Store(db) as store:
        return store.current_ratings()


# -- pages --------------------------------------------------------------------------------------------
def test_days_newest_first(client: httpx.Client) -> None:
    page = client.get("/").text
    assert page.index("2026-02-20") < page.index("2026-02-17") < page.index("2026-02-10")
    assert "not ranked yet" in page  # the sample's other days are stored but unranked


def test_day_page_lists_ranked_papers_in_order(client: httpx.Client, built: tuple[Path, Config]) -> None:
    db, _ = built
    with Store(db) as store:
        ranks = store.ranks(SAMPLE_DAY)
        first, second = (store.get_paper(r.arxiv_id) for r in ranks[:2])
    resp = client.get("/day/2026-02-10")
    assert resp.status_code == 200
    page = resp.text
    assert first and second
    assert page.index(f'href="/paper/{first.arxiv_id}"') < page.index(f'href="/paper/{second.arxiv_id}"')
    assert "interest <strong>" in page and "(heuristic)" in page
    assert "why this rank" in page and "keyword count" in page


def test_unranked_day_and_unknown_day(client: httpx.Client) -> None:
    assert "not ranked yet" in client.get("/day/2026-02-11").text
    for url in ("/day/2031-01-01", "/day/not-a-day", "/day/2026-13-40"):
        resp = client.get(url)
        assert resp.status_code == 404
        assert "Not found" in resp.text and "Traceback" not in resp.text


def test_everything_is_escaped(client: httpx.Client) -> None:
    for url in ("/day/2026-02-20", f"/paper/{HOSTILE_ID}", "/search?q=zygomorphic"):
        page = client.get(url).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        for raw in ("<script>alert", "<img src=x", "<svg", "<b>Mallory", "<em>Evil", "<i>key", "<iframe"):
            assert raw not in page, (url, raw)
    page = client.get(f"/paper/{HOSTILE_ID}").text
    assert "&lt;em&gt;Evil Corp&lt;/em&gt;" in page
    assert "&lt;script&gt;alert(5)&lt;/script&gt; 译名" in page  # the translated title, escaped too


def test_why_renders_any_explanation_keys(client: httpx.Client) -> None:
    page = client.get("/day/2026-02-20").text
    assert "nearest library papers" in page and "contributing terms" in page
    assert "0.8312" in page and "-0.125" in page and "&lt;i&gt;key&lt;/i&gt;" in page
    assert "&lt;svg onload=alert(4)&gt;" in page


def test_old_style_ids_in_urls(client: httpx.Client) -> None:
    for url in (f"/paper/{OLD_ID}", "/paper/hep-th%2F9901001"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "Old style identifiers &amp; their slashes" in resp.text
    assert f'href="/paper/{OLD_ID}"' in client.get("/day/2026-02-20").text
    assert f'action="/rate/{OLD_ID}"' in client.get(f"/paper/{OLD_ID}").text
    # A versioned form of a stored id goes to the canonical page; junk and traversal are plain 404s.
    resp = client.get(f"/paper/{OLD_ID}v2", follow_redirects=False)
    assert resp.status_code == 307 and resp.headers["location"] == f"/paper/{OLD_ID}"
    for url in ("/paper/nope", "/paper/../../etc/passwd", "/paper/2602.00001", "/paper/%3Cscript%3E"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "Not found" in resp.text and "Traceback" not in resp.text and "<script>" not in resp.text


def test_translated_title_shown_on_day_page(client: httpx.Client) -> None:
    assert 'class="translated"' in client.get("/day/2026-02-20").text


def test_search_uses_fts_and_tolerates_syntax(client: httpx.Client) -> None:
    page = client.get("/search", params={"q": "xylophonic"}).text
    assert f'href="/paper/{OLD_ID}"' in page
    for query in ('"unbalanced', "AND OR NOT", "title:foo*", "NEAR(a b)", "a\x00b", "'; DROP TABLE papers"):
        resp = client.get("/search", params={"q": query})
        assert resp.status_code == 200, query
    assert "No paper matches" in client.get("/search", params={"q": "qqqzzznothing"}).text


# -- ratings ----------------------------------------------------------------------------------------------
def test_rating_round_trip_without_js(client: httpx.Client, built: tuple[Path, Config], base: str) -> None:
    db, _ = built
    token = token_of(client.get(f"/paper/{OLD_ID}").text)
    form = {"csrf": token, "value": "up", "next": f"/paper/{OLD_ID}"}
    resp = client.post(f"/rate/{OLD_ID}", data=form, headers={"Origin": base}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/paper/{OLD_ID}"
    assert ratings(db)[OLD_ID] == 1
    page = client.get(f"/paper/{OLD_ID}").text
    assert 'class="up" aria-pressed="true"' in page and "used at the next run" in page
    # Referer is the fallback when a browser sends no Origin.
    form["value"] = "down"
    resp = client.post(
        f"/rate/{OLD_ID}", data=form, headers={"Referer": f"{base}/paper/{OLD_ID}"}, follow_redirects=False
    )
    assert resp.status_code == 303 and ratings(db)[OLD_ID] == -1
    form["value"] = "clear"
    client.post(f"/rate/{OLD_ID}", data=form, headers={"Origin": base}, follow_redirects=False)
    assert OLD_ID not in ratings(db)


def test_rating_json_for_the_script(client: httpx.Client, built: tuple[Path, Config], base: str) -> None:
    db, _ = built
    token = token_of(client.get(f"/paper/{HOSTILE_ID}").text)
    resp = client.post(
        f"/rate/{HOSTILE_ID}",
        data={"csrf": token, "value": "1"},
        headers={"Origin": base, "Accept": "application/json"},
    )
    assert resp.json() == {"arxiv_id": HOSTILE_ID, "rating": 1, "label": "up"}
    assert ratings(db)[HOSTILE_ID] == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},  # neither Origin nor Referer
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:9999"},  # another local port is another origin
        {"Referer": "http://evil.example/page"},
        {"Origin": "http://evil.example", "Referer": "{base}/paper/x"},  # Origin wins
    ],
)
def test_cross_origin_post_is_refused(
    client: httpx.Client, built: tuple[Path, Config], base: str, headers: dict[str, str]
) -> None:
    db, _ = built
    headers = {k: v.replace("{base}", base) for k, v in headers.items()}
    before = ratings(db)
    token = token_of(client.get(f"/paper/{OLD_ID}").text)
    resp = client.post(f"/rate/{OLD_ID}", data={"csrf": token, "value": "up"}, headers=headers)
    assert resp.status_code == 403 and "Refused" in resp.text
    assert ratings(db) == before


def test_bad_token_value_and_unknown_paper(
    client: httpx.Client, built: tuple[Path, Config], base: str
) -> None:
    db, _ = built
    token = token_of(client.get(f"/paper/{OLD_ID}").text)
    origin = {"Origin": base}
    assert (
        client.post(f"/rate/{OLD_ID}", data={"csrf": "x", "value": "up"}, headers=origin).status_code == 403
    )
    assert client.post(f"/rate/{OLD_ID}", data={"value": "up"}, headers=origin).status_code == 403
    assert (
        client.post(f"/rate/{OLD_ID}", data={"csrf": token, "value": "5"}, headers=origin).status_code == 400
    )
    resp = client.post("/rate/2602.00001", data={"csrf": token, "value": "up"}, headers=origin)
    assert resp.status_code == 404 and "2602.00001" not in ratings(db)
    assert client.get(f"/rate/{OLD_ID}").status_code == 405  # GET never changes anything


def test_next_cannot_leave_the_site(client: httpx.Client, base: str) -> None:
    token = token_of(client.get(f"/paper/{OLD_ID}").text)
    for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        resp = client.post(
            f"/rate/{OLD_ID}",
            data={"csrf": token, "value": "clear", "next": bad},
            headers={"Origin": base},
            follow_redirects=False,
        )
        assert resp.headers["location"] == f"/paper/{OLD_ID}", bad


# -- hosts, headers, binding ------------------------------------------------------------------------------
def test_unexpected_host_is_refused(
    client: httpx.Client, server: BackgroundServer, built: tuple[Path, Config]
) -> None:
    port = server.sock.getsockname()[1]
    # A DNS-rebinding page reaches 127.0.0.1 under its own name: the Host header gives it away.
    assert client.get("/", headers={"Host": f"evil.example:{port}"}).status_code == 421
    for host in (f"localhost:{port}", f"[::1]:{port}", f"127.0.0.1:{port}", "localhost"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host
    # An explicit non-loopback bind cannot know its names in advance: any Host is served.
    db, cfg = built
    with BackgroundServer(create_app(db, cfg, allowed_hosts=None)) as anyhost:
        assert httpx.get(anyhost.url, headers={"Host": "192.168.1.7:8765"}, timeout=10).status_code == 200


def test_security_headers(client: httpx.Client) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_defaults_bind_loopback(built: tuple[Path, Config]) -> None:
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(BackgroundServer).parameters["host"].default == "127.0.0.1"
    db, cfg = built
    with BackgroundServer(create_app(db, cfg)) as server:
        assert server.sock.getsockname()[0] == "127.0.0.1"
        assert server.url.startswith("http://127.0.0.1:")
        assert httpx.get(server.url + "day/2026-02-10", timeout=10).status_code == 200


def test_loopback_detection_and_warning() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        assert is_loopback(host) and exposure_warning(host) is None, host
    for host in ("0.0.0.0", "::", "192.168.1.7", "example.org"):
        assert not is_loopback(host), host
        assert "WARNING" in (exposure_warning(host) or "") and "no login" in (exposure_warning(host) or "")


def test_serve_warns_loudly_off_loopback(
    built: tuple[Path, Config], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db, cfg = built
    seen: dict[str, object] = {}

    def fake_run(self: object, sockets: list[socket.socket] | None = None) -> None:
        seen["addr"] = sockets[0].getsockname() if sockets else None

    monkeypatch.setattr(serve_pkg.uvicorn.Server, "run", fake_run)
    serve(db, host="0.0.0.0", port=0, config=cfg)
    err = capsys.readouterr().err
    assert "WARNING" in err and "0.0.0.0" in err and seen["addr"]
    serve(db, port=0, config=cfg)
    err = capsys.readouterr().err
    assert "WARNING" not in err and "http://127.0.0.1:" in err


def test_port_in_use_and_missing_store(built: tuple[Path, Config], tmp_path: Path) -> None:
    db, cfg = built
    with BackgroundServer(create_app(db, cfg)) as server:
        port = server.sock.getsockname()[1]
        with pytest.raises(UsageError, match=r"cannot listen on 127\.0\.0\.1"):
            serve_pkg.bind_socket("127.0.0.1", port)
    with pytest.raises(DataError, match="no paperradar database"):
        create_app(tmp_path / "missing.db", cfg)
