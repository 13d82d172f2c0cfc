"""`paperradar run --estimate`: the day's model work priced before it is paid for. The day is ranked
without a model (as it would be ranked before the model's scores arrive) and not saved; the requests a run
would send are the ones the store cannot answer already; each planned call's prompt is rendered to count
its input tokens, its answer is sized from llm/estimate.py, and the price comes from [llm.prices].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from paperradar.llm import WriteRequest
from paperradar.llm.chat import ChatBackend
from paperradar.llm.estimate import expected_output
from paperradar.llm.jobs import Job
from paperradar.llm.panel import panel_prompt
from paperradar.llm.prompts import render
from paperradar.pipeline.day import Pipeline
from paperradar.rank.day import rank_day
from paperradar.rank.model_scores import company_requests
from paperradar.rank.muted import split_muted
from paperradar.write.digest_texts import digest_requests
from paperradar.write.styles.day import style_requests
from paperradar.write.styles.tasks import FULLTEXT_STYLES, STYLE_TASKS, StyleBackend, render_prompt

# What a task is called in the estimate's table.
_ROW = {"batch": "interest", "panel": "interest", "brief": "title + summary"}


@dataclass
class TaskEstimate:
    task: str
    calls: int = 0
    stored: int = 0  # texts the store already has: no call
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None


@dataclass
class DayEstimate:
    day: date
    model: str
    papers: int  # the day's pool
    rows: list[TaskEstimate] = field(default_factory=list)
    priced: bool = False  # [llm.prices] has the model
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> TaskEstimate:
        out = TaskEstimate("total", cost=0.0 if self.priced else None)
        for row in self.rows:
            out.calls += row.calls
            out.stored += row.stored
            out.tokens_in += row.tokens_in
            out.tokens_out += row.tokens_out
            if out.cost is not None and row.cost is not None:
                out.cost += row.cost
        return out


def estimate_day(pipe: Pipeline, day: date, reader: str | None = None) -> DayEstimate:
    """The day's model work for every reader of the config (or only `reader`): a text two readers share
    is counted once, as the run asks it once."""
    cfg = pipe.cfg
    backend = pipe.backend
    requests: list[WriteRequest] = []
    pool: set[str] = set()
    for one in pipe.reader_pipes(reader):
        lang, top_n = one.cfg.output.language, one.cfg.output.top_n
        # Author blocks already cached settle companies as the run would; one not fetched yet counts as a
        # company question (an upper bound: the run may settle it from the page and skip the call). Ranked
        # with the interest scores already stored (none on a new day): the same top a run would start from.
        ranked = rank_day(
            one.texts().dry_run(),
            one.rank_settings,
            day,
            ask_companies=False,
            save=False,
            author_blocks=one.author_blocks(),
        )
        pool.update(r.paper.arxiv_id for r in ranked)
        listed = split_muted(ranked)[0]
        # A dropped muted paper is never scored nor written; a demoted one is scored and may be listed.
        shown = {id(r) for r in listed}
        scored = [r for r in ranked if id(r) in shown]
        requests += [WriteRequest(r.paper, "interest", lang, one.rank_settings.profile) for r in scored]
        requests += company_requests(listed[:top_n], lang)
        requests += digest_requests(listed, top_n, one.cfg.languages)
        requests += style_requests(listed, one.cfg.styles, lang)
    out = DayEstimate(day, backend.name, len(pool))
    if not isinstance(backend, ChatBackend):
        out.notes.append(
            "no model is configured ([llm] backend): a run makes no model call and costs nothing"
        )
        return out
    top_n = cfg.output.top_n
    styler = StyleBackend(backend, fulltext_tokens=cfg.styles.fulltext_tokens)
    todo, answered = pipe.texts().with_backend(styler).pending(requests)
    price = cfg.llm.prices.get(backend.name)
    out.priced = price is not None
    rows: dict[str, TaskEstimate] = {}
    for task, counts in answered.counts.items():
        name = "title + summary" if task in ("title", "summary") else task
        rows.setdefault(name, TaskEstimate(name)).stored += counts.cached
    for job in backend.plan_jobs(todo, dict.fromkeys(STYLE_TASKS)):
        name = _ROW.get(job.kind, job.task)
        row = rows.setdefault(name, TaskEstimate(name))
        if job.kind == "panel":  # several readers' reasons in one answer: its prompt counts them
            prompt = panel_prompt(backend, todo, job)
            tokens_in, tokens_out = prompt.est_tokens, expected_output(job.task, prompt.reasons)
        else:
            tokens_in = _input_tokens(
                job, todo, backend, cfg.styles.fulltext and not pipe.offline, cfg.styles.fulltext_tokens
            )
            first = todo[job.owners[0]]
            reasons = backend.reason_languages(first.language, first.profile)
            tokens_out = expected_output(job.task, len(job.papers) or 1, len(reasons))
        row.calls += 1
        row.tokens_in += tokens_in
        row.tokens_out += tokens_out
    for row in rows.values():
        if price is not None:
            row.cost = (row.tokens_in * price.input_per_mtok + row.tokens_out * price.output_per_mtok) / 1e6
    out.rows = sorted(rows.values(), key=lambda r: -r.calls)
    if "interest" in rows and rows["interest"].calls:
        out.notes.append(
            f"the top {top_n} as ranked before the model's scores (they may swap a few papers at the cut)"
        )
    out.notes.append("repairs and retries come on top")
    if not out.priced:
        out.notes.append(f"no price for {backend.name!r}: add [llm.prices.{backend.name}] to see the cost")
    return out


def _input_tokens(
    job: Job, requests: list[WriteRequest], backend: ChatBackend, fulltext: bool, fulltext_tokens: int
) -> int:
    first = requests[job.owners[0]]
    if job.kind == "handled":
        style = first.task.split(":", 1)[1]
        extra = fulltext_tokens if fulltext and style in FULLTEXT_STYLES else 0  # the paper, fitted to it
        return render_prompt(style, first.paper, first.language).est_tokens + extra
    if job.kind == "batch":
        papers = [requests[owners[0]].paper for owners in job.papers]
        return render(
            "interest",
            papers,
            first.language,
            backend.interests_of(first.profile),
            backend.cfg.score_abstract_tokens,
            backend.reason_languages(first.language, first.profile),
        ).est_tokens
    task = backend.prompt_task(first.task, first.language)
    return render(
        task, [first.paper], first.language, backend.interests, backend.cfg.score_abstract_tokens
    ).est_tokens
