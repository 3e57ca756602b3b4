"""Helpers suites share: run tasks concurrently (`--jobs`) and save one trajectory per task."""

from __future__ import annotations

import contextvars
import gc
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from harness.bench.cells import current_recorder
from harness.bench.suite import BenchOptions, Progress
from harness.events import Trajectory

T = TypeVar("T")
R = TypeVar("R")


def map_tasks(fn: Callable[[T], R], items: Iterable[T], *, jobs: int = 1,
              progress: Progress | None = None) -> list[R]:
    """`[fn(item) for item in items]`, up to `jobs` at a time in threads, results in input
    order (so a run's results do not depend on `--jobs`); `progress(done, total)` is called
    as each task finishes. Threads suit agent tasks, which wait on models and subprocesses."""
    todo = list(items)
    done = 0
    lock = threading.Lock()

    def one(item: T) -> R:
        nonlocal done
        result = fn(item)
        with lock:
            done += 1
            if progress:
                progress(done, len(todo))
        return result

    if progress:
        progress(0, len(todo))
    if jobs <= 1 or len(todo) <= 1:
        return [one(item) for item in todo]
    context = contextvars.copy_context()  # what the sweep records, seen by every thread
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda item: context.copy().run(one, item), todo))


def save_trajectory(opts: BenchOptions, name: str, trajectory: Trajectory) -> Path | None:
    """Write `OUT/<name>.jsonl` when the run has an output directory (`/` in `name` makes
    subdirectories; other unusual characters become `_`), and count how the run ended in the
    sweep's record (`run_status` in `results.json`)."""
    if (recorder := current_recorder()) is not None:
        recorder.saw(trajectory)
    if opts.out is None:
        return None
    parts = [re.sub(r"[^A-Za-z0-9.+=_-]+", "_", p).strip("_.") or "_" for p in name.split("/")]
    return trajectory.write(opts.out.joinpath(*parts[:-1], f"{parts[-1]}.jsonl"))


@contextmanager
def frozen_heap() -> Iterator[None]:
    """For a timed suite: what earlier suites left in this process (`harness bench --all`)
    is frozen out of the garbage collector for the block, so that no collection during a
    timed run scans it."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
