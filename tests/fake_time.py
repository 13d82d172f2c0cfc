"""`FakeTime`: a clock and a sleep for clients that take them (PoliteClient's sleep=/clock=), so tests see
every wait the client asks for without spending it."""

from __future__ import annotations


class FakeTime:
    """A clock that only moves when the client sleeps: waits are recorded, never spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
