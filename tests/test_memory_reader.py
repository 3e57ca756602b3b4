"""The memory log reader over arbitrary bytes: events plus problems naming lines, never an
undocumented exception, and the same answer however the file is read in chunks."""

from __future__ import annotations

import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.memory import MemoryLog, Note
from harness.memory.events import dump_memory_event

GOOD = [dump_memory_event(Note(id=f"n-{i}", text=f"note {i}")).encode() for i in range(4)]
lines = st.one_of(
    st.sampled_from(GOOD),
    st.binary(max_size=40),
    st.text(max_size=30).map(str.encode),
    st.sampled_from([b"", b"   ", b"\r", b"{", b"[1]", b"null", b'{"kind": "note"}',
                     b'{"kind": "fact", "subject": "db"}', b"\xff\xfe", b"[" * 5000,
                     GOOD[0][:-5], GOOD[1] + b"\r"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(lines, max_size=12), newline_at_end=st.booleans(),
       chunk=st.integers(min_value=1, max_value=200))
def test_any_bytes_read_as_events_and_problems_naming_lines(tmp_path_factory, body, newline_at_end,
                                                            chunk):
    data = b"\n".join(body) + (b"\n" if newline_at_end and body else b"")
    log = MemoryLog(tmp_path_factory.mktemp("log") / "events.jsonl")
    log.path.write_bytes(data)
    read = log.read(warn=False)

    physical = data.split(b"\n")
    complete, tail = physical[:-1], physical[-1]
    assert read.end == len(data) - len(tail) and read.lines == len(complete)
    assert read.checksum == zlib.crc32(data[:read.end])
    event_lines = [n for n, _ in read.events]
    problem_lines = [p.line for p in read.problems]
    assert not set(event_lines) & set(problem_lines)
    for n, raw in enumerate(complete, 1):  # each complete line is an event, a problem or blank
        assert (n in event_lines) + (n in problem_lines) + (not raw.strip()) == 1
        if raw in GOOD:
            assert dict(read.events)[n].id == f"n-{GOOD.index(raw)}"
    if tail:  # a final line without its newline, and no writer: named as torn
        assert read.torn is not None and read.torn.line == len(complete) + 1
        assert read.problems[-1] == read.torn and "torn" in read.torn.error
    else:
        assert read.torn is None
    assert all(p.path == str(log.path) for p in read.problems)

    # Read in small chunks (as the index catches up): the same events and problems.
    events, problems, offset, line = [], [], 0, 1
    while True:
        part = log.read(offset, first_line=line, warn=False, max_bytes=chunk)
        events += part.events
        problems += part.problems
        offset, line = part.end, part.lines + 1
        if not part.more:
            break
    assert [(n, e.id) for n, e in events] == [(n, e.id) for n, e in read.events]
    assert problems == read.problems
