"""Memory in the loop: it records attempts from a run, and a later session's gate and
context know what failed. Also recall, summary and the CLI as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

from harness.agent import Agent
from harness.events import GateWarned, MemoryRecorded
from harness.llm import ScriptedModel
from harness.memory import ProjectMemory
from harness.messages import ModelRequest
from harness.state import Budget

TEST = "python -B -m unittest -q test_calc"  # -B: no stale bytecode between edits
BAD_FIX = {"tool": "edit_file", "args": {"path": "calc.py", "old": "a - b", "new": "a * b"}}
GOOD_FIX = {"tool": "edit_file", "args": {"path": "calc.py", "old": "a - b", "new": "a + b"}}


def make_project(ws):
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ws / "test_calc.py").write_text(
        "import unittest\nfrom calc import add\n\nclass T(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n")


def reset(ws):
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")


def probe(request: ModelRequest):
    """Runs the tests, then tries the multiplication fix unless its context (the memory
    section of the system prompt) says that fix failed, then re-runs the tests."""
    last = request.messages[-1]
    if last.role != "tool":
        return {"tool": "run_shell", "args": {"command": TEST}}
    if last.name == "edit_file":
        return {"tool": "run_shell", "args": {"command": TEST}}
    if "exit code 0" in (last.content or "")[:200]:
        return "tests pass"
    remembered = request.messages[0].content or ""
    return GOOD_FIX if "a * b" in remembered else BAD_FIX


def test_a_failed_fix_is_recorded_and_the_next_session_is_warned_and_skips_it(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    make_project(ws)
    root = ws / ".harness" / "memory"
    # Session 1: the bad fix, a failing test, then the good fix and a passing test.
    script = [{"tool": "run_shell", "args": {"command": TEST}}, BAD_FIX,
              {"tool": "run_shell", "args": {"command": TEST}},
              {"tool": "edit_file", "args": {"path": "calc.py", "old": "a * b", "new": "a - b"}},
              GOOD_FIX, {"tool": "run_shell", "args": {"command": TEST}}, "fixed"]
    first = Agent(ScriptedModel(script), memory=ProjectMemory(root), workspace=ws,
                  budget=Budget(max_steps=10)).run("make test_calc pass")
    assert first.finished.status == "answered"
    assert first.of_type(MemoryRecorded)
    memory = ProjectMemory(root)
    attempts = memory.projection.attempts()
    by_new = {a.action.args["new"]: a.outcome for a in attempts if a.action.tool == "edit_file"}
    assert by_new == {"a * b": "failed", "a + b": "succeeded"}  # the undo is no attempt
    failed = next(a for a in attempts if a.outcome == "failed" and a.action.args["new"] == "a * b")
    assert "AssertionError" in failed.error and failed.provenance  # cites trajectory events
    (issue,) = memory.projection.live("issue")
    assert memory.projection.fixed()[issue.id]  # the passing run closed it
    # Session 2 (a new process would do the same): the gate warns on the bad fix, the
    # context names it, and a probe that reads its context skips it.
    reset(ws)
    assert memory.check(BAD_FIX)[0].cites[0] == failed.id
    assert memory.check(GOOD_FIX) == []
    second = Agent(ScriptedModel(probe), memory=ProjectMemory(root), workspace=ws,
                   budget=Budget(max_steps=10)).run("make test_calc pass")
    calls = [c.arguments.get("new") for e in second.events if e.type == "model_called"
             for c in e.response.tool_calls if c.name == "edit_file"]
    assert calls == ["a + b"]
    assert second.finished.status == "answered" and not second.of_type(GateWarned)


def test_the_loop_records_gate_warnings_when_a_failed_fix_is_repeated(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    make_project(ws)
    root = ws / ".harness" / "memory"
    Agent(ScriptedModel([BAD_FIX, {"tool": "run_shell", "args": {"command": TEST}}, "gave up"]),
          memory=ProjectMemory(root), workspace=ws).run("fix it")
    reset(ws)
    again = Agent(ScriptedModel([BAD_FIX, "done"]), memory=ProjectMemory(root),
                  workspace=ws).run("fix it")
    (warned,) = again.of_type(GateWarned)
    assert warned.tool == "edit_file" and warned.warnings[0].kind == "repeat-failure"


def test_an_edit_undone_before_the_tests_run_is_not_an_attempt(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    make_project(ws)
    root = ws / ".harness" / "memory"
    undo = {"tool": "edit_file", "args": {"path": "calc.py", "old": "a * b", "new": "a - b"}}
    other = {"tool": "edit_file", "args": {"path": "calc.py", "old": "a - b", "new": "b - a"}}
    script = [BAD_FIX, undo, other, {"tool": "run_shell", "args": {"command": TEST}}, "gave up"]
    Agent(ScriptedModel(script), memory=ProjectMemory(root), workspace=ws).run("fix it")
    memory = ProjectMemory(root)
    assert [(a.action.args["new"], a.outcome) for a in memory.projection.attempts()] == [
        ("b - a", "failed")]
    reset(ws)
    assert memory.check(BAD_FIX) == [] and memory.check(other)
    memory.close()


def test_recall_uses_thread_neighbours_and_respects_budget_and_kinds(tmp_path):
    memory = ProjectMemory(tmp_path / "mem")
    turns = ["Alice: did you ever pick a name for the puppy?", "Bob: yes, we call him Biscuit",
             "Alice: lovely. how is work?", "Bob: busy, we ship the compiler release friday"]
    for i, t in enumerate(turns):
        memory.note(t, thread="s1", entities=[t.split(":")[0]], provenance=[f"D1:{i + 1}"])
    memory.fact("release day", "friday")
    hits = memory.recall("what name did they pick for the puppy", k=2)
    assert {h.provenance[0] for h in hits} == {"D1:1", "D1:2"}  # the answer has no query word
    assert [h.kind for h in memory.recall("release friday", k=5, kinds=["fact"])] == ["fact"]
    assert len(memory.recall("release friday puppy work", k=5, budget_tokens=15)) == 1


def test_summary_fits_its_budget_and_leads_with_failed_attempts(tmp_path):
    memory = ProjectMemory(tmp_path / "mem")
    issue = memory.issue("import is slow")
    memory.attempt("lazy import", issue=issue, outcome="failed", error="still slow",
                   action={"tool": "edit_file", "args": {"path": "m.py", "old": "x", "new": "y"}})
    for i in range(30):
        memory.decision(f"decision number {i}", f"rule {i} says to always do thing {i}", ["src/"])
    short = memory.summary(60)
    assert "lazy import" in short and len(short) / 4 <= 60
    assert memory.summary(5000).count("decision number") == 30


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "harness.cli", "memory", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_cli_add_check_search_doctor_rebuild(tmp_path):
    ok = run_cli("add", "fragile", "path=db/0001.sql", "reason=applied in prod", "--json", cwd=tmp_path)
    assert ok.returncode == 0 and json.loads(ok.stdout)["id"].startswith("fr-")
    warned = run_cli("check", "write_file", '{"path": "./db/0001.sql", "content": "x"}', "--json",
                     cwd=tmp_path)
    assert warned.returncode == 1 and json.loads(warned.stdout)[0]["kind"] == "fragile"
    assert run_cli("check", "read_file", '{"path": "db/0001.sql"}', cwd=tmp_path).returncode == 0
    found = run_cli("search", "applied prod", "--json", cwd=tmp_path)
    assert json.loads(found.stdout)[0]["kind"] == "fragile"
    doctor = run_cli("doctor", "--json", cwd=tmp_path)
    assert doctor.returncode == 0 and json.loads(doctor.stdout)["healthy"] is True
    rebuilt = run_cli("rebuild", "--json", cwd=tmp_path)
    assert json.loads(rebuilt.stdout)["events"] == 1
    bad = run_cli("add", "fact", "subject=db", cwd=tmp_path)
    assert bad.returncode == 2 and "claim" in bad.stderr and bad.stdout == ""
