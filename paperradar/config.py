"""Configuration: a TOML file validated by pydantic, with errors that name the key and the fix.

Where the file comes from: `--config PATH`, else $PAPERRADAR_CONFIG, else ./paperradar.toml if it exists,
else the defaults. Environment variables override secrets only (never behaviour), so a config file in a
repository stays the whole truth about what a run does.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import typing
from datetime import tzinfo
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from paperradar.errors import ConfigError
from paperradar.llm.config import LLMConfig
from paperradar.models import LANGUAGES
from paperradar.publish.config import OutputConfig
from paperradar.publish.deliver.config import DeliveryConfig
from paperradar.rank.config import KeywordsConfig, ReaderConfig
from paperradar.rank.personal.config import PersonalConfig
from paperradar.sources.config import SourcesConfig
from paperradar.sources.zotero_config import ZoteroConfig
from paperradar.store.config import StoreConfig
from paperradar.write.styles.config import StyleConfig

CONFIG_ENV = "PAPERRADAR_CONFIG"
DEFAULT_CONFIG_NAME = "paperradar.toml"


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


class Config(_Section):
    """The whole file. Each stage receives only its own section (or settings derived from them), never this."""

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
    # Where the file was read from (None: built-in defaults). Relative paths resolve against its folder.
    source_path: Path | None = Field(default=None, exclude=True)

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
