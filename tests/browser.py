"""How the browser tests start Chromium: Debian's binary (Playwright never downloads a browser here), with
the flags that keep it from reaching for the network (this machine's network is closed)."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
