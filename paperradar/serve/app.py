"""The web app of `paperradar serve` (running it is in __init__.py): days, search, paper pages with the
"why", and up/down ratings that the next ranking run uses.

Starlette + uvicorn rather than the stdlib: path converters (old-style ids carry a '/'), exception
handlers, static files and a server that shuts down cleanly from a test thread come for free, for two small
pure-Python packages (their other dependencies, anyio/h11/click, are already here through httpx and click).

There is no login, so the app defends itself in three ways: it listens on loopback unless told otherwise;
it answers only to loopback Host names when bound there (a DNS-rebinding page cannot talk to it); and a
rating POST must come from the same origin (Origin, else Referer) AND carry the per-process form token.
Every page is rendered by Jinja with autoescape on, under a CSP that allows no inline script.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperradar.config import Config, default_config
from paperradar.errors import DataError, PaperradarError
from paperradar.publish.site import render_markdown
from paperradar.publish.site_data import paper_view
from paperradar.rank.search import IndexCache, search_archive
from paperradar.serve.eval_panel import EvalPanel
from paperradar.serve.zotero_button import zotero_context, zotero_route
from paperradar.sources.ids import parse_arxiv_id
from paperradar.store import Store
from paperradar.store.views import day_counts, paper_announcements, paper_ranks, translated_titles

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
RATING_LABELS = {1: "up", -1: "down", 0: "none"}
_RATING_VALUES = {"1": 1, "up": 1, "-1": -1, "down": -1, "0": 0, "clear": 0}
_MAX_FORM_BYTES = 4096  # a rating form is a few dozen bytes; refuse anything that is not one
_SEARCH_LIMIT = 50
_STATIC = Path(__file__).parent / "static"

# No inline script or style anywhere, so even a missed escape could not run code; frames are refused
# (no clickjacking of the rating buttons); forms may only post back here.
_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Same-origin requests keep their Referer (the CSRF check's fallback); nothing leaks to arxiv.org.
    (b"referrer-policy", b"same-origin"),
]


# -- Host header check ---------------------------------------------------------------------------------
def _host_name(header: str) -> str:
    """The name part of a Host header: 'localhost:8765' -> 'localhost', '[::1]:8765' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


# -- middleware -----------------------------------------------------------------------------------------
class _GuardMiddleware:
    """Refuses unexpected Host headers (DNS rebinding) and adds the security headers to every response."""

    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str] | None):
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *_SECURITY_HEADERS]
            await send(message)

        if self.allowed_hosts is not None:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if _host_name(host) not in self.allowed_hosts:
                refuse = PlainTextResponse(
                    "paperradar serve only answers to localhost / 127.0.0.1 (unexpected Host header).\n",
                    status_code=421,
                )
                await refuse(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


# -- template helpers -----------------------------------------------------------------------------------
def paper_url(arxiv_id: str) -> str:
    # '/' stays literal (the route takes a path), everything else that is not URL-safe is quoted.
    return "/paper/" + quote(arxiv_id, safe="/")


def rate_url(arxiv_id: str) -> str:
    return "/rate/" + quote(arxiv_id, safe="/")


def _plain(value: Any) -> str:
    """A scalar of an explanation as short text: floats rounded, booleans and None spelled out."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _label(key: Any) -> str:
    return str(key).replace("_", " ")


def _make_env() -> Environment:
    # autoescape=True, not select_autoescape(): the templates end in .j2, which select_autoescape's
    # extension test would not escape.
    env = Environment(
        loader=PackageLoader("paperradar.serve", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["plain"] = _plain
    env.filters["label"] = _label
    env.globals.update(paper_url=paper_url, rate_url=rate_url, rating_labels=RATING_LABELS)
    return env


def _safe_next(value: str | None, fallback: str) -> str:
    """Where to go after a rating: a path on this site only (never '//host' or a full URL)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return fallback


# -- the app --------------------------------------------------------------------------------------------
class _UI:
    def __init__(self, store_path: Path, config: Config):
        self.store_path = store_path
        self.config = config
        self.env = _make_env()
        # One token per server process: a page from before a restart gets a 403 that says "reload".
        self.token = secrets.token_urlsafe(32)
        self.vectors = IndexCache(store_path, config.personal)  # the search index, loaded once
        self.eval_panel = EvalPanel(self)  # "how paperradar ranked for you": /eval, cached

    @contextmanager
    def store(self) -> Iterator[Store]:
        # A connection per request: sqlite3 connections belong to the thread that made them, and Starlette
        # runs each request in a pool thread. Opening one is well under a millisecond.
        store = Store(self.store_path, reader=self.config.reader_name)
        try:
            yield store
        finally:
            store.close()

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        page = self.env.get_template(name).render(
            request_path=request.url.path,
            request_target=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            csrf_token=self.token,
            language=self.config.output.language,
            search_query=context.pop("search_query", ""),
            **context,
        )
        return HTMLResponse(page, status_code=status_code)

    # -- pages --------------------------------------------------------------------------------------
    def days(self, request: Request) -> Response:
        cats = list(self.config.sources.categories)
        with self.store() as store:
            days = list(reversed(store.announcement_days(cats)))
            announced, ranked = day_counts(store, cats)
            panel = self.eval_panel.days_context(store)
        rows = [
            {"day": d, "announced": announced.get(d.isoformat(), 0), "ranked": ranked.get(d.isoformat(), 0)}
            for d in days
        ]
        return self.render(
            request, "days.html.j2", days=rows, categories=cats, store_path=self.store_path, **panel
        )

    def day(self, request: Request) -> Response:
        raw = request.path_params["day"]
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise HTTPException(404, f"{raw!r} is not a day; days look like 2026-02-10") from None
        cats = list(self.config.sources.categories)
        with self.store() as store:
            ranks = store.ranks(day)
            anns = {a.arxiv_id: a for a in store.announcements(day, cats)}
            if not ranks and not anns:
                raise HTTPException(404, f"nothing was announced or ranked on {day.isoformat()}")
            ids = [r.arxiv_id for r in ranks] or list(anns)
            papers = store.get_papers(ids)
            titles = translated_titles(store, papers, self.config.output.language)
            ratings = store.current_ratings()
        by_id = {r.arxiv_id: r for r in ranks}
        items = [
            {
                "paper": papers[i],
                "rank": by_id.get(i),
                "kind": anns[i].kind if i in anns else "",
                "title_text": titles.get(i),
                "rating": ratings.get(i, 0),
            }
            for i in ids
            if i in papers
        ]
        return self.render(
            request, "day.html.j2", day=day, items=items, ranked=bool(ranks), top_n=self.config.output.top_n
        )

    def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()[:300]
        exact = request.query_params.get("exact", "") in ("1", "on", "true")
        results: list[dict[str, Any]] = []
        error = None
        result = None
        if query:
            with self.store() as store:
                try:
                    index = None if exact else self.vectors.get()
                    result = search_archive(store, query, _SEARCH_LIMIT, exact=exact, index=index)
                except sqlite3.OperationalError as exc:  # FTS refused the query despite the escaping
                    error = str(exc)
                except PaperradarError as exc:  # an unreadable index: say so, search by words
                    result = search_archive(store, query, _SEARCH_LIMIT, exact=True)
                    result.notes.append(exc.message)
                ratings = store.current_ratings()
            hits = result.hits if result else []
            results = [
                {"hit": h, "paper": h.paper, "score": h.score, "rating": ratings.get(h.paper.arxiv_id, 0)}
                for h in hits
            ]
        return self.render(
            request,
            "search.html.j2",
            search_query=query,
            results=results,
            error=error,
            limit=_SEARCH_LIMIT,
            exact=exact,
            mode=result.mode if result else ("exact" if exact else "hybrid"),
            how=result.how if result else "",
            notes=result.notes if result else [],
        )

    def paper(self, request: Request) -> Response:
        raw = request.path_params["arxiv_id"]
        with self.store() as store:
            paper = store.get_paper(raw)
            if paper is None:
                # A versioned or prefixed form of a stored id goes to the canonical page.
                try:
                    canonical, _ = parse_arxiv_id(raw)
                except DataError:
                    canonical = None
                if canonical and canonical != raw and store.get_paper(canonical) is not None:
                    return RedirectResponse(paper_url(canonical), status_code=307)
                raise HTTPException(404, f"no paper {raw!r} in the store")
            ranks = paper_ranks(store, paper.arxiv_id)
            anns = paper_announcements(store, paper.arxiv_id)
            # The texts the static site would show (same choice: current version, model before extractive).
            view = paper_view(store, paper)
            versions = store.paper_versions(paper.arxiv_id)
            rating = store.current_ratings().get(paper.arxiv_id, 0)
            zotero = zotero_context(self, store, paper.arxiv_id)
        styles = [
            (style, text, render_markdown(text.content))
            for style in view.style_names()
            for _, text in sorted(view.styles[style].items())
        ]
        return self.render(
            request,
            "paper.html.j2",
            paper=paper,
            ranks=ranks,
            announcements=anns,
            summaries=[view.summaries[lang] for lang in sorted(view.summaries)],
            styles=styles,
            title_text=view.titles.get(self.config.output.language),
            versions=versions,
            rating=rating,
            zotero=zotero,
        )

    # -- rating -------------------------------------------------------------------------------------
    def _same_origin(self, request: Request) -> bool:
        expected = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
        origin = request.headers.get("origin")
        if origin is not None:
            return origin.lower() == expected  # "null" (sandboxed or privacy-stripped) never matches
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            return f"{parts.scheme}://{parts.netloc}".lower() == expected
        return False

    async def rate(self, request: Request) -> Response:
        arxiv_id = request.path_params["arxiv_id"]
        if not self._same_origin(request):
            raise HTTPException(
                403, "refused: a rating must be sent from a paperradar page (cross-origin POST)"
            )
        body = await request.body()
        if len(body) > _MAX_FORM_BYTES:
            raise HTTPException(413, "form too large")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if not hmac.compare_digest(form.get("csrf", ""), self.token):
            raise HTTPException(
                403, "refused: the form is out of date (the server restarted); reload the page"
            )
        value = _RATING_VALUES.get(form.get("value", ""))
        if value is None:
            raise HTTPException(400, "value must be up, down or clear")
        found = await run_in_threadpool(self._store_rating, arxiv_id, value)
        if not found:
            raise HTTPException(404, f"no paper {arxiv_id!r} in the store")
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"arxiv_id": arxiv_id, "rating": value, "label": RATING_LABELS[value]})
        # Post/redirect/get: a reload after rating does not send the form again.
        return RedirectResponse(_safe_next(form.get("next"), paper_url(arxiv_id)), status_code=303)

    def _store_rating(self, arxiv_id: str, value: int) -> bool:
        with self.store() as store:
            if store.get_paper(arxiv_id) is None:
                return False
            store.rate(arxiv_id, value)
            return True

    # -- errors -------------------------------------------------------------------------------------
    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return self.render(
            request, "error.html.j2", status_code=exc.status_code, status=exc.status_code, detail=exc.detail
        )

    async def server_error(self, request: Request, exc: Exception) -> Response:
        # No logging here: Starlette re-raises after this page is sent, and the server logs the traceback.
        detail = (
            exc.message
            if isinstance(exc, PaperradarError)
            else "something went wrong; the terminal running paperradar serve shows the details"
        )
        return self.render(request, "error.html.j2", status_code=500, status=500, detail=detail)


def create_app(
    store_path: str | Path,
    config: Config | None = None,
    *,
    allowed_hosts: frozenset[str] | None = LOOPBACK_NAMES,
) -> ASGIApp:
    """The ASGI app over the store at `store_path`. `allowed_hosts` are the Host names it answers to
    (None: any — only for a deliberate non-loopback bind, where the name is not known in advance)."""
    path = Path(store_path)
    if not path.exists():
        raise DataError(
            f"no paperradar database at {path}",
            hint="run `paperradar run --sample` first, or point [store].path at your database",
        )
    ui = _UI(path, config or default_config())
    routes = [
        Route("/", ui.days, name="days"),
        Route("/day/{day}", ui.day, name="day"),
        Route("/search", ui.search, name="search"),
        Route("/paper/{arxiv_id:path}", ui.paper, name="paper"),
        ui.eval_panel.route(),
        Route("/rate/{arxiv_id:path}", ui.rate, methods=["POST"], name="rate"),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
    if ui.config.zotero is not None:
        routes.insert(-1, zotero_route(ui))
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: ui.http_error, Exception: ui.server_error}
    )
    app.state.ui = ui
    return _GuardMiddleware(app, allowed_hosts)
