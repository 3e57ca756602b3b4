"""The live display of a sweep: one rich bar per suite with cells done, failed and running,
model calls in flight, tokens and cost so far, and the time left."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.bench.cells import CellFailed, CellResult
from harness.bench.executors import CellJob, SweepHooks
from harness.bench.suite import Progress


class SweepDisplay(SweepHooks):
    """`SweepHooks` drawing a rich `Progress`. A suite run whole is one cell; its own
    progress (cases done) moves the bar within it."""

    def __init__(self, progress: Any):
        self.progress = progress
        self._lock = threading.Lock()
        self._task: Any = None
        self.n_total = self.n_done = self.n_failed = self.n_running = self.tokens = 0
        self.cost_usd = 0.0

    def planned(self, suite: str, total: int, done: int) -> None:
        self.n_total, self.n_done = total, done
        self.n_failed = self.n_running = self.tokens = 0
        self.cost_usd = 0.0
        self._task = self.progress.add_task(suite, total=total, completed=done,
                                            stats=self._stats())

    def started(self, job: CellJob) -> None:
        with self._lock:
            self.n_running += 1
        self._draw()

    def finished(self, cell: CellResult) -> None:
        with self._lock:
            self.n_running -= 1
            self.n_done += 1
            self.tokens += cell.tokens
            self.cost_usd += cell.cost_usd
        self._draw()

    def failed(self, job: CellJob, error: CellFailed) -> None:
        with self._lock:
            self.n_running -= 1
            self.n_failed += 1
        self._draw()

    def tick(self, job: CellJob) -> Progress:
        def within(done: int, total: int) -> None:  # a whole suite's cases, as one cell
            if self._task is not None and self.n_total == 1 and total:
                self.progress.update(self._task, completed=done / total)
        return within

    def _stats(self) -> str:
        from harness.llm.connection_pool import in_flight

        cost = f" · ${self.cost_usd:.4f}" if self.cost_usd else ""
        return (f"failed {self.n_failed} · running {self.n_running} · calls in flight "
                f"{in_flight()} · {self.tokens:,} tokens{cost}")

    def _draw(self) -> None:
        if self._task is not None:
            self.progress.update(self._task, completed=self.n_done + self.n_failed,
                                 stats=self._stats())


@contextmanager
def sweep_display(console: Any) -> Iterator[SweepDisplay]:
    """A `SweepDisplay` on `console`, shown only on a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), "cells", "{task.fields[stats]}", TimeElapsedColumn(),
                  "ETA", TimeRemainingColumn(), console=console, transient=True,
                  disable=not console.is_terminal, refresh_per_second=4) as progress:
        yield SweepDisplay(progress)
