"""Runs a suite over an ablation grid and repeats, and writes `results.json`.

One `BenchRecord` per suite run: the base configuration's figures at the top of `metrics`,
each ablation cell under `metrics['ablations'][CELL]` with its difference from the base.
"""

from __future__ import annotations

import itertools
import json
import platform
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from harness.bench.registry import get_suite
from harness.bench.suite import BenchOptions, DataError, Progress, SuiteResult
from harness.events import (
    VOLATILE_FIELDS,
    TaskFinished,
    TaskStarted,
    TrajectoryError,
    parse_event,
    without_keys,
)

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
    return get_suite(name).run(opts, progress or (lambda done, total: None))


def ablation_cells(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the ablated values; the first cell is the base (no change)."""
    keys = list(grid)
    combos = itertools.product(*[[None, *values] for values in grid.values()])
    return [{k: v for k, v in zip(keys, combo, strict=True) if v is not None} for combo in combos]


def cell_name(cell: dict[str, str]) -> str:
    return "+".join(f"{k}={v}" for k, v in cell.items()) or "base"


ProgressFactory = Callable[[str], Progress]


def run_bench(name: str, opts: BenchOptions, grid: dict[str, list[str]] | None = None,
              progress: ProgressFactory | None = None) -> BenchRecord:
    """Run suite `name` for every ablation cell and repeat; the base cell runs first."""
    suite = get_suite(name)
    grid = grid or {}
    _check_ablatable(suite, grid)
    start = time.perf_counter()
    cells = ablation_cells(grid)
    # A suite with `handles_repeat` (e.g. timing medians) gets --repeat itself, in one run.
    repeat = 1 if getattr(suite, "handles_repeat", False) else max(1, opts.repeat)
    results: dict[str, list[SuiteResult]] = {}
    status: Counter[tuple[str, str]] = Counter()
    errors: dict[str, None] = {}
    for cell in cells:
        label = cell_name(cell)
        runs = []
        for r in range(repeat):
            out = _out_dir(opts.out, label, r, repeat)
            cell_opts = opts.model_copy(update={
                "ablate": {**opts.ablate, **cell}, "seed": opts.seed + r, "out": out,
                "repeat": opts.repeat if repeat == 1 else 1})
            tick = progress(f"{name} {label}" + (f" #{r + 1}" if repeat > 1 else "")) \
                if progress else (lambda done, total: None)
            runs.append(_run_cell(suite, cell_opts, tick, status, errors))
        results[label] = runs
    base = results["base"]
    record = BenchRecord(
        suite=name, config=base[0].config, composition=_composition(suite, opts),
        model=opts.model, seed=opts.seed, repeat=max(1, opts.repeat), data=base[0].data,
        cases=base[0].cases, metrics=_combine(base), rows=_rows(base),
        series=base[0].series, versions=versions(), run_status=_by_config(status),
        run_errors=list(errors)[:MAX_RUN_ERRORS])
    if len(cells) > 1:
        record.metrics["ablations"] = {
            label: {"metrics": (m := _scalars(_combine(runs))),
                    "delta": _delta(m, _scalars(record.metrics))}
            for label, runs in results.items() if label != "base"}
    record.timings = {"elapsed_s": round(time.perf_counter() - start, 3),
                      "finished_at": time.time()}
    return record


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
def _run_cell(suite: Any, opts: BenchOptions, tick: Progress, status: Counter[tuple[str, str]],
              errors: dict[str, None]) -> SuiteResult:
    """`suite.run(opts, tick)`, counting how the runs it saved ended into `status` and
    `errors`. Without `--out` the trajectories go to a temporary folder, read and removed."""
    started = time.time()
    if opts.out is not None:
        result = suite.run(opts, tick)
        _count_outcomes(opts.out, started, status, errors)
        return result
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        result = suite.run(opts.model_copy(update={"out": Path(tmp)}), tick)
        _count_outcomes(Path(tmp), 0.0, status, errors)
    return result


def _count_outcomes(out: Path, since: float, status: Counter[tuple[str, str]],
                    errors: dict[str, None]) -> None:
    """Count each trajectory written under `out` since `since` by (config, end status)."""
    for path in sorted(out.rglob("*.jsonl")):
        try:
            if path.stat().st_mtime < since - 1:
                continue
            first, last = _end_events(path)
        except (OSError, TrajectoryError):
            continue
        if isinstance(first, TaskStarted) and isinstance(last, TaskFinished):
            status[str(first.config.get("name", "")), last.status] += 1
            if last.status == "error":
                errors.setdefault(last.reason[:300])


def _end_events(path: Path) -> tuple[Any, Any]:
    """The events on the first and the last line of a JSONL file (read from its ends)."""
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - (1 << 16)))
        lines = fh.read().splitlines()
    if not first.strip() or not lines:
        return None, None
    return parse_event(first), parse_event(lines[-1])


def _by_config(status: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (config, end), n in sorted(status.items()):
        out.setdefault(config, {})[end] = n
    return out


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
