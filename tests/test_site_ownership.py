"""The site owns only what it wrote (issue 12, item 3): `paperradar publish site` against hostile output
folders (bench/reliability_site.py builds them): symlinks out of the folder, a manifest that names
files outside it, the user's own pages inside it, a folder paperradar did not create. Figure: files
outside the output folder touched, and the user's files inside it touched, over every layout (goal 0)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bench.reliability_site import LAYOUTS, run_layouts
from paperradar.publish.owned_files import OwnershipError, write_owned
from paperradar.publish.site import SITE_MANIFEST
from tests.cli_runner import cli
from tests.site_fixtures import built_store


@pytest.fixture(scope="module")
def one_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config over a copy of the session's sample store cut to its last day (a small site, fast)."""
    folder = tmp_path_factory.mktemp("one-day")
    source = sqlite3.connect(built_store(tmp_path_factory))
    target = sqlite3.connect(folder / "radar.db")
    source.backup(target)
    source.close()
    target.execute("DELETE FROM ranks WHERE day <> (SELECT max(day) FROM ranks)")
    target.commit()
    target.close()
    config = folder / "paperradar.toml"
    config.write_text('[store]\npath = "radar.db"\n[output]\nfolder = "out"\n', encoding="utf-8")
    return config


def test_hostile_layouts_touch_nothing_outside_and_nothing_of_the_users(
    one_day: Path, tmp_path: Path
) -> None:
    built = tmp_path / "built"
    assert cli("--config", str(one_day), "publish", "site", "--out", str(built)) == 0
    names = json.loads((built / SITE_MANIFEST).read_text(encoding="utf-8"))["files"]
    assert "index.html" in names and "static/style.css" in names and any(n.startswith("days/") for n in names)
    results = run_layouts(one_day, built, tmp_path / "boxes", lambda args: cli(*args))
    assert len(results) == len(LAYOUTS)
    for r in results:
        assert r.exit_code == r.expected, r
    assert sum(r.outside_touched for r in results) == 0, results  # the figure: goal 0
    assert sum(r.foreign_touched for r in results) == 0, results


def test_refusals_name_the_path_and_the_way_out(one_day: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("mine", encoding="utf-8")
    assert cli("--config", str(one_day), "publish", "site", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--force" in err and (out / "index.html").read_text(encoding="utf-8") == "mine"
    assert cli("--config", str(one_day), "publish", "site", "--out", str(out), "--force") == 0
    assert (out / SITE_MANIFEST).is_file()
    # adopted: the next build needs no --force, and a page the site stops making is removed
    (out / "days" / "2019-01-01.html").write_text("stale", encoding="utf-8")
    manifest = json.loads((out / SITE_MANIFEST).read_text(encoding="utf-8"))
    manifest["files"].append("days/2019-01-01.html")
    (out / SITE_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert cli("--config", str(one_day), "publish", "site", "--out", str(out)) == 0
    assert not (out / "days" / "2019-01-01.html").exists()


def test_a_build_killed_half_way_still_lists_what_it_may_have_written(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_owned(out, {"a.html": b"a", "days/1.html": b"1"}, manifest=SITE_MANIFEST, generator="t")

    class Boom(bytes):  # the third file write fails, like a full disk
        def __eq__(self, other: object) -> bool:
            raise OSError("No space left on device")

        __hash__ = bytes.__hash__

    files = {"a.html": b"a2", "days/2.html": b"2", "z.html": Boom(b"z")}
    (out / "z.html").write_bytes(b"old z")  # an existing file forces the comparison that fails
    manifest = json.loads((out / SITE_MANIFEST).read_text(encoding="utf-8"))
    manifest["files"].append("z.html")
    (out / SITE_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(OSError):
        write_owned(out, files, manifest=SITE_MANIFEST, generator="t")
    listed = set(json.loads((out / SITE_MANIFEST).read_text(encoding="utf-8"))["files"])
    assert {"a.html", "days/1.html", "days/2.html", "z.html"} <= listed  # old and new: nothing forgotten
    write_owned(out, {"a.html": b"a3"}, manifest=SITE_MANIFEST, generator="t")
    assert sorted(p.name for p in out.rglob("*.html")) == ["a.html"]  # the next build cleans up


def test_unsafe_names_are_a_bug_not_a_write(tmp_path: Path) -> None:
    for name in ("../x.html", "/etc/x", "a//b", "a\\b", "./a"):
        with pytest.raises(ValueError):
            write_owned(tmp_path / "o", {name: b"x"}, manifest=SITE_MANIFEST, generator="t")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / SITE_MANIFEST).write_text("not json", encoding="utf-8")
    with pytest.raises(OwnershipError):
        write_owned(tmp_path / "p", {"a.html": b"x"}, manifest=SITE_MANIFEST, generator="t")
