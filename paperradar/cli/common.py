"""What every verb shares: the consoles, the per-invocation state (config, store), the date type, the
shared options (--date, --refresh) and the day a verb works on."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from paperradar.config import Config, load_config
from paperradar.errors import DataError
from paperradar.store import Store

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(value: object) -> Text:
    """Paper text for the terminal: never rich markup ('[/red]' in an author list is a name, not a tag),
    never control characters (an ESC sequence in a title must not retitle or recolour the terminal)."""
    return Text(_CONTROL.sub("", str(value)))


ARXIV_FIRST_DAY = date(1991, 8, 14)  # arXiv's first announcements (hep-th, August 1991)


class DateType(click.ParamType):  # type: ignore[type-arg]  # click 8.3 made ParamType generic; 8.1 is not
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            day = value
        else:
            try:
                day = date.fromisoformat(str(value))
            except ValueError:
                self.fail(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-02-10", param, ctx)
        # Days far outside arXiv's range overflow date arithmetic downstream (listing-day estimates,
        # time zones); they are a usage error, said at once (exit 2).
        last = date.today() + timedelta(days=366)
        if not ARXIV_FIRST_DAY <= day <= last:
            self.fail(f"{day} is outside arXiv's range ({ARXIV_FIRST_DAY} … {last})", param, ctx)
        return day


DATE = DateType()


class State:
    def __init__(self, config_path: str | None, debug: bool, quiet: bool):
        self.config_path = config_path
        self.debug = debug
        self.quiet = quiet
        self._cfg: Config | None = None
        self.reader: str | None = None  # --reader NAME: the verb works for that reader of the config

    @property
    def root_cfg(self) -> Config:
        """The config file as written: with [[readers]], the defaults every reader inherits."""
        if self._cfg is None:
            self._cfg = load_config(self.config_path)
        return self._cfg

    @property
    def cfg(self) -> Config:
        """The config of the reader the verb works for: --reader NAME's, else the file's first reader
        ("default" for a file without [[readers]], which is the file itself)."""
        root = self.root_cfg
        return root.for_reader(self.reader or root.reader_names()[0])

    def store(self) -> Store:
        return Store(self.cfg.db_path, reader=self.cfg.reader_name)

    def writer(self) -> Store:
        """The store for a command that writes (fetch, import, rank, write, publish, export): it queues behind
        a running `paperradar run` instead of racing it and paying for the same LLM answers twice."""
        store = Store(self.cfg.db_path, reader=self.cfg.reader_name)
        verb = click.get_current_context().command_path.partition(" ")[2] or "?"
        store.acquire_lock(wait=self.cfg.store.lock_wait, verb=verb)
        return store

    @contextlib.contextmanager
    def progress(self) -> Iterator[Any]:
        """A callback drawing one rich bar per pipeline step (quiet or non-terminal: nothing drawn)."""
        if self.quiet or not err.is_terminal:
            yield None
            return
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            tasks: dict[str, Any] = {}

            def report(step: str, done: int, total: int | None, detail: str = "") -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total, detail=detail)
                bar.update(tasks[step], completed=done, total=total, detail=detail)

            yield report


pass_state = click.make_pass_decorator(State)


def date_option(help: str = "Announcement day (default: the latest stored).") -> Callable[[F], F]:
    return click.option("--date", "day", type=DATE, help=help)


def reader_option(
    help: str = "The reader of the config this is for (default: the first).",
) -> Callable[[F], F]:
    """--reader NAME: set on the State before the verb runs (an unknown name fails with the known ones)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        state = ctx.find_object(State)
        if value is not None and state is not None:
            state.reader = value
        return value

    return click.option("--reader", metavar="NAME", help=help, callback=remember, expose_value=False)


def refresh_option(help: str) -> Callable[[F], F]:
    return click.option("--refresh", multiple=True, metavar="TASK", help=help)


def resolve_day(store: Store, day: date | None) -> date:
    if day is not None:
        return day
    days = store.announcement_days()
    if not days:
        raise DataError(
            "the store holds no announcements yet",
            hint="run `paperradar fetch` or `paperradar import FILE` first",
        )
    return days[-1]
