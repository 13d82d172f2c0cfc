"""Interest questions of several readers in shared calls (issue 13): a batch of papers scored for up to
`[llm].profiles_per_call` readers' profiles at once, the papers' blocks sent once.

Only the call is shared. Each (paper, reader) answer is stored under the key a single reader's answer has
(`ChatBackend._text`: the reader's profile and languages in the template hash), so a re-run asks nothing and
one reader alone runs exactly as before. A pair the shared answer leaves out or gets wrong is asked the
single-reader way (that reader's batch, then singly), as `_batch` does for a bad paper.

    plan_interest(backend, groups)        the interest calls: batches for one reader, panels for several
    ask_panel(backend, requests, job, r)  one panel call and its fallbacks
    panel_prompt(backend, requests, job)  its prompt, also priced by `paperradar run --estimate`
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from paperradar.llm.client import CallDeclined
from paperradar.llm.estimate import OUTPUT_TOKENS
from paperradar.llm.jobs import Job
from paperradar.llm.prompts import PanelProfile, Prompt, render_panel
from paperradar.llm.schemas import InterestItem, check_panel, interest_content, panel_schema
from paperradar.llm.seam import Declined, InterestProfile, WriteRequest, WriteResult

if TYPE_CHECKING:
    from paperradar.llm.chat import ChatBackend

log = logging.getLogger("paperradar.llm")

# The answer a shared call may be expected to write, in tokens, when the endpoint sets no max_tokens:
# DeepSeek's deepseek-chat answers up to 4K tokens unless asked for more (8K at most), and the llamacpp
# backend's default context (n_ctx 8192) must hold the prompt as well. A panel whose expected answer
# (profiles x papers x reason languages x OUTPUT_TOKENS["interest"]) would pass it takes fewer papers.
DEFAULT_OUTPUT_CAP = 4096
_CAP_PARAMS = ("max_tokens", "max_completion_tokens")

Member = tuple[str, InterestProfile | None]  # (language, profile): whose scores a group of requests wants


def output_cap(backend: ChatBackend) -> int:
    """The most answer tokens a shared call is planned for: the smallest max_tokens the endpoints (or the
    local model's parameters) set, else DEFAULT_OUTPUT_CAP."""
    params: list[Mapping[str, Any]] = [backend.params, *(e.params for e in backend.cfg.endpoints)]
    caps = [int(p[k]) for p in params for k in _CAP_PARAMS if isinstance(p.get(k), int | float) and p[k] > 0]
    return min(caps, default=DEFAULT_OUTPUT_CAP)


def plan_interest(backend: ChatBackend, groups: Mapping[Member, Mapping[str, list[int]]]) -> list[Job]:
    """The interest calls for `groups` ((language, profile) -> paper id -> request indices): one reader's
    papers in batches of `batch_size` as before; with several readers, calls of up to `profiles_per_call`
    profiles over the papers all of them need (a paper only some need goes in a call of just those)."""
    size, per_call = backend.cfg.batch_size, backend.cfg.profiles_per_call
    jobs: list[Job] = []

    def batches(by_id: Mapping[str, list[int]]) -> None:
        owners = list(by_id.values())
        for k in range(0, len(owners), size):
            chunk = owners[k : k + size]
            jobs.append(Job("batch", "interest", [i for o in chunk for i in o], papers=chunk))

    members = list(groups)
    if per_call == 1 or len(members) == 1:
        for by_id in groups.values():
            batches(by_id)
        return jobs
    # Readers who need the same papers go together (a different pool only splits the papers they share).
    members.sort(key=lambda m: sorted(groups[m]))
    cap = output_cap(backend)
    for start in range(0, len(members), per_call):
        team = members[start : start + per_call]
        if len(team) == 1:
            batches(groups[team[0]])
            continue
        # paper id -> the team members (positions) that need it, in order of first appearance
        needs: dict[str, list[int]] = {}
        for n, member in enumerate(team):
            for pid in groups[member]:
                needs.setdefault(pid, []).append(n)
        by_needs: dict[tuple[int, ...], list[str]] = {}
        for pid, needed_by in needs.items():
            by_needs.setdefault(tuple(needed_by), []).append(pid)
        for who, pids in by_needs.items():
            if len(who) == 1:
                batches({pid: groups[team[who[0]]][pid] for pid in pids})
                continue
            reasons = sum(len(backend.reason_languages(*team[n])) for n in who)
            chunk_size = max(1, min(size, cap // (OUTPUT_TOKENS["interest"] * reasons)))
            for k in range(0, len(pids), chunk_size):
                chunk = pids[k : k + chunk_size]
                panel = [[groups[team[n]][pid] for pid in chunk] for n in who]
                papers = [[i for n in who for i in groups[team[n]][pid]] for pid in chunk]
                jobs.append(
                    Job("panel", "interest", [i for p in papers for i in p], papers=papers, panel=panel)
                )
    return jobs


def _profiles(backend: ChatBackend, requests: Sequence[WriteRequest], job: Job) -> list[PanelProfile]:
    firsts = [requests[member[0][0]] for member in job.panel]
    return [
        PanelProfile(
            f"p{n}",
            backend.interests_of(req.profile),
            tuple(backend.reason_languages(req.language, req.profile)),
        )
        for n, req in enumerate(firsts, 1)
    ]


def panel_prompt(backend: ChatBackend, requests: Sequence[WriteRequest], job: Job) -> Prompt:
    """The prompt of a panel job (the run's and the estimate's)."""
    papers = [requests[member[0]].paper for member in job.panel[0]]
    return render_panel(papers, _profiles(backend, requests, job), backend.cfg.score_abstract_tokens)


async def ask_panel(
    backend: ChatBackend, requests: list[WriteRequest], job: Job, results: list[WriteResult]
) -> None:
    """One call for `job`'s papers and profiles; each good (paper, profile) answer lands on that reader's
    requests. A refusal or an unusable answer (after its repair) sends every pair the single-reader way;
    a spent budget or a failed transport declines them all, as `_batch` does (they would fail alike)."""
    profiles = _profiles(backend, requests, job)
    prompt = panel_prompt(backend, requests, job)
    languages = {p.id: p.languages for p in profiles}
    source = prompt.messages[1]["content"]
    schema = panel_schema(prompt.ids, languages)
    pairs = [(pid, p.id) for pid in prompt.ids for p in profiles]
    good: dict[tuple[str, str], InterestItem] = {}
    bad: dict[tuple[str, str], str]
    try:
        good, bad = await backend._ask(
            prompt, "interest", schema, lambda text: check_panel(text, prompt.ids, languages, source)
        )
    except CallDeclined as d:
        if d.reason not in ("refused", "invalid"):
            for member in job.panel:
                for owners in member:
                    for i in owners:
                        results[i] = Declined(d.reason, d.detail)
            return
        bad = dict.fromkeys(pairs, d.detail)
    paper_at = {pid: j for j, pid in enumerate(prompt.ids)}
    member_at = {p.id: n for n, p in enumerate(profiles)}
    for (pid, prof), item in good.items():
        for i in job.panel[member_at[prof]][paper_at[pid]]:
            results[i] = backend._text(requests[i], interest_content(item))
    if not bad:
        return
    log.info(
        "LLM interest panel: %d of %d paper-reader answers asked again per reader (%s)",
        len(bad),
        len(pairs),
        next(iter(bad.values())),
    )
    again: list[list[list[int]]] = [[] for _ in profiles]
    for pid, prof in bad:
        again[member_at[prof]].append(job.panel[member_at[prof]][paper_at[pid]])
    await asyncio.gather(*(backend._batch(requests, owners, results) for owners in again if owners))
