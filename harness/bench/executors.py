"""Where a sweep's cells run: here, as asyncio tasks (`LocalExecutor`), or as Ray tasks on a
local or existing cluster (`RayExecutor`). Both take the same `CellJob`s and report each
finished cell the same way, so a sweep's `results.json` does not depend on where it ran.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from harness.bench.cells import WHOLE_SUITE, CellFailed, CellKey, CellResult, recording
from harness.bench.suite import BenchOptions, Progress, no_progress
from harness.errors import DataError

MAX_RUN_ERRORS = 5


class CellJob(BaseModel):
    """One cell to run: the suite (by name), which cell, and the options it runs with."""

    suite: str
    key: CellKey
    opts: BenchOptions


class SweepHooks:
    """What a sweep reports as its cells are planned, start, finish and fail; each does
    nothing here. `harness.bench.progress.SweepDisplay` draws them."""

    def planned(self, suite: str, total: int, done: int) -> None:
        """`total` cells of `suite`, `done` of them already journaled."""

    def started(self, job: CellJob) -> None:
        """A cell began (under Ray: was submitted)."""

    def finished(self, cell: CellResult) -> None:
        """A cell finished, with what it produced."""

    def failed(self, job: CellJob, error: CellFailed) -> None:
        """A cell raised."""

    def tick(self, job: CellJob) -> Progress:
        """The progress callback of a suite run whole, as one cell."""
        return no_progress


async def run_job(job: CellJob, tick: Progress | None = None) -> CellResult:
    """Run one cell here and return what it produced, as the journal will hold it. Without
    an output folder the cell writes into a temporary one, removed after."""
    if job.opts.out is None:
        with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
            opts = job.opts.model_copy(update={"out": Path(tmp)})
            return await run_job(job.model_copy(update={"opts": opts}), tick)
    from harness.bench.registry import get_suite

    suite = get_suite(job.suite)
    with recording() as runs:
        if job.key.task == WHOLE_SUITE:
            done = await asyncio.to_thread(suite.run, job.opts, tick or no_progress)
            result = done.model_dump(mode="json")
        else:
            result = await suite.run_task(job.key.task, job.opts)
    return CellResult(key=job.key, result=json.loads(json.dumps(result, default=str)),
                      runs=runs.runs(), errors=list(runs.errors)[:MAX_RUN_ERRORS],
                      tokens=runs.tokens, cost_usd=round(runs.cost_usd, 8))


class Executor(Protocol):
    name: str

    async def run(self, jobs: Iterable[CellJob], hooks: SweepHooks) -> None:
        """Run every job, reporting each through `hooks`; a failed cell does not stop the
        others."""


class LocalExecutor:
    """Cells as asyncio tasks in this process, at most `jobs` at a time. Agent runs wait
    on their models without blocking each other; their tools run in `tool_pool()`."""

    name = "local"

    def __init__(self, jobs: int = 1):
        self.jobs = max(1, jobs)

    async def run(self, jobs: Iterable[CellJob], hooks: SweepHooks) -> None:
        queue = iter(jobs)

        async def worker() -> None:
            for job in queue:  # shared: each job is taken by exactly one worker
                hooks.started(job)
                try:
                    cell = await run_job(job, hooks.tick(job))
                except Exception as exc:
                    hooks.failed(job, CellFailed(job.key, exc))
                    continue
                hooks.finished(cell)

        await asyncio.gather(*(worker() for _ in range(self.jobs)))


_TOOL_POOL: ThreadPoolExecutor | None = None


def tool_pool() -> ThreadPoolExecutor:
    """The bounded thread pool in which bench runs' tools and checks run, off the event
    loop (`Agent(tool_executor=tool_pool())`); one a process."""
    global _TOOL_POOL
    if _TOOL_POOL is None:
        _TOOL_POOL = ThreadPoolExecutor(max_workers=min(32, 4 * (os.cpu_count() or 1)),
                                        thread_name_prefix="harness-tool")
    return _TOOL_POOL


# -- Ray -------------------------------------------------------------------------------------
FORWARDED_ENV = ("HARNESS_", "LITELLM_", "OPENAI_", "ANTHROPIC_", "GEMINI_", "PATH")
"""Environment variables a Ray worker gets from the driver (by prefix): where suites and data
are, and the model's endpoint and key."""


class RayExecutor:
    """Cells as Ray tasks on the cluster at `address`, or on a local one started here with
    `workers` CPUs. A cell takes `cell_cpus` of a CPU: 1 for a cell that computes, less
    (0.1: ten a CPU) for cells that mostly wait on a model. Each worker writes its cell's
    trajectories to a temporary folder of its own and returns them, and the driver writes
    them under OUT, so workers need no shared disk. A worker that dies has its cell retried
    (`max_retries`); a cell that raises is reported failed, not retried."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None,
                 cell_cpus: float = 1.0, max_retries: int = 3, window: int | None = None):
        self.address, self.workers, self.cell_cpus = address, workers, cell_cpus
        self.max_retries, self.window = max_retries, window

    async def run(self, jobs: Iterable[CellJob], hooks: SweepHooks) -> None:
        ray = import_ray()
        self.connect()
        remote = ray.remote(num_cpus=self.cell_cpus, max_retries=self.max_retries)(
            run_job_remote)
        slots = ray.cluster_resources().get("CPU", 1) / self.cell_cpus
        window = self.window or 2 * int(slots) + 8  # queued, so no worker waits on the driver
        pending: dict[Any, CellJob] = {}
        queue = iter(jobs)
        while True:
            while len(pending) < window and (job := next(queue, None)) is not None:
                hooks.started(job)
                pending[remote.remote(job.model_dump_json())] = job
            if not pending:
                return
            ready = await asyncio.to_thread(_ready, ray, list(pending))
            for ref in ready:
                job = pending.pop(ref)
                try:
                    payload, files = await asyncio.to_thread(ray.get, ref)
                except Exception as exc:  # the cell raised, or its worker died too often
                    hooks.failed(job, CellFailed(job.key, _cause(exc)))
                    continue
                _write_files(job.opts.out, files)
                hooks.finished(CellResult.model_validate_json(payload))

    def connect(self) -> None:
        """Join the cluster at `address`, or start a local one (once a process)."""
        ray = import_ray()
        if ray.is_initialized():
            return
        env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV)}
        options: dict[str, Any] = {"runtime_env": {"env_vars": env}, "log_to_driver": False,
                                   "include_dashboard": False}
        if self.address:
            ray.init(address=self.address, **options)
        else:
            ray.init(address="local", num_cpus=self.workers or os.cpu_count() or 1,
                     _node_ip_address="127.0.0.1", object_store_memory=128 << 20, **options)


def _ready(ray: Any, refs: list[Any]) -> list[Any]:
    """The finished ones of `refs`: waits for one, then takes every other already done."""
    first, rest = ray.wait(refs, num_returns=1)
    more, _ = ray.wait(rest, num_returns=len(rest), timeout=0) if rest else ([], [])
    return [*first, *more]


def run_job_remote(job_json: str) -> tuple[str, dict[str, bytes]]:
    """A Ray task: run one cell on this worker, its output in a temporary folder; return
    the cell and the files it wrote (path under the cell's folder -> bytes)."""
    job = CellJob.model_validate_json(job_json)
    with tempfile.TemporaryDirectory(prefix="harness-cell-") as tmp:
        job = job.model_copy(update={"opts": job.opts.model_copy(update={"out": Path(tmp)})})
        cell = asyncio.run(run_job(job))
        files = {str(p.relative_to(tmp)): p.read_bytes()
                 for p in sorted(Path(tmp).rglob("*")) if p.is_file()}
    return cell.model_dump_json(), files


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise DataError("--executor ray needs Ray: pip install 'harness[ray]'") from exc
    return ray


def _write_files(out: Path | None, files: dict[str, bytes]) -> None:
    if out is None:
        return
    for rel, data in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)


def _cause(exc: BaseException) -> BaseException:
    """The cell's own exception inside Ray's wrapper, when Ray kept it."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc

