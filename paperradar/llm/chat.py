"""LLM writing backend for any OpenAI-compatible chat endpoint (OpenAI, DeepSeek, Qwen/DashScope, vLLM,
llama.cpp server, Ollama...), and the task logic shared with the in-process llama.cpp backend.

Tasks: "title" (translate into zh/ja; English titles need no translation, so en is unsupported),
"summary" (3 to 5 sentences), "interest" (k papers per request; stored as {"score": n, "reason": "..."}),
"company" (from affiliation text; stored as {"company": ... or null, "evidence": "..."}).

`name` is the model name, which the store records with every text. All endpoints must serve the same
model (the config enforces it): they exist to spread load, and texts from different models must not share
a cache entry.

write() is synchronous for the pipeline and runs an asyncio loop inside. Each answer is validated; an
invalid one gets exactly one repair request with the error, then the request is Declined("invalid").
A batch whose answer lacks some ids (or has bad items) is completed by asking for those papers singly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from paperradar.llm.client import CallDeclined, ChatReply
from paperradar.llm.config import LLMConfig
from paperradar.llm.estimate import expected_output
from paperradar.llm.jobs import Job
from paperradar.llm.panel import ask_panel, plan_interest
from paperradar.llm.prompts import Prompt, render, template_hash
from paperradar.llm.schemas import (
    LANGUAGE_NAMES,
    AnswerError,
    BriefAnswer,
    SummaryAnswer,
    TitleAnswer,
    check_interest,
    check_text,
    interest_content,
    parse_answer,
    response_schema,
)
from paperradar.llm.seam import (
    CallProgress,
    Declined,
    FollowUp,
    InterestProfile,
    WriteRequest,
    WriteResult,
    run_sync,
)
from paperradar.models import GeneratedText, Usage

log = logging.getLogger("paperradar.llm")
# Answers one request of a task the chat backend does not know itself, inside its session (the styles).
TaskHandler = Callable[[WriteRequest], Awaitable[WriteResult]]


LLM_TASKS = ("interest", "title", "summary", "company")
_REPAIR = (
    "Your answer could not be used: {error}. Reply again with only the JSON object the instructions ask for."
)
_CUT_OFF = "(an answer of {n} characters, cut off at the length limit; not repeated here)"
_T = TypeVar("_T")


class ChatBackend:
    """The task logic over an abstract chat call; subclasses provide `_call` and `_session`."""

    name: str
    _usage: Usage

    def __init__(self, cfg: LLMConfig, interests: str, params: dict[str, Any], languages: Sequence[str] = ()):
        self.cfg = cfg
        self.interests = interests
        self.params = params  # request params that change the output; part of the template hash
        # The reader's output languages: an interest answer gives its reason in each, in the same call.
        self.languages = tuple(dict.fromkeys(lang for lang in languages if lang in LANGUAGE_NAMES))

    @property
    def usage(self) -> Usage:
        return self._usage

    def on_progress(self, callback: Callable[[CallProgress], None] | None) -> None:
        """Transports that report progress override this."""

    # -- the seam -------------------------------------------------------------------------------------
    def supports(self, task: str, language: str) -> bool:
        if task not in LLM_TASKS or language not in LANGUAGE_NAMES:
            return False
        return not (task == "title" and language == "en")  # an English title needs no translation

    def reason_languages(self, language: str, profile: InterestProfile | None = None) -> list[str]:
        """The languages an interest answer for `language` gives its reason in: that one first, then the
        reader's other output languages (the profile's, when the request scores for a given reader)."""
        languages = self.languages if profile is None else profile.languages
        return list(dict.fromkeys([language, *(lang for lang in languages if lang in LANGUAGE_NAMES)]))

    def interests_of(self, profile: InterestProfile | None) -> str:
        return self.interests if profile is None else profile.interests

    def text_language(self, task: str, language: str, profile: InterestProfile | None = None) -> str:
        # An interest answer holds a reason per output language: "zh+ja+en" is its cache key's language.
        return "+".join(self.reason_languages(language, profile)) if task == "interest" else language

    @staticmethod
    def prompt_task(task: str, language: str) -> str:
        """The prompt a task is asked with: a title or a summary in Chinese or Japanese comes with the other
        from one "brief" prompt (one call per paper and language for the digest)."""
        return "brief" if task in ("title", "summary") and language != "en" else task

    def template_hash(self, task: str, language: str, profile: InterestProfile | None = None) -> str:
        extra: dict[str, Any] = {}
        if task in ("interest", "company"):
            extra["abstract_tokens"] = self.cfg.score_abstract_tokens
        if task == "interest":
            extra["profile"] = " ".join(self.interests_of(profile).split())  # new interests: new scores
            extra["languages"] = self.reason_languages(language, profile)
            if profile is not None and profile.reader:
                extra["reader"] = profile.reader  # two readers never share an interest answer
        if self.prompt_task(task, language) == "brief":
            extra["field"] = task  # title and summary of one brief answer are two texts
        return template_hash(self.prompt_task(task, language), language, self.params, extra)

    def write(
        self,
        requests: list[WriteRequest],
        on_result: Callable[[int, WriteResult], None] | None = None,
        handlers: Mapping[str, TaskHandler] | None = None,
    ) -> list[WriteResult]:
        """`handlers` answer tasks this backend does not know itself (the styles): they run in the same
        session and queue as every other request, so a whole day shares one bounded concurrency."""
        if not requests:
            return []
        return run_sync(self._write_all(requests, on_result, handlers or {}))

    def write_staged(
        self,
        requests: list[WriteRequest],
        on_result: Callable[[int, WriteResult], None] | None,
        follow: FollowUp,
        handlers: Mapping[str, TaskHandler] | None = None,
    ) -> list[WriteResult]:
        """write(), and `follow`'s requests in the same session and queue once its gate is answered."""
        return run_sync(self._write_all(requests, on_result, handlers or {}, follow))

    # -- transport hooks ------------------------------------------------------------------------------
    async def _call(
        self,
        prompt: Prompt,
        task: str,
        schema: dict[str, Any] | None,
        messages: list[dict[str, str]] | None = None,
    ) -> ChatReply:
        raise NotImplementedError

    def _session(self) -> Any:
        raise NotImplementedError

    def _plan(self, calls: int) -> None:
        """Told how many first-attempt calls a write() makes (for progress)."""

    # -- jobs -----------------------------------------------------------------------------------------
    async def _write_all(
        self,
        requests: list[WriteRequest],
        on_result: Callable[[int, WriteResult], None] | None = None,
        handlers: Mapping[str, TaskHandler] | None = None,
        follow: FollowUp | None = None,
    ) -> list[WriteResult]:
        handlers = handlers or {}
        requests = list(requests)  # follow-ups are appended: indices keep pointing at the same requests
        results: list[WriteResult] = [None] * len(requests)
        jobs = self.plan_jobs(requests, handlers)
        self._plan(len(jobs))
        async with self._session():
            tasks = await self._start_all(jobs, requests, results, handlers, on_result)
            if follow is not None:
                gate = [t for t, job in zip(tasks, jobs, strict=True) if follow.gate.intersection(job.owners)]
                if gate:
                    await asyncio.wait(gate)
                try:
                    extra = await follow.more()
                except BaseException:
                    await asyncio.gather(*tasks)  # what is under way still lands in the store
                    raise
                offset = len(requests)
                requests.extend(extra)
                results.extend([None] * len(extra))
                more_jobs = [job.shifted(offset) for job in self.plan_jobs(extra, handlers)]
                self._plan(len(jobs) + len(more_jobs))
                tasks += await self._start_all(more_jobs, requests, results, handlers, on_result)
            await asyncio.gather(*tasks)
        # A bug in one job must not lose the others' answers: whatever it left unset is failed, retried next run.
        return [
            Declined("failed", "internal error (see log)")
            if r is None and (self.supports(q.task, q.language) or q.task in handlers)
            else r
            for r, q in zip(results, requests, strict=True)
        ]

    async def _start_all(
        self,
        jobs: list[Job],
        requests: list[WriteRequest],
        results: list[WriteResult],
        handlers: Mapping[str, TaskHandler],
        on_result: Callable[[int, WriteResult], None] | None,
    ) -> list[asyncio.Task[None]]:
        """Start `jobs` one at a time, letting the loop run between two: a started job's request goes out
        (its connection opened, its bytes written) while the next job builds its prompt. Started all at
        once, every job of a round would build its prompt before the first byte left (~5-10 ms each)."""
        tasks = []
        for job in jobs:
            tasks.append(self._start(job, requests, results, handlers, on_result))
            await asyncio.sleep(0)
        return tasks

    def _start(
        self,
        job: Job,
        requests: list[WriteRequest],
        results: list[WriteResult],
        handlers: Mapping[str, TaskHandler],
        on_result: Callable[[int, WriteResult], None] | None,
    ) -> asyncio.Task[None]:
        coro: Coroutine[Any, Any, None]
        if job.kind == "batch":
            coro = self._batch(requests, job.papers, results)
        elif job.kind == "panel":
            coro = ask_panel(self, requests, job, results)
        elif job.kind == "brief":
            coro = self._brief(requests, job.by_task, results)
        elif job.kind == "handled":
            coro = self._handled(handlers[job.task], requests, job.owners[0], results)
        else:
            coro = self._single(requests, job.owners, results)
        return asyncio.ensure_future(self._guard(coro, job.owners, results, on_result))

    def plan_jobs(
        self, requests: list[WriteRequest], handlers: Mapping[str, object] | None = None
    ) -> list[Job]:
        """The calls `requests` take, longest answers first (a long answer started last is the day's tail):
        interest papers in batches of `batch_size` (several readers' in shared calls: llm/panel.py), a zh/ja
        title and summary in one brief, everything else one call each. `paperradar run --estimate` prices the same plan."""
        handlers = handlers or {}
        jobs: list[Job] = []
        # (language, reader profile) -> paper id -> request indices
        groups: dict[tuple[str, InterestProfile | None], dict[str, list[int]]] = {}
        briefs: dict[tuple[str, str], dict[str, list[int]]] = {}  # (paper, language) -> task -> indices
        for i, req in enumerate(requests):
            if req.task in handlers:
                jobs.append(Job("handled", req.task, [i]))
            elif not self.supports(req.task, req.language):
                continue
            elif req.task == "interest":
                # One batch asks for one reader's scores in one language; plan_interest may share a call.
                group = groups.setdefault((req.language, req.profile), {})
                group.setdefault(req.paper.arxiv_id, []).append(i)
            elif self.prompt_task(req.task, req.language) == "brief":
                briefs.setdefault((req.paper.arxiv_id, req.language), {}).setdefault(req.task, []).append(i)
            else:
                jobs.append(Job("single", req.task, [i]))
        for by_task in briefs.values():
            jobs.append(
                Job("brief", "brief", [i for owners in by_task.values() for i in owners], by_task=by_task)
            )
        jobs += plan_interest(self, groups)
        return sorted(
            jobs,
            key=lambda job: (
                -expected_output(
                    job.task, len(job.papers) or 1, (len(job.panel) or 1) * (len(self.languages) or 1)
                )
            ),
        )

    async def _guard(
        self,
        job: Coroutine[Any, Any, None],
        owners: list[int],
        results: list[WriteResult],
        on_result: Callable[[int, WriteResult], None] | None,
    ) -> None:
        try:
            await job
        except Exception:
            log.exception("LLM job failed unexpectedly")
        if on_result is not None:
            for i in owners:
                if results[i] is not None:
                    on_result(i, results[i])

    @staticmethod
    async def _handled(
        handler: TaskHandler, requests: list[WriteRequest], index: int, results: list[WriteResult]
    ) -> None:
        results[index] = await handler(requests[index])

    async def _single(
        self, requests: list[WriteRequest], owners: list[int], results: list[WriteResult]
    ) -> None:
        req = requests[owners[0]]
        result = await self._answer_one(req)
        for i in owners:
            results[i] = self._retag(result, requests[i])

    async def _answer_one(self, req: WriteRequest) -> WriteResult:
        task, lang = req.task, req.language
        reasons = self.reason_languages(lang, req.profile) if task == "interest" else []
        interests = self.interests_of(req.profile)
        prompt = render(task, [req.paper], lang, interests, self.cfg.score_abstract_tokens, reasons)
        schema = response_schema(task, prompt.ids, reasons)
        source = req.paper.title if task == "title" else prompt.messages[1]["content"]

        def validate(text: str) -> str:
            if task == "interest":
                good, bad = check_interest(text, prompt.ids, lang, source, reasons)
                if bad:
                    raise AnswerError(next(iter(bad.values())))
                return interest_content(good[prompt.ids[0]])
            return check_text(task, parse_answer(task, text), lang, source)

        try:
            content = await self._ask(prompt, task, schema, validate)
        except CallDeclined as d:
            return Declined(d.reason, d.detail)
        return self._text(req, content)

    async def _ask(
        self, prompt: Prompt, task: str, schema: dict[str, Any] | None, validate: Callable[[str], _T]
    ) -> _T:
        """An answer that passes `validate`, with one repair round-trip; else CallDeclined("failed")."""
        reply = await self._call(prompt, task, schema)
        try:
            return validate(reply.content)
        except AnswerError as exc:
            error = self._problem(reply, exc)
        log.info("LLM %s answer invalid (%s); asking once more", task, error)
        self.usage.repairs += 1
        # The whole answer goes back, so the model can fix the one field that failed; never a cut-off one
        # (a review cut at N characters came back as truncated JSON): an answer that hit the length limit
        # is not repeated, only said to be cut off (roles still alternate for strict chat templates).
        shown = reply.content if reply.finish_reason != "length" else _CUT_OFF.format(n=len(reply.content))
        repair = [
            *prompt.messages,
            {"role": "assistant", "content": shown},
            {"role": "user", "content": _REPAIR.format(error=error)},
        ]
        reply = await self._call(prompt, task, schema, repair)
        try:
            return validate(reply.content)
        except AnswerError as exc:
            raise CallDeclined(
                "invalid", f"invalid answer after one repair: {self._problem(reply, exc)}"
            ) from None

    @staticmethod
    def _problem(reply: ChatReply, exc: AnswerError) -> str:
        if reply.finish_reason == "length":
            return "the answer was cut off at the length limit; answer again, more briefly"
        return str(exc)

    async def _batch(
        self, requests: list[WriteRequest], owners: list[list[int]], results: list[WriteResult]
    ) -> None:
        if len(owners) == 1:
            await self._single(requests, owners[0], results)
            return
        first = [requests[o[0]] for o in owners]
        lang, profile = first[0].language, first[0].profile
        reasons = self.reason_languages(lang, profile)
        prompt = render(
            "interest",
            [r.paper for r in first],
            lang,
            self.interests_of(profile),
            self.cfg.score_abstract_tokens,
            reasons,
        )
        by_id = dict(zip(prompt.ids, owners, strict=True))
        schema = response_schema("interest", prompt.ids, reasons)
        good: dict[str, Any] = {}
        try:
            good, bad = await self._ask(
                prompt,
                "interest",
                schema,
                lambda text: check_interest(text, prompt.ids, lang, prompt.messages[1]["content"], reasons),
            )
        except CallDeclined as d:
            if d.reason not in ("refused", "invalid"):
                # Budget or transport failure: singles would only fail the same way, k times over.
                for o in owners:
                    for i in o:
                        results[i] = Declined(d.reason, d.detail)
                return
            # A content filter may object to one paper only; an unusable answer may be one paper's fault.
            bad = {pid: d.detail for pid in prompt.ids}
        for pid, item in good.items():
            for i in by_id[pid]:
                results[i] = self._text(requests[i], interest_content(item))
        if bad:
            log.info(
                "LLM interest batch: %d of %d papers retried singly (%s)",
                len(bad),
                len(prompt.ids),
                next(iter(bad.values())),
            )
            await asyncio.gather(*(self._single(requests, by_id[pid], results) for pid in bad))

    async def _brief(
        self, requests: list[WriteRequest], by_task: dict[str, list[int]], results: list[WriteResult]
    ) -> None:
        """A title and a summary in one call. A field that stays invalid after the repair is declined on its
        own; the other is kept."""
        req = requests[next(iter(by_task.values()))[0]]
        lang = req.language
        prompt = render("brief", [req.paper], lang)
        source = prompt.messages[1]["content"]
        fields: dict[str, str] = {}  # task -> content, kept from whichever answer got it right

        def validate(text: str) -> dict[str, str]:
            answer = parse_answer("brief", text)
            assert isinstance(answer, BriefAnswer)
            errors = []
            for task, answer_part, src in (
                ("title", TitleAnswer(title=answer.title), req.paper.title),
                ("summary", SummaryAnswer(summary=answer.summary), source),
            ):
                try:
                    fields.setdefault(task, check_text(task, answer_part, lang, src))
                except AnswerError as exc:
                    errors.append(str(exc))
            if errors and any(task not in fields for task in by_task):
                raise AnswerError("; ".join(errors))
            return fields

        try:
            got = await self._ask(prompt, "brief", response_schema("brief"), validate)
        except CallDeclined as d:
            got = fields  # a field right in the first answer stays right
            for task, owners in by_task.items():
                if task not in got:
                    for i in owners:
                        results[i] = Declined(d.reason, d.detail)
        for task, owners in by_task.items():
            if task in got:
                for i in owners:
                    results[i] = self._text(requests[i], got[task])

    # -- results --------------------------------------------------------------------------------------
    def _text(self, req: WriteRequest, content: str) -> GeneratedText:
        return GeneratedText(
            arxiv_id=req.paper.arxiv_id,
            version=req.paper.version,
            task=req.task,
            language=self.text_language(req.task, req.language, req.profile),
            content=content,
            mode=self.name,
            template_hash=self.template_hash(req.task, req.language, req.profile),
            created_at=datetime.now(UTC).replace(microsecond=0),
        )

    def _retag(self, result: WriteResult, req: WriteRequest) -> WriteResult:
        """The same answer for a duplicate request of the same paper (e.g. two versions in one list)."""
        if isinstance(result, GeneratedText) and result.version != req.paper.version:
            return self._text(req, result.content)
        return result
