"""The loop guard: a run that repeats itself or learns nothing is told once, then stopped."""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pytest  # noqa: E402

from harness import Agent, ScriptedModel  # noqa: E402
from harness.events import LoopDetected, ModelCalled, TaskFinished, Trajectory  # noqa: E402
from harness.governance import Policy, PolicyGovernor, Rule  # noqa: E402
from harness.loop_guard import LoopGuard  # noqa: E402
from harness.messages import ModelRequest  # noqa: E402
from harness.state import Budget  # noqa: E402

READ = {"tool": "read_file", "args": {"path": "notes.md"}}


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "notes.md").write_text("# notes\nthe answer is 42\n")
    return tmp_path


def run(ws, script, **kwargs) -> Trajectory:
    budget = kwargs.pop("budget", Budget(max_steps=30))
    return Agent(ScriptedModel(script), workspace=ws, budget=budget, **kwargs).run("What is the answer?")


def loops(trajectory: Trajectory) -> list[LoopDetected]:
    return trajectory.of_type(LoopDetected)


def test_repeated_read_is_noted_once_then_stopped_well_before_max_steps(ws):
    script = [READ] * 10 + ["42"]
    guarded = run(ws, script, record_requests=True)
    unguarded = run(ws, script, loop_guard=None)

    end = guarded.finished
    assert (end.status, end.steps) == ("stopped", 4)
    assert end.reason.startswith("loop: read_file ")
    noted, stopped = loops(guarded)
    assert (noted.kind, noted.action, noted.step, noted.count) == ("repeat", "noted", 3, 3)
    assert (stopped.kind, stopped.action, stopped.step, stopped.count) == ("repeat", "stopped", 4, 4)
    assert noted.signatures == ['read_file {"path":"notes.md"}']
    assert noted.calls == ["call_0_0", "call_1_0", "call_2_0"]
    assert stopped.message == end.reason
    # the note reached the model in its next request, as a user message
    fourth = [e for e in guarded.of_type(ModelCalled) if e.step == 4][0].request
    assert fourth.messages[-1].role == "user" and fourth.messages[-1].content == noted.message

    assert unguarded.finished.steps == 11
    assert guarded.finished.tokens * 3 < unguarded.finished.tokens


def test_a_model_that_takes_the_note_goes_on_and_is_not_stopped(ws):
    def policy(request: ModelRequest):
        told = any("Loop detected" in (m.content or "") for m in request.messages if m.role == "user")
        return "The answer is 42." if told else READ

    trajectory = Agent(ScriptedModel(policy), workspace=ws).run("What is the answer?")
    assert trajectory.finished.status == "answered"
    assert [(e.kind, e.action) for e in loops(trajectory)] == [("repeat", "noted")]


def test_rereading_after_an_edit_is_new_information_and_not_flagged(ws):
    script = []
    for n in range(6):
        script += [READ, {"tool": "edit_file", "args": {"path": "notes.md", "old": f"is {42 + n}",
                                                        "new": f"is {43 + n}"}}]
    script += [READ, "48"]
    trajectory = run(ws, script)
    assert trajectory.finished.status == "answered"
    assert loops(trajectory) == []
    assert (ws / "notes.md").read_text().endswith("the answer is 48\n")


def test_the_same_edit_repeated_after_it_was_done_is_a_repeat(ws):
    write = {"tool": "write_file", "args": {"path": "out.md", "content": "done\n"}}
    trajectory = run(ws, [write] * 8 + ["ok"])
    assert trajectory.finished.reason.startswith("loop: write_file ")
    assert [(e.action, e.step) for e in loops(trajectory)] == [("noted", 3), ("stopped", 4)]


def test_a_refused_call_repeated_counts_as_a_repeat(ws):
    governor = PolicyGovernor(Policy(rules=[Rule(id="no-notes", effect="deny", tools=["read_file"])]))
    trajectory = run(ws, [READ] * 10 + ["42"], governor=governor)
    noted, stopped = loops(trajectory)
    assert (noted.kind, stopped.action, trajectory.finished.steps) == ("repeat", "stopped", 4)
    assert trajectory.finished.status == "stopped"


def test_steps_that_bring_nothing_new_are_noted_then_stopped(ws):
    # different arguments each time, so never a repeat, but always the same listing
    script = [{"tool": "list_dir", "args": {"path": "./" * n or "."}} for n in range(10)] + ["done"]
    trajectory = run(ws, script, loop_guard=LoopGuard(repeats=3, idle_steps=3))
    noted, stopped = loops(trajectory)
    assert (noted.kind, noted.action, noted.step, noted.count) == ("no-progress", "noted", 4, 3)
    assert (stopped.action, stopped.step) == ("stopped", 5)
    assert noted.calls == ["call_1_0", "call_2_0", "call_3_0"]
    assert trajectory.finished.reason.startswith("loop: 4 steps in a row changed nothing")


def test_without_a_guard_the_run_goes_on_as_before(ws):
    trajectory = run(ws, [READ] * 10 + ["42"], loop_guard=None)
    assert (trajectory.finished.status, trajectory.finished.steps) == ("answered", 11)
    assert loops(trajectory) == []


def test_each_run_has_its_own_counts(ws):
    agent = Agent(ScriptedModel([READ, READ, "42", READ, READ, "42"]), workspace=ws)
    first, second = agent.run("What is the answer?"), agent.run("What is the answer?")
    assert loops(first) == loops(second) == []
    assert second.finished.status == "answered"


def test_loop_detected_is_recorded_in_the_jsonl_log(ws, tmp_path):
    trajectory = run(ws, [READ] * 10 + ["42"])
    path = trajectory.write(tmp_path / "run.jsonl")
    back = Trajectory.read(path)
    assert [e.comparable() for e in loops(back)] == [e.comparable() for e in loops(trajectory)]
    assert isinstance(back.events[-1], TaskFinished) and back.finished.status == "stopped"


def test_thresholds_that_cannot_work_are_refused_by_name():
    with pytest.raises(ValueError, match="repeats must be >= 2"):
        LoopGuard(repeats=1)
    with pytest.raises(ValueError, match="idle_steps=0"):
        LoopGuard(idle_steps=0)
