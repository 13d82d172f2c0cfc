"""Texts through a backend, cached in the store by (paper version, task, language, template hash, model), so
nothing is ever computed twice. rank/ asks it for interest and company, write/ for titles, summaries and
styles; a whole day's requests of every task and language can go in one `ask_many`, so they share one
bounded-concurrency queue.

What is not answered is stored with why (failed, invalid, budget, refused) and counted; a text that failed
`give_up_after` times is not asked again until `--refresh` or a new prompt or model, so a paper that
always breaks the model stops costing money.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from paperradar.llm.seam import (
    Backend,
    Declined,
    FollowUp,
    InterestProfile,
    StagedWriter,
    WriteRequest,
    WriteResult,
    run_sync,
)
from paperradar.models import GeneratedText, MissingReason, Paper, TextCounts
from paperradar.store import Store

# arxiv_id -> task -> text: what a batch of papers got in one language.
Texts = dict[str, dict[str, GeneratedText]]
# (arxiv_id, task, language): one requested text of a many-language batch. An interest answer for a named
# reader has "<language>@<reader>" as its language part (see batch_language), so readers never mix.
TextKey = tuple[str, str, str]
GIVE_UP_AFTER = 3  # the [llm] give_up_after default


def batch_language(language: str, profile: InterestProfile | None) -> str:
    """The language part of a request's key in a ManyBatch: the reader's name rides along when an interest
    request scores for a named reader, so a batch holding several readers' scores keeps them apart."""
    return f"{language}@{profile.reader}" if profile is not None and profile.reader else language


def request_key(req: WriteRequest) -> TextKey:
    return (req.paper.arxiv_id, req.task, batch_language(req.language, req.profile))


class TextBatch(NamedTuple):
    texts: Texts  # arxiv_id -> task -> text, for what was answered (now or before)
    counts: TextCounts
    missing: dict[str, dict[str, MissingReason]]  # arxiv_id -> task -> why there is no text


@dataclass
class ManyBatch:
    """The answers to requests of several tasks and languages."""

    texts: dict[TextKey, GeneratedText] = field(default_factory=dict)
    missing: dict[TextKey, MissingReason] = field(default_factory=dict)
    counts: dict[str, TextCounts] = field(default_factory=dict)  # per task

    def count(self, task: str) -> TextCounts:
        return self.counts.setdefault(task, TextCounts())

    def merge(self, other: ManyBatch) -> None:
        self.texts.update(other.texts)
        self.missing.update(other.missing)
        for task, counts in other.counts.items():
            self.count(task).add(counts)

    def counts_of(self, tasks: Iterable[str]) -> TextCounts:
        total = TextCounts()
        for task in tasks:
            if task in self.counts:
                total.add(self.counts[task])
        return total

    def in_language(self, language: str, tasks: Iterable[str] | None = None) -> TextBatch:
        """One language's part, as a TextBatch (counts of those tasks in every language: counts are per
        task only)."""
        wanted = set(tasks) if tasks is not None else None
        texts: Texts = {}
        missing: dict[str, dict[str, MissingReason]] = {}
        for (pid, task, lang), text in self.texts.items():
            if lang == language and (wanted is None or task in wanted):
                texts.setdefault(pid, {})[task] = text
        for (pid, task, lang), why in self.missing.items():
            if lang == language and (wanted is None or task in wanted):
                missing.setdefault(pid, {})[task] = why
        return TextBatch(texts, self.counts_of(wanted or self.counts), missing)


EMPTY_BATCH = TextBatch({}, TextCounts(), {})


@dataclass(frozen=True)
class TextService:
    """One run's way of asking for texts: the store that caches them, the backend, the run they are
    recorded under, the tasks to recompute on purpose, and the give-up rule."""

    store: Store
    backend: Backend
    run_id: int | None = None
    refresh: frozenset[str] = field(default_factory=frozenset)
    give_up_after: int = GIVE_UP_AFTER
    # Stored answers only, never a call (`run --estimate` ranks with the scores it already has); what would
    # be asked is reported missing as "no_model" and never stored.
    dry: bool = False

    def with_backend(self, backend: Backend) -> TextService:
        return TextService(self.store, backend, self.run_id, self.refresh, self.give_up_after, self.dry)

    def dry_run(self) -> TextService:
        return TextService(self.store, self.backend, self.run_id, self.refresh, self.give_up_after, True)

    def _key(
        self, paper: Paper, task: str, language: str, profile: InterestProfile | None = None
    ) -> tuple[str, int, str, str, str, str]:
        b = self.backend
        if profile is None:  # a backend that never scores interest for a reader may not take `profile`
            text_language, template = b.text_language(task, language), b.template_hash(task, language)
        else:
            text_language = b.text_language(task, language, profile=profile)
            template = b.template_hash(task, language, profile=profile)
        return (paper.arxiv_id, paper.version, task, text_language, template, b.name)

    def stored(
        self, papers: Iterable[Paper], task: str, language: str, profile: InterestProfile | None = None
    ) -> Texts:
        """What the store already holds for (paper, task, language) from this backend: never a call."""
        if not self.backend.supports(task, language):
            return {}
        out: Texts = {}
        for paper in papers:
            found = self.store.get_text(*self._key(paper, task, language, profile))
            if found is not None:
                out.setdefault(paper.arxiv_id, {})[task] = found
        return out

    def ask(
        self,
        papers: Iterable[Paper],
        tasks: Iterable[str],
        language: str,
        profile: InterestProfile | None = None,
    ) -> TextBatch:
        """Every (paper, task) in `language`: from the store, else from the backend (stored on arrival).
        Tasks the backend cannot do are absent from `texts` and say "no_model" in `missing`. `profile`:
        the reader an interest request scores for (None: the backend's own interests)."""
        tasks = list(tasks)
        batch = self.ask_many([WriteRequest(p, t, language, profile) for p in papers for t in tasks])
        return batch.in_language(batch_language(language, profile), tasks)

    def ask_many(self, requests: Sequence[WriteRequest]) -> ManyBatch:
        """Every request, of any task and language, through ONE backend.write(): one bounded-concurrency
        queue for the whole lot. Answers are stored the moment they arrive."""
        todo, out = self.pending(requests)
        if self.dry:
            self._not_asked(todo, out)
            return out
        return self._send(todo, out)

    def ask_staged(
        self,
        first: Sequence[WriteRequest],
        gate: Callable[[WriteRequest], bool],
        then: Callable[[ManyBatch], Awaitable[Sequence[WriteRequest]]],
    ) -> ManyBatch:
        """`first`, and then what `then(answers so far)` asks for once the requests where `gate` holds are
        answered, all in ONE queue and session where the backend can (a ChatBackend): the day's texts go on
        while the top is decided. Requests asked already (or stored) are not asked twice."""
        todo, out = self.pending(first)
        asked = {_identity(r) for r in first}

        async def more() -> list[WriteRequest]:
            wanted = [r for r in await then(out) if _identity(r) not in asked]
            asked.update(_identity(r) for r in wanted)
            extra, found = self.pending(wanted)
            out.merge(found)
            if self.dry:
                self._not_asked(extra, out)
                return []
            return extra

        if self.dry:
            self._not_asked(todo, out)
            run_sync(more())
            return out
        follow = FollowUp(frozenset(i for i, r in enumerate(todo) if gate(r)), more)
        return self._send(todo, out, follow)

    @staticmethod
    def _not_asked(todo: Sequence[WriteRequest], out: ManyBatch) -> None:
        for req in todo:
            out.count(req.task).declined += 1
            out.missing[request_key(req)] = "no_model"

    def pending(self, requests: Sequence[WriteRequest]) -> tuple[list[WriteRequest], ManyBatch]:
        """(what would be sent to the model, a batch holding everything answered without a call: stored
        texts, stored refusals, texts given up on, tasks the backend cannot do)."""
        store, backend, refresh = self.store, self.backend, self.refresh
        out = ManyBatch()
        todo: list[WriteRequest] = []
        seen: set[tuple[str, int, str, str, InterestProfile | None]] = set()
        for req in requests:
            paper, task, language = req.paper, req.task, req.language
            profile = req.profile if task == "interest" else None  # only interest depends on the reader
            if (paper.arxiv_id, paper.version, task, language, profile) in seen:
                continue  # a request listed twice (by two readers, say) is asked once
            seen.add((paper.arxiv_id, paper.version, task, language, profile))
            key = request_key(req)
            counts = out.count(task)
            if not backend.supports(task, language):
                counts.declined += 1
                out.missing[key] = "no_model"
                continue
            store_key = self._key(paper, task, language, profile)
            cached = None if task in refresh else store.get_text(*store_key)
            if cached is not None:
                out.texts[key] = cached
                counts.cached += 1
                continue
            status = None if task in refresh else store.text_status(*store_key)
            if status is not None and status[1] == "refused":
                # A refusal (content filter) with the same prompt and model would be refused again.
                counts.refused += 1
                out.missing[key] = "refused"
                continue
            if status is not None and status[0] == "failed" and status[2] >= self.give_up_after:
                counts.given_up += 1
                out.missing[key] = "given_up"
                continue
            todo.append(req)
        return todo, out

    def _send(self, todo: list[WriteRequest], out: ManyBatch, follow: FollowUp | None = None) -> ManyBatch:
        if not todo and follow is None:
            return out
        store, backend, refresh = self.store, self.backend, self.refresh
        requests = todo  # follow-ups are appended to it (by more(), before their answers arrive)
        done: set[int] = set()

        def record(index: int, result: WriteResult) -> None:
            """Store one answer the moment it arrives, so a run killed half-way never pays for it again, and
            count it (a follow-up decided from the answers so far sees it)."""
            if index in done or result is None:
                return
            req = requests[index]
            key = request_key(req)
            counts = out.count(req.task)
            if isinstance(result, Declined):
                # Stored with its reason (never as content); failed and invalid ones count towards giving up.
                profile = req.profile if req.task == "interest" else None
                _, _, _, text_language, template, _ = self._key(req.paper, req.task, req.language, profile)
                marker = GeneratedText(
                    req.paper.arxiv_id, req.paper.version, req.task, text_language, "", backend.name, template
                )
                store.save_text(marker, self.run_id, reason=result.reason, detail=result.detail)
                if result.reason == "refused":
                    counts.refused += 1
                elif result.reason == "budget":
                    counts.budget += 1
                else:
                    counts.failed += 1
                out.missing[key] = result.reason
            else:
                store.save_text(result, self.run_id, overwrite=req.task in refresh)
                out.texts[key] = result
                counts.written += 1
            done.add(index)

        if follow is None:
            results = backend.write(todo, on_result=record)
        elif isinstance(backend, StagedWriter):
            results = backend.write_staged(todo, record, _appending(follow, requests))
        else:
            results = write_then(backend, todo, record, _appending(follow, requests))
        for index, (req, result) in enumerate(zip(requests, results, strict=True)):
            if result is None:
                if index not in done:
                    done.add(index)
                    out.count(req.task).declined += 1
                    out.missing[request_key(req)] = "no_model"
            else:
                record(index, result)  # a no-op for what the backend already reported
        return out


def _identity(req: WriteRequest) -> tuple[str, int, str, str]:
    """One text of the queue: two readers' requests for the same text are one (their interest scores,
    which depend on the reader, are not: the reader rides in the language part)."""
    return (req.paper.arxiv_id, req.paper.version, req.task, request_key(req)[2])


def _appending(follow: FollowUp, requests: list[WriteRequest]) -> FollowUp:
    """The same follow-up, its requests also appended to `requests` (the list results are indexed by)."""

    async def more() -> list[WriteRequest]:
        extra = await follow.more()
        requests.extend(extra)
        return extra

    return FollowUp(follow.gate, more)


def write_then(
    backend: Backend,
    requests: list[WriteRequest],
    on_result: Callable[[int, WriteResult], None] | None,
    follow: FollowUp,
) -> list[WriteResult]:
    """A staged write for a backend that cannot add requests to a running write: the first requests, then
    the follow-ups in a second write (their indices after the first's)."""
    results = backend.write(requests, on_result=on_result) if requests else []
    extra = run_sync(follow.more())
    offset = len(requests)
    report = None if on_result is None else (lambda i, result: on_result(offset + i, result))
    return [*results, *(backend.write(extra, on_result=report) if extra else [])]


def write_texts(
    store: Store,
    backend: Backend,
    papers: Iterable[Paper],
    tasks: Iterable[str],
    language: str,
    run_id: int | None = None,
    refresh: Iterable[str] = (),
) -> TextBatch:
    """TextService(store, backend, run_id, refresh).ask(papers, tasks, language), for one-off callers."""
    return TextService(store, backend, run_id, frozenset(refresh)).ask(papers, tasks, language)
