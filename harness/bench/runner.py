"""Runs a suite over an ablation grid and repeats, and writes `results.json`.

One `BenchRecord` per suite run: the base configuration's figures at the top of `metrics`,
each ablation cell under `metrics['ablations'][CELL]` with its difference from the base.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import platform
import statistics
import time
from collections import Counter
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from harness.bench.cells import (
    WHOLE_SUITE,
    CellFailed,
    CellKey,
    CellResult,
    Journal,
    check_manifest,
    fingerprint,
)
from harness.bench.executors import CellJob, Executor, LocalExecutor, SweepHooks
from harness.bench.registry import get_suite
from harness.bench.suite import BenchOptions, DataError, Progress, SuiteResult, no_progress
from harness.events import VOLATILE_FIELDS, without_keys

TIMING_FIELDS = frozenset({*VOLATILE_FIELDS, "timings", "elapsed_s", "finished_at",
                           "model_s", "tools_s", "wall_s", "run_errors"})
"""Keys of a results file that legitimately differ between two runs of the same command
(`run_errors` quote the runs' own reasons, which may name temporary paths)."""


class BenchRecord(BaseModel):
    """What one `harness bench SUITE` run produced; `OUT/SUITE/results.json` is its JSON.

    `metrics` holds the base config's figures (the mean over repeats), `metrics['ablations']`
    each ablation cell's figures and their `delta` from the base; `rows` holds per-task rows
    (with `repeat` and `cell` when there are several); `timings` are the only fields that
    differ between two offline runs of the same command."""

    suite: str
    config: str
    composition: dict[str, Any] | None = None
    model: str | None = None
    seed: int = 0
    repeat: int = 1
    data: str | None = None
    cases: int = 0
    metrics: dict[str, Any] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    series: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    run_status: dict[str, dict[str, int]] = Field(default_factory=dict)
    """How the suite's agent runs ended, over every cell and repeat, by the name of the
    config they ran (`TaskStarted.config['name']`, "" if none): status -> count. Read from
    the trajectories; empty for a suite that runs no agent."""
    run_errors: list[str] = Field(default_factory=list)
    """The distinct reasons runs ended in `error` (at most `MAX_RUN_ERRORS`)."""

    def all_runs_died(self) -> str | None:
        """Which configs' agent runs all ended in error, and why, or None: such figures
        measure nothing, and `harness bench` exits non-zero on them."""
        dead = {name or "(unnamed)": sum(counts.values())
                for name, counts in self.run_status.items()
                if counts and counts.get("error", 0) == sum(counts.values())}
        if not dead:
            return None
        why = self.run_errors[0] if self.run_errors else "no reason recorded"
        configs = ", ".join(f"config {name} ({n} runs)" for name, n in dead.items())
        return f"every run of {configs} ended in error: {why}"

    def summary(self) -> dict[str, Any]:
        """The `--json` object for this suite."""
        return {"suite": self.suite, "config": self.config, "metrics": self.metrics,
                "cases": self.cases, "model": self.model, "seed": self.seed,
                "repeat": self.repeat, "data": self.data}


MAX_RUN_ERRORS = 5
T = TypeVar("T")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("harness", "litellm", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_suite(name: str, opts: BenchOptions, progress: Progress | None = None) -> SuiteResult:
    """One plain run of a suite (no grid, no repeats)."""
    return get_suite(name).run(opts, progress or no_progress)


def ablation_cells(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the ablated values; the first cell is the base (no change)."""
    keys = list(grid)
    combos = itertools.product(*[[None, *values] for values in grid.values()])
    return [{k: v for k, v in zip(keys, combo, strict=True) if v is not None} for combo in combos]


def cell_name(cell: dict[str, str]) -> str:
    return "+".join(f"{k}={v}" for k, v in cell.items()) or "base"


class SweepFailed(RuntimeError):
    """Some cells of a sweep raised; the ones that finished are kept in OUT."""


def run_bench(name: str, opts: BenchOptions, grid: dict[str, list[str]] | None = None,
              hooks: SweepHooks | None = None, *, executor: Executor | None = None,
              resume: bool = False) -> BenchRecord:
    """Run suite `name` for every ablation cell and repeat, one cell per task (or one for a
    suite run whole), on `executor` (here, `--jobs` at a time, by default). With `opts.out`,
    each finished cell is journaled in it as it finishes; `resume` runs only the cells the
    journal lacks, after checking that the sweep's settings and data are unchanged."""
    suite = get_suite(name)
    grid = grid or {}
    _check_ablatable(suite, grid)
    start = time.perf_counter()
    # A suite with `handles_repeat` (e.g. timing medians) gets --repeat itself, in one run.
    repeat = 1 if getattr(suite, "handles_repeat", False) else max(1, opts.repeat)
    plans = [(cell_name(cell), r, opts.model_copy(update={
                "ablate": {**opts.ablate, **cell}, "seed": opts.seed + r,
                "out": _out_dir(opts.out, cell_name(cell), r, repeat),
                "repeat": opts.repeat if repeat == 1 else 1}))
             for cell in ablation_cells(grid) for r in range(repeat)]
    tasks = {(label, r): suite.tasks(cell_opts) for label, r, cell_opts in plans}
    jobs = [CellJob(suite=name, key=CellKey(ablation=label, repeat=r, task=task), opts=cell_opts)
            for label, r, cell_opts in plans for task in tasks[label, r] or [WHOLE_SUITE]]
    journal = Journal(opts.out) if opts.out is not None else None
    done: dict[str, CellResult] = {}
    if journal is not None and opts.out is not None:
        check_manifest(opts.out, _fingerprint(suite, opts, grid), resume=resume)
        done = journal.read() if resume else {}
    record = _Journaling(journal, done, hooks or SweepHooks())

    todo = [job for job in jobs if job.key.id not in done]
    record.hooks.planned(name, len(jobs), len(jobs) - len(todo))
    run_async((executor or LocalExecutor(opts.jobs)).run(todo, record))
    if failures := record.failures:
        if isinstance(failures[0].__cause__, DataError):
            raise failures[0].__cause__  # the suite's data or options, not one cell, are wrong
        where = f"; the {len(done)} finished cells are in {opts.out}: rerun with --resume " \
                f"{opts.out} to run only the others" if opts.out is not None else ""
        raise SweepFailed(f"{name}: {len(failures)} of {len(jobs)} cells failed; first: "
                          f"{failures[0]}{where}") from failures[0].__cause__
    results = {(label, r): _suite_result(suite, cell_opts, tasks[label, r], label, r, done)
               for label, r, cell_opts in plans}
    runs = [done[job.key.id] for job in jobs]
    base = [results["base", r] for r in range(repeat)]
    bench = BenchRecord(
        suite=name, config=base[0].config, composition=_composition(suite, opts),
        model=opts.model, seed=opts.seed, repeat=max(1, opts.repeat), data=base[0].data,
        cases=base[0].cases, metrics=_combine(base), rows=_rows(base),
        series=base[0].series, versions=versions(), run_status=_run_status(runs),
        run_errors=list(dict.fromkeys(e for c in runs for e in c.errors))[:MAX_RUN_ERRORS])
    labels = list(dict.fromkeys(label for label, _, _ in plans))
    if len(labels) > 1:
        bench.metrics["ablations"] = {
            label: {"metrics": (m := _scalars(_combine([results[label, r]
                                                        for r in range(repeat)]))),
                    "delta": _delta(m, _scalars(bench.metrics))}
            for label in labels if label != "base"}
    bench.timings = {"elapsed_s": round(time.perf_counter() - start, 3),
                     "finished_at": time.time()}
    return bench


class _Journaling(SweepHooks):
    """Journals each finished cell (and keeps it in `done`), collects failures, and passes
    everything on to the display's hooks."""

    def __init__(self, journal: Journal | None, done: dict[str, CellResult], hooks: SweepHooks):
        self.journal, self.done, self.hooks = journal, done, hooks
        self.failures: list[CellFailed] = []

    def started(self, job: CellJob) -> None:
        self.hooks.started(job)

    def finished(self, cell: CellResult) -> None:
        if self.journal is not None:
            self.journal.append(cell)
        self.done[cell.key.id] = cell
        self.hooks.finished(cell)

    def failed(self, job: CellJob, error: CellFailed) -> None:
        self.failures.append(error)
        self.hooks.failed(job, error)

    def tick(self, job: CellJob) -> Progress:
        return self.hooks.tick(job)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, in a thread of its own when an
    event loop is already running here (a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="harness-bench") as pool:
        return pool.submit(asyncio.run, coro).result()


def write_results(record: BenchRecord, out: Path) -> Path:
    """Write `out/results.json`."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    path.write_text(json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True,
                               default=str) + "\n")
    return path


def comparable(payload: Any) -> Any:
    """A results payload without its timing fields, for reproducibility checks."""
    return without_keys(payload, TIMING_FIELDS)


# -- helpers ----------------------------------------------------------------------------------
def _suite_result(suite: Any, opts: BenchOptions, tasks: list[str] | None, label: str,
                  r: int, done: dict[str, CellResult]) -> SuiteResult:
    """One ablation cell's and repeat's figures, from its journaled cells."""
    if tasks is None:
        return SuiteResult.model_validate(done[CellKey(ablation=label, repeat=r).id].result)
    return suite.summarise(opts, [done[CellKey(ablation=label, repeat=r, task=t).id].result
                                  for t in tasks])


def _run_status(cells: list[CellResult]) -> dict[str, dict[str, int]]:
    status: Counter[tuple[str, str]] = Counter()
    for cell in cells:
        for config, ends in cell.runs.items():
            for end, n in ends.items():
                status[config, end] += n
    out: dict[str, dict[str, int]] = {}
    for (config, end), n in sorted(status.items()):
        out.setdefault(config, {})[end] = n
    return out


def _fingerprint(suite: Any, opts: BenchOptions, grid: dict[str, list[str]]) -> dict[str, Any]:
    """The settings and data that decide a sweep's results (not where or how fast it runs)."""
    try:
        data = suite.resolve_data(opts)
    except DataError:  # no data; or missing, which the suite reports when it runs
        data = None
    fields = opts.model_dump(mode="json", exclude={"out", "jobs", "max_connections", "cache"})
    return fingerprint({"suite": suite.name, **fields, "grid": grid,
                        "composition": _composition(suite, opts)}, data)


def _check_ablatable(suite: Any, grid: dict[str, list[str]]) -> None:
    allowed = getattr(suite, "ablatable", None)
    if allowed is None or not grid:
        return
    for key in grid:
        if key.split(".")[0] not in allowed and key not in allowed:
            raise DataError(f"--ablate {key}: suite '{suite.name}' cannot ablate '{key}'; "
                            f"it can ablate: {', '.join(allowed) or 'nothing'}")


def _composition(suite: Any, opts: BenchOptions) -> dict[str, Any] | None:
    named = getattr(suite, "harness_configs", None)
    if named is None:
        return None
    from harness.bench.config import resolve_config

    return resolve_config(opts, named, suite.default_config).model_dump(mode="json")


def _out_dir(out: Path | None, label: str, r: int, repeat: int) -> Path | None:
    if out is None:
        return None
    path = out if label == "base" else out / "ablations" / label
    return path / f"repeat-{r + 1}" if repeat > 1 else path


def _combine(runs: list[SuiteResult]) -> dict[str, Any]:
    if len(runs) == 1:
        return dict(runs[0].metrics)
    metrics = _mean([r.metrics for r in runs])
    metrics["repeat_stdev"] = {k: statistics.stdev(float(r.metrics[k]) for r in runs)
                               for k, v in _scalars(runs[0].metrics).items()
                               if all(_is_number(r.metrics.get(k)) for r in runs)}
    return metrics


def _mean(values: list[Any]) -> Any:
    if all(_is_number(v) for v in values):
        return statistics.fmean(float(v) for v in values)
    if all(isinstance(v, dict) for v in values):
        keys = dict.fromkeys(k for v in values for k in v)
        return {k: _mean([v[k] for v in values if k in v]) for k in keys}
    return values[0]


def _rows(runs: list[SuiteResult]) -> list[dict[str, Any]]:
    if len(runs) == 1:
        return list(runs[0].rows)
    return [{**row, "repeat": r + 1} for r, run in enumerate(runs) for row in run.rows]


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if _is_number(v)}


def _delta(cell: dict[str, float], base: dict[str, float]) -> dict[str, float]:
    return {k: float(cell[k]) - float(base[k]) for k in cell if k in base}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float)  # bools too: the mean of `success` is a rate
