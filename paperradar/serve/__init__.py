"""`paperradar serve`: the local web UI (days, search, paper pages with the "why", ratings).

app.py builds the ASGI app (`create_app`); this module runs it: `serve` in the foreground for the CLI,
`BackgroundServer` in a thread for tests. Binding is ours rather than uvicorn's so that port 0 works, the
real URL is known before the first request, and a busy port is a one-line UsageError.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import threading
import time
import webbrowser
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from paperradar.config import Config
from paperradar.errors import UsageError
from paperradar.serve.app import LOOPBACK_NAMES, create_app

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "BackgroundServer",
    "create_app",
    "exposure_warning",
    "is_loopback",
    "serve",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


# -- host names and binding ---------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """True for names that only this machine can reach. An unknown host name counts as exposed."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str | None:
    """The loud warning for a non-loopback bind (None on loopback)."""
    if is_loopback(host):
        return None
    return (
        f"WARNING: paperradar serve is listening on {host}, which other machines can reach. "
        "There is no login: anyone who can reach this address can read your archive and change your "
        "ratings. Use the default 127.0.0.1 unless you mean it."
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """Listen on host:port (0 = any free port); a port in use is a usage error, not a traceback."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host!r}: {exc.strerror}", hint="pass --host 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}", hint="pass another --port, e.g. --port 8766"
        ) from None
    sock.listen(128)
    return sock


def _url_for(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):  # a wildcard bind is reachable on loopback too
        host = DEFAULT_HOST
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


# -- running it -----------------------------------------------------------------------------------------
def _uvicorn_server(app: ASGIApp) -> uvicorn.Server:
    # No access log: it is a one-person local tool, and the terminal should show warnings only.
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))


class BackgroundServer:
    """The app served from a thread (for tests and embedding): `with BackgroundServer(app) as s: s.url`."""

    def __init__(self, app: ASGIApp, host: str = DEFAULT_HOST, port: int = 0):
        self.sock = bind_socket(host, port)
        self.url = _url_for(self.sock)
        self.server = _uvicorn_server(app)
        self.thread = threading.Thread(target=self._run, name="paperradar-serve", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self.thread.start()
        waited = 0.0
        while not self.server.started and self.thread.is_alive() and waited < timeout:
            time.sleep(0.02)
            waited += 0.02
        if not self.server.started:
            raise RuntimeError("the paperradar web server did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    store_path: str | Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
    config: Config | None = None,
) -> None:
    """Serve the UI until Ctrl+C. Loopback by default; any other address prints a loud warning."""
    warning = exposure_warning(host)
    allowed = LOOPBACK_NAMES if warning is None else None
    app = create_app(store_path, config, allowed_hosts=allowed)
    sock = bind_socket(host, port)
    url = _url_for(sock)
    if warning:
        bar = "!" * 78
        sys.stderr.write(f"{bar}\n{warning}\n{bar}\n")
    sys.stderr.write(f"paperradar: serving {store_path} at {url} (Ctrl+C to stop)\n")
    server = _uvicorn_server(app)
    if open_browser:

        def _open_when_up() -> None:
            for _ in range(500):
                if server.started:
                    webbrowser.open(url)
                    return
                time.sleep(0.02)

        threading.Thread(target=_open_when_up, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
