"""The child process of a staged index build (paperradar.store.fulltext.StagedIndex); standard library only.

    python -I fts_build.py ARCHIVE SCRATCH

Reads one JSON line {"ddl": CREATE VIRTUAL TABLE …, "config": [[key, value], …]} from stdin, creates that
index in SCRATCH, then for each line "advance N" indexes the rows of ARCHIVE's papers up to rowid N, read
through a read-only connection (the importing process commits them before it says so). "finish" commits
and answers "built N" on stdout; end of input without "finish" (the importer died) stops without an
answer. All the indexing is one transaction in SCRATCH: FTS5 flushes its pending terms into a new segment
at every commit, and per-batch commits cost ~30% more than one (docs/BENCHMARKS.md, P4).

A process rather than a thread: the rows pass through Python here (two connections: the read snapshot of
ARCHIVE must move on while SCRATCH's transaction stays open), and in a thread each row would wait for the
importer's GIL.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path


def build(archive: Path, scratch: Path) -> int | None:
    settings = json.loads(sys.stdin.readline())
    out = sqlite3.connect(str(scratch), isolation_level=None)
    source = sqlite3.connect(archive.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    try:
        out.execute("PRAGMA journal_mode=OFF")  # a scratch file: a crash only throws it away
        out.execute("PRAGMA synchronous=OFF")
        out.execute("PRAGMA cache_size=-65536")
        out.execute(settings["ddl"])
        for key, value in settings["config"]:
            out.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES (?, ?)", (key, value))
        out.execute("BEGIN")
        done = 0
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "finish":
                out.execute("COMMIT")
                return done
            target = int(argument)
            if target > done:
                rows = source.execute(
                    "SELECT rowid, title, abstract, authors FROM papers WHERE rowid > ? AND rowid <= ?",
                    (done, target),
                )
                out.executemany(
                    "INSERT INTO papers_fts(rowid, title, abstract, authors) VALUES (?, ?, ?, ?)", rows
                )
                done = target
        return None  # the importer went away
    finally:
        source.close()
        out.close()


def main() -> None:
    built = build(Path(sys.argv[1]), Path(sys.argv[2]))
    if built is not None:
        print(f"built {built}", flush=True)


if __name__ == "__main__":
    main()
