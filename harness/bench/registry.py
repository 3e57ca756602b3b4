"""Finds suites: every `benchmarks/*.py` module that defines `SUITE`."""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from pathlib import Path

from harness.bench.suite import DataError, Suite

SUITES_ENV = "HARNESS_BENCHMARKS"


def suite_dirs() -> list[Path]:
    """`$HARNESS_BENCHMARKS` (os.pathsep-separated) then the project's `benchmarks/`."""
    dirs = [Path(p) for p in os.environ.get(SUITES_ENV, "").split(os.pathsep) if p]
    dirs.append(Path(__file__).resolve().parents[2] / "benchmarks")
    return [d for d in dirs if d.is_dir()]


@cache
def _load(path: Path) -> Suite | None:
    spec = importlib.util.spec_from_file_location(f"harness_benchmarks.{path.stem}", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    suite = getattr(module, "SUITE", None)
    return suite if isinstance(suite, Suite) else None


def available() -> dict[str, Path]:
    """Suite name -> module path, without importing the modules."""
    found: dict[str, Path] = {}
    for d in reversed(suite_dirs()):
        for path in sorted(d.glob("*.py")):
            if not path.name.startswith("_"):
                found[path.stem.replace("_", "-")] = path
    return dict(sorted(found.items()))


def get_suite(name: str) -> Suite:
    paths = available()
    if name not in paths:
        raise DataError(f"unknown suite '{name}'; available: {', '.join(paths) or 'none'}")
    suite = _load(paths[name])
    if suite is None:
        raise DataError(f"{paths[name]}: defines no SUITE")
    return suite
