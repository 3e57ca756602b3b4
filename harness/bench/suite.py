"""What a benchmark suite is: options in, one `SuiteResult` out.

A suite is a module in `benchmarks/` that defines `SUITE`, an instance of `Suite`
(or a subclass). The runner finds it by name; adding a suite never touches the runner.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import DataError as DataError  # re-exported: its home until it moved down

T = TypeVar("T", bound=BaseModel)

DATA_ENV = "HARNESS_DATA"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "harness" / "data"


class BenchOptions(BaseModel):
    """Options every suite receives from `harness bench`."""

    model_config = ConfigDict(extra="forbid")

    data: Path | None = None
    out: Path | None = None
    config: str | None = None
    model: str | None = None
    seed: int = 0
    repeat: int = 1
    jobs: int = 1
    full: bool = False
    ablate: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)


class SuiteResult(BaseModel):
    """A suite's figures. `metrics` holds the chosen config's figures at the top level and,
    for suites that compare variants, every variant under `metrics['by_variant'][NAME]`."""

    suite: str
    config: str
    metrics: dict[str, Any]
    cases: int
    model: str | None = None
    seed: int = 0
    rows: list[dict[str, Any]] = Field(default_factory=list)
    series: dict[str, Any] = Field(default_factory=dict)
    data: str | None = None

    def summary(self) -> dict[str, Any]:
        """The `--json` object: suite, config, metrics, cases (and model, seed, data)."""
        return {"suite": self.suite, "config": self.config, "metrics": self.metrics,
                "cases": self.cases, "model": self.model, "seed": self.seed, "data": self.data}


Progress = Callable[[int, int], None]
"""progress(done, total): suites call it as cases finish."""


class Suite:
    """Base class for suites. Subclasses set the class attributes and implement `run`."""

    name: str = ""
    description: str = ""
    configs: tuple[str, ...] = ("default",)
    default_config: str = "default"
    data_path: str | None = None
    """Where the suite's data lives under a data root (e.g. 'gate/dev.jsonl'), or None."""

    def run(self, opts: BenchOptions, progress: Progress) -> SuiteResult:  # pragma: no cover
        raise NotImplementedError(f"suite {self.name} must implement run()")

    def config_name(self, opts: BenchOptions) -> str:
        name = opts.config or self.default_config
        if name not in self.configs:
            raise DataError(f"suite '{self.name}' has no config '{name}'; "
                            f"choose from: {', '.join(self.configs)}")
        return name

    def resolve_data(self, opts: BenchOptions) -> Path:
        """`--data`, then `$HARNESS_DATA/<data_path>`, then a sibling `shared/data`, then the
        download cache. Raises `DataError` saying where it looked."""
        if opts.data is not None:
            if not opts.data.exists():
                raise DataError(f"--data {opts.data}: no such file or directory")
            return opts.data
        if self.data_path is None:
            raise DataError(f"suite '{self.name}' needs --data")
        roots = [Path(os.environ[DATA_ENV])] if os.environ.get(DATA_ENV) else []
        roots += [Path.cwd().parent / "shared" / "data", CACHE_DIR]
        for root in roots:
            candidate = root / self.data_path
            if candidate.exists():
                return candidate
        looked = ", ".join(str(r / self.data_path) for r in roots)
        raise DataError(f"suite '{self.name}': no data found (looked in {looked}); pass --data "
                        f"PATH or set {DATA_ENV}; see the README for how to get the data")


def read_jsonl(path: Path, model: type[T]) -> list[T]:
    """Read a JSONL file of `model` records; a bad record raises `DataError` naming the file,
    the line and the field."""
    records: list[T] = []
    try:
        # a byte order mark may open the file; lines split on "\n" only, as U+2028, U+0085
        # and form feeds may stand unescaped inside JSON strings (json ignores a "\r")
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} line {lineno}: not valid JSON ({exc.msg})") from exc
        except ValidationError as exc:
            raise DataError(f"{path} line {lineno}: {describe_validation(exc)}") from exc
    if not records:
        raise DataError(f"{path}: no records")
    return records


def describe_validation(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    return f"field '{field}': {err['msg']}" if field else err["msg"]
