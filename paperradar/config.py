"""Configuration: a TOML file validated by pydantic, with errors that name the key and the fix.

Where the file comes from: `--config PATH`, else $PAPERRADAR_CONFIG, else ./paperradar.toml if it exists,
else the defaults. Environment variables override secrets only (never behaviour), so a config file in a
repository stays the whole truth about what a run does.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import tomllib
import typing
from datetime import tzinfo
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from paperradar.errors import ConfigError, UsageError
from paperradar.llm.config import LLMConfig
from paperradar.llm.seam import InterestProfile
from paperradar.models import DEFAULT_READER, LANGUAGES
from paperradar.publish.config import OutputConfig
from paperradar.publish.deliver.config import CHANNEL_NAMES, DeliveryConfig
from paperradar.rank.config import KeywordsConfig, MutedConfig, ReaderConfig
from paperradar.rank.personal.config import PersonalConfig
from paperradar.sources.config import SourcesConfig
from paperradar.sources.zotero_config import ZoteroConfig
from paperradar.store.config import StoreConfig
from paperradar.write.styles.config import StyleConfig

CONFIG_ENV = "PAPERRADAR_CONFIG"
DEFAULT_CONFIG_NAME = "paperradar.toml"
# DEFAULT_READER ("default") is the one reader of a config without [[readers]]; a [[readers]] table named
# so keeps the ratings, library and ranks the archive held before, and today's output paths.
READER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# Per-reader outputs of every reader but "default" go under <[output].folder>/readers/<name>/.
READERS_FOLDER = "readers"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class McpConfig(_Section):
    """The [mcp] section of `paperradar mcp`: read-only unless `allow_rating` (then an agent may rate papers
    like the reader does with `paperradar rate`)."""

    allow_rating: bool = False
    # Most results a search may return (an agent asking for more gets this many).
    max_results: int = Field(50, ge=1, le=500)
    # `paperradar mcp --http`: the port on 127.0.0.1 for the streamable-HTTP transport.
    http_port: int = Field(8766, ge=0, le=65535)


class ReaderEntry(_Section):
    """One [[readers]] table: a reader's name and what differs for them. Every key left out is inherited
    from the top-level sections; tables (keywords, styles, delivery, muted, zotero) are merged over the
    top-level one key by key, lists replace. Values are checked when the reader's config is resolved, by
    the section that owns them (so a bad one is reported with the section's own message)."""

    name: str
    categories: list[str] | None = None  # [sources].categories
    interests: str | None = None  # [reader].interests
    language: str | None = None  # [output].language
    languages: list[str] | None = None  # [styles].languages: the other languages the reader reads
    top_n: int | None = None  # [output].top_n
    library: list[Path] | None = None  # [personal].library
    followed_authors: list[str] | None = None  # [personal].followed_authors
    # Which configured delivery channels get this reader's digest (default: every one configured).
    channels: list[str] | None = None
    keywords: dict[str, Any] | None = None  # like [keywords]; its `groups` replace the shared groups
    styles: dict[str, Any] | None = None  # like [styles]
    delivery: dict[str, Any] | None = None  # like [delivery]; e.g. only [readers.delivery.mail] to = [...]
    muted: dict[str, Any] | None = None  # like [muted]
    zotero: dict[str, Any] | None = None  # like [zotero]

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not READER_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a reader name: use 1-40 lower-case letters, digits, '-' or '_' "
                "(it is part of file paths), e.g. 'alice'"
            )
        return value

    @field_validator("channels")
    @classmethod
    def _check_channels(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if name not in CHANNEL_NAMES:
                raise ValueError(f"unknown channel {name!r}; use any of {', '.join(CHANNEL_NAMES)}")
        return value


# Where each flat reader key goes: (section, key).
_READER_KEYS: dict[str, tuple[str, str]] = {
    "categories": ("sources", "categories"),
    "interests": ("reader", "interests"),
    "language": ("output", "language"),
    "top_n": ("output", "top_n"),
    "languages": ("styles", "languages"),
    "library": ("personal", "library"),
    "followed_authors": ("personal", "followed_authors"),
}
_READER_TABLES = ("keywords", "styles", "delivery", "muted", "zotero")


class Config(_Section):
    """The whole file. Each stage receives only its own section (or settings derived from them), never this.

    With [[readers]], the top-level sections are the defaults every reader inherits and `for_reader(name)`
    gives one reader's resolved Config; without, the file is one reader, "default", and for_reader gives
    the Config itself."""

    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    keywords: KeywordsConfig = Field(default_factory=KeywordsConfig)
    reader: ReaderConfig = Field(default_factory=ReaderConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    styles: StyleConfig = Field(default_factory=StyleConfig)
    personal: PersonalConfig = Field(default_factory=PersonalConfig)
    zotero: ZoteroConfig | None = None
    mcp: McpConfig = Field(default_factory=McpConfig)
    muted: MutedConfig = Field(default_factory=MutedConfig)
    readers: list[ReaderEntry] = Field(default_factory=list)
    # Where the file was read from (None: built-in defaults). Relative paths resolve against its folder.
    source_path: Path | None = Field(default=None, exclude=True)
    # A resolved reader's name ("default" for the file itself) and its interest profile (None: the file's
    # own [reader] interests, as a config without [[readers]] has always been scored).
    _reader_name: str = PrivateAttr(DEFAULT_READER)
    _profile: InterestProfile | None = PrivateAttr(None)
    # The resolved readers, with the id of the Config they were resolved from (a copy resolves anew).
    _resolved: tuple[int, dict[str, Config]] | None = PrivateAttr(None)

    @field_validator("readers")
    @classmethod
    def _unique_readers(cls, value: list[ReaderEntry]) -> list[ReaderEntry]:
        names = [r.name for r in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"reader {dupes[0]!r} is listed twice; give each [[readers]] table its own name")
        return value

    # -- readers ------------------------------------------------------------------------------------------
    @property
    def reader_name(self) -> str:
        return self._reader_name

    @property
    def interest_profile(self) -> InterestProfile | None:
        return self._profile

    def reader_names(self) -> list[str]:
        """The readers this config serves, in file order: ["default"] without [[readers]]."""
        return [r.name for r in self.readers] if self.readers else [self._reader_name]

    def for_reader(self, name: str) -> Config:
        """One reader's resolved config (the defaults with the reader's overrides); UsageError naming the
        known readers for an unknown name."""
        resolved = self.resolved_readers()
        if name not in resolved:
            raise UsageError(f"unknown reader {name!r}; the config's readers are: {', '.join(resolved)}")
        return resolved[name]

    def resolved_readers(self) -> dict[str, Config]:
        """Every reader's resolved Config, by name, in file order (resolved once per Config object)."""
        if not self.readers:
            return {self._reader_name: self}
        if self._resolved is None or self._resolved[0] != id(self):
            self._resolved = (id(self), {r.name: _resolve_reader(self, r) for r in self.readers})
        return self._resolved[1]

    @property
    def intake_categories(self) -> list[str]:
        """The categories a run takes in: every reader's, each once, in order of first appearance."""
        cats = (c for cfg in self.resolved_readers().values() for c in cfg.sources.categories)
        return list(dict.fromkeys(cats))

    @property
    def intake_sources(self) -> SourcesConfig:
        """[sources] with the union of every reader's categories: what intake fetches for all of them."""
        cats = self.intake_categories
        if cats == list(self.sources.categories):
            return self.sources
        return self.sources.model_copy(update={"categories": cats})

    @property
    def base_dir(self) -> Path:
        return self.source_path.parent if self.source_path else Path.cwd()

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def db_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def out_dir(self) -> Path:
        return self.resolve(self.output.folder)

    @property
    def languages(self) -> list[str]:
        """Every language a run writes: the [output] language first, then [styles].languages."""
        return list(dict.fromkeys([self.output.language, *self.styles.languages]))

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.output.timezone)


def _resolve_reader(cfg: Config, entry: ReaderEntry) -> Config:
    """The defaults (`cfg`) with one reader's overrides, each touched section validated by its own model;
    an error names the reader and the reader's key."""
    raw: dict[str, dict[str, Any]] = {}

    def section(name: str) -> dict[str, Any]:
        if name not in raw:
            current = getattr(cfg, name)
            raw[name] = current.model_dump(mode="json") if current is not None else {}
        return raw[name]

    for table in _READER_TABLES:
        over = getattr(entry, table)
        if over is None:
            continue
        merged = _deep_merge(section(table), copy.deepcopy(over))
        if table == "keywords" and "groups" in over:
            merged["groups"] = over["groups"]  # like the top-level table: a reader's groups replace them
        raw[table] = merged
    for key, (name, field) in _READER_KEYS.items():
        value = getattr(entry, key)
        if value is not None:
            section(name)[field] = [str(v) for v in value] if key == "library" else value
    if entry.channels is not None:
        delivery = section("delivery")
        for channel in CHANNEL_NAMES:
            if channel not in entry.channels:
                delivery[channel] = None
    if entry.name != DEFAULT_READER:
        section("output")["folder"] = str(Path(cfg.output.folder) / READERS_FOLDER / entry.name)
    models: dict[str, type[BaseModel]] = {
        name: _section_model((name,)) for name in raw if name in Config.model_fields
    }
    update: dict[str, Any] = {}
    for name, data in raw.items():
        if name == "zotero" and not data:
            continue
        try:
            update[name] = models[name].model_validate(data)
        except ValidationError as exc:
            raise ConfigError(
                _explain_reader(exc, cfg.source_path, entry, name),
                hint="edit the reader's table in the config file; `paperradar init --print` shows every key",
            ) from None
    resolved = cfg.model_copy(update={**update, "readers": []})
    resolved._reader_name = entry.name
    languages = tuple(dict.fromkeys([resolved.output.language, *resolved.styles.languages]))
    tag = "" if entry.name == DEFAULT_READER else entry.name
    resolved._profile = InterestProfile(resolved.reader.interests, languages, tag)
    return resolved


def _explain_reader(exc: ValidationError, path: Path | None, entry: ReaderEntry, section: str) -> str:
    """A section's validation error as the reader's table spells it: `language`, or `styles.bands[0].top`."""
    err = next((e for e in exc.errors() if e["type"] == "extra_forbidden"), exc.errors()[0])
    loc = tuple(err["loc"])
    flat = next(
        (k for k, (sec, field) in _READER_KEYS.items() if sec == section and loc and field == loc[0]), None
    )
    rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
    if flat is not None and getattr(entry, flat) is not None:
        key = flat + rest
    else:
        key = section + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    where = f"{path}: " if path else ""
    if err["type"] == "extra_forbidden":
        known = list(_section_model((section, *loc[:-1])).model_fields)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        guess = f"; did you mean '{close[0]}'?" if close else f"; known keys here: {', '.join(known)}"
        return f"{where}[[readers]] {entry.name!r}: unknown key {key}{guess}"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "literal_error" and "language" in str(loc[0] if loc else ""):
        msg = f"unknown language {err['input']!r}; use one of {', '.join(LANGUAGES)}"
    return f"{where}[[readers]] {entry.name!r}: {key}: {msg}"


def template_text() -> str:
    return resources.files("paperradar").joinpath("config_template.toml").read_text(encoding="utf-8")


def default_config() -> Config:
    """The defaults are exactly what `paperradar init` writes (a test keeps the two equal)."""
    return _validate(tomllib.loads(template_text()), None)


def find_config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.exists() else None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    path = find_config_path(explicit)
    if path is None:
        return default_config()
    if not path.exists():
        raise ConfigError(
            f"config file {path} does not exist",
            hint="run `paperradar init` to write one, or pass the right path with --config",
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # editors on Windows save a BOM
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", hint="fix the line it names") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    # Keys missing from the file take the template's defaults, so a file may hold only what it changes.
    merged = _deep_merge(tomllib.loads(template_text()), raw)
    # A [keywords.groups] table replaces the default groups rather than merging into them.
    keywords = raw.get("keywords")
    if isinstance(keywords, dict) and "groups" in keywords:
        merged["keywords"]["groups"] = raw["keywords"]["groups"]
    return _validate(merged, path.resolve())


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _validate(raw: dict[str, Any], path: Path | None) -> Config:
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path), hint=_hint(exc)) from None
    cfg.source_path = path
    cfg.resolved_readers()  # every reader checked now: a bad [[readers]] table fails at load, not mid-run
    return cfg


def _key_name(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "(top level)"
    rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
    return f"[{loc[0]}]{rest}" if len(loc) > 1 else str(loc[0])


def _section_model(loc: tuple[Any, ...]) -> type[BaseModel]:
    """The pydantic model that holds the last key of `loc`, looking through list[X] and dict[str, X]."""
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            break
        ann = field.annotation
        # list[X], dict[str, X] and X | None: look through to the model X
        models = [a for a in typing.get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)]
        if models:
            ann = models[-1]
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            break
        model = ann
    return model


def _explain(exc: ValidationError, path: Path | None) -> str:
    # A misspelt key also makes its real name "missing": report the typo, which is the cause, first.
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    where = f"{path}: " if path else ""
    loc = err["loc"]
    key = _key_name(loc)
    if err["type"] == "extra_forbidden":
        section_model = _section_model(loc[:-1])
        known = [k for k in section_model.model_fields if k != "source_path"]
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        guess = f"; did you mean '{close[0]}'?" if close else f"; known keys here: {', '.join(known)}"
        return f"{where}unknown key {key}{guess}"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "literal_error" and loc and loc[-1] == "language":
        msg = f"unknown language {err['input']!r}; use one of {', '.join(LANGUAGES)}"
    return f"{where}{key}: {msg}"


def _hint(exc: ValidationError) -> str:
    extra = len(exc.errors()) - 1
    more = f" ({extra} more problem{'s' if extra > 1 else ''} after this one)" if extra else ""
    return f"edit the config file; `paperradar init --print` shows every key with its default{more}"
