"""A loopback server that plays the Zotero Web API v3 for one library, with the real response shapes.

Unlike arxiv_server.py (which replays recorded files) this one keeps state, because Zotero's protocol is
about state: every write raises the library version, reads filter on it. What it speaks (sources in
tests/fixtures/zotero/README.md):

- objects as the API returns them: {key, version, library, links, meta, data};
- GET <prefix>/items, /items/top, /collections/<key>/items[/top], /collections, /deleted, /items/<key>
  with `since`, `limit` (<= 100, or the smaller `page_cap` a test sets), `start`, `includeTrashed`,
  `format=versions`; the headers Total-Results, Last-Modified-Version, Zotero-API-Version and
  Link (first/prev/next/last/alternate);
- If-Modified-Since-Version on a multi-object read -> 304 Not Modified when the library has not changed;
- the API key (Authorization: Bearer or Zotero-API-Key): a wrong one -> 403 "Invalid key", none on this
  private library -> 403 "Forbidden";
- POST <prefix>/items (<= 50 objects): If-Unmodified-Since-Version out of date -> 412; a reused
  Zotero-Write-Token -> 412; each object checked (item type, fields of that type, parentItem, collections,
  locally made keys) and answered {"successful", "success", "unchanged", "failed"}, with the new
  Last-Modified-Version;
- scripted one-off answers (429 with Retry-After, a 200 carrying Backoff, 5xx) and edits "from another
  device" (add, change, trash, delete an item) between a test's requests.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "zotero"
KEY_ALPHABET = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
_KEY_RE = re.compile(f"^[{KEY_ALPHABET}]{{8}}$")
API_KEY = "P9NiFoyLeZu2bZNvvuQPDWsd"  # the shape of a real key (24 characters); fake

_COMMON = {
    "title", "creators", "abstractNote", "date", "shortTitle", "url", "accessDate", "language", "rights",
    "extra", "archive", "archiveLocation", "libraryCatalog", "callNumber", "tags", "collections", "relations",
}  # fmt: skip
# Fields per item type (the API's /itemTypeFields; the types a library in these tests holds).
FIELDS: dict[str, set[str]] = {
    "preprint": _COMMON
    | {"genre", "repository", "archiveID", "place", "series", "seriesNumber", "DOI", "citationKey"},
    "journalArticle": _COMMON
    | {"publicationTitle", "volume", "issue", "pages", "series", "seriesTitle", "seriesText",
       "journalAbbreviation", "DOI", "ISSN", "citationKey"},
    "conferencePaper": _COMMON
    | {"proceedingsTitle", "conferenceName", "place", "publisher", "volume", "pages", "series", "DOI",
       "ISBN", "citationKey"},
    "book": _COMMON
    | {"series", "seriesNumber", "volume", "numberOfVolumes", "edition", "place", "publisher", "numPages",
       "ISBN", "citationKey"},
    "webpage": _COMMON | {"websiteTitle", "websiteType"},
    "note": {"note", "parentItem", "tags", "collections", "relations"},
    "attachment": {"parentItem", "linkMode", "title", "url", "contentType", "charset", "filename", "tags",
                   "collections", "relations", "accessDate", "note"},
}  # fmt: skip
_ALWAYS = {"key", "version", "itemType", "dateAdded", "dateModified", "deleted"}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class ZoteroLibrary:
    """The library's state and the API over it. Thread-safe: the HTTP server is threaded."""

    def __init__(self, library_type: str = "user", library_id: str = "475425", page_cap: int = 100) -> None:
        self.library_type = library_type
        self.library_id = library_id
        self.prefix = f"/{library_type}s/{library_id}"
        self.page_cap = page_cap
        self.api_key: str | None = API_KEY
        self.version = 0
        self.items: dict[str, dict[str, Any]] = {}  # key -> data (editable JSON, with key and version)
        self.collections: dict[str, dict[str, Any]] = {}
        self.deleted: dict[str, int] = {}  # item key -> library version of its deletion
        self.write_tokens: set[str] = set()
        self.requests: list[Seen] = []
        self.scripted: deque[tuple[str, str, Reply]] = deque()  # (method, path regex, reply): used once
        self.hooks: list[tuple[str, Callable[[], None]]] = []  # (path regex, edit): run once after a match
        self.base_url = ""
        self.lock = threading.RLock()

    # -- edits "from another device" ------------------------------------------------------------------
    def add_collection(self, name: str, key: str) -> str:
        with self.lock:
            self.version += 1
            self.collections[key] = {"key": key, "version": self.version, "name": name,
                                     "parentCollection": False, "relations": {}}  # fmt: skip
        return key

    def add_item(self, data: dict[str, Any]) -> str:
        with self.lock:
            self.version += 1
            item = deepcopy(data)
            item.setdefault("key", _fresh_key(len(self.items) + len(self.deleted)))
            item["version"] = self.version
            stamp = datetime(2026, 1, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            item.setdefault("dateAdded", stamp)
            item.setdefault("dateModified", stamp)
            for name in ("tags", "collections"):
                item.setdefault(name, [])
            item.setdefault("relations", {})
            self.items[item["key"]] = item
            return str(item["key"])

    def change_item(self, key: str, **fields: Any) -> None:
        with self.lock:
            self.version += 1
            self.items[key].update(fields, version=self.version)

    def trash_item(self, key: str) -> None:
        self.change_item(key, deleted=1)

    def delete_item(self, key: str) -> None:
        with self.lock:
            self.version += 1
            del self.items[key]
            self.deleted[key] = self.version

    def script(self, method: str, path_pattern: str, *replies: Reply) -> None:
        """The next requests matching `method` and `path_pattern` (a regex searched in the path) get
        these replies, one each, before the library answers normally again."""
        for reply in replies:
            self.scripted.append((method, path_pattern, reply))

    def after(self, path_pattern: str, edit: Callable[[], None]) -> None:
        """Run `edit` (as another device would) right after the next request matching `path_pattern`
        is answered: a change in the middle of a client's paging."""
        self.hooks.append((path_pattern, edit))

    def children(self, key: str) -> list[dict[str, Any]]:
        return [i for i in self.items.values() if i.get("parentItem") == key]

    def seen(self, method: str, pattern: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # -- the API ------------------------------------------------------------------------------------
    def handle(self, seen: Seen) -> Reply:
        with self.lock:
            self.requests.append(seen)
            for i, (method, pattern, reply) in enumerate(self.scripted):
                if method == seen.method and re.search(pattern, seen.path):
                    del self.scripted[i]
                    return reply
            denied = self._auth(seen)
            if denied is not None:
                return denied
            if not seen.path.startswith(self.prefix + "/"):
                return _text(403, "Forbidden")
            rest = seen.path[len(self.prefix) :]
            if seen.method == "GET":
                reply = self._read(rest, seen)
                for i, (pattern, edit) in enumerate(self.hooks):
                    if re.search(pattern, seen.path):
                        del self.hooks[i]
                        edit()
                        break
                return reply
            if seen.method == "POST" and rest in ("/items", "/items/"):
                return self._write(seen)
            return _text(405, "Method not allowed")

    def _auth(self, seen: Seen) -> Reply | None:
        auth = seen.header("authorization") or ""
        key = (
            auth.removeprefix("Bearer ").strip()
            if auth.startswith("Bearer ")
            else seen.header("zotero-api-key")
        )
        if key is None:
            return _text(403, "Forbidden")
        if key != self.api_key:
            return _text(403, "Invalid key")
        return None

    def _read(self, rest: str, seen: Seen) -> Reply:
        q = seen.query
        if rest == "/deleted":
            if "since" not in q:
                return _text(400, "'since' parameter must be provided")
            since = int(q["since"])
            gone = sorted(k for k, v in self.deleted.items() if v > since)
            body = {"collections": [], "searches": [], "items": gone, "tags": [], "settings": []}
            return _json(body, {"Last-Modified-Version": str(self.version)})
        if rest == "/collections":
            return self._page(
                sorted(self.collections.values(), key=lambda c: c["key"]), seen, self._collection
            )
        match = re.fullmatch(r"/items/([A-Z0-9]{8})", rest)
        if match:
            item = self.items.get(match.group(1))
            if item is None:
                return _text(404, "Not found")
            return _json(self._object(item), {"Last-Modified-Version": str(item["version"])})
        match = re.fullmatch(r"(?:/collections/([A-Z0-9]{8}))?/items(/top)?", rest)
        if not match:
            return _text(404, "Not found")
        collection, top = match.groups()
        if collection is not None and collection not in self.collections:
            return _text(404, "Collection not found")
        ims = seen.header("if-modified-since-version")
        if ims is not None and self.version <= int(ims):
            return Reply(304, b"", {"Last-Modified-Version": str(self.version)})
        since = int(q.get("since", 0))
        trashed = q.get("includeTrashed") == "1"
        chosen = [
            i
            for i in self.items.values()
            if i["version"] > since
            and (not top or not i.get("parentItem"))
            and (collection is None or collection in i.get("collections", []))
            and (trashed or not i.get("deleted"))
        ]
        chosen.sort(key=lambda i: (i["dateModified"], i["key"]), reverse=True)  # sort=dateModified, desc
        if q.get("format") == "versions":
            return _json(
                {i["key"]: i["version"] for i in chosen}, {"Last-Modified-Version": str(self.version)}
            )
        return self._page(chosen, seen, self._object)

    def _page(self, rows: list[dict[str, Any]], seen: Seen, render: Any) -> Reply:
        q = dict(seen.query)
        limit = min(int(q.get("limit", 25)), 100, self.page_cap)
        start = int(q.get("start", 0))
        page = rows[start : start + limit]
        total = len(rows)

        def link(at: int) -> str:
            return f"{self.base_url}{seen.path}?{urlencode({**q, 'start': at, 'limit': limit})}"

        links = []
        if start > 0:
            links += [f'<{link(0)}>; rel="first"', f'<{link(max(0, start - limit))}>; rel="prev"']
        if start + limit < total:
            links.append(f'<{link(start + limit)}>; rel="next"')
        if total > limit:
            links.append(f'<{link((total - 1) // limit * limit)}>; rel="last"')
        links.append(f'<https://www.zotero.org{seen.path.replace("/items/top", "/items")}>; rel="alternate"')
        headers = {
            "Total-Results": str(total),
            "Last-Modified-Version": str(self.version),
            "Link": ", ".join(links),
        }
        return _json([render(r) for r in page], headers)

    def _library_block(self) -> dict[str, Any]:
        return {
            "type": self.library_type,
            "id": int(self.library_id),
            "name": "paperradar test library",
            "links": {"alternate": {"href": f"https://www.zotero.org/{self.library_type}s/{self.library_id}",
                                    "type": "text/html"}},
        }  # fmt: skip

    def _object(self, data: dict[str, Any]) -> dict[str, Any]:
        key = data["key"]
        links: dict[str, Any] = {
            "self": {"href": f"https://api.zotero.org{self.prefix}/items/{key}", "type": "application/json"},
            "alternate": {"href": f"https://www.zotero.org{self.prefix}/items/{key}", "type": "text/html"},
        }
        meta: dict[str, Any] = {}
        if data.get("parentItem"):
            links["up"] = {"href": f"https://api.zotero.org{self.prefix}/items/{data['parentItem']}",
                           "type": "application/json"}  # fmt: skip
        else:
            meta["numChildren"] = len(self.children(key))
        people = [c.get("lastName") or c.get("name") for c in data.get("creators", [])]
        if people:
            meta["creatorSummary"] = people[0] + (
                " et al." if len(people) > 2 else f" and {people[1]}" if len(people) == 2 else ""
            )
        if re.match(r"\d{4}-\d{2}-\d{2}", str(data.get("date", ""))):
            meta["parsedDate"] = data["date"][:10]
        return {"key": key, "version": data["version"], "library": self._library_block(), "links": links,
                "meta": meta, "data": deepcopy(data)}  # fmt: skip

    def _collection(self, data: dict[str, Any]) -> dict[str, Any]:
        key = data["key"]
        count = sum(1 for i in self.items.values() if key in i.get("collections", []))
        return {"key": key, "version": data["version"], "library": self._library_block(),
                "links": {"self": {"href": f"https://api.zotero.org{self.prefix}/collections/{key}",
                                   "type": "application/json"}},
                "meta": {"numCollections": 0, "numItems": count}, "data": deepcopy(data)}  # fmt: skip

    def _write(self, seen: Seen) -> Reply:
        iusv = seen.header("if-unmodified-since-version")
        if iusv is not None and int(iusv) != self.version:
            return _text(
                412,
                f"Library has been modified since specified version (expected {iusv}, found {self.version})",
            )
        token = seen.header("zotero-write-token")
        if token is not None and iusv is None and token in self.write_tokens:
            return _text(412, "Write token already used")
        if not isinstance(seen.body, list):
            return _text(400, "Uploaded data must be a JSON array")
        if len(seen.body) > 50:
            return _text(413, "Only 50 objects can be saved in a single request")
        new_version = self.version + 1
        result: dict[str, Any] = {"successful": {}, "success": {}, "unchanged": {}, "failed": {}}
        made: dict[str, dict[str, Any]] = {}
        for index, obj in enumerate(seen.body):
            problem = self._check(obj, made)
            if problem is not None:
                result["failed"][str(index)] = {"key": obj.get("key", "") if isinstance(obj, dict) else "",
                                                "code": problem[0], "message": problem[1]}  # fmt: skip
                continue
            item = deepcopy(obj)
            item.setdefault("key", _fresh_key(len(self.items) + len(made) + len(self.deleted) + 1000))
            item["version"] = new_version
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            item["dateAdded"] = item["dateModified"] = stamp
            made[item["key"]] = item
            result["success"][str(index)] = item["key"]
        if made:
            self.version = new_version
            self.items.update(made)
            for index, key in result["success"].items():
                result["successful"][index] = self._object(made[key])
        if token is not None:
            self.write_tokens.add(token)
        return _json(result, {"Last-Modified-Version": str(self.version)})

    def _check(self, obj: Any, made: dict[str, dict[str, Any]]) -> tuple[int, str] | None:
        if not isinstance(obj, dict):
            return 400, "Invalid object"
        kind = obj.get("itemType")
        if kind not in FIELDS:
            return 400, f"'{kind}' is not a valid itemType"
        for name in obj:
            if name not in FIELDS[kind] and name not in _ALWAYS:
                return 400, f"'{name}' is not a valid field for type '{kind}'"
        key = obj.get("key")
        if key is not None and not _KEY_RE.match(str(key)):
            return 400, f"'{key}' is not a valid item key"
        if key is not None and key in self.items:
            return 412, f"Item {key} already exists"  # a create must not silently overwrite
        parent = obj.get("parentItem")
        if parent and parent not in self.items and parent not in made:
            return 400, f"Parent item {parent} doesn't exist"
        for coll in obj.get("collections", []):
            if coll not in self.collections:
                return 409, f"Collection {coll} doesn't exist"
        if kind == "note" and not isinstance(obj.get("note", ""), str):
            return 400, "'note' must be a string"
        return None


def _fresh_key(n: int) -> str:
    digits = []
    for _ in range(8):
        n, r = divmod(n, len(KEY_ALPHABET))
        digits.append(KEY_ALPHABET[r])
    return "Z" + "".join(reversed(digits))[1:]


def _json(body: Any, headers: dict[str, str]) -> Reply:
    return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json", **headers})


def _text(status: int, message: str) -> Reply:
    return Reply(status, message.encode(), {"Content-Type": "text/plain"})


class _Handler(BaseHTTPRequestHandler):
    library: ZoteroLibrary

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        seen = Seen(method, parts.path, query, {k.lower(): v for k, v in self.headers.items()}, body)
        reply = self.server.library.handle(seen)  # type: ignore[attr-defined]
        self.send_response(reply.status)
        self.send_header("Zotero-API-Version", "3")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ZoteroServer:
    def __init__(self, library: ZoteroLibrary) -> None:
        self.library = library
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.library = library  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        library.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ZoteroServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def load_fixture_library(library: ZoteroLibrary) -> dict[str, str]:
    """The test library of tests/fixtures/zotero/library.json; returns {fixture label: item key}."""
    spec = json.loads((FIXTURES / "library.json").read_text(encoding="utf-8"))
    for coll in spec["collections"]:
        library.add_collection(coll["name"], coll["key"])
    keys = {}
    for entry in spec["items"]:
        keys[entry["label"]] = library.add_item(entry["data"])
    return keys


@pytest.fixture
def zotero_server() -> Iterator[ZoteroServer]:
    with ZoteroServer(ZoteroLibrary()) as server:
        yield server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
