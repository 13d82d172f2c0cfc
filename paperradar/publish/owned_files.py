"""Writing into a folder that may hold other people's files: the site and the Jekyll export own only what
they wrote.

A manifest in the folder (a dotfile: Jekyll does not publish it, and it names no secret) lists every file
an earlier build wrote. A build
- deletes a file only when the previous manifest lists it, it is no longer produced, it is a regular file
  (not a symlink someone put there) and its real path is inside the folder;
- never writes through a symlink that leads out of the folder (a `papers -> /var/www/other` link), and
  never reads or writes a manifest that is itself a symlink;
- refuses, unless forced, to overwrite a file it did not write (a user's page at a name the build wants),
  and, for the site, to start in a non-empty folder that has no manifest (a folder it did not create);
- records the union of old and new names before writing anything, so a build killed half-way still knows
  every file it may have left behind, and the exact new list once it is done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from paperradar.errors import UsageError
from paperradar.publish.files import write_if_changed

MANIFEST_FORMAT = "paperradar-owned-files"


class OwnershipError(UsageError):
    """A build would touch a file it does not own; exit 2 with the path and the way out."""


@dataclass(frozen=True, slots=True)
class OwnedWrite:
    changed: int  # files written because their bytes changed
    removed: int  # files of an earlier build deleted (listed in its manifest, no longer produced)
    kept: int  # manifest entries left alone: replaced by a symlink or a folder, or outside the folder


def safe_relative(name: str) -> bool:
    """A manifest entry or output name we are willing to join to the folder: relative, POSIX, no '..'."""
    if not name or "\\" in name or "\x00" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and all(part not in ("", ".", "..") for part in name.split("/"))


def _inside(root: Path, path: Path) -> bool:
    """Whether `path`, with every symlink on the way resolved, stays inside the resolved `root`."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop: not something we write through
        return False


def read_manifest(folder: Path, manifest: str) -> list[str] | None:
    """The names the last build recorded, or None when the folder has no manifest of ours."""
    path = folder / manifest
    if path.is_symlink():
        raise OwnershipError(
            f"{path} is a symlink; paperradar will not read or write its manifest through it",
            hint=f"remove the link ({path}) and build again",
        )
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OwnershipError(
            f"{path} is not a paperradar manifest ({exc})",
            hint=f"delete {path} and build again with --force",
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("format") != MANIFEST_FORMAT
        or not isinstance(data.get("files"), list)
    ):
        raise OwnershipError(
            f"{path} is not a paperradar manifest", hint=f"delete {path} and build again with --force"
        )
    return [name for name in data["files"] if isinstance(name, str)]


def _write_manifest(folder: Path, manifest: str, generator: str, names: Iterable[str]) -> None:
    body = {"format": MANIFEST_FORMAT, "generator": generator, "files": sorted(set(names))}
    text = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    write_if_changed(folder / manifest, text.encode("utf-8"))


def write_owned(
    folder: Path,
    files: dict[str, bytes],
    *,
    manifest: str,
    generator: str,
    force: bool = False,
    require_manifest: bool = True,
    legacy_ours: Callable[[Path], bool] | None = None,
) -> OwnedWrite:
    """Write `files` ({relative name: bytes}) into `folder`, delete what the last build wrote and this one
    does not, and nothing else. `require_manifest`: refuse a non-empty folder without a manifest unless
    `force`. `legacy_ours(path)`: a file not in the manifest that this predicate recognises as ours (an
    export made before manifests existed) may be overwritten without --force; it is never deleted."""
    if folder.exists() and not folder.is_dir():
        raise OwnershipError(
            f"{folder} is a file, not a folder", hint="pass --out with a folder (it is created if missing)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    old = read_manifest(folder, manifest)
    if old is None and require_manifest and not force and any(os.scandir(folder)):
        raise OwnershipError(
            f"{folder} is not empty and was not made by paperradar (no {manifest} in it)",
            hint="build into an empty or new folder, or pass --force to write into this one "
            "(paperradar then overwrites files with the names it needs and deletes nothing)",
        )
    owned = set(old or [])
    names = sorted(files)
    bad = [name for name in names if not safe_relative(name)]
    if bad:  # our own names: a bug, not the user's doing
        raise ValueError(f"refusing unsafe output names: {bad[:3]}")
    escaping = [name for name in names if not _inside(root, folder / name)]
    if escaping:
        first = folder / escaping[0]
        raise OwnershipError(
            f"{first} leads outside {folder} through a symlink ({len(escaping)} file(s) would be written "
            "elsewhere); paperradar writes only inside its output folder",
            hint="remove the symlink, or point --out at the folder you want written",
        )
    conflicts = [
        name
        for name in names
        if name not in owned
        and (folder / name).exists()
        and not (legacy_ours is not None and (folder / name).is_file() and legacy_ours(folder / name))
    ]
    if conflicts and not force:
        raise OwnershipError(
            f"{folder / conflicts[0]} exists and was not written by paperradar "
            f"({len(conflicts)} such file(s)); it would be overwritten",
            hint="move it away, or pass --force to overwrite it",
        )
    # Record first: a build killed between here and the end still lists every file it may have written.
    _write_manifest(folder, manifest, generator, owned | set(names))
    changed = sum(write_if_changed(folder / name, files[name]) for name in names)
    removed = kept = 0
    wanted = set(names)
    for name in sorted(owned - wanted):
        path = folder / name
        if not safe_relative(name) or path.is_symlink() or not path.is_file() or not _inside(root, path):
            kept += 1  # a hand-edited manifest, or something someone put there since: not ours to delete
            continue
        path.unlink()
        removed += 1
    _write_manifest(folder, manifest, generator, names)
    return OwnedWrite(changed, removed, kept)
