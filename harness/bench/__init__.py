"""Benchmarks: suites, options, results and the runner behind `harness bench`."""

from harness.bench.registry import available, get_suite
from harness.bench.suite import BenchOptions, DataError, Suite, SuiteResult, read_jsonl

__all__ = ["BenchOptions", "DataError", "Suite", "SuiteResult", "available", "get_suite",
           "read_jsonl"]
