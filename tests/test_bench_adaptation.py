"""The repeater probe and the adaptation suite: a new session repeats the fixes that failed
before unless the harness puts that failure in front of the model."""

import json
import sys

import pytest

from harness.agent import Agent
from harness.bench.runner import comparable
from harness.bench.suite import DataError, read_jsonl
from harness.cli import main
from harness.context import FullHistoryContext
from harness.events import TaskStarted
from harness.memory import NullMemory
from harness.metrics import repeated_failed_fix_count
from harness.probes.repeater import Candidate, RepeaterModel
from harness.state import Budget, ContextSection

TEST = f"{sys.executable} -B -m unittest -q"
FILES = {"calc.py": "def add(a, b):\n    return a - b\n",
         "test_calc.py": "import unittest\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n"
                         "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"}
WRONG = Candidate(path="calc.py", old="a - b", new="a * b")
RIGHT = Candidate(path="calc.py", old="a - b", new="a + b")


def write_project(ws):
    for name, text in FILES.items():
        (ws / name).write_text(text)


class NotesMemory(NullMemory):
    """A memory that only shows fixed notes in the context (the probe's other input)."""

    def __init__(self, text):
        self.text = text

    def context(self, state):
        return ContextSection(name="memory", text=self.text)


def session(ws, memory=None):
    write_project(ws)
    agent = Agent(RepeaterModel([WRONG, RIGHT], TEST), memory=memory, workspace=ws,
                  context=FullHistoryContext(), budget=Budget(max_steps=15))
    return agent.run("make the tests pass", run_id="s")


def edits(trajectory):
    return [e.call.arguments["new"] for e in trajectory if e.type == "tool_requested"
            and e.call.name == "edit_file"]


def test_probe_tries_candidates_in_order_reverting_failures(tmp_path):
    run = session(tmp_path)
    assert edits(run) == ["a * b", "a - b", "a + b"]  # wrong, revert, right
    assert run.finished.status == "answered" and "a + b" in (tmp_path / "calc.py").read_text()


def test_without_memory_a_new_session_repeats_the_failed_fix(tmp_path):
    runs = [session(tmp_path), session(tmp_path)]
    assert edits(runs[1]) == ["a * b", "a - b", "a + b"]
    assert repeated_failed_fix_count(runs) == 1


def test_a_line_saying_the_fix_failed_makes_the_probe_skip_it(tmp_path):
    told = session(tmp_path, NotesMemory("- failed: edit calc.py: replace `a - b` with `a * b`"))
    assert edits(told) == ["a + b"]
    neutral = session(tmp_path, NotesMemory("- tried: edit calc.py: replace `a - b` with `a * b`"))
    assert edits(neutral)[0] == "a * b"  # naming the fix without its failure is not enough


def test_probe_gives_up_when_every_candidate_is_shown_to_fail(tmp_path):
    run = session(tmp_path, NotesMemory("a * b failed\na + b failed too"))
    assert edits(run) == [] and "cannot fix" in run.finished.answer


def write_data(path, **override):
    task = {"id": "calc", "task": "make the tests pass", "test": "{python} -B -m unittest -q",
            "files": FILES, "candidates": [WRONG.model_dump(), RIGHT.model_dump()], **override}
    path.write_text(json.dumps(task) + "\n")
    return path


def test_bad_task_names_the_line_and_field(tmp_path):
    from benchmarks_adaptation import Task

    bad = write_data(tmp_path / "bad.jsonl",
                     candidates=[{"path": "calc.py", "old": "a / b", "new": "a + b"}])
    with pytest.raises(DataError, match=r"bad.jsonl line 1: .*candidates.0.old must occur"):
        read_jsonl(bad, Task)


@pytest.fixture(autouse=True)
def suite_module(monkeypatch):
    from harness.bench.registry import get_suite

    module = sys.modules[type(get_suite("adaptation")).__module__]
    monkeypatch.setitem(sys.modules, "benchmarks_adaptation", module)


def test_suite_memory_and_gate_stop_the_repeat_and_runs_reproduce(tmp_path, capsys):
    data = write_data(tmp_path / "tasks.jsonl")
    results = []
    for out in (tmp_path / "a", tmp_path / "b"):
        assert main(["bench", "adaptation", "--data", str(data), "--out", str(out)]) == 0
        results.append(json.loads((out / "adaptation" / "results.json").read_text()))
    metrics = results[0]["metrics"]
    assert results[0]["config"] == "memory+gate"
    assert metrics["by_variant"]["baseline_no_memory"]["repeated_failed_fix_count"] == 1
    assert metrics["repeated_failed_fix_count"] == 0 and metrics["success"] == 1.0
    assert metrics["steps_to_success"] < metrics["by_variant"]["baseline_no_memory"][
        "steps_to_success"]
    assert comparable(results[0]) == comparable(results[1])
    session2 = tmp_path / "a" / "adaptation" / "memory+gate" / "calc-session2.jsonl"
    from harness.events import Trajectory

    assert Trajectory.read(session2).of_type(TaskStarted)[0].config["memory"] == "project"
