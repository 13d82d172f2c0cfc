"""The web UI's "how paperradar ranked for you" page (/eval) and the small panel on the days list.

Computing the figures ranks every judged day of the last weeks again with every ranker: seconds to
minutes (evaluate/own.py). A page load never waits for it: /eval starts the computation in one background
thread and shows "computing" (the page reloads itself every few seconds, a <meta> refresh: no script);
the result is cached by everything it depends on (evaluate/own_panel.py), in memory and in a file next to
the database that `paperradar publish site` reads too. The days list only looks the key up (a few small
queries, no ranking) and shows the panel when the figures for today's inputs are ready, else a link.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paperradar.evaluate.own_panel import PanelCache, PanelInputs, compute_panel, panel_key
from paperradar.store import Store
from paperradar.text.eval_labels import eval_labels, ranker_name

if TYPE_CHECKING:
    from paperradar.serve.app import _UI

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5
UI_LANGUAGE = "en"  # the web UI's pages are in English; the panel follows them (the site has zh/ja/en)


class EvalPanel:
    """One computation at a time, in a daemon thread; results by input key in a PanelCache."""

    def __init__(self, ui: _UI):
        self.ui = ui
        self.cache = PanelCache(PanelCache.beside(ui.store_path))
        self._lock = threading.Lock()
        self._running: dict[str, float] = {}  # key -> when it started
        self.errors: dict[str, str] = {}

    def inputs(self) -> PanelInputs:
        cfg = self.ui.config
        return PanelInputs(list(cfg.sources.categories), cfg.personal, cfg.keywords)

    def lookup(self, store: Store) -> tuple[str, dict[str, Any] | None]:
        key = panel_key(store, self.inputs())
        return key, self.cache.get(key)

    def start(self, key: str) -> float:
        """Start computing `key` unless it is under way; returns when its computation started."""
        with self._lock:
            if key not in self._running:
                self._running[key] = time.monotonic()
                threading.Thread(
                    target=self._compute, args=(key,), name="paperradar-eval", daemon=True
                ).start()
            return self._running[key]

    def _compute(self, key: str) -> None:
        try:
            with self.ui.store() as store:  # its own connection: sqlite3 connections stay in their thread
                data = compute_panel(store, self.inputs())
                self.cache.put(panel_key(store, self.inputs()), data)
                if panel_key(store, self.inputs()) != key:  # a rating arrived meanwhile: both are true
                    self.cache.put(key, data)
        except Exception as exc:  # shown on the page instead of a silent "computing" forever
            log.exception("the ranking panel could not be computed")
            self.errors[key] = f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._running.pop(key, None)

    # -- pages --------------------------------------------------------------------------------------
    def page(self, request: Request) -> Response:
        with self.ui.store() as store:
            key, data = self.lookup(store)
        started = None
        error = self.errors.get(key)
        if data is None and error is None:
            started = time.monotonic() - self.start(key)
        return self.ui.render(
            request,
            "eval.html.j2",
            panel=view(data) if data else None,
            running_for=started,
            error=error,
            refresh=REFRESH_SECONDS if data is None and error is None else None,
            E=eval_labels(UI_LANGUAGE),
        )

    def days_context(self, store: Store) -> dict[str, Any]:
        """For the days list: the panel when ready for the current inputs, never a computation."""
        _, data = self.lookup(store)
        return {"ranking_panel": view(data) if data else None, "E": eval_labels(UI_LANGUAGE)}

    def route(self) -> Route:
        return Route("/eval", self.page, name="eval")


def view(data: dict[str, Any], language: str = UI_LANGUAGE) -> dict[str, Any]:
    """The panel data with its sentences in `language`: the lead line or the truthful reason for none."""
    labels = eval_labels(language)
    values = {
        "first": data["first_day"],
        "until": data["until"],
        "days": data["judged_days"],
        "ups": data["up_ratings"] if data["judged_days"] else data["up_ratings_in_window"],
        "weeks": data["weeks"],
    }
    key = data.get("message_key")
    return {
        **data,
        "lead": labels["lead"].format(**values) if data["rows"] else None,
        "note": labels[key].format(**values) if key else None,
        "names": {row["ranker"]: ranker_name(row["ranker"], language) for row in data["rows"]},
        "how": labels[f"how_{data.get('history', 'week')}"],
        "computed": labels["computed"].format(seconds=data["seconds"]),
    }
