"""The day's Markdown digest on disk, one file per language: out/digests/<day>.<lang>.md.

The generated-at line is the only part that depends on the clock: the first time a given content was
generated is kept (in the store's digest records), so re-running a day writes a byte-identical file.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from paperradar.llm.texts import TextBatch
from paperradar.models import Digest, EmptyNote, MutedSummary, Ranked
from paperradar.publish.config import OutputConfig
from paperradar.publish.files import write_if_changed
from paperradar.publish.markdown import render_digest
from paperradar.store import Store
from paperradar.text.labels import labels


def digest_path(out_dir: Path, day: date, language: str) -> Path:
    return out_dir / "digests" / f"{day.isoformat()}.{language}.md"


def publish_digest(
    store: Store,
    output: OutputConfig,
    out_dir: Path,
    categories: list[str],
    day: date,
    ranked: list[Ranked],
    texts: TextBatch,
    announced: int,
    language: str,
    empty_reason: str | None = None,
    skipped: tuple[str, ...] = (),
    *,
    muted: MutedSummary | None = None,
) -> tuple[Digest, str, Path]:
    """Render and write one language's digest; returns (digest, markdown as written, path). `ranked`: the
    papers it lists; `skipped`: the day's malformed feed items that were left out, with their reasons (the
    digest says so); `muted`: how many of the day's papers the reader muted, and why."""
    digest = Digest(
        day=day,
        language=language,
        categories=list(categories),
        generated_at=datetime(2000, 1, 1, tzinfo=output.tz),
        order=list(output.order),
        top_n=output.top_n,
        announced=announced,
        items=ranked[: output.top_n],
        texts=texts.texts,
        empty_reason=empty_reason,
        missing=texts.missing,
        skipped=tuple(skipped),
        muted=muted,
    )
    content_hash = hashlib.sha256(render_digest(digest, output.max_authors).encode()).hexdigest()
    path = digest_path(out_dir, day, language)
    record = store.digest_record(day, digest.language, "digest")
    if record is not None and record["content_hash"] == content_hash:
        generated_at = datetime.fromisoformat(record["generated_at"])
    else:
        generated_at = datetime.now(UTC).replace(microsecond=0)
    digest = replace(digest, generated_at=generated_at.astimezone(output.tz))
    markdown = render_digest(digest, output.max_authors)
    write_if_changed(path, markdown)
    store.save_digest_record(
        day, digest.language, "digest", content_hash, generated_at.isoformat(), str(path)
    )
    return digest, markdown, path


def empty_reason(day: date, note: EmptyNote | None, language: str) -> str:
    """Why a day has no papers, in the digest's language: the weekend, or what intake noted."""
    text = labels(language)
    if day.weekday() >= 5:
        return text["reason_weekend"]
    if note is None:
        return text["reason_none_stored"]
    if note.key is None:
        return note.text
    return text[note.key].format(**dict(note.fields))
