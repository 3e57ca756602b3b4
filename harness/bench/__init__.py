"""Benchmarks: suites, options, configurations, the runner behind `harness bench`, and the
report."""

from harness.bench.config import (
    ComponentSpec,
    HarnessConfig,
    ablate,
    build_agent,
    build_component,
    load_config,
    resolve_config,
)
from harness.bench.registry import available, get_suite
from harness.bench.runner import BenchRecord, run_bench, write_results
from harness.bench.suite import BenchOptions, DataError, Suite, SuiteResult, read_jsonl
from harness.bench.tasks import map_tasks, save_trajectory

__all__ = ["BenchOptions", "BenchRecord", "ComponentSpec", "DataError", "HarnessConfig", "Suite",
           "SuiteResult", "ablate", "available", "build_agent", "build_component", "get_suite",
           "load_config", "map_tasks", "read_jsonl", "resolve_config", "run_bench",
           "save_trajectory", "write_results"]
