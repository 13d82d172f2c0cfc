"""Hostile output folders for `paperradar publish site` (issue 12, item 3): symlinks that lead out of the
output folder, a manifest that names files outside it, a user's own pages in the folders the site writes,
a folder paperradar did not create. For each layout: the exit code, and how many files outside the output
folder, and how many of the user's own files inside it, were created, changed or deleted (goal: 0).

    python -m bench.reliability_site STORE.db   # prints one line per layout and the totals

The test (tests/test_site_ownership.py) plays the same layouts on the session's sample store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Cli = Callable[[list[str]], int]


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    # (box, a built site to start from) → (the --out folder, extra CLI arguments, the user's own files in it)
    make: Callable[[Path, Path], tuple[Path, list[str], list[Path]]]
    expect: int  # exit code


@dataclass(frozen=True, slots=True)
class LayoutResult:
    name: str
    exit_code: int
    expected: int
    outside_touched: int  # files outside the output folder created, changed or deleted
    foreign_touched: int  # the user's own files inside the output folder changed or deleted


def snapshot(folder: Path, skip: Path | None = None) -> dict[str, tuple[str, str]]:
    """Every entry under `folder` without following symlinks: (kind, content hash or link target)."""
    state: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        if skip is not None and (base == skip or skip in base.parents):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = base / name
            rel = str(path.relative_to(folder))
            if skip is not None and path == skip:
                continue
            if path.is_symlink():
                state[rel] = ("link", os.readlink(path))
            elif path.is_file():
                state[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                state[rel] = ("dir", "")
    return state


def changes(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]]) -> int:
    return sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def _victims(box: Path) -> Path:
    """The files a careless build could destroy: someone else's pages, some with the site's names."""
    outside = box / "outside"
    for rel in (
        "papers/2602.09386.html",
        "papers/keep.html",
        "days/2026-02-17.html",
        "index.html",
        "victim.html",
    ):
        (outside / rel).parent.mkdir(parents=True, exist_ok=True)
        (outside / rel).write_text(f"someone else's {rel}\n", encoding="utf-8")
    (outside / "manifest.json").write_text(
        '{"format": "paperradar-owned-files", "files": []}\n', encoding="utf-8"
    )
    return outside


def _manifest(out: Path) -> dict[str, list[str]]:
    path = out / ".paperradar-site.json"  # absent in a site built before manifests (for a before/after run)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"files": []}


def _copy_site(built: Path, box: Path) -> Path:
    out = box / "site"
    shutil.copytree(built, out, symlinks=True)
    return out


def _symlinked_folder_after_build(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = _copy_site(built, box)
    shutil.rmtree(out / "papers")
    (out / "papers").symlink_to(box / "outside" / "papers", target_is_directory=True)
    return out, [], []


def _symlinked_folder_fresh(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = box / "site"
    out.mkdir()
    (out / "days").symlink_to(box / "outside" / "days", target_is_directory=True)
    return out, [], []


def _symlinked_folder_forced(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out, _, _ = _symlinked_folder_fresh(box, built)
    return out, ["--force"], []


def _symlinked_page(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = _copy_site(built, box)
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(box / "outside" / "index.html")
    return out, [], []


def _symlinked_manifest(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = _copy_site(built, box)
    (out / ".paperradar-site.json").unlink(missing_ok=True)
    (out / ".paperradar-site.json").symlink_to(box / "outside" / "manifest.json")
    return out, [], []


def _hostile_manifest(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = _copy_site(built, box)
    manifest = _manifest(out)
    (out / "papers" / "gone.html").symlink_to(box / "outside" / "victim.html")
    (out / "tags" / "outlink").symlink_to(box / "outside" / "papers", target_is_directory=True)
    manifest["files"] += [
        "../outside/victim.html",
        str(box / "outside" / "index.html"),
        "days/../../outside/days/2026-02-17.html",
        "papers/gone.html",  # listed, but now a symlink out: not ours any more
        "tags/outlink/keep.html",  # listed, but reached through a symlinked folder
    ]
    (out / ".paperradar-site.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out, [], [out / "papers" / "gone.html", out / "tags" / "outlink"]


def _user_pages_inside(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = _copy_site(built, box)
    mine = [
        out / "days" / "my-notes.html",
        out / "tags" / "mine.html",
        out / "CNAME",
        out / "papers" / "x.css",
    ]
    for path in mine:
        path.write_text(f"the user's {path.name}\n", encoding="utf-8")
    return out, [], mine


def _foreign_page_at_our_name(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = _copy_site(built, box)
    manifest = _manifest(out)
    if "archive.html" in manifest["files"]:
        manifest["files"].remove("archive.html")  # so archive.html is the user's, at a name the build needs
    (out / ".paperradar-site.json").write_text(json.dumps(manifest), encoding="utf-8")
    (out / "archive.html").write_text("the user's archive page\n", encoding="utf-8")
    return out, [], [out / "archive.html"]


def _not_our_folder(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = box / "site"
    out.mkdir()
    (out / "index.html").write_text("the user's home page\n", encoding="utf-8")
    (out / "notes.txt").write_text("the user's notes\n", encoding="utf-8")
    return out, [], [out / "index.html", out / "notes.txt"]


def _not_our_folder_forced(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out, _, _ = _not_our_folder(box, built)
    return out, ["--force"], [out / "notes.txt"]  # index.html is overwritten: that is what --force asks


def _file_for_folder(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = box / "site"
    out.write_text("a file where the folder should be\n", encoding="utf-8")
    return out, [], []


def _jekyll_posts_symlinked(box: Path, built: Path) -> tuple[Path, list[str], list[Path]]:
    out = box / "site"
    out.mkdir()
    blog = box / "blog"
    blog.mkdir()
    posts = box / "outside" / "posts"
    posts.mkdir()
    (posts / "2026-02-17-2602-09386-en.md").write_text("---\ngenerator: paperradar\n---\n", encoding="utf-8")
    (blog / "_posts").symlink_to(posts, target_is_directory=True)
    return out, ["--jekyll", str(blog)], []


LAYOUTS: list[Layout] = [
    Layout("papers/ is a symlink out (after a build)", _symlinked_folder_after_build, 2),
    Layout("days/ is a symlink out (new folder)", _symlinked_folder_fresh, 2),
    Layout("days/ is a symlink out, --force", _symlinked_folder_forced, 2),
    Layout("index.html is a symlink out", _symlinked_page, 2),
    Layout("the manifest is a symlink out", _symlinked_manifest, 2),
    Layout("the manifest names files outside", _hostile_manifest, 0),
    Layout("the user's own pages in days/, tags/", _user_pages_inside, 0),
    Layout("the user's page at a name the site needs", _foreign_page_at_our_name, 2),
    Layout("a non-empty folder paperradar did not create", _not_our_folder, 2),
    Layout("the same, --force", _not_our_folder_forced, 0),
    Layout("a file where the folder should be", _file_for_folder, 2),
    Layout("Jekyll _posts/ is a symlink out", _jekyll_posts_symlinked, 2),
]


def run_layouts(config: Path, built: Path, root: Path, cli: Cli) -> list[LayoutResult]:
    """Play every layout in its own box under `root`. `built`: a site this paperradar built (with its
    manifest) to start from; `config`: a config whose store the site is built from."""
    results = []
    for number, layout in enumerate(LAYOUTS):
        box = root / f"layout-{number}"
        box.mkdir(parents=True)
        outside = _victims(box)
        out, extra, foreign = layout.make(box, built)
        before_out = snapshot(outside)
        before_foreign = {str(p): snapshot(p.parent).get(p.name) for p in foreign}
        code = cli(["--config", str(config), "publish", "site", "--out", str(out), *extra])
        after_foreign = {str(p): snapshot(p.parent).get(p.name) for p in foreign}
        results.append(
            LayoutResult(
                layout.name,
                code,
                layout.expect,
                changes(before_out, snapshot(outside)),
                sum(1 for p in before_foreign if before_foreign[p] != after_foreign[p]),
            )
        )
    return results


def main(argv: list[str]) -> None:  # pragma: no cover - a manual bench
    import tempfile

    from paperradar.cli import main as paperradar

    def cli(args: list[str]) -> int:
        try:
            paperradar(args)
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = root / "paperradar.toml"
        config.write_text(f'[store]\npath = "{Path(argv[0]).resolve()}"\n', encoding="utf-8")
        built = root / "built"
        assert cli(["--config", str(config), "publish", "site", "--out", str(built)]) == 0
        results = run_layouts(config, built, root / "boxes", cli)
    for r in results:
        print(
            f"{r.name:48} exit {r.exit_code} (expected {r.expected})  outside touched {r.outside_touched}  "
            f"user files touched {r.foreign_touched}"
        )
    print(
        f"total: outside {sum(r.outside_touched for r in results)}, user files {sum(r.foreign_touched for r in results)}"
    )


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
