"""Company from the author block (issue 11, item 7): how many affiliations the LaTeXML parser takes from the
recorded arXiv HTML pages, and the share of a real day's top 20 with a known company before and after.

    PYTHONPATH=. .venv/bin/python bench/author_blocks.py [--parser OLD_LATEXML.py] [--pages DIR]

1. Extraction: every page in tests/fixtures/fulltext/author_blocks/ (see its README for what each page is)
   against expected.json: affiliations expected, extracted exactly, extracted with debris ("Affiliation: …"),
   missed, and extracted that are not affiliations. `--parser` measures another version of latexml.py (say
   `git show b5227aa:paperradar/sources/latexml.py > /tmp/old.py`) for a before/after.
2. Company share on the bundled sample day 2026-02-17 (`run --sample`, default keyword groups, no model):
   top 20 with a company from the gazetteer (before); then, for the top papers without one, the author block
   of `--pages DIR/<id>v<version>.html` where such a page exists (after). Papers without a page are counted
   as such: no figure is made up for them.
3. The same gazetteer step over the recorded pages themselves: which of them name a company in the block.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType

from paperradar.config import load_config
from paperradar.rank.affiliations import FIELD, academic_only
from paperradar.rank.companies import Gazetteer
from paperradar.sources.latexml import parse_latexml
from paperradar.store import Store

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "fulltext" / "author_blocks"
DAY = date(2026, 2, 17)


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("latexml_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return module


def extraction(parse: Callable[[str], list[str]]) -> None:
    expected: dict[str, list[str]] = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
    totals = dict.fromkeys(("expected", "exact", "debris", "missed", "wrong"), 0)
    widths = dict(zip(totals, (8, 6, 7, 7, 6), strict=True))
    print(f"{'page':<22} " + " ".join(f"{k:>{w}}" for k, w in widths.items()))
    for name, want in expected.items():
        if name.startswith("_"):
            continue
        got = parse((PAGES / name).read_text(encoding="utf-8"))
        exact = [g for g in got if g in want]
        debris = [g for g in got if g not in want and any(w in g for w in want)]
        wrong = [g for g in got if g not in want and not any(w in g for w in want)]
        missed = [w for w in want if w not in got and not any(w in g for g in got)]
        row = {"expected": len(want), "exact": len(exact), "debris": len(debris), "missed": len(missed)}
        row["wrong"] = len(wrong)
        for key, value in row.items():
            totals[key] += value
        print(f"{Path(name).name:<22} " + " ".join(f"{row[k]:>{w}}" for k, w in widths.items()))
    print(f"{'total':<22} " + " ".join(f"{totals[k]:>{w}}" for k, w in widths.items()))


def company_share(pages: Path) -> None:
    from paperradar.pipeline import run_pipeline

    gazetteer = Gazetteer.load()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "paperradar.toml"
        config.write_text("[sources]\ncompany_from_html = false\n", encoding="utf-8")
        cfg = load_config(config)
        with Store(cfg.db_path) as store:
            run_pipeline(cfg, store, day=DAY, sample=True)
            top = store.load_ranked(DAY)[: cfg.output.top_n]
    before = [r for r in top if r.companies]
    print(f"\n{DAY} (bundled sample, default keyword groups): {len(top)} in the digest")
    print(f"before: {len(before)}/{len(top)} with a known company ({100 * len(before) / len(top):.0f}%)")
    without = [r for r in top if not r.companies]
    found = academic = no_page = 0
    for r in without:
        page = pages / f"{r.paper.versioned_id}.html"
        if not page.exists():
            no_page += 1
            continue
        affiliations = parse_latexml(page.read_text(encoding="utf-8")).affiliations
        hits = gazetteer.from_affiliations(affiliations, "en", FIELD)
        found += bool(hits)
        academic += not hits and academic_only(affiliations)
        print(f"  {r.paper.versioned_id}: {affiliations} -> {[h.name for h in hits] or '-'}")
    read = len(without) - no_page
    print(
        f"after: {len(before) + found}/{len(top)} with a known company; the HTML author block was available for "
        f"{read} of the {len(without)} papers without one ({found} gave a company, {academic} academic only); "
        f"{no_page} have no recorded page here, so their share is not measured"
    )


def pages_with_companies() -> None:
    gazetteer = Gazetteer.load()
    rows = []
    for page in [*sorted(PAGES.glob("*.html")), PAGES.parent / "2602.09386v1.html"]:
        affiliations = parse_latexml(page.read_text(encoding="utf-8")).affiliations
        hits = gazetteer.from_affiliations(affiliations, "en", FIELD)
        rows.append((page.stem, [h.name for h in hits], academic_only(affiliations)))
    named = sum(bool(hits) for _, hits, _ in rows)
    academic = sum(acad for _, hits, acad in rows if not hits)
    print(
        f"\nrecorded pages: {named}/{len(rows)} name a known company in the author block, {academic} academic only"
    )
    for stem, hits, acad in rows:
        print(f"  {stem:<16} {', '.join(hits) or ('academic only' if acad else '-')}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parser", type=Path, help="another latexml.py to measure (the 'before')")
    parser.add_argument("--pages", type=Path, default=PAGES, help="recorded HTML pages named <id>v<n>.html")
    args = parser.parse_args()
    module = _module(args.parser) if args.parser else None
    parse = module.parse_latexml if module is not None else parse_latexml
    print(f"extraction with {args.parser or 'paperradar/sources/latexml.py'}")
    extraction(lambda html: list(parse(html).affiliations))
    if module is None:
        company_share(args.pages)
        pages_with_companies()


if __name__ == "__main__":
    main()
