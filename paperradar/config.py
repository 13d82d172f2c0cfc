"""Configuration: a TOML file validated by pydantic, with errors that name the key and the fix.

Where the file comes from: `--config PATH`, else $PAPERRADAR_CONFIG, else ./paperradar.toml if it exists,
else the defaults. Environment variables override secrets only (never behaviour), so a config file in a
repository stays the whole truth about what a run does.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
from datetime import tzinfo
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paperradar.errors import ConfigError
from paperradar.mcp_server.mcp_config import McpConfig
from paperradar.publish.deliver.delivery_config import DeliveryConfig
from paperradar.rank.personal.personal_config import PersonalConfig
from paperradar.sources.zotero_config import ZoteroConfig
from paperradar.write.llm_config import LLMConfig
from paperradar.write.styles import StyleConfig

CONFIG_ENV = "PAPERRADAR_CONFIG"
DEFAULT_CONFIG_NAME = "paperradar.toml"
LANGUAGES = ("zh", "ja", "en")
ORDER_KEYS = ("keywords", "interest", "recency")

# arXiv archive names are lower case (cs, math, hep-th, q-bio, astro-ph); subject classes are upper case
# (IR, CO) except for physics archives whose subclasses are lower case words (cond-mat.str-el, physics.optics).
_CATEGORY_RE = re.compile(r"^[a-z][a-z-]*(\.([A-Z]{2}|[a-z][a-z-]*))?$")
_KNOWN_UPPER_ARCHIVES = ("cs", "math", "stat", "eess", "econ", "q-bio", "q-fin", "astro-ph")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SourcesConfig(_Section):
    categories: list[str] = Field(default_factory=lambda: ["cs.IR"], min_length=1)
    include_cross_lists: bool = True
    include_replacements: bool = False
    contact: str = ""
    rss_url: str = "https://rss.arxiv.org/rss/"
    api_url: str = "https://export.arxiv.org/api/query"
    html_url: str = "https://arxiv.org/html"
    pdf_url: str = "https://arxiv.org/pdf"
    request_delay: float = Field(3.0, ge=0)
    timeout: float = Field(30.0, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    batch_size: int = Field(200, ge=1, le=2000)

    @field_validator("categories")
    @classmethod
    def _check_categories(cls, value: list[str]) -> list[str]:
        for cat in value:
            check_category(cat)
        return list(dict.fromkeys(value))


class KeywordsConfig(_Section):
    groups: dict[str, list[str]] = Field(default_factory=dict)
    aliases: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("groups")
    @classmethod
    def _check_groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for group, words in value.items():
            for word in words:
                if not word.strip():
                    raise ValueError(f"group {group!r} has an empty keyword; remove it")
        return value


class ReaderConfig(_Section):
    interests: str = ""


class OutputConfig(_Section):
    language: Literal["zh", "ja", "en"] = "zh"
    top_n: int = Field(20, ge=1, le=1000)
    max_authors: int = Field(4, ge=1, le=100)
    folder: Path = Path("out")
    timezone: str = "Asia/Shanghai"
    order: list[Literal["keywords", "interest", "recency"]] = Field(
        default_factory=lambda: ["keywords", "interest", "recency"], min_length=1
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai' or 'UTC'"
            ) from None
        return value


class StoreConfig(_Section):
    path: Path = Path("paperradar.db")


class Config(_Section):
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


def check_category(cat: str) -> str:
    """Raise ValueError with the likely fix when `cat` is not an arXiv category name."""
    if not isinstance(cat, str) or not _CATEGORY_RE.match(cat):
        suggestion = ""
        if isinstance(cat, str) and "." in cat:
            archive, _, sub = cat.partition(".")
            if archive.lower() in _KNOWN_UPPER_ARCHIVES and sub.isalpha() and len(sub) == 2:
                suggestion = f"; did you mean '{archive.lower()}.{sub.upper()}'?"
        raise ValueError(f"{cat!r} is not an arXiv category name (like cs.IR or math.CO){suggestion}")
    archive, _, sub = cat.partition(".")
    if archive in _KNOWN_UPPER_ARCHIVES and sub and not sub.isupper():
        raise ValueError(f"{cat!r} is not an arXiv category name; did you mean '{archive}.{sub.upper()}'?")
    return cat


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
