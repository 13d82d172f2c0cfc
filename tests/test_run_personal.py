"""Personal ranking through the CLI: a library import, ratings that change the next run's order (and say
why), and `paperradar eval` against the four baselines."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.cli_runner import cli

PERSONAL = Path(__file__).parent / "fixtures" / "personal"


def digest_ids(path: Path) -> list[str]:
    return re.findall(r"arxiv\.org/abs/([0-9.]+)v\d+", path.read_text(encoding="utf-8"))


def test_library_import_bibtex_and_csl_json(write_config, capsys):
    cfg = write_config()
    assert cli("--config", str(cfg), "import", str(PERSONAL / "listings-cs-ir-sample.jsonl.gz")) == 0
    capsys.readouterr()
    for export in ("zotero-export.bib", "scholar-mendeley.bib", "zotero-export.json"):
        assert cli("--config", str(cfg), "library", "import", "--offline", str(PERSONAL / export)) == 0
        out = capsys.readouterr().out
        items = int(re.search(r"library: (\d+) items", out).group(1))
        assert items > 0, (export, out)
    conn = sqlite3.connect(cfg.parent / "radar.db")
    rows = conn.execute("SELECT count(*), count(arxiv_id) FROM library").fetchone()
    assert rows[0] >= 3 and rows[1] >= 1  # some items resolved to arXiv papers, some kept by title


def test_ratings_change_the_next_ranking(write_config, capsys):
    cfg = write_config()
    day = "2026-02-10"
    assert cli("--config", str(cfg), "run", "--sample", "--date", day) == 0
    digest = cfg.parent / "out" / "digests" / f"{day}.zh.md"
    before = digest_ids(digest)
    # like what ranked last, dislike the top: the next run of the same day must move them
    for arxiv_id in before[-4:]:
        assert cli("--config", str(cfg), "rate", arxiv_id, "up") == 0
    for arxiv_id in before[:2]:
        assert cli("--config", str(cfg), "rate", arxiv_id, "down") == 0
    assert cli("--config", str(cfg), "rate", "2609.99999", "up") == 4  # not in the store
    assert cli("--config", str(cfg), "run", "--sample", "--date", day) == 0
    after = digest_ids(digest)
    assert after != before
    assert sum(after.index(i) for i in before[-4:] if i in after) < sum(before.index(i) for i in before[-4:])
    # and every rank says why
    conn = sqlite3.connect(cfg.parent / "radar.db")
    explanation = json.loads(
        conn.execute("SELECT explanation FROM ranks WHERE day = ? AND rank = 1", (day,)).fetchone()[0]
    )
    assert "personal" in explanation


def _eval_args(write_config, capsys) -> list[str]:
    """A store holding the sample listings; the start of an `eval` command line against it."""
    cfg = write_config()
    assert cli("--config", str(cfg), "import", str(PERSONAL / "listings-cs-ir-sample.jsonl.gz")) == 0
    capsys.readouterr()
    return ["--config", str(cfg), "eval", "--picks", str(PERSONAL / "picks.jsonl")]


def test_eval_prints_paperradar_against_four_baselines(write_config, capsys):
    args = [*_eval_args(write_config, capsys), "--pools", str(PERSONAL / "pools.jsonl")]
    args += ["--train-until", "2026-02-27"]
    assert cli(*args) == 0
    table = capsys.readouterr().out
    for name in ("paperradar", "random", "keywords", "arxiv-sanity-lite", "zotero-arxiv-daily"):
        assert re.search(rf"^{re.escape(name)}(\[tfidf\])?\s+\d\.\d{{3}}", table, flags=re.M), (name, table)
    assert cli(*args, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    names = {n.removesuffix("[tfidf]") for n in report["summary"]}
    assert names >= {"paperradar", "random", "keywords", "arxiv-sanity-lite", "zotero-arxiv-daily"}
    assert all(d >= "2026-02-28" for d in (day["date"] for day in report["days"]))


def test_eval_builds_pools_for_several_categories(write_config, capsys):
    listings = PERSONAL / "listings-cs-ir-sample.jsonl.gz"
    args = [*_eval_args(write_config, capsys), "--listings", str(listings)]
    args += ["--category", "cs.IR", "--category", "cs.CL", "--train-until", "2026-02-25", "--json"]
    assert cli(*args) == 0
    report = json.loads(capsys.readouterr().out)
    assert {day["category"] for day in report["days"]} == {"cs.IR", "cs.CL"}
