"""Which companies a paper comes from, by a curated gazetteer (companies.toml), never by guessing.

Fields are read in the order affiliation, title, comment, abstract, and each company is reported once, with
the first field it was found in as provenance. Affiliations come first because they are direct evidence of
authorship; the title is the authors' own framing ("... at Kuaishou"); the comment is author metadata
("Work done at Alibaba"); the abstract is where incidental mentions (datasets, tools, examples) live.

A false company is worse than a missed one, so outside the affiliation field a mention must survive:

1. compounds: "Amazon-Book", "Taobao-20", "Meta-learning", "Rec-Tmall" are not the company;
2. the company's own vetoes, ``not_followed_by`` / ``not_preceded_by`` ("Amazon Mechanical Turk", "in vivo");
3. dataset context: a mention inside a list that ends in a dataset word ("three Amazon datasets",
   "Amazon Beauty, Sports and Toys datasets"), follows one ("datasets from Amazon Reviews"), or names a
   well-known public dataset ("MovieLens and Taobao"), unless the data is the company's own ("Tmall's
   production data", "an industrial dataset from Shopee");
4. example context: "platforms like Pinterest", "such as Netflix";
5. for *strict* aliases (names mostly mentioned as datasets, tools or examples: Amazon, Google, "Meta",
   "Apple", "JD"), positive deployment evidence: "at X", "deployed on X", "A/B tests in X",
   "X's ... platform", "X Ads", or one of the company's ``products`` right after the name.

In the affiliation field any alias counts, which is how a bare "Meta" or "JD" is recognised.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from paperradar.errors import ConfigError
from paperradar.models import CompanyHit, Paper

UNKNOWN = {"zh": "未知", "ja": "不明", "en": "unknown"}
FIELD_ORDER = ("affiliation", "title", "comment", "abstract")

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Context tokens: words (with inner hyphens, dots, ampersands: "ML-1M", "Last.fm", "H&M") or one symbol.
_CTX_TOKEN_RE = re.compile(r"[^\W_]+(?:[-.&][^\W_]+)*|[^\w\s]")
_ABBREV_RE = re.compile(r"\b([eE])\.\s?g\.|\b([iI])\.\s?e\.")
_GLUE = frozenset(",&/()'’!\"“”")
_LIST_GLUE = frozenset(",&/")
_SKIP_ARTICLES = frozenset(("the", "a", "an", "our", "its", "their"))
_WINDOW = 240  # characters of context on each side; lists of datasets are shorter than this


@dataclass(slots=True, frozen=True)
class Alias:
    company: str
    text: str
    cased: bool = False
    strict: bool = False
    products: frozenset[str] | None = None  # replaces the company's products for this alias


@dataclass(slots=True)
class Company:
    key: str
    names: dict[str, str]
    aliases: list[Alias]
    products: frozenset[str] = frozenset()
    not_followed_by: tuple[str, ...] = ()
    not_preceded_by: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Mention:
    alias: Alias
    start: int
    end: int
    text: str


@dataclass(slots=True, frozen=True)
class _Context:
    """The [context] word lists, lower-cased (see companies.toml for what each one is for)."""

    dataset_words: frozenset[str]
    dataset_names: frozenset[str]
    list_words: frozenset[str]
    example_words: frozenset[str]
    deploy_words: frozenset[str]
    deploy_prepositions: frozenset[str]
    system_words: frozenset[str]
    internal_words: frozenset[str]


_CONTEXT_KEYS = tuple(f.name for f in fields(_Context))


def _phrase_pattern(text: str) -> str:
    """Regex for an alias: words separated by any run of spaces or hyphens, whole word at both ends."""
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", text.strip()) if p]
    return r"[\s\-]+".join(parts)


def _norm(text: str) -> str:
    return re.sub(r"[\s\-]+", " ", text.strip()).lower()


class Gazetteer:
    """Company detection over a paper's affiliation, title, comment and abstract."""

    def __init__(self, companies: dict[str, Company], context: dict[str, list[str]]):
        self.companies = companies
        self._ctx = _Context(**{k: frozenset(w.lower() for w in context.get(k, [])) for k in _CONTEXT_KEYS})
        self._insensitive: dict[str, Alias] = {}
        self._cased: dict[str, Alias] = {}
        self._cjk: dict[str, Alias] = {}
        for company in companies.values():
            for alias in company.aliases:
                if _CJK_RE.search(alias.text):
                    self._cjk[alias.text] = alias
                elif alias.cased:
                    self._cased[re.sub(r"[\s\-]+", " ", alias.text.strip())] = alias
                else:
                    self._insensitive[_norm(alias.text)] = alias
        self._re_insensitive = self._compile(self._insensitive, re.IGNORECASE)
        self._re_cased = self._compile(self._cased, 0)
        cjk = sorted(self._cjk, key=len, reverse=True)
        self._re_cjk = re.compile("|".join(map(re.escape, cjk))) if cjk else None

    @staticmethod
    def _compile(aliases: dict[str, Alias], flags: int) -> re.Pattern[str] | None:
        if not aliases:
            return None
        alternatives = sorted((_phrase_pattern(a.text) for a in aliases.values()), key=len, reverse=True)
        return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])", flags)

    # ---- loading ----------------------------------------------------------------------------------------

    @classmethod
    def load(cls, extra: Path | None = None) -> Gazetteer:
        """The built-in gazetteer, merged with a user TOML file of the same shape when given."""
        if extra is None:
            return _builtin_gazetteer()
        raw = _builtin_raw()
        try:
            user = tomllib.loads(Path(extra).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"company list {extra} does not exist", hint="fix the path") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(
                f"{extra}: not a readable TOML file: {exc}", hint="fix the line it names"
            ) from None
        raw = merge_raw(raw, user)
        return cls.from_dict(raw, source=str(extra))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "<dict>") -> Gazetteer:
        unknown_top = set(raw) - {"context", "companies"}
        if unknown_top:
            raise ConfigError(
                f"{source}: unknown table(s) {sorted(unknown_top)}", hint="use [context] and [companies.KEY]"
            )
        context = raw.get("context", {})
        bad = set(context) - set(_CONTEXT_KEYS)
        if bad:
            raise ConfigError(
                f"{source}: unknown [context] key(s) {sorted(bad)}", hint=f"known: {', '.join(_CONTEXT_KEYS)}"
            )
        companies: dict[str, Company] = {}
        for key, entry in raw.get("companies", {}).items():
            if entry.get("disabled"):
                continue
            companies[key] = _company(key, entry, source)
        return cls(companies, context)

    # ---- public API -------------------------------------------------------------------------------------

    def display_name(self, company: str, language: str) -> str:
        entry = self.companies.get(company)
        if entry is None:
            return company
        return entry.names.get(language) or entry.names.get("en") or company

    @staticmethod
    def unknown(language: str) -> str:
        return UNKNOWN.get(language, UNKNOWN["en"])

    def detect(self, paper: Paper, language: str) -> list[CompanyHit]:
        """One hit per company, in field order (affiliation, title, comment, abstract), then text order."""
        texts = {
            "affiliation": "; ".join(a for a in paper.affiliations if a),
            "title": paper.title or "",
            "comment": paper.comment or "",
            "abstract": paper.abstract or "",
        }
        hits: dict[str, CompanyHit] = {}
        for name in FIELD_ORDER:
            for mention in self.mentions(texts[name], name):
                key = mention.alias.company
                if key not in hits:
                    hits[key] = CompanyHit(key, self.display_name(key, language), name, mention.text)
        return list(hits.values())

    def from_affiliations(
        self, affiliations: Iterable[str], language: str, field_name: str = "affiliation"
    ) -> list[CompanyHit]:
        """One hit per company named in affiliation strings, recorded under `field_name` (the provenance:
        "affiliation (html)" for the author block of arXiv's HTML). Any alias counts, as in the feed's
        affiliation field: an affiliation is evidence, never a dataset or an example."""
        hits: dict[str, CompanyHit] = {}
        for mention in self.mentions("; ".join(a for a in affiliations if a), "affiliation"):
            key = mention.alias.company
            if key not in hits:
                hits[key] = CompanyHit(key, self.display_name(key, language), field_name, mention.text)
        return list(hits.values())

    def mentions(self, text: str, field_name: str = "abstract") -> list[Mention]:
        """Accepted company mentions in one field's text, in text order."""
        if not text:
            return []
        found = self._raw_mentions(text)
        if field_name == "affiliation":
            return found
        return [m for m in found if self._accept(text, m)]

    # ---- matching ---------------------------------------------------------------------------------------

    def _raw_mentions(self, text: str) -> list[Mention]:
        found: list[Mention] = []
        for regex, table, key in (
            (self._re_insensitive, self._insensitive, _norm),
            (self._re_cased, self._cased, lambda s: re.sub(r"[\s\-]+", " ", s)),
            (self._re_cjk, self._cjk, lambda s: s),
        ):
            if regex is None:
                continue
            for m in regex.finditer(text):
                alias = table.get(key(m.group()))
                if alias is not None:
                    found.append(Mention(alias, m.start(), m.end(), m.group()))
        # Longest match wins where two aliases overlap ("Google DeepMind" over "Google").
        found.sort(key=lambda x: (x.start, -(x.end - x.start)))
        kept: list[Mention] = []
        for mention in found:
            if not kept or mention.start >= kept[-1].end:
                kept.append(mention)
        return kept

    def _accept(self, text: str, m: Mention) -> bool:
        before_text = text[max(0, m.start - _WINDOW) : m.start]
        after_text = text[m.end : m.end + _WINDOW]
        # 1. Hyphen compounds are another name: "Amazon-Book", "Meta-learning", "Rec-Tmall".
        if re.match(r"[-\u2010\u2011][^\W_]", after_text) or re.search(
            r"[^\W_][-\u2010\u2011]$", before_text
        ):
            return False
        company = self.companies[m.alias.company]
        # 2. The company's own vetoes.
        after_norm = _norm(re.sub(r"^['’]s\b", "", after_text))
        before_norm = _norm(before_text)
        if any(re.match(re.escape(p) + r"\b", after_norm) for p in company.not_followed_by):
            return False
        if any(re.search(r"(?:^|\b)" + re.escape(p) + r"$", before_norm) for p in company.not_preceded_by):
            return False
        before = _ctx_tokens(before_text)
        after = _ctx_tokens(after_text)
        products = company.products if m.alias.products is None else m.alias.products
        ahead = self._scan_after(after)
        behind = self._scan_before(before)
        prev = _last_word(before)
        internal = "internal" in (ahead, behind) or prev in self._ctx.internal_words
        deployed = self._deployed(before)
        system = self._system(after, products)
        # 3-4. Datasets and examples. The company's own data ("an industrial Taobao dataset") is evidence;
        # "deployed on X" and "X's advertising platform" outweigh a list the name happens to stand in.
        if ahead == "dataset" and not internal:
            return False
        if behind in ("dataset", "example") and not (internal or deployed or system == "possessive"):
            return False
        if not m.alias.strict:
            return True
        # 5. Strict aliases need positive evidence.
        return internal or deployed or system is not None

    def _scan_after(self, after: list[str]) -> str | None:
        """Walk the list that may follow the name; say whether it ends in a dataset word."""
        c = self._ctx
        internal = listed = False
        for i, tok in enumerate(after[:10]):
            low = tok.lower()
            if low in c.dataset_words:
                return "internal" if internal else "dataset"
            if low in c.dataset_names and listed and not internal:
                return "dataset"
            if low in c.internal_words:
                internal = True
            elif tok in _GLUE or (low == "s" and i > 0 and after[i - 1] in ("'", "’")):
                listed = listed or tok in _LIST_GLUE
            elif low in ("and", "or"):
                listed = True
            elif tok[0].isupper() or any(ch.isdigit() for ch in tok) or low in c.list_words:
                continue
            else:
                return None
        return None

    def _scan_before(self, before: list[str]) -> str | None:
        """Walk back through a list the name may be part of: a dataset list or an example list."""
        c = self._ctx
        passable = c.list_words | {"as", "on", "in", "with", "using"}
        listed = False
        for i, tok in enumerate(reversed(before[-12:])):
            low = tok.lower()
            if low in c.dataset_words:
                prev = before[-(i + 2)].lower() if i + 2 <= len(before) else ""
                return "internal" if prev in c.internal_words else "dataset"
            if low in c.dataset_names and listed:
                return "dataset"
            if tok in c.example_words:  # lower case only: "Guess What You Like" is a name
                return "example"
            listed = listed or tok in _LIST_GLUE or low in ("and", "or")
            if tok in _GLUE or tok[0].isupper() or any(ch.isdigit() for ch in tok) or low in passable:
                continue
            return None
        return None

    def _deployed(self, before: list[str]) -> bool:
        """ "at X", "deployed (online) in the X", "A/B tests on X", "internship at X"."""
        c = self._ctx
        words = [t.lower() for t in before[-8:]]
        while words and words[-1] in _SKIP_ARTICLES:
            words.pop()
        # Punctuation ends the phrase: "launched in 2004, the Google Books project" is not a deployment.
        for k in range(len(words) - 1, -1, -1):
            if not words[k][0].isalnum() and words[k] != "/":
                words = words[k + 1 :]
                break
        if not words:
            return False
        if words[-1] == "at":
            return True
        # The preposition may be a word or two before the name: "deployed on multiple YouTube surfaces".
        for j in range(len(words) - 1, max(len(words) - 4, 0) - 1, -1):
            if words[j] in c.deploy_prepositions:
                return any(w in c.deploy_words for w in words[max(0, j - 3) : j])
        return False

    def _system(self, after: list[str], products: frozenset[str]) -> str | None:
        """ "X Ads", "Apple Music", "X e-commerce search" ("direct"); "X's ... advertising platform" ("possessive")."""
        c = self._ctx
        possessive = len(after) >= 2 and after[0] in ("'", "’") and after[1].lower() == "s"
        rest = after[2:8] if possessive else after[:4]
        for tok in rest:
            if not tok[0].isalpha() or any(ch.isdigit() for ch in tok):
                return None  # punctuation ends the phrase; "GPT-4o", "o1" are models, not systems
            low = tok.lower()
            if low in c.system_words or low in products:
                return "possessive" if possessive else "direct"
            if not possessive and tok[0].islower():
                return None  # "TikTok recommender systems": only the name's own words, then one more
        return None


def _last_word(tokens: list[str]) -> str:
    for tok in reversed(tokens[-4:]):
        if tok.lower() not in _SKIP_ARTICLES:
            return tok.lower()
    return ""


def _ctx_tokens(text: str) -> list[str]:
    text = _ABBREV_RE.sub(lambda m: (m.group(1) or m.group(2)).lower() + ("g" if m.group(1) else "e"), text)
    return _CTX_TOKEN_RE.findall(text)


def _company(key: str, entry: dict[str, Any], source: str) -> Company:
    known = {"names", "aliases", "strict", "products", "not_followed_by", "not_preceded_by", "disabled"}
    extra = set(entry) - known
    if extra:
        raise ConfigError(
            f"{source}: [companies.{key}] unknown key(s) {sorted(extra)}",
            hint=f"known: {', '.join(sorted(known))}",
        )
    names = entry.get("names") or {}
    if not isinstance(names, dict) or not names:
        raise ConfigError(f"{source}: [companies.{key}] needs names = {{ zh = ..., ja = ..., en = ... }}")
    default_strict = bool(entry.get("strict", False))
    aliases: list[Alias] = []
    for item in entry.get("aliases", []):
        if isinstance(item, str):
            aliases.append(Alias(key, item, False, default_strict))
        elif isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].strip():
            own = item.get("products")
            aliases.append(
                Alias(
                    key,
                    item["text"],
                    bool(item.get("cased", False)),
                    bool(item.get("strict", default_strict)),
                    None if own is None else frozenset(_norm(p) for p in own),
                )
            )
        else:
            raise ConfigError(
                f"{source}: [companies.{key}] alias {item!r} is neither a string nor {{ text = ... }}"
            )
    if not aliases:
        raise ConfigError(f"{source}: [companies.{key}] has no aliases", hint='add aliases = ["Name"]')
    return Company(
        key=key,
        names={str(k): str(v) for k, v in names.items()},
        aliases=aliases,
        products=frozenset(_norm(p) for p in entry.get("products", [])),
        not_followed_by=tuple(_norm(p) for p in entry.get("not_followed_by", [])),
        not_preceded_by=tuple(_norm(p) for p in entry.get("not_preceded_by", [])),
    )


def merge_raw(base: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """Merge a user gazetteer into the built-in one: lists append, names merge, scalars replace."""
    out: dict[str, Any] = {
        "context": dict(base.get("context", {})),
        "companies": dict(base.get("companies", {})),
    }
    for key, words in user.get("context", {}).items():
        out["context"][key] = [*out["context"].get(key, []), *words]
    for key, entry in user.get("companies", {}).items():
        merged = dict(out["companies"].get(key, {}))
        for k, v in entry.items():
            if isinstance(v, list):
                merged[k] = [*merged.get(k, []), *v]
            elif isinstance(v, dict) and isinstance(merged.get(k), dict):
                merged[k] = {**merged[k], **v}
            else:
                merged[k] = v
        out["companies"][key] = merged
    for k in set(user) - {"context", "companies"}:
        out[k] = user[k]  # reported as unknown by from_dict
    return out


def _builtin_raw() -> dict[str, Any]:
    text = resources.files("paperradar.rank").joinpath("companies.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def _builtin_gazetteer() -> Gazetteer:
    """Built once per process: a day ranks, checks answers and builds pages with it (~40 ms a parse).
    Never changed after construction, so sharing it is safe."""
    return Gazetteer.from_dict(_builtin_raw(), source="companies.toml")
