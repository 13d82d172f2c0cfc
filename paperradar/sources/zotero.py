"""A Zotero Web API (v3) client on pyzotero: read a user's or group's library incrementally, and save a
paper with its summary as a child note. Returns plain dataclasses; storing them is library_sync's job.

Reading follows the API's sync recipe (zotero.org/support/dev/web_api/v3/syncing): the first sync reads
every top-level item; later ones ask `since=<last version>` with `If-Modified-Since-Version`, so an
unchanged library costs one request answered 304, and a changed one returns only the changed items plus
the keys deleted since (`/deleted`). Pages are followed through the `Link: rel="next"` header and checked
against `Total-Results`. The version kept is the `Last-Modified-Version` of the FIRST page: anything changed
while later pages were read has a newer version and comes again next time, so nothing is skipped.

Items without an abstract are kept (a common complaint about other tools is that they are dropped): their
arXiv id is looked for in the URL, DOI, archive id, Extra and other fields, and the caller counts them.

Writing follows the write-request rules: a new item and its child note go in ONE request, the note after
the item and both with locally made keys (so no item is ever left without its note), guarded by
`If-Unmodified-Since-Version`. A 412 means the library changed since that version: the changes are read,
and if the paper arrived meanwhile (another device saved it) that item is reported instead of a duplicate;
otherwise the write is retried once against the new version.

Waits the server asks for (`Backoff` on any answer, `Retry-After` with 429) are honoured by pyzotero up to
`max_wait` seconds; a longer wait stops the command with a message rather than hanging it.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2
import pyzotero
from pyzotero import Zotero

from paperradar.errors import ConfigError, NetworkError, PaperradarError
from paperradar.models import Paper
from paperradar.sources.zotero_config import KEY_ALPHABET, ZoteroConfig, is_zotero_key

PAGE_SIZE = 100  # the API's maximum
NOT_REFERENCES = ("note", "attachment", "annotation")  # top-level children of nothing: not papers
_WRITE_ATTEMPTS = 3  # a 429 on a write is retried after its Retry-After, like pyzotero does for reads


class ZoteroWaitTooLong(NetworkError):
    """Zotero asked for a longer pause than [zotero].max_wait."""


class ZoteroConflict(PaperradarError):
    """The library kept changing under a write (412 twice)."""

    exit_code = 3


@dataclass(slots=True)
class ZoteroItem:
    """One top-level Zotero item as the sync needs it. `fields` holds every string field of its data
    (Zotero's own names: url, DOI, archiveID, extra, publicationTitle, ...) for arXiv-id matching."""

    key: str
    version: int
    item_type: str
    title: str
    abstract: str
    creators: list[str]
    date_added: datetime | None
    collections: list[str]
    trashed: bool
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ZoteroChanges:
    """What changed in the library since `since` (None: the whole library)."""

    since: int | None
    version: int  # the library version these changes bring the reader to
    not_modified: bool  # 304: nothing changed since `since`
    items: list[ZoteroItem]  # changed or new top-level items (trashed ones included, flagged)
    deleted: list[str]  # keys of items deleted since `since`
    total_results: int | None  # what the first page's Total-Results announced
    pages: int
    requests: int
    waits: list[float]  # seconds the server asked to wait (Backoff / Retry-After), honoured
    stable: bool = True  # False: the library kept changing during the read; `version` must not be kept


@dataclass(slots=True)
class SavedItem:
    key: str
    note_key: str | None
    collection: str | None  # key of the collection it was put in
    version: int  # library version after the write
    created: bool  # False: the paper was already there (found after a 412) and nothing was written
    conflicts: int  # 412 answers met on the way


def zotero_item(raw: dict[str, Any]) -> ZoteroItem:
    """A ZoteroItem from one object of an API answer ({key, version, library, links, meta, data})."""
    data = raw.get("data") if isinstance(raw.get("data"), dict) else raw
    assert isinstance(data, dict)
    fields = {k: v for k, v in data.items() if isinstance(v, str)}
    added = None
    if data.get("dateAdded"):
        try:
            added = datetime.fromisoformat(str(data["dateAdded"]).replace("Z", "+00:00"))
        except ValueError:
            added = None
    creators = []
    for person in data.get("creators") or []:
        if isinstance(person, dict):
            name = person.get("name") or " ".join(
                p for p in (person.get("firstName"), person.get("lastName")) if isinstance(p, str) and p
            )
            if isinstance(name, str) and name.strip():
                creators.append(name.strip())
    return ZoteroItem(
        key=str(raw.get("key") or data.get("key") or ""),
        version=int(raw.get("version") or data.get("version") or 0),
        item_type=str(data.get("itemType") or ""),
        title=str(data.get("title") or "").strip(),
        abstract=" ".join(str(data.get("abstractNote") or "").split()),
        creators=creators,
        date_added=added,
        collections=[str(c) for c in data.get("collections") or []],
        trashed=bool(data.get("deleted")),
        fields=fields,
    )


def new_object_key() -> str:
    """A locally made object key, as the API lets a client pick for new objects (8 of KEY_ALPHABET)."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(8))


class _PaperradarZotero(Zotero):
    """pyzotero with two additions: extra request headers (If-Modified-Since-Version on a sync) and a
    ceiling on how long a Backoff / Retry-After may make it sleep."""

    def __init__(self, cfg: ZoteroConfig, api_key: str | None) -> None:
        client = httpx2.Client(follow_redirects=True, timeout=cfg.timeout)
        super().__init__(cfg.library_id, cfg.library_type, api_key, client=client)
        self.endpoint = cfg.base_url
        self.extra_headers: dict[str, str] = {}
        self.max_wait = cfg.max_wait
        self.waits: list[float] = []
        self._waited_for: httpx2.Response | None = None
        self.requests = 0

    def default_headers(self) -> dict[str, str]:
        self.requests += 1  # called once per request sent
        return {**super().default_headers(), **self.extra_headers}

    def _set_backoff(self, duration: str | float) -> None:
        seconds = float(duration)
        if seconds > self.max_wait:
            raise ZoteroWaitTooLong(
                f"Zotero asked paperradar to wait {seconds:g} s before the next request (Backoff/Retry-After)",
                hint=f"try again later, or raise [zotero].max_wait above {seconds:g}",
            )
        # pyzotero records a 429's Retry-After twice (error handler, then the header check): count it once.
        if self._waited_for is not self.request:
            self.waits.append(seconds)
            self._waited_for = self.request
        super()._set_backoff(seconds)


class ZoteroClient:
    """Reads and writes one Zotero library. Every method raises a PaperradarError with one line to show
    on failure (bad key: a ConfigError naming the environment variable)."""

    def __init__(self, cfg: ZoteroConfig, api_key: str | None) -> None:
        self.cfg = cfg
        self.api_key = api_key
        self.zot = _PaperradarZotero(cfg, api_key)
        self._collections: dict[str, str] | None = None

    @classmethod
    def from_config(cls, cfg: ZoteroConfig, environ: dict[str, str], need_key: bool = False) -> ZoteroClient:
        """The client for [zotero]; the key comes from the variable `api_key_env` names. Reading a public
        library works without one; writing (`need_key`) does not."""
        key = environ.get(cfg.api_key_env) or None
        if key is None and need_key:
            raise ConfigError(
                f"no Zotero API key: ${cfg.api_key_env} is not set",
                hint=f"create a key with write access at zotero.org/settings/keys and export {cfg.api_key_env}",
            )
        return cls(cfg, key)

    def close(self) -> None:
        if self.zot.client is not None:
            self.zot.client.close()

    # -- errors -------------------------------------------------------------------------------------
    @contextmanager
    def _errors(self, doing: str, passthrough: tuple[type[Exception], ...] = ()) -> Iterator[None]:
        """pyzotero's and httpx2's exceptions as one-line paperradar errors (but `passthrough` ones)."""
        try:
            yield
        except passthrough:
            raise
        except PaperradarError:
            raise
        except (pyzotero.UserNotAuthorisedError, pyzotero.MissingCredentialsError):
            env = self.cfg.api_key_env
            said = self._said()
            if self.api_key is None:
                raise ConfigError(
                    f"Zotero refused {doing} without an API key ({said}): ${env} is not set",
                    hint=f"create a key at zotero.org/settings/keys and export {env}",
                ) from None
            raise ConfigError(
                f"Zotero refused the API key in ${env} while {doing} ({said})",
                hint=f"check the key in ${env} and its access to {self.cfg.library_path} at zotero.org/settings/keys",
            ) from None
        except pyzotero.ResourceNotFoundError:
            raise ConfigError(
                f"Zotero has no {self.cfg.library_path} (or no such collection) while {doing} ({self._said()})",
                hint="check [zotero].library_id, library_type and the collection names",
            ) from None
        except pyzotero.TooManyRetriesError:
            raise NetworkError(
                f"Zotero kept answering 429 Too Many Requests while {doing}",
                hint="try again in a few minutes",
            ) from None
        except pyzotero.PyZoteroError:
            raise NetworkError(f"Zotero answered {self._said()} while {doing}") from None
        except httpx2.TimeoutException:
            raise NetworkError(
                f"Zotero did not answer within {self.cfg.timeout:g} s while {doing}",
                hint="try again later, or raise [zotero].timeout",
            ) from None
        except httpx2.TransportError as exc:
            raise NetworkError(
                f"cannot reach Zotero at {self.cfg.base_url} while {doing}: {exc}",
                hint="check the network connection",
            ) from None

    def _last_headers(self) -> httpx2.Headers:
        resp = self.zot.request
        return resp.headers if resp is not None else httpx2.Headers()

    def _said(self) -> str:
        """'403 Invalid key': the last answer's status and the first line of its body, short."""
        resp = self.zot.request
        if resp is None:
            return "no answer"
        text = " ".join(resp.text.split())[:120] if resp.text else ""
        return f"{resp.status_code} {text or resp.reason_phrase}".strip()

    # -- reading ------------------------------------------------------------------------------------
    def library_version(self) -> int:
        """The library's current version (one small request)."""
        with self._errors(f"reading the version of {self.cfg.library_path}"):
            return self.zot.last_modified_version()

    def collection_key(self, name_or_key: str) -> str:
        """A collection's key from its key or its name (names are matched case-insensitively)."""
        if is_zotero_key(name_or_key):
            return name_or_key
        if self._collections is None:
            with self._errors("listing the collections"):
                found = self.zot.everything(self.zot.collections(limit=PAGE_SIZE))
            self._collections = {str(c["data"]["name"]).casefold(): str(c["key"]) for c in found}
        key = self._collections.get(name_or_key.casefold())
        if key is None:
            names = ", ".join(sorted(self._collections)) or "none"
            raise ConfigError(
                f"{self.cfg.library_path} has no collection named {name_or_key!r} (it has: {names})",
                hint="create it in Zotero, or set the collection's name or 8-character key in [zotero]",
            )
        return key

    def changes(self, since: int | None, collection: str | None = None) -> ZoteroChanges:
        """Top-level items changed since library version `since` (all of them when None), and the keys
        deleted since then. With `collection` (a key), a first sync reads only that collection; a later
        one reads the library's changes and keeps the collection's members, reporting items that left
        it as deleted (a collection listing could not show that).

        When the library changes while its pages are read (the pages' Last-Modified-Version differ), an
        item may have slid from one page to the one already read: the read starts over once, and if the
        library is still moving, the answer says `stable=False` so the caller keeps its old version."""
        zot = self.zot
        zot.waits.clear()
        zot.requests = 0
        doing = f"reading {self.cfg.library_path}" + (f" since version {since}" if since is not None else "")
        for _attempt in range(2):
            read = self._read_pages(since, collection, doing)
            if read is None:
                return ZoteroChanges(since, since or 0, True, [], [], 0, 1, zot.requests, list(zot.waits))
            raw_items, version, total, pages, stable = read
            if stable:
                break
        deleted: list[str] = []
        if since is not None:
            with self._errors(doing):
                gone = zot.deleted(since=since)
            deleted = [str(k) for k in gone.get("items", [])] if isinstance(gone, dict) else []
        unique = {str(raw.get("key")): raw for raw in raw_items}  # an item seen on two pages counts once
        items = [zotero_item(raw) for raw in unique.values()]
        if collection is not None and since is not None:
            deleted += [i.key for i in items if collection not in i.collections]
            items = [i for i in items if collection in i.collections]
        return ZoteroChanges(
            since=since,
            version=version,
            not_modified=False,
            items=items,
            deleted=deleted,
            total_results=total,
            pages=pages,
            requests=zot.requests,
            waits=list(zot.waits),
            stable=stable,
        )

    def _read_pages(
        self, since: int | None, collection: str | None, doing: str
    ) -> tuple[list[dict[str, Any]], int, int | None, int, bool] | None:
        """Every page of one listing: (objects, first page's version, Total-Results, pages, whether every
        page reported the same library version); None for 304 Not Modified."""
        zot = self.zot
        params: dict[str, Any] = {"limit": PAGE_SIZE, "includeTrashed": 1}
        if since is not None:
            params["since"] = since
            zot.extra_headers = {"If-Modified-Since-Version": str(since)}
        try:
            with self._errors(doing):
                try:
                    if collection is not None and since is None:
                        first = zot.collection_items_top(collection, **params)
                    else:
                        first = zot.top(**params)
                except pyzotero.HTTPError:
                    if zot.request is not None and zot.request.status_code == 304:
                        return None
                    raise
                headers = self._last_headers()
                versions = {headers.get("Last-Modified-Version", "0")}
                total = headers.get("Total-Results")
                raw_items: list[dict[str, Any]] = list(first)
                pages = 1
                while zot.links and zot.links.get("next"):
                    raw_items.extend(zot.follow())
                    versions.add(self._last_headers().get("Last-Modified-Version", "0"))
                    pages += 1
        finally:
            zot.extra_headers = {}
        version = int(min(versions, key=int))  # the first page's: versions only grow
        return (
            raw_items,
            version,
            int(total) if total and total.isdigit() else None,
            pages,
            len(versions) == 1,
        )

    # -- writing ------------------------------------------------------------------------------------
    def save_paper(
        self,
        paper: Paper,
        note_html: str | None,
        collection: str | None,
        known_version: int | None,
        already_there: Callable[[list[ZoteroItem]], ZoteroItem | None],
    ) -> SavedItem:
        """Create `paper` as a preprint (with `note_html` as its child note) in `collection` (a key).

        `known_version` is the library version the caller last saw (None: ask the server first).
        `already_there` looks through items changed since then for this paper: used after a 412 to
        avoid a duplicate when someone else saved the paper meanwhile."""
        version = known_version if known_version is not None else self.library_version()
        conflicts = 0
        while True:
            item_key = new_object_key()
            note_key = new_object_key() if note_html else None
            payload = [preprint_data(paper, item_key, collection, self.cfg.save_tags)]
            if note_html and note_key:
                payload.append(note_data(note_key, item_key, note_html))
            try:
                answer = self._create(payload, version, f"saving {paper.arxiv_id}")
            except pyzotero.PreConditionFailedError:
                conflicts += 1
                if conflicts > 1:
                    raise ZoteroConflict(
                        f"{self.cfg.library_path} kept changing while saving {paper.arxiv_id} (412 twice)",
                        hint="try again in a moment",
                    ) from None
                changed = self.changes(version)
                found = already_there(changed.items)
                if found is not None:
                    return SavedItem(found.key, None, collection, changed.version, False, conflicts)
                version = changed.version
                continue
            failed = answer.get("failed") or {}
            if failed:
                first = next(iter(failed.values()))
                raise NetworkError(
                    f"Zotero did not save {paper.arxiv_id}: {first.get('code')} {first.get('message')}",
                    hint="this is a bug in paperradar's item if the message names a field; please report it",
                )
            new_version = int(self._last_headers().get("Last-Modified-Version", version))
            return SavedItem(item_key, note_key, collection, new_version, True, conflicts)

    def _create(self, payload: list[dict[str, Any]], version: int, doing: str) -> dict[str, Any]:
        """POST the objects with If-Unmodified-Since-Version; a 412 is left to the caller (raised as
        pyzotero's PreConditionFailedError), a 429 waits its Retry-After and tries again."""
        for _ in range(_WRITE_ATTEMPTS):
            with self._errors(doing, passthrough=(pyzotero.PreConditionFailedError,)):
                try:
                    answer = self.zot.create_items(payload, last_modified=version)
                except ValueError:
                    # pyzotero records a 429's Retry-After and returns, then fails to read its text as JSON.
                    if self.zot.request is not None and self.zot.request.status_code == 429:
                        continue
                    raise NetworkError(f"Zotero answered {self._said()} while {doing}") from None
            if isinstance(answer, dict):
                return answer
            raise NetworkError(
                f"Zotero's answer to {doing} is not a write result: {json.dumps(answer)[:120]}"
            )
        raise NetworkError(
            f"Zotero kept answering 429 Too Many Requests while {doing}", hint="try again later"
        )


def preprint_data(paper: Paper, key: str, collection: str | None, tags: list[str]) -> dict[str, Any]:
    """The item Zotero's own arXiv translator makes for a paper: a preprint in repository arXiv, with the
    arXiv id as archiveID, arXiv's DOI, the abs link. A journal reference and journal DOI go to Extra."""
    creators = [_creator(name) for name in paper.authors]
    extra = []
    if paper.journal_ref:
        extra.append(f"Journal reference: {paper.journal_ref}")
    if paper.doi:
        extra.append(f"Published DOI: {paper.doi}")
    if paper.comment:
        extra.append(f"Comment: {paper.comment}")
    return {
        "key": key,
        "itemType": "preprint",
        "title": paper.title,
        "creators": creators,
        "abstractNote": paper.abstract,
        "genre": "",
        "repository": "arXiv",
        "archiveID": f"arXiv:{paper.arxiv_id}",
        "place": "",
        "date": paper.published.date().isoformat() if paper.published else "",
        "series": "",
        "seriesNumber": "",
        "DOI": f"10.48550/arXiv.{paper.arxiv_id}",
        "citationKey": "",
        "url": f"https://arxiv.org/abs/{paper.arxiv_id}",
        "accessDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "archive": "",
        "archiveLocation": "",
        "shortTitle": "",
        "language": "en",
        "libraryCatalog": "arXiv.org",
        "callNumber": "",
        "rights": "",
        "extra": "\n".join(extra),
        "tags": [{"tag": t} for t in tags],
        "collections": [collection] if collection else [],
        "relations": {},
    }


def note_data(key: str, parent: str, note_html: str) -> dict[str, Any]:
    return {
        "key": key,
        "itemType": "note",
        "parentItem": parent,
        "note": note_html,
        "tags": [],
        "collections": [],
        "relations": {},
    }


def _creator(name: str) -> dict[str, str]:
    """'Ada Lovelace' -> first/last; a one-word name stays whole (Zotero's single-field form)."""
    parts = name.strip().rsplit(" ", 1)
    if len(parts) == 2:
        return {"creatorType": "author", "firstName": parts[0], "lastName": parts[1]}
    return {"creatorType": "author", "name": name.strip()}


def summary_note_html(
    paper: Paper, summary: str | None, generated_by: str | None, language: str | None, why: str | None
) -> str:
    """The child note: paperradar's summary with how it was made, the reason it ranked, the link. HTML,
    as Zotero stores notes; every value escaped."""
    esc = html.escape
    parts = [f"<h1>paperradar: {esc(paper.title)}</h1>"]
    if summary:
        parts.append(f"<p>{esc(summary)}</p>")
        if generated_by == "extractive":
            # Extractive text is the abstract's own sentences, whatever digest language it was filed under.
            how = "Extractive: sentences picked from the abstract by paperradar's algorithm (no language model)."
        else:
            how = (
                f"Machine-generated by {esc(generated_by or 'an unknown model')} in {esc(language or '?')}; "
                "check it against the paper."
            )
        parts.append(f"<p><em>{how}</em></p>")
    else:
        parts.append("<p><em>paperradar has no summary of this paper.</em></p>")
    if why:
        parts.append(f"<p>Why paperradar ranked it: {esc(why)}</p>")
    url = f"https://arxiv.org/abs/{paper.arxiv_id}"
    parts.append(f'<p><a href="{esc(url)}">{esc(url)}</a></p>')
    return "".join(parts)
