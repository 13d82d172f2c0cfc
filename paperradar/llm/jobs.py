"""A planned model call (`Job`): what `ChatBackend.plan_jobs` makes of a write's requests and what
`paperradar run --estimate` prices. Its own module so the call planners (chat.py, panel.py) share it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Job:
    """One planned call: `owners` are the request indices it answers."""

    kind: str  # batch (interest) | panel (interest, several readers) | brief | single | handled (a style)
    task: str  # the request task, or "brief"
    owners: list[int]
    papers: list[list[int]] = field(default_factory=list)  # batch, panel: request indices per paper
    by_task: dict[str, list[int]] = field(default_factory=dict)  # brief: title / summary -> indices
    # panel: per reader (profile), per paper (as in `papers`), that reader's request indices
    panel: list[list[list[int]]] = field(default_factory=list)

    def shifted(self, offset: int) -> Job:
        """The same call, its request indices moved by `offset` (follow-ups appended after the first)."""
        return Job(
            self.kind,
            self.task,
            [i + offset for i in self.owners],
            [[i + offset for i in paper] for paper in self.papers],
            {task: [i + offset for i in owners] for task, owners in self.by_task.items()},
            [[[i + offset for i in paper] for paper in member] for member in self.panel],
        )
