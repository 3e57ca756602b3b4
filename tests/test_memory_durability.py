"""Memory that remembers what is wrong with it: unreadable lines are named on every open
and by `doctor` until fixed; an edited or merged log is re-read; concurrent writers never
produce a false torn line; a writer killed mid-append loses nothing recorded before."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import warnings

from harness.memory import MemoryLog, MemoryLogWarning, Note, ProjectMemory, parse_memory_event


def opened(root) -> tuple[ProjectMemory, list[str]]:
    """A freshly opened memory and the warnings its opening raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        memory = ProjectMemory(root, record=False)
    return memory, [str(w.message) for w in caught if issubclass(w.category, MemoryLogWarning)]


def doctor(ws) -> tuple[int, dict, str]:
    done = subprocess.run([sys.executable, "-m", "harness.cli", "memory", "doctor", "--json"],
                          cwd=ws, capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout), done.stderr


def test_a_corrupt_line_is_named_on_every_open_and_by_doctor_until_it_is_fixed(tmp_path):
    root = tmp_path / ".harness" / "memory"
    memory = ProjectMemory(root, record=False)
    memory.note("the cache is warmed at boot")
    with open(memory.log.path, "a") as fh:
        fh.write('{"kind": "fact", "subject": "db"}\n')  # no claim
    memory.note("deploys happen on tuesdays")
    memory.close()
    for _ in range(2):  # not once: every time
        again, named = opened(root)
        assert len(named) == 1 and f"{again.log.path} line 2" in named[0] and "claim" in named[0]
        assert [p.line for p in again.hygiene().log_problems] == [2]
        again.close()
        code, report, stderr = doctor(tmp_path)
        assert code == 1 and report["healthy"] is False
        assert [(p["line"], p["path"].endswith("events.jsonl")) for p in report["log_problems"]] \
            == [(2, True)]
        assert "events.jsonl line 2" in stderr
    lines = (root / "events.jsonl").read_text().splitlines()
    (root / "events.jsonl").write_text("\n".join([lines[0], lines[2]]) + "\n")  # fixed
    fixed, named = opened(root)
    assert named == [] and fixed.problems == [] and fixed.hygiene().healthy
    assert sorted(e.text for e in fixed.events()) == ["deploys happen on tuesdays",
                                                     "the cache is warmed at boot"]
    fixed.close()
    code, report, _ = doctor(tmp_path)
    assert code == 0 and report["healthy"] is True


def test_a_line_merged_into_the_middle_of_the_log_is_indexed(tmp_path):
    memory = ProjectMemory(tmp_path, record=False)
    memory.note("alpha: the api is versioned in the path")
    memory.note("gamma: the queue retries three times")
    memory.close()
    path = tmp_path / "events.jsonl"
    first, second = path.read_text().splitlines()
    merged = Note(text="beta: staging shares the production database")
    path.write_text("\n".join([first, merged.model_dump_json(), second]) + "\n")  # git merge
    again = ProjectMemory(tmp_path, record=False)
    assert [r.text for r in again.recall("staging production database", k=1)] == \
        [merged.text]
    assert again.index.count() == 3 and again.problems == []
    again.close()


def test_an_edit_that_keeps_the_length_or_a_truncation_is_noticed(tmp_path):
    memory = ProjectMemory(tmp_path, record=False)
    memory.note("the host is alpha")
    memory.note("the port is 8080")
    path = tmp_path / "events.jsonl"
    path.write_text(path.read_text().replace("8080", "9090"))  # same length, new content
    memory.sync()
    assert [r.text for r in memory.recall("port", k=1)] == ["the port is 9090"]
    path.write_text(path.read_text().splitlines()[0] + "\n")  # truncated to one line
    memory.sync()
    assert memory.index.count() == 1 and memory.recall("port", k=1) == []
    memory.close()


def _writer(path: str, tag: str, n: int) -> None:
    log = MemoryLog(path)
    for i in range(n):  # large lines, so that a reader often meets one half written
        log.append([Note(text=f"{tag} note {i} " + "x" * (i % 4) * 600_000,
                         provenance=[f"{tag}:{i}"]) for _ in range(1 + i % 2)])


def test_concurrent_writers_never_make_a_reader_see_a_torn_line(tmp_path):
    path = tmp_path / "events.jsonl"
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(str(path), tag, 24)) for tag in "pqr"]
    for w in writers:
        w.start()
    memory = ProjectMemory(tmp_path, record=False)
    reads = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryLogWarning)  # a warning here is a false problem
        while any(w.is_alive() for w in writers) or reads < 5:
            offset = memory.index.offset
            read = memory.log.read(offset)
            assert read.problems == []
            memory.sync()
            assert memory.problems == []
            reads += 1
    for w in writers:
        w.join(60)
        assert w.exitcode == 0
    memory.sync()
    events = [parse_memory_event(line) for line in path.read_bytes().splitlines()]
    expected = sum(1 + i % 2 for i in range(24))
    for tag in "pqr":  # nothing lost, nothing interleaved, each writer's order kept
        mine = [int(e.provenance[0].split(":")[1]) for e in events if e.provenance[0][0] == tag]
        assert mine == sorted(mine) and len(mine) == expected
    assert memory.index.count() == len(events) == 3 * expected and memory.problems == []
    memory.close()


SLOW_WRITER = """
import os, sys
from harness.memory import MemoryLog, Note
log = MemoryLog(sys.argv[1])
line = (Note(id="n-slow", text="written in two parts").model_dump_json() + "\\n").encode()
with log.lock:  # as `append` does, with a pause in the middle of the line
    fd = os.open(log.path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, line[:20])
    print("half", flush=True)
    sys.stdin.readline()
    os.write(fd, line[20:])
    os.close(fd)
"""


def test_a_line_still_being_written_is_pending_not_torn(tmp_path):
    memory = ProjectMemory(tmp_path, record=False)
    first = memory.note("written before")
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(memory.log.path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "half\n"
        with warnings.catch_warnings():
            warnings.simplefilter("error", MemoryLogWarning)
            read = memory.log.read()
            assert read.pending and read.torn is None and read.problems == []
            assert [e.id for _, e in read.events] == [first]
            memory.sync()
            assert memory.problems == []
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
        assert writer.wait(30) == 0
    finally:
        writer.kill()
    memory.sync()
    assert [e.id for e in memory.events()] == [first, "n-slow"] and memory.problems == []
    assert memory.index.count() == 2


KILLED_WRITER = """
import sys
from harness.memory import MemoryLog, Note
MemoryLog(sys.argv[1]).append([Note(text="y" * int(sys.argv[2]))])
"""


def _kill_mid_append(path, size: int) -> bool:
    """Start a writer of one huge line and SIGKILL it once it has begun writing; whether
    the log then ends mid-line."""
    before = path.stat().st_size
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), str(size)])
    deadline = time.monotonic() + 60
    while path.stat().st_size == before and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    return not path.read_bytes().endswith(b"\n")


def test_a_writer_killed_mid_append_loses_nothing_and_the_torn_tail_is_named_until_fixed(tmp_path):
    root = tmp_path / ".harness" / "memory"
    memory = ProjectMemory(root, record=False)
    kept = [memory.note(f"record {i} is kept: topic{i}") for i in range(3)]
    memory.close()
    path = root / "events.jsonl"
    good = path.read_bytes()
    assert any(_kill_mid_append(path, size) for size in (1 << 27, 1 << 28, 1 << 28)), \
        "the writer always finished before it was killed"
    assert path.read_bytes().startswith(good)
    for _ in range(2):  # named on every open
        again, named = opened(root)
        assert len(named) == 1 and "line 4" in named[0] and "torn" in named[0]
        assert [e.id for e in again.events()] == kept
        assert [p.line for p in again.problems] == [4]
        again.close()
        code, report, _ = doctor(tmp_path)
        assert code == 1 and report["healthy"] is False
        assert [p["line"] for p in report["log_problems"]] == [4]
    after = ProjectMemory(root, record=False)  # a later write never merges with the tail
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MemoryLogWarning)
        later = after.note("written after the crash")
    assert [e.id for e in after.events()] == [*kept, later]
    assert [p.line for p in after.problems] == [4] and "JSON" in after.problems[0].error
    after.close()
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:3] + lines[4:]))  # the user removes the torn line
    fixed, named = opened(root)
    assert named == [] and fixed.problems == [] and [e.id for e in fixed.events()] == [*kept, later]
    assert [r.id for r in fixed.recall("topic1 kept", k=1)] == [kept[1]]
    fixed.close()
