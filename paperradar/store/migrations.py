"""Schema migrations, applied in order and recorded in PRAGMA user_version.

Never edit a migration that has shipped: add the next one. A database written by a newer paperradar than
this one is refused with a clear message rather than silently misread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from paperradar.errors import DataError

MIGRATIONS: list[str] = [
    # 1: the first schema.
    """
    CREATE TABLE papers (
        arxiv_id TEXT PRIMARY KEY,          -- without version; old style ids keep their '/'
        version INTEGER NOT NULL,           -- latest version seen
        title TEXT NOT NULL,
        authors TEXT NOT NULL,              -- JSON list, in paper order
        abstract TEXT NOT NULL,
        categories TEXT NOT NULL,           -- JSON list, primary first
        primary_category TEXT,
        comment TEXT,
        journal_ref TEXT,
        doi TEXT,
        published TEXT,                     -- ISO 8601 UTC, first version
        updated TEXT,                       -- ISO 8601 UTC, latest version
        affiliations TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL,               -- which source last wrote the metadata
        first_seen TEXT NOT NULL
    );
    CREATE TABLE paper_versions (
        arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
        version INTEGER NOT NULL,
        title TEXT NOT NULL,
        updated TEXT,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (arxiv_id, version)
    ) WITHOUT ROWID;
    CREATE TABLE announcements (
        day TEXT NOT NULL,                  -- arXiv announcement date, YYYY-MM-DD
        category TEXT NOT NULL,             -- the listing the paper appeared in
        arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
        kind TEXT NOT NULL CHECK (kind IN ('new', 'cross', 'replace', 'replace-cross')),
        version INTEGER,
        PRIMARY KEY (day, category, arxiv_id)
    ) WITHOUT ROWID;
    CREATE INDEX announcements_by_paper ON announcements(arxiv_id);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        day TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',  -- running | ok | failed | partial
        stats TEXT NOT NULL DEFAULT '{}',        -- JSON: counts, requests, timings
        error TEXT
    );
    CREATE TABLE ranks (
        day TEXT NOT NULL,
        arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
        rank INTEGER NOT NULL,
        keyword_count INTEGER NOT NULL,
        keyword_hits TEXT NOT NULL,          -- JSON [{keyword, group, forms}]
        companies TEXT NOT NULL,             -- JSON [{company, name, field, matched}]
        interest_score INTEGER NOT NULL,
        interest_reason TEXT NOT NULL,
        interest_mode TEXT NOT NULL,         -- heuristic | model name
        explanation TEXT NOT NULL,           -- JSON
        run_id INTEGER REFERENCES runs(id),  -- the run that computed these values
        PRIMARY KEY (day, arxiv_id)
    ) WITHOUT ROWID;
    CREATE TABLE texts (
        arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
        version INTEGER NOT NULL,
        task TEXT NOT NULL,                  -- summary | title | ...
        language TEXT NOT NULL,
        template_hash TEXT NOT NULL,         -- prompt/template/algorithm version
        model TEXT NOT NULL,                 -- 'extractive' or the model name
        status TEXT NOT NULL DEFAULT 'ok',   -- ok | failed | skipped
        content TEXT,
        detail TEXT,                         -- why failed/skipped; never the content
        created_at TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        PRIMARY KEY (arxiv_id, version, task, language, template_hash, model)
    ) WITHOUT ROWID;
    CREATE TABLE ratings (
        id INTEGER PRIMARY KEY,
        arxiv_id TEXT NOT NULL,
        value INTEGER NOT NULL CHECK (value IN (-1, 0, 1)),  -- down, cleared, up
        rated_at TEXT NOT NULL
    );
    CREATE INDEX ratings_by_paper ON ratings(arxiv_id, rated_at);
    CREATE TABLE digests (
        day TEXT NOT NULL,
        language TEXT NOT NULL,
        style TEXT NOT NULL,
        content_hash TEXT NOT NULL,          -- of everything but the generated-at line
        generated_at TEXT NOT NULL,          -- kept while the content is unchanged: reruns are byte-identical
        path TEXT NOT NULL,
        PRIMARY KEY (day, language, style)
    ) WITHOUT ROWID;
    CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, abstract, authors,
        content='papers', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2',
        -- Column-level detail: bm25 still weighs title/abstract/authors and term counts, but positions are
        -- not stored (the search quotes each word on its own and never asks for phrases); ~20% faster imports.
        detail=column
    );
    -- Merge index segments in bigger steps (default 4): fewer merges while a bulk import runs.
    INSERT INTO papers_fts(papers_fts, rank) VALUES ('automerge', 8);
    -- New rows are indexed by Store.save_papers with one set-based INSERT … SELECT per batch, which is
    -- twice as fast as a per-row AFTER INSERT trigger on a bulk import; updates and deletes use triggers.
    CREATE TRIGGER papers_ad AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.rowid, old.title, old.abstract, old.authors);
    END;
    CREATE TRIGGER papers_au AFTER UPDATE OF title, abstract, authors ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.rowid, old.title, old.abstract, old.authors);
        INSERT INTO papers_fts(rowid, title, abstract, authors)
        VALUES (new.rowid, new.title, new.abstract, new.authors);
    END;
    """,
    # 2: personal ranking: vectors per (paper version, model); the reader's library.
    """
    CREATE TABLE IF NOT EXISTS embeddings (
        arxiv_id TEXT NOT NULL, version INTEGER NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
        PRIMARY KEY (arxiv_id, version, model)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS library (
        key TEXT PRIMARY KEY, arxiv_id TEXT, title TEXT NOT NULL, abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]', added_at TEXT NOT NULL, source TEXT NOT NULL,
        resolved_by TEXT NOT NULL, imported_at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS library_by_arxiv ON library(arxiv_id);
    """,
    # 3: why a text is missing, as data (it was a prefix of `detail`): failed | invalid | budget | refused.
    """
    ALTER TABLE texts ADD COLUMN reason TEXT;
    UPDATE texts SET reason = CASE
        WHEN status = 'ok' THEN NULL
        WHEN detail LIKE 'budget%' THEN 'budget'
        WHEN detail LIKE 'invalid answer%' THEN 'invalid'
        WHEN status = 'skipped' THEN 'refused'
        ELSE 'failed' END;
    """,
    # 4: Zotero sync: the library version last synced per library and scope, and which Zotero item became
    # which `library` row (so a deletion in Zotero removes the row, and a saved paper is not saved twice).
    """
    CREATE TABLE IF NOT EXISTS zotero_sync (
        library TEXT NOT NULL,               -- 'users/<id>' | 'groups/<id>'
        scope TEXT NOT NULL,                 -- '' for the whole library, else the collection key synced
        version INTEGER NOT NULL,            -- Last-Modified-Version at the last complete sync
        synced_at TEXT NOT NULL,             -- when that sync (or a later 304 check) ran
        PRIMARY KEY (library, scope)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS zotero_items (
        library TEXT NOT NULL,
        item_key TEXT NOT NULL,              -- Zotero's 8-character object key
        version INTEGER NOT NULL,            -- the item's version when last read or written
        library_key TEXT NOT NULL,           -- the `library` row it became: 'arxiv:<id>' | 'title:<...>'
        arxiv_id TEXT,
        had_abstract INTEGER NOT NULL,       -- 1 when Zotero held an abstract (else arXiv's, or none)
        saved_by_paperradar INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (library, item_key)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS zotero_items_by_arxiv ON zotero_items(arxiv_id);
    """,
    # 5: every output language gets its own interest reason, and a heuristic score says why no model score
    # was there; a text remembers how often it failed, so a text that keeps failing stops costing money.
    """
    ALTER TABLE ranks ADD COLUMN interest_reasons TEXT NOT NULL DEFAULT '{}';  -- JSON {language: reason}
    ALTER TABLE ranks ADD COLUMN interest_missing TEXT;  -- why the score is heuristic with a model configured
    ALTER TABLE texts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;  -- failed or invalid answers so far
    UPDATE texts SET attempts = 1 WHERE status = 'failed';
    """,
    # 6: several readers share one archive. A reader's ranks, ratings, library, digest records and Zotero
    # sync state carry the reader's name; every row already there belongs to the reader "default" (a
    # config without [[readers]] is that reader). Papers, announcements, texts, embeddings and runs stay
    # shared. SQLite cannot change a primary key in place, so four tables are rebuilt with the reader first
    # in their key. (A later migration that adds a column to one of them comes after this one.)
    """
    CREATE TABLE ranks_by_reader (
        reader TEXT NOT NULL DEFAULT 'default',
        day TEXT NOT NULL,
        arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
        rank INTEGER NOT NULL,
        keyword_count INTEGER NOT NULL,
        keyword_hits TEXT NOT NULL,
        companies TEXT NOT NULL,
        interest_score INTEGER NOT NULL,
        interest_reason TEXT NOT NULL,
        interest_mode TEXT NOT NULL,
        explanation TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        interest_reasons TEXT NOT NULL DEFAULT '{}',
        interest_missing TEXT,
        PRIMARY KEY (reader, day, arxiv_id)
    ) WITHOUT ROWID;
    INSERT INTO ranks_by_reader (day, arxiv_id, rank, keyword_count, keyword_hits, companies, interest_score,
        interest_reason, interest_mode, explanation, run_id, interest_reasons, interest_missing)
        SELECT day, arxiv_id, rank, keyword_count, keyword_hits, companies, interest_score, interest_reason,
        interest_mode, explanation, run_id, interest_reasons, interest_missing FROM ranks;
    DROP TABLE ranks;
    ALTER TABLE ranks_by_reader RENAME TO ranks;
    CREATE INDEX ranks_by_paper ON ranks(arxiv_id);
    ALTER TABLE ratings ADD COLUMN reader TEXT NOT NULL DEFAULT 'default';
    CREATE INDEX ratings_by_reader ON ratings(reader, arxiv_id, rated_at);
    CREATE TABLE library_by_reader (
        reader TEXT NOT NULL DEFAULT 'default',
        key TEXT NOT NULL, arxiv_id TEXT, title TEXT NOT NULL, abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]', added_at TEXT NOT NULL, source TEXT NOT NULL,
        resolved_by TEXT NOT NULL, imported_at TEXT NOT NULL,
        PRIMARY KEY (reader, key));
    INSERT INTO library_by_reader (key, arxiv_id, title, abstract, authors, added_at, source, resolved_by,
        imported_at)
        SELECT key, arxiv_id, title, abstract, authors, added_at, source, resolved_by, imported_at FROM library;
    DROP TABLE library;
    ALTER TABLE library_by_reader RENAME TO library;
    CREATE INDEX library_by_arxiv ON library(arxiv_id);
    CREATE TABLE digests_by_reader (
        reader TEXT NOT NULL DEFAULT 'default',
        day TEXT NOT NULL,
        language TEXT NOT NULL,
        style TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        generated_at TEXT NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (reader, day, language, style)
    ) WITHOUT ROWID;
    INSERT INTO digests_by_reader (day, language, style, content_hash, generated_at, path)
        SELECT day, language, style, content_hash, generated_at, path FROM digests;
    DROP TABLE digests;
    ALTER TABLE digests_by_reader RENAME TO digests;
    CREATE TABLE zotero_sync_by_reader (
        reader TEXT NOT NULL DEFAULT 'default',
        library TEXT NOT NULL, scope TEXT NOT NULL, version INTEGER NOT NULL, synced_at TEXT NOT NULL,
        PRIMARY KEY (reader, library, scope)) WITHOUT ROWID;
    INSERT INTO zotero_sync_by_reader (library, scope, version, synced_at)
        SELECT library, scope, version, synced_at FROM zotero_sync;
    DROP TABLE zotero_sync;
    ALTER TABLE zotero_sync_by_reader RENAME TO zotero_sync;
    CREATE TABLE zotero_items_by_reader (
        reader TEXT NOT NULL DEFAULT 'default',
        library TEXT NOT NULL, item_key TEXT NOT NULL, version INTEGER NOT NULL, library_key TEXT NOT NULL,
        arxiv_id TEXT, had_abstract INTEGER NOT NULL, saved_by_paperradar INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (reader, library, item_key)) WITHOUT ROWID;
    INSERT INTO zotero_items_by_reader (library, item_key, version, library_key, arxiv_id, had_abstract,
        saved_by_paperradar)
        SELECT library, item_key, version, library_key, arxiv_id, had_abstract, saved_by_paperradar
        FROM zotero_items;
    DROP TABLE zotero_items;
    ALTER TABLE zotero_items_by_reader RENAME TO zotero_items;
    CREATE INDEX zotero_items_by_arxiv ON zotero_items(arxiv_id);
    """,
    # 7: the search index may lag behind `papers` while a bulk import runs (paperradar.store.fulltext):
    # rows up to fts_state.indexed_through are indexed, rows above wait to be indexed in bulk. Every row
    # an older paperradar stored was indexed in its own transaction, so the mark starts at the last one.
    # The triggers now leave waiting rows alone (their text is indexed as it is when they are indexed).
    """
    CREATE TABLE fts_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_through INTEGER NOT NULL     -- papers.rowid up to which papers_fts is complete
    );
    INSERT INTO fts_state VALUES (1, (SELECT coalesce(max(rowid), 0) FROM papers));
    DROP TRIGGER papers_ad;
    DROP TRIGGER papers_au;
    CREATE TRIGGER papers_ad AFTER DELETE ON papers
    WHEN old.rowid <= (SELECT indexed_through FROM fts_state) BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.rowid, old.title, old.abstract, old.authors);
        -- SQLite may give the next new row the rowid of a deleted last row: it must count as waiting.
        UPDATE fts_state SET indexed_through = (SELECT coalesce(max(rowid), 0) FROM papers)
        WHERE indexed_through > (SELECT coalesce(max(rowid), 0) FROM papers);
    END;
    CREATE TRIGGER papers_au AFTER UPDATE OF title, abstract, authors ON papers
    WHEN old.rowid <= (SELECT indexed_through FROM fts_state) BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.rowid, old.title, old.abstract, old.authors);
        INSERT INTO papers_fts(rowid, title, abstract, authors)
        VALUES (new.rowid, new.title, new.abstract, new.authors);
    END;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it was at. Two processes opening a new
    file at once both read version 0: the write lock taken first makes one migrate while the other waits,
    then re-reads the version and finds nothing left to do."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(current, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    if current > SCHEMA_VERSION:
        raise DataError(
            f"the database was written by a newer paperradar (schema {current}, this one knows {SCHEMA_VERSION})",
            hint="upgrade paperradar, or point [store].path at another file",
        )
    return int(current)


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (executescript would commit the enclosing transaction)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer
