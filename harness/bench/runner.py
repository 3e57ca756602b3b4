"""Runs suites and writes their results: `results.json` and, with `--json`, one object a line."""

from __future__ import annotations

import json
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.bench.registry import get_suite
from harness.bench.suite import BenchOptions, Progress, SuiteResult


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("harness", "litellm", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_suite(name: str, opts: BenchOptions, progress: Progress | None = None) -> SuiteResult:
    suite = get_suite(name)
    return suite.run(opts, progress or (lambda done, total: None))


def write_results(result: SuiteResult, out: Path, elapsed_s: float) -> Path:
    """Write `OUT/results.json` (one file per suite run: `OUT/<suite>/results.json`)."""
    out.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {**result.model_dump(mode="json"), "versions": versions(),
                               "elapsed_s": round(elapsed_s, 3), "finished_at": time.time()}
    path = out / "results.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    return path
