"""The memory log: concurrent writers, torn and corrupt lines, round-trips, determinism."""

from __future__ import annotations

import json
import multiprocessing
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.memory import (
    Attempt,
    Fact,
    MemoryLog,
    MemoryLogWarning,
    Note,
    ProjectMemory,
    parse_memory_event,
)
from harness.memory.events import Fragile, Issue, ProjectDecision, RecordedAction, Supersede


def _writer(path: str, tag: str, n: int) -> None:
    log = MemoryLog(path)
    for i in range(n):
        log.append([Note(text=f"{tag} note {i} " + "x" * 300, provenance=[f"{tag}:{i}"])])


def test_two_processes_appending_at_once_lose_nothing_and_never_interleave(tmp_path):
    path = str(tmp_path / "events.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, tag, 150)) for tag in ("p", "q")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == 300
    events = [parse_memory_event(line) for line in lines]  # every line is whole JSON
    assert len({e.id for e in events}) == 300
    for tag in ("p", "q"):
        mine = [int(e.provenance[0].split(":")[1]) for e in events if e.provenance[0][0] == tag]
        assert mine == list(range(150))


def test_a_torn_last_line_is_skipped_with_a_warning_and_the_next_append_is_clean(tmp_path):
    memory = ProjectMemory(tmp_path / "mem")
    first = memory.note("the cache is warmed at boot")
    with open(memory.log.path, "a") as fh:
        fh.write('{"kind": "note", "text": "half a li')  # a writer crashed mid-line
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read = memory.log.read()
    assert [e.id for _, e in read.events] == [first]
    assert read.problems and read.problems[0].line == 2 and "torn" in read.problems[0].error
    assert any(issubclass(w.category, MemoryLogWarning) for w in caught)
    second = memory.note("deploys happen on tuesdays")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = memory.log.read()
    assert [e.id for _, e in read.events] == [first, second]
    assert read.problems[0].line == 2 and "JSON" in read.problems[0].error


def test_a_corrupt_line_in_the_middle_costs_only_that_line(tmp_path):
    log = MemoryLog(tmp_path / "events.jsonl")
    log.append([Note(text="one")])
    with open(log.path, "a") as fh:
        fh.write('{"kind": "fact", "subject": "db"}\n')  # no claim
    log.append([Note(text="three")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = log.read()
    assert [e.text for _, e in read.events] == ["one", "three"]
    assert read.problems[0].line == 2 and "claim" in read.problems[0].error


def test_rebuilding_the_projection_twice_is_byte_identical(tmp_path):
    memory = ProjectMemory(tmp_path / "mem")
    memory.issue("login fails", ["auth.py"])
    memory.attempt("strip spaces", action={"tool": "edit_file", "args": {
        "path": "auth.py", "old": "a", "new": "b"}}, outcome="failed", error="E")
    memory.fact("db", "postgres")
    memory.fact("db", "sqlite")
    memory.decision("no orm", "do not import sqlalchemy", ["src/"])
    incremental = memory.projection.to_json()
    first = memory.rebuild()["state"].read_bytes()
    second = memory.rebuild()["state"].read_bytes()
    assert first == second == incremental.encode()
    fresh = ProjectMemory(tmp_path / "mem")  # another process, from the persisted index
    assert fresh.projection.to_json().encode() == first


def test_a_newer_fact_supersedes_and_disagreeing_facts_are_a_contradiction(tmp_path):
    memory = ProjectMemory(tmp_path / "mem")
    old = memory.fact("primary database", "PostgreSQL 14")
    other = memory.fact("Primary database", "MySQL 8")
    report = memory.hygiene()
    assert [sorted(c.facts) for c in report.open_contradictions] == [sorted([old, other])]
    new = memory.fact("primary database", "PostgreSQL 16", supersede=True)
    report = memory.hygiene()
    assert report.open_contradictions == [] and report.stale_served_rate == 0.0
    served = [r.id for r in memory.recall("primary database", k=5)]
    assert served == [new]
    assert old in memory.projection.retired and other in memory.projection.retired
    assert [e.id for e in memory.events() if e.kind == "fact"] == [old, other, new]


def test_duplicates_are_merged_on_write_not_stored_twice(tmp_path):
    memory = ProjectMemory(tmp_path / "mem")
    a = memory.note("The staging deploy needs the VPN to be up first")
    assert memory.note("the staging deploy needs the VPN to be up first!") == a
    assert memory.note("The staging deploy needs the VPN to be up first, really") == a
    assert memory.note("The production deploy runs from CI only") != a
    assert memory.hygiene().duplicate_rate == 0.0
    assert len(memory.events()) == 2


def test_forgotten_items_stay_in_the_log_but_are_not_served(tmp_path):
    memory = ProjectMemory(tmp_path / "mem")
    keep = memory.note("backups run nightly at two")
    drop = memory.note("backups run weekly on sunday")
    memory.forget(drop, "wrong")
    assert [r.id for r in memory.recall("when do backups run", k=5)] == [keep]
    assert drop in {e.id for e in memory.events()}


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
paths = st.from_regex(r"[a-z]{1,8}(/[a-z_]{1,8}){0,3}\.py", fullmatch=True)
events = st.one_of(
    st.builds(Note, text=texts, thread=texts, entities=st.lists(texts, max_size=3)),
    st.builds(Fact, subject=texts, claim=texts),
    st.builds(Issue, title=texts, files=st.lists(paths, max_size=3)),
    st.builds(Fragile, path=paths, reason=texts),
    st.builds(ProjectDecision, title=texts, rule=texts, files=st.lists(paths, max_size=2)),
    st.builds(Supersede, old=texts, new=texts, reason=texts),
    st.builds(Attempt, approach=texts, error=texts,
              outcome=st.sampled_from(["failed", "succeeded", "pending"]),
              action=st.builds(RecordedAction, tool=st.sampled_from(["edit_file", "run_shell"]),
                               args=st.dictionaries(st.sampled_from(["path", "old", "new"]),
                                                    texts, max_size=3))),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(events, min_size=1, max_size=8))
def test_events_round_trip_through_the_log(tmp_path_factory, batch):
    log = MemoryLog(tmp_path_factory.mktemp("log") / "events.jsonl")
    written = log.append(batch)
    read = log.read()
    assert read.problems == []
    assert [e for _, e in read.events] == written
    lines = log.path.read_text(encoding="utf-8").split("\n")  # only \n ends a log line
    assert lines[-1] == "" and all(json.loads(line) for line in lines[:-1])
