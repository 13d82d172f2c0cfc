"""The web UI's "save to Zotero" button (only when the config has a [zotero] section).

The button is a plain form POST guarded like a rating (same origin AND the per-process form token), since
it writes to the reader's Zotero library with their key. The save itself is library_sync.save_to_zotero,
the same as `paperradar library save`; its one-line errors are shown on the result page.
"""

from __future__ import annotations

import hmac
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paperradar.errors import ConfigError, DataError, PaperradarError
from paperradar.store import Store

if TYPE_CHECKING:
    from paperradar.serve.app import _UI

_MAX_FORM_BYTES = 4096


def save_url(arxiv_id: str) -> str:
    return "/zotero/save/" + quote(arxiv_id, safe="/")


def zotero_context(ui: _UI, store: Store, arxiv_id: str) -> dict[str, Any] | None:
    """What the paper page shows about Zotero: None when not configured, else the item's key when a
    sync or a save put it there, and where a save would go."""
    cfg = ui.config.zotero
    if cfg is None:
        return None
    return {
        "item_key": store.zotero.item_for_arxiv(cfg.library_path, arxiv_id),
        "action": save_url(arxiv_id),
        "collection": cfg.save_collection or cfg.collection or "the library",
    }


def zotero_route(ui: _UI) -> Route:
    async def save(request: Request) -> Response:
        arxiv_id = request.path_params["arxiv_id"]
        if not ui._same_origin(request):
            raise HTTPException(
                403, "refused: a save must be sent from a paperradar page (cross-origin POST)"
            )
        body = await request.body()
        if len(body) > _MAX_FORM_BYTES:
            raise HTTPException(413, "form too large")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if not hmac.compare_digest(form.get("csrf", ""), ui.token):
            raise HTTPException(
                403, "refused: the form is out of date (the server restarted); reload the page"
            )
        try:
            report = await run_in_threadpool(_save, ui, arxiv_id)
        except DataError as exc:
            raise HTTPException(404, exc.message) from None
        except ConfigError as exc:
            raise HTTPException(502, f"{exc.message} ({exc.hint})" if exc.hint else exc.message) from None
        except PaperradarError as exc:
            raise HTTPException(502, exc.message) from None
        result = {
            "arxiv_id": report.arxiv_id,
            "item_key": report.item_key,
            "collection": report.collection,
            "created": report.created,
            "summary_by": report.summary_by,
        }
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(result)
        return ui.render(request, "zotero_saved.html.j2", result=result, paper_id=arxiv_id)

    return Route("/zotero/save/{arxiv_id:path}", save, methods=["POST"], name="zotero-save")


def _save(ui: _UI, arxiv_id: str) -> Any:
    from paperradar.rank.personal.library_sync import save_to_zotero
    from paperradar.sources.zotero import ZoteroClient

    cfg = ui.config.zotero
    assert cfg is not None
    client = ZoteroClient.from_config(cfg, dict(os.environ), need_key=True)
    try:
        with Store(ui.store_path, reader=ui.config.reader_name) as store:
            if store.get_paper(arxiv_id) is None:
                raise DataError(f"no paper {arxiv_id!r} in the store")
            return save_to_zotero(store, client, arxiv_id, ui.config.output.language)
    finally:
        client.close()
