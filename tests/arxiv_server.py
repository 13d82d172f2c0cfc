"""A loopback HTTP server that plays arXiv: replays recorded responses, scripted failures, and synthetic days.

Usage in tests (the `arxiv_server` fixture is defined here and registered in tests/conftest.py):

    from tests.arxiv_server import ArxivServer, Reply, fixture_reply

    def test_x(arxiv_server: ArxivServer) -> None:
        arxiv_server.route("/api/query", Reply(status=429), fixture_reply("api_2026/id_1605.08386_s0_m100_199195aa31ad.xml"))
        ...
        assert len(arxiv_server.requests) == 2

Routes are matched newest first on the path (exact, or as a prefix with prefix=True) and optionally on
query parameters (a dict of required values, or a predicate). A route's replies are served in order and
the last one repeats, so "429 then 200" is route(path, Reply(429), Reply(200, body)). A route may instead
have a handler that builds the reply from the request (the synthetic API does this). Every request is
logged (path, query, headers, arrival time) for assertions on counts, parameters and the User-Agent.

Benchmarks use `synthetic_day(n, categories).install(server)`: an RSS feed of n items in rss.arxiv.org's
format and an API that answers any id_list with Atom entries for those ids.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)
    content_type: str = ATOM_TYPE


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    time: float  # time.monotonic() at arrival

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[RecordedRequest], Reply]
QueryMatch = dict[str, str] | Callable[[RecordedRequest], bool] | None


@dataclass
class Route:
    path: str
    query: QueryMatch = None
    replies: deque[Reply] = field(default_factory=deque)
    handler: Handler | None = None
    prefix: bool = False
    hits: int = 0

    def matches(self, request: RecordedRequest) -> bool:
        if not (request.path.startswith(self.path) if self.prefix else request.path == self.path):
            return False
        if self.query is None:
            return True
        if callable(self.query):
            return bool(self.query(request))
        return all(request.param(k) == str(v) for k, v in self.query.items())

    def next_reply(self, request: RecordedRequest) -> Reply:
        self.hits += 1
        if self.handler is not None:
            return self.handler(request)
        return self.replies.popleft() if len(self.replies) > 1 else self.replies[0]


class ArxivServer:
    """Threaded http.server on 127.0.0.1, port chosen by the OS. Use as a context manager."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._lock = threading.Lock()
        self._routes: list[Route] = []
        self._log: list[RecordedRequest] = []
        self._httpd = ThreadingHTTPServer((host, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> ArxivServer:
        # A short poll interval makes shutdown() (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="arxiv-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ArxivServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/query"

    @property
    def rss_url(self) -> str:
        return self.url + "/rss/"

    # -- programming ------------------------------------------------------------------------------
    def route(
        self,
        path: str,
        *replies: Reply,
        query: QueryMatch = None,
        prefix: bool = False,
        handler: Handler | None = None,
    ) -> Route:
        """Add a route (newest routes win). Give replies (served in order, the last repeats) or a handler."""
        if not replies and handler is None:
            raise ValueError("a route needs at least one Reply or a handler")
        new = Route(path=path, query=query, replies=deque(replies), handler=handler, prefix=prefix)
        with self._lock:
            self._routes.insert(0, new)
        return new

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._log.clear()

    # -- what happened ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def _dispatch(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._log.append(request)
            for candidate in self._routes:
                if candidate.matches(request):
                    return candidate.next_reply(request)
        return Reply(404, f"no route for {request.path}".encode(), content_type="text/plain")


def _make_handler(server: ArxivServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as arXiv does; bodies carry Content-Length

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            request = RecordedRequest(
                method="GET",
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                time=time.monotonic(),
            )
            reply = server._dispatch(request)
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests); nothing to do

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return _Handler


# -- recorded fixtures ----------------------------------------------------------------------------
def fixture_bytes(relpath: str) -> bytes:
    return (FIXTURES / relpath).read_bytes()


def fixture_reply(relpath: str, status: int | None = None, **kwargs: Any) -> Reply:
    """The recorded body; the status comes from the sibling .meta.json when there is one."""
    path = FIXTURES / relpath
    meta = path.with_name(path.name.removesuffix(".xml") + ".meta.json")
    if status is None:
        status = json.loads(meta.read_text())["status_code"] if meta.exists() else 200
    content_type = RSS_TYPE if path.name.startswith("rss") else ATOM_TYPE
    return Reply(status=status, body=path.read_bytes(), content_type=content_type, **kwargs)


def recorded_query(relpath: str) -> dict[str, str]:
    """The query parameters of the original request, from the .meta.json next to a recorded response."""
    path = FIXTURES / relpath
    meta = path.with_name(path.name.removesuffix(".xml") + ".meta.json")
    url = json.loads(meta.read_text())["url"]
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def unused_port() -> int:
    """A port nothing listens on: bind, note the port, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- synthetic announcement days ------------------------------------------------------------------
# Real-looking vocabulary for synthetic papers, kept compact.
# fmt: off
_ADJ = [
    "Scalable", "Robust", "Efficient", "Generative", "Contrastive", "Sparse", "Federated", "Causal",
    "Multimodal", "Retrieval-Augmented", "Hierarchical", "Self-Supervised", "Calibrated", "Adaptive",
]
_NOUN = [
    "Transformers", "Graph Neural Networks", "Mixture-of-Experts Models", "Diffusion Models",
    "Dense Retrievers", "Sequential Recommenders", "Language Model Agents", "Ranking Models",
    "Two-Tower Encoders", "Reward Models", "State Space Models", "Click Models",
]
_TASK = [
    "Session-Based Recommendation", "Query Understanding", "Cold-Start Users", "Long-Context Reasoning",
    "Conversational Search", "Ad Click-Through Prediction", "Code Generation", "Tabular Data",
    "Multilingual Retrieval", "Short-Video Feeds", "E-commerce Search", "Scientific Question Answering",
]
_SENTENCES = [
    "Existing methods struggle when interaction data is sparse and user intent shifts within a session.",
    "We propose a simple framework that decouples representation learning from the ranking objective.",
    "Our approach uses a lightweight adapter on top of a frozen backbone and adds no inference cost.",
    "Experiments on three public benchmarks and one industrial dataset show consistent gains over strong baselines.",
    "An online A/B test on a large-scale platform confirms a relative improvement in user engagement.",
    "We further analyse failure cases and show that calibration matters more than model size.",
    "Code and data are available at this https URL.",
    "Theoretical analysis shows the estimator is unbiased under mild assumptions.",
]
_FIRST = [
    "Wei", "Yuki", "Maria", "Jonas", "Priya", "Chen", "Ahmed", "Sofia", "Hiroshi", "Lena", "Xin", "David",
    "Aisha", "Tomás", "Mei", "Ravi", "Elena", "Kenji", "Fatima", "Lukas",
]
_LAST = [
    "Zhang", "Tanaka", "García", "Müller", "Sharma", "Li", "Hassan", "Rossi", "Sato", "Novak", "Wang",
    "Kim", "Okafor", "Silva", "Liu", "Iyer", "Petrov", "Suzuki", "Haddad", "Becker",
]
# fmt: on
_OTHER_CATS = ["stat.ML", "math.OC", "cs.HC", "cs.DB", "cs.SI", "eess.SP"]


@dataclass
class SyntheticPaper:
    arxiv_id: str
    version: int
    kind: str
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]  # primary first
    comment: str | None
    published: datetime
    updated: datetime


@dataclass
class SyntheticDay:
    day: date
    categories: list[str]
    papers: list[SyntheticPaper]

    @property
    def ids(self) -> list[str]:
        return [p.arxiv_id for p in self.papers]

    def rss(self) -> bytes:
        title = ", ".join(self.categories)
        joined = "+".join(self.categories)
        pub = f"{self.day:%a, %d %b %Y} 00:00:00 -0400"
        items = "".join(_rss_item(p, pub) for p in self.papers)
        return (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'version="2.0">\n  <channel>\n'
            f"    <title>{title} updates on arXiv.org</title>\n"
            f"    <link>http://rss.arxiv.org/rss/{joined}</link>\n"
            f"    <description>{title} updates on the arXiv.org e-print archive.</description>\n"
            "    <language>en-us</language>\n"
            f"    <lastBuildDate>{self.day:%a, %d %b %Y} 08:58:05 +0000</lastBuildDate>\n"
            "    <managingEditor>rss-help@arxiv.org</managingEditor>\n"
            f"    <pubDate>{pub}</pubDate>\n"
            "    <skipDays>\n      <day>Sunday</day>\n      <day>Saturday</day>\n    </skipDays>\n"
            f"{items}  </channel>\n</rss>\n"
        ).encode()

    def atom_for(self, ids: list[str], start: int = 0, max_results: int | None = None) -> bytes:
        """What the API answers for an id_list: entries for the ids it knows (unknown ids are left out)."""
        by_id = {p.arxiv_id: p for p in self.papers}
        wanted = (re.sub(r"v\d+$", "", i) for i in ids)
        found = [by_id[i] for i in wanted if i in by_id]
        page = found[start : start + max_results if max_results is not None else None]
        entries = "".join(_atom_entry(p) for p in page)
        return (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
            "  <id>https://arxiv.org/api/synthetic</id>\n  <title>arXiv Query: synthetic</title>\n"
            f"  <updated>{self.day}T00:00:00Z</updated>\n"
            f"  <opensearch:itemsPerPage>{len(page)}</opensearch:itemsPerPage>\n"
            f"  <opensearch:totalResults>{len(found)}</opensearch:totalResults>\n"
            f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
            f"{entries}</feed>\n"
        ).encode()

    def api_handler(self, request: RecordedRequest) -> Reply:
        ids = [i for i in (request.param("id_list") or "").split(",") if i]
        start = int(request.param("start") or 0)
        max_results = int(request.param("max_results") or 10)
        return Reply(body=self.atom_for(ids, start, max_results))

    def install(self, server: ArxivServer, rss_path: str = "/rss/", api_path: str = "/api/query") -> None:
        """Serve the feed under rss_path (any category list) and answer id_list look-ups at api_path."""
        server.route(rss_path, Reply(body=self.rss(), content_type=RSS_TYPE), prefix=True)
        server.route(api_path, handler=self.api_handler)


def _rss_item(p: SyntheticPaper, pub: str) -> str:
    cats = "".join(f"      <category>{c}</category>\n" for c in p.categories)
    return (
        "    <item>\n"
        f"      <title>{escape(p.title)}</title>\n"
        f"      <link>https://arxiv.org/abs/{p.arxiv_id}</link>\n"
        f"      <description>arXiv:{p.arxiv_id}v{p.version} Announce Type: {p.kind} \n"
        f"Abstract: {escape(p.abstract)}</description>\n"
        f'      <guid isPermaLink="false">oai:arXiv.org:{p.arxiv_id}v{p.version}</guid>\n'
        f"{cats}      <pubDate>{pub}</pubDate>\n"
        f"      <arxiv:announce_type>{p.kind}</arxiv:announce_type>\n"
        "      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>\n"
        f"      <dc:creator>{escape(', '.join(p.authors))}</dc:creator>\n"
        "    </item>\n"
    )


def _atom_entry(p: SyntheticPaper) -> str:
    vid = f"{p.arxiv_id}v{p.version}"
    cats = "".join(
        f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>\n' for c in p.categories
    )
    authors = "".join(f"    <author>\n      <name>{escape(a)}</name>\n    </author>\n" for a in p.authors)
    comment = f"    <arxiv:comment>{escape(p.comment)}</arxiv:comment>\n" if p.comment else ""
    return (
        "  <entry>\n"
        f"    <id>http://arxiv.org/abs/{vid}</id>\n"
        f"    <title>{escape(p.title)}</title>\n"
        f"    <updated>{p.updated:%Y-%m-%dT%H:%M:%SZ}</updated>\n"
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>\n'
        f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf" title="pdf"/>\n'
        f"    <summary>{escape(p.abstract)}</summary>\n"
        f"{cats}"
        f"    <published>{p.published:%Y-%m-%dT%H:%M:%SZ}</published>\n"
        f"{comment}"
        f'    <arxiv:primary_category term="{p.categories[0]}"/>\n'
        f"{authors}"
        "  </entry>\n"
    )


def synthetic_day(
    n: int, categories: list[str], day: date = date(2026, 9, 24), seed: int = 0
) -> SyntheticDay:
    """n announcements spread over `categories`: ~60% new, 25% cross, 10% replace, 5% replace-cross.

    Deterministic for a given seed. New ids are YYMM.NNNNN of the day's month; replacements are older.
    """
    if not 0 < n < 90_000 or not categories:
        raise ValueError("synthetic_day needs 1..89999 papers (5-digit ids) and at least one category")
    rng = random.Random(seed)
    papers: list[SyntheticPaper] = []
    yymm = f"{day:%y%m}"
    older = f"{(day - timedelta(days=400)):%y%m}"
    for i in range(n):
        slot = i % 20
        kind = "new" if slot < 12 else "cross" if slot < 17 else "replace" if slot < 19 else "replace-cross"
        home = categories[i % len(categories)]
        outside = [c for c in _OTHER_CATS if c not in categories] or ["math.OC"]
        if kind in ("new", "replace"):
            cats = [home, *rng.sample([c for c in categories if c != home], k=min(1, len(categories) - 1))]
        else:  # cross-listed into the feed: the primary is outside it
            cats = [rng.choice(outside), home]
        if kind.startswith("replace"):
            arxiv_id, version = f"{older}.{10000 + i:05d}", rng.randint(2, 4)
            published = datetime(day.year, day.month, day.day) - timedelta(days=400 + i % 30)
        else:
            arxiv_id, version = f"{yymm}.{10000 + i:05d}", 1
            published = datetime(day.year, day.month, day.day) - timedelta(days=1, minutes=7 * i)
        updated = published if version == 1 else datetime(day.year, day.month, day.day) - timedelta(hours=20)
        title = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} for {rng.choice(_TASK)}"
        authors = [f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(rng.randint(1, 6))]
        abstract = " ".join(rng.sample(_SENTENCES, k=rng.randint(3, 5)))
        comment = rng.choice([None, "12 pages, 4 figures", "Accepted at SIGIR 2026", "Work in progress"])
        papers.append(
            SyntheticPaper(
                arxiv_id, version, kind, title, authors, abstract, cats, comment, published, updated
            )
        )
    return SyntheticDay(day=day, categories=list(categories), papers=papers)


# -- pytest fixture -------------------------------------------------------------------------------
try:
    import pytest
except ImportError:  # benchmarks may import this module without pytest installed
    pass
else:

    @pytest.fixture
    def arxiv_server() -> Iterator[ArxivServer]:
        with ArxivServer() as server:
            yield server
