"""`paperradar backup` / `restore` and `export --archive` / `import --archive`, on a real archive (the
bundled sample run through the pipeline, plus ratings, a library entry and embedding vectors so every
table holds rows): the round trip gives an equal database, table by table; the export is deterministic;
and every refusal (not SQLite, another program's database, a newer schema, a damaged file, a tampered
archive, a database that already holds data) leaves the current database exactly as it was."""

from __future__ import annotations

import math
import sqlite3
import struct
from datetime import date
from pathlib import Path

import pytest

from paperradar.store import SCHEMA_VERSION, Store
from paperradar.store.archive_export import MANIFEST, data_tables, export_archive
from paperradar.store.migrations import MIGRATIONS, _statements
from tests.cli_runner import cli
from tests.site_fixtures import built_store

ODD_TEXT = 'line one\nline two\u2028after a separator \x00nul \U0001f9ea and "quotes" \\ back'


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every data table: every row with every value and its SQLite type, in a total order."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {}
        for shape in data_tables(conn):
            cols = ", ".join(f'"{c}", typeof("{c}")' for c in shape.columns)
            order = ", ".join(f'"{c}"' for c in shape.columns)
            tables[shape.name] = [
                tuple(r) for r in conn.execute(f'SELECT {cols} FROM "{shape.name}" ORDER BY {order}')
            ]
        return tables
    finally:
        conn.close()


def config(folder: Path, db: str = "radar.db") -> Path:
    path = folder / "paperradar.toml"
    path.write_text(f'[store]\npath = "{db}"\n[output]\nfolder = "out"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def full_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's sample store with rows in every table, odd values included."""
    folder = tmp_path_factory.mktemp("full")
    db = folder / "radar.db"
    source = sqlite3.connect(built_store(tmp_path_factory))
    target = sqlite3.connect(db)
    source.backup(target)
    source.close()
    target.close()
    with Store(db) as store:
        run = store.start_run("run", date(2026, 2, 17))
        store.finish_run(run, "ok", {"big": 9007199254740993, "odd": ODD_TEXT})
        store.save_digest_record(
            date(2026, 2, 17), "zh", "digest", "h1", "2026-02-17T08:00:00+08:00", "out/d.md"
        )
        store.rate("2602.09386", 1)
        store.rate("2602.09386", 0)
        store.rate("2602.99999", -1)
        vector = struct.pack("<4f", 0.5, -1.25, math.pi, 0.0)
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO embeddings (arxiv_id, version, model, dim, vector) VALUES (?, 1, 'test-model', 4, ?)",
                ("2602.09386", vector),
            )
            conn.execute(
                "INSERT INTO zotero_sync (library, scope, version, synced_at) "
                "VALUES ('users/1', '', 7, '2026-02-01T00:00:00+00:00')"
            )
            conn.execute(
                "INSERT INTO zotero_items (library, item_key, version, library_key, arxiv_id, had_abstract, "
                "saved_by_paperradar) VALUES ('users/1', 'ABCD2345', 7, 'bib:odd', '2602.09386', 1, 0)"
            )
            conn.execute(
                "INSERT INTO library (key, arxiv_id, title, abstract, authors, added_at, source, resolved_by, "
                "imported_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    "bib:odd",
                    "2602.09386",
                    ODD_TEXT,
                    ODD_TEXT,
                    '["A. Author"]',
                    "2026-01-01",
                    "bibtex",
                    "title",
                    "2026-02-01",
                ),
            )
    return db


def test_round_trip_gives_an_equal_archive_and_stable_files(full_db: Path, tmp_path: Path) -> None:
    original = dump(full_db)
    assert all(original[name] for name in original), {
        n: len(r) for n, r in original.items()
    }  # every table has rows
    folder = tmp_path / "arch"
    assert cli("--config", str(config(full_db.parent)), "export", "--archive", str(folder)) == 0
    manifest = (folder / MANIFEST).read_text(encoding="utf-8")
    assert f'"schema_version": {SCHEMA_VERSION}' in manifest and "20" not in manifest.split('"tables"')[0]
    # one row a line, keys sorted, cut by month
    assert (folder / "papers" / "2602.jsonl").is_file() and (
        folder / "announcements" / "2026-02.jsonl"
    ).is_file()
    assert (folder / "papers" / "old-9901.jsonl").is_file()  # hep-th/9901001, the old-style id
    lines = (folder / "ratings" / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and lines[0].startswith('{"arxiv_id":"2602.09386","id":')
    assert '"vector":{"base64":' in (folder / "embeddings" / "2602.jsonl").read_text(encoding="utf-8")

    # into a new database: equal table by table, value by value, type by type
    other = tmp_path / "other"
    other.mkdir()
    assert cli("--config", str(config(other)), "import", "--archive", str(folder)) == 0
    assert dump(other / "radar.db") == original
    with Store(other / "radar.db") as a, Store(full_db) as b:  # the full-text index was rebuilt
        assert [p.arxiv_id for p, _ in a.search("retrieval", 10)] == [
            p.arxiv_id for p, _ in b.search("retrieval", 10)
        ]

    # the export of the copy is byte-identical; an export of an unchanged database rewrites nothing
    again = tmp_path / "again"
    assert cli("--config", str(config(other)), "export", "--archive", str(again)) == 0
    files = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((folder / f).read_bytes() == (again / f).read_bytes() for f in files)
    with Store(other / "radar.db") as store:
        report = store.export_archive(again)
    assert report.files_written == 0 and report.files_removed == 0


def test_export_deletes_only_its_own_files_and_refuses_foreign_folders(full_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "arch"
    with Store(full_db) as store:
        store.export_archive(folder)
    mine = folder / "notes.txt"
    mine.write_text("mine", encoding="utf-8")
    stale = folder / "ratings" / "2019-01.jsonl"  # listed by a (hand-made) earlier manifest, not produced now
    stale.write_text("", encoding="utf-8")
    text = (folder / MANIFEST).read_text(encoding="utf-8")
    (folder / MANIFEST).write_text(
        text.replace(
            '"ratings/all.jsonl": {',
            '"ratings/2019-01.jsonl": {"rows": 0, "sha256": ""}, "ratings/all.jsonl": {',
        ),
        encoding="utf-8",
    )
    with Store(full_db) as store:
        report = store.export_archive(folder)
    assert report.files_removed == 1 and not stale.exists() and mine.read_text(encoding="utf-8") == "mine"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x", encoding="utf-8")
    assert cli("--config", str(config(full_db.parent)), "export", "--archive", str(foreign)) == 2
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.tex"]
    assert cli("--config", str(config(full_db.parent)), "export", "--archive", str(foreign), "--all") == 2


def test_import_refuses_tampered_archives_and_full_databases(full_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "arch"
    with Store(full_db) as store:
        store.export_archive(folder)
    target = tmp_path / "t"
    target.mkdir()
    cfg = config(target)

    def variant(name: str, edit) -> Path:  # a copy of the archive with one thing changed
        copy = tmp_path / name
        if not copy.exists():
            import shutil

            shutil.copytree(folder, copy)
        edit(copy)
        return copy

    tampered = variant(
        "tampered", lambda d: (d / "ratings" / "all.jsonl").write_text("{}\n", encoding="utf-8")
    )
    missing = variant("missing", lambda d: (d / "texts" / "2602.jsonl").unlink())
    newer = variant(
        "newer",
        lambda d: (d / MANIFEST).write_text(
            (d / MANIFEST)
            .read_text(encoding="utf-8")
            .replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 99'),
            encoding="utf-8",
        ),
    )
    for bad in (tampered, missing, newer, tmp_path / "t"):  # the last: a folder without a manifest
        assert cli("--config", str(cfg), "import", "--archive", str(bad)) == 4, bad
        assert not (target / "radar.db").exists() or sum(map(len, dump(target / "radar.db").values())) == 0
        assert not list(target.glob(".radar.db.import-*"))  # no temp file left behind

    # a database that holds data is replaced only with --replace, and kept beside the new one
    assert cli("--config", str(cfg), "import", "--archive", str(folder)) == 0
    with Store(target / "radar.db") as store:
        store.rate("2602.99999", 1)
    before = dump(target / "radar.db")
    assert cli("--config", str(cfg), "import", "--archive", str(folder)) == 2
    assert dump(target / "radar.db") == before
    assert cli("--config", str(cfg), "import", "--archive", str(folder), "--replace") == 0
    [kept] = target.glob("radar.db.before-import-*")
    assert dump(kept) == before and dump(target / "radar.db") == dump(full_db)
    assert cli("--config", str(cfg), "import", "x.jsonl", "--archive", str(folder)) == 2  # one or the other


def test_archive_from_an_older_schema_imports_and_migrates(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    for number in range(2):  # schema 2: texts had no `reason` column yet
        for statement in _statements(MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO papers (arxiv_id, version, title, authors, abstract, categories, source, first_seen) "
        "VALUES ('2602.00001', 1, 'T', '[]', 'A', '[\"cs.IR\"]', 'rss', '2026-02-01T00:00:00+00:00')"
    )
    conn.execute(
        "INSERT INTO texts (arxiv_id, version, task, language, template_hash, model, status, content, detail, "
        "created_at) VALUES ('2602.00001', 1, 'summary', 'zh', 'h', 'm', 'failed', NULL, 'budget: cut', 'x')"
    )
    folder = tmp_path / "arch"
    export_archive(conn, folder)
    conn.close()
    assert '"schema_version": 2' in (folder / MANIFEST).read_text(encoding="utf-8")
    target = tmp_path / "new"
    target.mkdir()
    assert cli("--config", str(config(target)), "import", "--archive", str(folder)) == 0
    new = sqlite3.connect(target / "radar.db")
    assert new.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert new.execute("SELECT reason FROM texts").fetchone()[0] == "budget"  # migration 3 ran on the rows


def test_backup_and_restore_keep_the_old_database_until_the_new_one_is_verified(
    full_db: Path, tmp_path: Path
) -> None:
    work = tmp_path / "w"
    work.mkdir()
    db = work / "radar.db"
    src = sqlite3.connect(full_db)
    dst = sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    cfg = str(config(work))
    assert cli("--config", cfg, "backup", str(tmp_path / "b.db")) == 0
    assert cli("--config", cfg, "backup", str(tmp_path / "b.db")) == 2  # exists: --force to overwrite
    assert cli("--config", cfg, "backup", str(tmp_path)) == 0  # a folder: a timestamped name inside
    assert len(list(tmp_path.glob("radar-*.db"))) == 1
    backup = tmp_path / "b.db"
    assert not (tmp_path / "b.db-wal").exists()  # one self-contained file
    assert dump(backup) == dump(db)

    with Store(db) as store:  # the day after the backup: a rating
        store.rate("2602.99999", 1)
    after = dump(db)
    reader = sqlite3.connect(db)  # `paperradar serve` has it open while we restore
    assert reader.execute("SELECT count(*) FROM ratings").fetchone()[0] == 4

    # refused, old database untouched: not SQLite, another program's database, newer schema, damaged
    (tmp_path / "notes.txt").write_text("not a database", encoding="utf-8")
    foreign = sqlite3.connect(tmp_path / "foreign.db")
    foreign.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    foreign.commit()
    foreign.close()
    newer = tmp_path / "newer.db"
    newer.write_bytes(backup.read_bytes())
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    for bad in ("notes.txt", "foreign.db", "newer.db", "damaged.db", "nothing-here.db"):
        assert cli("--config", cfg, "restore", str(tmp_path / bad)) == 4, bad
        assert dump(db) == after, bad
        assert not list(work.glob("radar.db.before-*")) and not list(work.glob(".radar.db.*tmp*")), bad
    assert sqlite3.connect(tmp_path / "foreign.db").execute("SELECT name FROM sqlite_master").fetchall() == [
        ("photos",)
    ]  # the foreign file was not given our tables

    assert cli("--config", cfg, "restore", str(backup)) == 0
    assert dump(db) == dump(backup)
    assert (
        reader.execute("SELECT count(*) FROM ratings").fetchone()[0] == 3
    )  # the open reader sees the switch
    reader.close()
    [kept] = work.glob("radar.db.before-restore-*")
    assert dump(kept) == after  # the rating made after the backup is not lost: it is kept aside
    with Store(db) as store:  # and the restored database works as before
        assert sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.search("retrieval", 3)
