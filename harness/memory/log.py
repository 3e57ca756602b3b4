"""The append-only JSONL log of memory events.

Writers hold a file lock (`<file>.lock`, an `flock`) for the whole append and write each
batch of whole lines to an `O_APPEND` descriptor, so processes appending at once never
interleave or lose lines. Readers need no lock for complete lines. A final line without
its newline is either still being written or torn by a writer that died: the reader
tells the two apart by waiting briefly for the lock (writers hold it only while they
write). A line still being written is left for the next read and is no problem; a torn
or corrupt line is a `LineProblem` naming the file and line, and costs only that line.
The log is plain text: one event per line, human-readable and diffable.
"""

from __future__ import annotations

import os
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import ValidationError

from harness.events import LineProblem
from harness.memory.events import (
    ID_PREFIX,
    MemoryEvent,
    dump_memory_event,
    new_id,
    parse_memory_event,
)

TAIL_WAIT_S = 1.0
"""How long a reader waits for the writers' lock before taking a final line without its
newline as still being written (writers hold the lock for milliseconds)."""
TORN = "torn line (no newline at its end, and no writer is writing it)"

Stamp = tuple[int, int, int, int, int]
"""(device, inode, size, mtime_ns, ctime_ns) of the log file: what changes whenever its
content does (ctime cannot be set back by user tools)."""


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
    """Every line that could not be read, the torn final line included."""
    lines: int
    """The number of the last complete line read."""
    more: bool = False
    """True when `max_bytes` stopped the read before the end of the file."""
    checksum: int = 0
    """CRC-32 of the log's bytes up to `end` (extending the `checksum` the read was given
    for the bytes before its `start`)."""
    torn: LineProblem | None = None
    """The final line, when it has no newline and no writer is writing it."""
    pending: bool = False
    """True when a final line without its newline is still being written."""


class MemoryLog:
    """An append-only JSONL file of memory events, guarded by `<file>.lock`."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0):
        self.path = Path(path)
        self.lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout,
                             poll_interval=0.002)
        self.appended: dict[Stamp, Stamp] = {}
        """Stamp after -> stamp before, for appends this object made to an unchanged file:
        what lies before the earlier size is the same bytes (see `grew_by_appends`)."""

    def append(self, events: Iterable[MemoryEvent]) -> list[MemoryEvent]:
        """Append events (assigning fresh ids to those without one) under the lock.

        The batch is written as whole lines to an `O_APPEND` descriptor while the lock is
        held (one `write`, continued if the system writes less); when the last line of the
        file is torn (a writer died mid-line), a newline is written first so the new
        events never merge with it.
        """
        batch = list(events)
        for event in batch:
            if not event.id:
                event.id = new_id(ID_PREFIX[event.kind])
        payload = "".join(dump_memory_event(e) + "\n" for e in batch).encode("utf-8")
        if not payload:
            return batch
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                before = _stamp(os.fstat(fd))
                if self._ends_torn(fd):
                    payload = b"\n" + payload
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view):]
                if len(self.appended) > 1000:
                    self.appended.clear()
                self.appended[_stamp(os.fstat(fd))] = before
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

    def stamp(self) -> Stamp | None:
        """The file's current stamp (None when there is no file)."""
        try:
            return _stamp(self.path.stat())
        except FileNotFoundError:
            return None

    def grew_by_appends(self, since: Stamp, now: Stamp) -> bool:
        """Whether the file went from stamp `since` to `now` only by this object's appends
        (so its first `since` bytes are unchanged and need not be re-read to be trusted)."""
        seen = now
        for _ in range(len(self.appended)):
            seen_before = self.appended.get(seen)
            if seen_before is None:
                return False
            if seen_before == since:
                return True
            seen = seen_before
        return False

    def checksum(self, end: int) -> int:
        """CRC-32 of the file's first `end` bytes (of what there is, when shorter)."""
        crc = 0
        try:
            with self.path.open("rb") as fh:
                while end > 0:
                    block = fh.read(min(end, 1 << 22))
                    if not block:
                        break
                    crc = zlib.crc32(block, crc)
                    end -= len(block)
        except FileNotFoundError:  # no log yet: the checksum of nothing, as for an empty one
            pass
        return crc

    def read(self, start: int = 0, *, first_line: int = 1, warn: bool = True,
             max_bytes: int | None = None, checksum: int = 0) -> LogRead:
        """Read complete lines from byte offset `start` (a line boundary), about
        `max_bytes` of them when given (the line the limit cuts is read to its end).

        Never raises for what the file holds: arbitrary bytes come back as the events of
        the lines that parse and a `LineProblem` for each line that does not (invalid
        UTF-8 or JSON, a wrong field), numbered from `first_line`. A final line without
        its newline is left for the next read (`end` stops before it): it is `pending`
        while a writer holds the lock, else `torn` (and listed in `problems`).
        `checksum` is the CRC-32 of the bytes before `start`; the result extends it.
        """
        try:
            with self.path.open("rb") as fh:
                fh.seek(start)
                data = fh.read(max_bytes if max_bytes else -1)
                if max_bytes and len(data) == max_bytes and not data.endswith(b"\n"):
                    data += fh.readline()
                more = fh.tell() < os.fstat(fh.fileno()).st_size
        except FileNotFoundError:
            return LogRead([], start, [], first_line - 1, checksum=checksum)
        read = LogRead([], start, [], first_line - 1, more, checksum)
        rest = self._parse(data, read)
        if rest and not more:
            self._settle_tail(read)
        if warn:
            for problem in read.problems:
                warnings.warn(f"skipped {problem}", MemoryLogWarning, stacklevel=2)
        return read

    def _parse(self, data: bytes, read: LogRead) -> bytes:
        """Parse the complete lines of `data` into `read`; returns the bytes after the last
        newline (an unfinished line)."""
        *complete, rest = data.split(b"\n")
        for raw in complete:
            read.lines += 1
            read.end += len(raw) + 1
            read.checksum = zlib.crc32(raw + b"\n", read.checksum)
            if not raw.strip():
                continue
            try:
                read.events.append((read.lines, parse_memory_event(raw)))
            except ValidationError as exc:
                read.problems.append(LineProblem(path=str(self.path), line=read.lines,
                                                 error=_describe(exc)))
            except (ValueError, RecursionError) as exc:  # defensive: the parser's own limits
                read.problems.append(LineProblem(path=str(self.path), line=read.lines,
                                                 error=f"unreadable ({exc})"[:300]))
        return rest

    def _settle_tail(self, read: LogRead) -> None:
        """A final line without its newline: wait for the writers' lock, then read what the
        file holds from there on. What is still unfinished while the lock is held was torn
        by a writer that died; a lock held all the while means a writer is still at it."""
        try:
            self.lock.acquire(timeout=TAIL_WAIT_S)
        except Timeout:
            read.pending = True
            return
        except OSError:  # no lock can be taken here (a read-only folder): nobody writes
            pass
        else:
            try:
                with self.path.open("rb") as fh:
                    fh.seek(read.end)
                    data = fh.read()
            finally:
                self.lock.release()
            if self._parse(data, read) == b"":
                return
        read.torn = LineProblem(path=str(self.path), line=read.lines + 1, error=TORN)
        read.problems.append(read.torn)

    def __iter__(self) -> Iterator[MemoryEvent]:
        return (event for _, event in self.read().events)


def _stamp(st: os.stat_result) -> Stamp:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    if err.get("type") == "json_invalid":
        return f"not valid JSON ({err.get('msg', '')})"
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"field '{where}': {err.get('msg', '')}" if where else str(err.get("msg", exc))
