"""Benchmarks: suites, options, configurations, the runner behind `harness bench`, and the
report."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "ComponentSpec": "harness.bench.config",
    "HarnessConfig": "harness.bench.config",
    "ablate": "harness.bench.config",
    "build_agent": "harness.bench.config",
    "build_component": "harness.bench.config",
    "load_config": "harness.bench.config",
    "resolve_config": "harness.bench.config",
    "available": "harness.bench.registry",
    "get_suite": "harness.bench.registry",
    "CellKey": "harness.bench.cells",
    "CellResult": "harness.bench.cells",
    "LocalExecutor": "harness.bench.executors",
    "RayExecutor": "harness.bench.executors",
    "tool_pool": "harness.bench.executors",
    "BenchRecord": "harness.bench.runner",
    "SweepFailed": "harness.bench.runner",
    "SweepHooks": "harness.bench.executors",
    "run_bench": "harness.bench.runner",
    "write_results": "harness.bench.runner",
    "BenchOptions": "harness.bench.suite",
    "DataError": "harness.bench.suite",
    "Suite": "harness.bench.suite",
    "SuiteResult": "harness.bench.suite",
    "read_jsonl": "harness.bench.suite",
    "map_tasks": "harness.bench.tasks",
    "save_trajectory": "harness.bench.tasks",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.bench.cells import CellKey, CellResult
    from harness.bench.config import (
        ComponentSpec,
        HarnessConfig,
        ablate,
        build_agent,
        build_component,
        load_config,
        resolve_config,
    )
    from harness.bench.executors import LocalExecutor, RayExecutor, SweepHooks, tool_pool
    from harness.bench.registry import available, get_suite
    from harness.bench.runner import BenchRecord, SweepFailed, run_bench, write_results
    from harness.bench.suite import BenchOptions, DataError, Suite, SuiteResult, read_jsonl
    from harness.bench.tasks import map_tasks, save_trajectory
