"""The append-only JSONL log of memory events.

Writers hold a file lock for the whole write, so processes appending at once never
interleave or lose lines. Readers need no lock: they read complete lines only, and a
torn or corrupt line is skipped with a warning naming the file and line; nothing else
is lost. The log is plain text: one event per line, human-readable and diffable.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from pydantic import ValidationError

from harness.events import LineProblem
from harness.memory.events import (
    ID_PREFIX,
    MemoryEvent,
    dump_memory_event,
    new_id,
    parse_memory_event,
)


class MemoryLogWarning(UserWarning):
    """A line of a memory log was skipped."""


class MemoryLogError(ValueError):
    """A memory log could not be written or read (the message names the file)."""


@dataclass
class LogRead:
    """Events read from a log, the byte offset just past the last complete line, and the
    lines that could not be read."""

    events: list[tuple[int, MemoryEvent]]
    """(line number, event) pairs in log order."""
    end: int
    problems: list[LineProblem]
    lines: int
    more: bool = False
    """True when `max_bytes` stopped the read before the end of the file."""


class MemoryLog:
    """An append-only JSONL file of memory events, guarded by `<file>.lock`."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0):
        self.path = Path(path)
        self.lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout)

    def append(self, events: Iterable[MemoryEvent]) -> list[MemoryEvent]:
        """Append events (assigning fresh ids to those without one) under the lock.

        Everything is written with one `write` call while the lock is held; when the last
        line of the file is torn (a crashed writer), a newline is written first so the new
        events never merge with it.
        """
        batch = list(events)
        for event in batch:
            if not event.id:
                event.id = new_id(ID_PREFIX[event.kind])
        payload = "".join(dump_memory_event(e) + "\n" for e in batch)
        if not payload:
            return batch
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                if self._ends_torn(fd):
                    payload = "\n" + payload
                os.write(fd, payload.encode("utf-8"))
            finally:
                os.close(fd)
        return batch

    @staticmethod
    def _ends_torn(fd: int) -> bool:
        size = os.fstat(fd).st_size
        return size > 0 and os.pread(fd, 1, size - 1) != b"\n"

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read(self, start: int = 0, *, first_line: int = 1, warn: bool = True,
             max_bytes: int | None = None) -> LogRead:
        """Read complete lines from byte offset `start` (a line boundary), about
        `max_bytes` of them when given (the line the limit cuts is read to its end).

        A final line without its newline may still be being written: it is left for the
        next read (`end` stops before it) and reported as torn.
        """
        events: list[tuple[int, MemoryEvent]] = []
        problems: list[LineProblem] = []
        try:
            with self.path.open("rb") as fh:
                fh.seek(start)
                data = fh.read(max_bytes if max_bytes else -1)
                if max_bytes and len(data) == max_bytes and not data.endswith(b"\n"):
                    data += fh.readline()
                more = fh.tell() < os.fstat(fh.fileno()).st_size
        except FileNotFoundError:
            return LogRead([], start, [], first_line - 1)
        end = start
        lineno = first_line - 1
        for raw in data.splitlines(keepends=True):
            lineno += 1
            if not raw.endswith(b"\n"):
                problems.append(LineProblem(path=str(self.path), line=lineno,
                                            error="torn line (no newline at end of file)"))
                lineno -= 1
                break
            end += len(raw)
            if not raw.strip():
                continue
            try:
                events.append((lineno, parse_memory_event(raw)))
            except ValidationError as exc:
                problems.append(LineProblem(path=str(self.path), line=lineno,
                                            error=_describe(exc)))
        if warn:
            for problem in problems:
                warnings.warn(f"skipped {problem}", MemoryLogWarning, stacklevel=2)
        return LogRead(events, end, problems, lineno, more)

    def __iter__(self) -> Iterator[MemoryEvent]:
        return (event for _, event in self.read().events)


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    if err.get("type") == "json_invalid":
        return f"not valid JSON ({err.get('msg', '')})"
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"field '{where}': {err.get('msg', '')}" if where else str(err.get("msg", exc))
