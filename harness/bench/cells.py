"""The unit of a bench sweep: one cell (ablation cell, repeat, task) and what it produced.

A suite that lists its tasks (`Suite.tasks`) runs one cell per task; any other suite runs as
a single cell (task `*`). Each finished cell is appended to `OUT/sweep.journal` as it finishes,
so that `harness bench --resume OUT` runs only the cells that are missing. The sweep's
fingerprint (`sweep.json`) is what makes two sweeps the same sweep: a resume whose
configuration or data differ is refused, never mixed.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from harness.errors import DataError
from harness.events import TaskStarted, Trajectory

WHOLE_SUITE = "*"
"""The task of the one cell of a suite that does not list its tasks."""

JOURNAL = "sweep.journal"
"""One JSON line a finished cell; not `.jsonl`, which tools read as trajectories."""
MANIFEST = "sweep.json"


class CellKey(BaseModel):
    """Which cell: the ablation cell's label ("base" or e.g. "memory=none"), the repeat
    (0-based) and the suite's task (`*` for a suite run whole)."""

    ablation: str = "base"
    repeat: int = 0
    task: str = WHOLE_SUITE

    @property
    def id(self) -> str:
        return f"{self.ablation}|{self.repeat}|{self.task}"


class CellResult(BaseModel):
    """What one cell produced: the suite's JSON result for it and how its agent runs ended
    (config name -> status -> count), with their tokens and cost."""

    key: CellKey
    result: dict[str, Any]
    runs: dict[str, dict[str, int]] = Field(default_factory=dict)
    errors: list[str] = Field(default_factory=list)
    tokens: int = 0
    cost_usd: float = 0.0


class CellFailed(Exception):
    """A cell raised: which cell, and why. The cells that finished are kept."""

    def __init__(self, key: CellKey, exc: BaseException):
        super().__init__(f"cell {key.id}: {type(exc).__name__}: {exc}")
        self.key = key
        self.__cause__ = exc


# -- what the runs of a cell recorded ------------------------------------------------------
class RunRecorder:
    """Counts the agent runs a cell saves (`harness.bench.tasks.save_trajectory` reports
    each here): how they ended, by config, and their tokens and cost. Thread-safe: a suite
    may save from worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.status: Counter[tuple[str, str]] = Counter()
        self.errors: dict[str, None] = {}
        self.tokens = 0
        self.cost_usd = 0.0

    def saw(self, trajectory: Trajectory) -> None:
        end = trajectory.finished
        if end is None:
            return
        start = trajectory.events[0]
        config = str(start.config.get("name", "")) if isinstance(start, TaskStarted) else ""
        with self._lock:
            self.status[config, end.status] += 1
            if end.status == "error":
                self.errors.setdefault(end.reason[:300])
            self.tokens += end.tokens
            self.cost_usd += end.cost_usd or 0.0

    def runs(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (config, end), n in sorted(self.status.items()):
            out.setdefault(config, {})[end] = n
        return out


_RECORDER: contextvars.ContextVar[RunRecorder | None] = contextvars.ContextVar(
    "harness_bench_recorder", default=None)


@contextmanager
def recording() -> Iterator[RunRecorder]:
    """Record the runs saved in this context (and the threads and tasks it starts)."""
    recorder = RunRecorder()
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)


def current_recorder() -> RunRecorder | None:
    return _RECORDER.get()


# -- the journal ---------------------------------------------------------------------------
class Journal:
    """`OUT/sweep.journal`: one finished cell a line, flushed and synced as it is written, so a
    crash or a kill loses at most the cell being written (whose torn line a resume skips)."""

    def __init__(self, folder: Path):
        self.path = folder / JOURNAL
        self._lock = threading.Lock()
        self._whole = False  # True once the file is known to end with a whole line

    def read(self) -> dict[str, CellResult]:
        """The finished cells by id. A torn last line (the writer was killed) is ignored;
        a bad line anywhere else raises `DataError` naming it."""
        if not self.path.exists():
            return {}
        try:
            lines = self.path.read_bytes().split(b"\n")
        except OSError as exc:
            raise DataError(f"{self.path}: cannot read: {exc}") from exc
        done: dict[str, CellResult] = {}
        last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                cell = CellResult.model_validate_json(line)
            except ValueError as exc:
                if i == last and not self.path.read_bytes().endswith(b"\n"):
                    break  # torn by a kill mid-write: that cell runs again
                raise DataError(f"{self.path} line {i + 1}: not a finished cell "
                                f"({str(exc).splitlines()[0]})") from exc
            done[cell.key.id] = cell
        return done

    def append(self, cell: CellResult) -> None:
        line = cell.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self._whole:
                self._drop_torn_line()
                self._whole = True
            with self.path.open("ab") as fh:
                fh.write(line.encode())
                fh.flush()
                os.fsync(fh.fileno())

    def _drop_torn_line(self) -> None:
        """Cut a line a kill left unfinished (its cell is being run again)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            with self.path.open("r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


# -- the sweep's fingerprint ---------------------------------------------------------------
def fingerprint(fields: dict[str, Any], data: Path | None) -> dict[str, Any]:
    """What decides a sweep's results: its settings and the sha256 of its data (a file, or
    every file of a folder)."""
    return {**json.loads(json.dumps(fields, sort_keys=True, default=str)),
            "data_sha256": digest(data) if data is not None else None}


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        sha.update(str(file.relative_to(path) if file != path else file.name).encode())
        sha.update(b"\0")
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
    return sha.hexdigest()


def check_manifest(folder: Path, expected: dict[str, Any], *, resume: bool) -> None:
    """Start a sweep in `folder`: without `resume`, forget any earlier cells; with it,
    refuse unless the recorded fingerprint is `expected` (naming what changed)."""
    path = folder / MANIFEST
    if resume and path.exists():
        try:
            recorded = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"--resume: {path} is unreadable ({exc}); it is not a sweep "
                            f"this version can resume") from exc
        changed = sorted(k for k in {*recorded, *expected} if recorded.get(k) != expected.get(k))
        if changed:
            detail = "; ".join(f"{k}: was {recorded.get(k)!r}, now {expected.get(k)!r}"
                               for k in changed)
            raise DataError(f"--resume {folder}: this sweep was started with other settings "
                            f"or data ({detail}); resume it with the same command, or start "
                            f"a new one in another folder")
    elif not resume:
        Journal(folder).clear()
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
