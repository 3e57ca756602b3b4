"""What a benchmark suite is: options in, one `SuiteResult` out.

A suite is a module in `benchmarks/` that defines `SUITE`, an instance of `Suite`
(or a subclass). The runner finds it by name; adding a suite never touches the runner.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import DataError as DataError  # re-exported: its home until it moved down

if TYPE_CHECKING:
    from harness.llm.connection_pool import ConnectionPool
    from harness.llm.litellm_model import LiteLLMModel

T = TypeVar("T", bound=BaseModel)

DATA_ENV = "HARNESS_DATA"
AUTHORED_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
"""The project's own benchmark data (written for this project, not fetched)."""


class MissingDataError(DataError):
    """A suite's data is nowhere it looked. `dataset`, if any, is the third-party dataset
    that holds it, and `command` the command that fetches it."""

    def __init__(self, message: str, dataset: str | None = None):
        super().__init__(message)
        self.dataset = dataset

    @property
    def command(self) -> str | None:
        return f"harness data get {self.dataset}" if self.dataset else None


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
    cache: Path | None = None
    """`--cache DIR`: real models reply from this response cache when they can."""
    max_connections: int | None = None
    """`--max-connections N`: at most N calls in flight to a real model, shared by every
    run in this process, slowed together by the provider's rate limits."""


MAX_OUTPUT_TOKENS = 2048
"""The most a suite's real model may write in one reply: a weak model that runs on (a
1.5B model wrote 3,000 tokens of one reply here) would otherwise hold a run for minutes."""


def real_model(opts: BenchOptions) -> LiteLLMModel | None:
    """The litellm model `--model` names, answering from `--cache` when one is given; None
    without `--model` (the suite then runs its offline probe). Every suite builds its real
    model here. It samples with seed `opts.seed`, where the provider takes a seed (OpenAI,
    llama.cpp, vLLM; others drop it), so each repeat (seed + r) is its own sample and a
    rerun draws the same ones; `--set temperature=T` sets the temperature (the provider's
    default otherwise). The cache keys each reply by all of that, so it serves each repeat
    its own replies and a rerun all of them."""
    if not opts.model:
        return None
    from harness.llm.litellm_model import LiteLLMModel
    from harness.llm.response_cache import ResponseCache

    sampling: dict[str, Any] = {"seed": opts.seed, "drop_params": True}
    if "temperature" in opts.extra:
        try:
            sampling["temperature"] = float(opts.extra["temperature"])
        except ValueError as exc:
            raise DataError(f"--set temperature={opts.extra['temperature']}: not a number") \
                from exc
    cache = ResponseCache(opts.cache, sample=opts.seed) if opts.cache is not None else None
    return LiteLLMModel(opts.model, response_cache=cache, max_tokens=MAX_OUTPUT_TOKENS,
                        pool=connection_pool(opts), **sampling)


def connection_pool(opts: BenchOptions) -> ConnectionPool | None:
    """The pool shared by every run of `opts.model` in this process (`--max-connections`)."""
    if not opts.model or opts.max_connections is None:
        return None
    from harness.llm.connection_pool import shared_pool

    return shared_pool(opts.model, opts.max_connections)


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


def no_progress(done: int, total: int) -> None:
    """A `Progress` that shows nothing."""


class Suite:
    """Base class for suites. Subclasses set the class attributes and implement `run`, or,
    to have each task run as its own cell (resumed by `--resume`, spread over a cluster by
    `--executor ray`), `tasks`, `run_task` and `summarise`."""

    name: str = ""
    description: str = ""
    configs: tuple[str, ...] = ("default",)
    default_config: str = "default"
    data_path: str | None = None
    """Where the suite's data lives under a data root (e.g. 'gate/dev.jsonl'), or None."""
    authored_path: str | None = None
    """Where it lives under the project's `benchmarks/data/`, if not at `data_path`."""
    dataset: str | None = None
    """The third-party dataset (`harness data get NAME`) that holds the data, if any."""

    def run(self, opts: BenchOptions, progress: Progress) -> SuiteResult:  # pragma: no cover
        raise NotImplementedError(f"suite {self.name} must implement run()")

    def tasks(self, opts: BenchOptions) -> list[str] | None:
        """The names of the suite's tasks, each run as a cell by `run_task`; None (the
        default) runs the whole suite as one cell, by `run`."""
        return None

    async def run_task(self, task: str, opts: BenchOptions) -> dict[str, Any]:  # pragma: no cover
        """Run one task and return its result as JSON-able data, which is journaled and
        given back to `summarise`; save its trajectories with `save_trajectory`."""
        raise NotImplementedError(f"suite {self.name} lists tasks but has no run_task()")

    def summarise(self, opts: BenchOptions,
                  results: list[dict[str, Any]]) -> SuiteResult:  # pragma: no cover
        """The suite's figures from every task's result, in the order of `tasks(opts)`."""
        raise NotImplementedError(f"suite {self.name} lists tasks but has no summarise()")

    def config_name(self, opts: BenchOptions) -> str:
        name = opts.config or self.default_config
        if name not in self.configs:
            raise DataError(f"suite '{self.name}' has no config '{name}'; "
                            f"choose from: {', '.join(self.configs)}")
        return name

    @property
    def fetch_command(self) -> str | None:
        """The command that fetches this suite's third-party data, if it has any."""
        return f"harness data get {self.dataset}" if self.dataset else None

    def data_candidates(self) -> list[Path]:
        """Where the data may be, in lookup order: `$HARNESS_DATA/<data_path>`, the project's
        `benchmarks/data/<authored_path or data_path>`, the download cache, and a sibling
        `../shared/data/<data_path>`."""
        from harness.data.paths import data_home

        if self.data_path is None:
            return []
        candidates = [Path(os.environ[DATA_ENV]) / self.data_path] \
            if os.environ.get(DATA_ENV) else []
        candidates.append(AUTHORED_DIR / (self.authored_path or self.data_path))
        candidates.append(data_home() / self.data_path)
        candidates.append(Path.cwd().parent / "shared" / "data" / self.data_path)
        return list(dict.fromkeys(candidates))  # $HARNESS_DATA is also the download cache

    def resolve_data(self, opts: BenchOptions) -> Path:
        """`--data`, then the first of `data_candidates()` that exists. Raises
        `MissingDataError` saying where it looked and which command fetches the data; a
        download that was interrupted is named as such, not used."""
        if opts.data is not None:
            if not opts.data.exists():
                raise DataError(f"--data {opts.data}: no such file or directory")
            return opts.data
        if self.data_path is None:
            raise DataError(f"suite '{self.name}' needs --data")
        interrupted = None
        for candidate in self.data_candidates():
            if self._interrupted(candidate):
                interrupted = interrupted or self._interrupted(candidate)
            elif candidate.exists():
                return candidate
        raise self.missing_data(f"the download in {interrupted} is incomplete" if interrupted
                                else "no data found")

    def missing_data(self, what: str = "no data found") -> MissingDataError:
        """The error for data found nowhere: where it looked, and the one command to run."""
        looked = ", ".join(map(str, self.data_candidates()))
        todo = f"fetch it with `{self.fetch_command}`" if self.fetch_command else \
            f"pass --data PATH or set {DATA_ENV}"
        return MissingDataError(f"suite '{self.name}': {what}; {todo} (looked in {looked})",
                                self.dataset)

    def _interrupted(self, candidate: Path) -> Path | None:
        """The dataset folder holding `candidate`, if a download into it did not finish."""
        from harness.data.paths import INCOMPLETE_MARKER

        if self.dataset is None or self.data_path is None:
            return None
        depth = len(Path(self.data_path).parts)
        folder = candidate.parents[depth - 2] if depth > 1 else candidate  # ROOT/NAME
        return folder if (folder / INCOMPLETE_MARKER).exists() else None


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
