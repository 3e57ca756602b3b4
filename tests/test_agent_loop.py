"""The reference agent runs a real task offline and records every step."""

from pathlib import Path

from harness import Agent, ScriptedModel
from harness.events import (
    ContextBuilt,
    ModelCalled,
    PolicyDecided,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    ToolRequested,
)

TEST_CMD = "python -c 'from calc import add; assert add(2, 3) == 5, add(2, 3)'"


def make_buggy_project(root: Path) -> None:
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "test_calc.py").write_text(
        "import unittest\nfrom calc import add\n\n"
        "class T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n")


def fix_script():
    return [
        {"tool": "read_file", "args": {"path": "calc.py"}},
        {"tool": "edit_file", "args": {"path": "./calc.py", "old": "a - b", "new": "a + b"}},
        {"tool": "run_shell", "args": {"command": TEST_CMD}},
        "add() subtracted instead of adding; fixed, and the test passes.",
    ]


def test_agent_fixes_a_bug_and_records_events_in_order(tmp_path):
    make_buggy_project(tmp_path)
    trajectory = Agent(ScriptedModel(fix_script()), workspace=tmp_path).run("Fix the failing test")

    assert "a + b" in (tmp_path / "calc.py").read_text()
    kinds = [type(e) for e in trajectory]
    assert kinds[0] is TaskStarted and kinds[-1] is TaskFinished
    per_step = [ContextBuilt, ModelCalled, ToolRequested, PolicyDecided, ToolFinished]
    assert kinds[1:16] == per_step * 3
    assert kinds[16:18] == [ContextBuilt, ModelCalled]
    shell = trajectory.of_type(ToolFinished)[2]
    assert shell.tool == "run_shell" and shell.ok and shell.output.startswith("exit code 0")
    end = trajectory.finished
    assert (end.status, end.reason, end.steps) == ("answered", "final answer (not checked)", 4)
    assert [e.id for e in trajectory] == [f"{trajectory.run_id}:{i}" for i in range(len(trajectory))]


def test_several_tool_calls_in_one_reply_run_in_order(tmp_path):
    model = ScriptedModel([
        [{"tool": "write_file", "args": {"path": "a.txt", "content": "1"}},
         {"tool": "read_file", "args": {"path": "a.txt"}}],
        "done",
    ])
    trajectory = Agent(model, workspace=tmp_path).run("write then read")
    finished = trajectory.of_type(ToolFinished)
    assert [f.tool for f in finished] == ["write_file", "read_file"]
    assert finished[1].output == "1"


def test_tool_errors_go_back_to_the_model(tmp_path):
    seen = []

    def policy(request):
        seen.append(request.messages[-1])
        if len(seen) == 1:
            return {"tool": "read_file", "args": {"path": "missing.txt"}}
        return "the file does not exist"

    trajectory = Agent(ScriptedModel(policy), workspace=tmp_path).run("read missing.txt")
    assert seen[1].role == "tool" and "no such file: missing.txt" in seen[1].content
    assert trajectory.finished.status == "answered"


def test_max_steps_stops_the_run_with_a_reason(tmp_path):
    from harness.state import Budget

    loop_forever = ScriptedModel(lambda req: {"tool": "list_dir", "args": {}})
    trajectory = Agent(loop_forever, workspace=tmp_path, budget=Budget(max_steps=3)).run("loop")
    end = trajectory.finished
    assert (end.status, end.steps) == ("stopped", 3)
    assert "max_steps" in end.reason


def test_token_and_cost_budgets_stop_the_run(tmp_path):
    from harness.state import Budget

    looping = ScriptedModel(lambda req: {"tool": "list_dir", "args": {}})
    end = Agent(looping, workspace=tmp_path, budget=Budget(max_tokens=200)).run("x").finished
    assert end.status == "stopped" and "token budget" in end.reason and end.tokens >= 200

    pricey = ScriptedModel(lambda req: {"tool": "list_dir", "args": {}}, cost_per_call=0.01)
    end = Agent(pricey, workspace=tmp_path, budget=Budget(max_cost_usd=0.025)).run("x").finished
    assert end.status == "stopped" and "cost budget" in end.reason and end.steps == 3


def test_script_running_out_is_an_error_recorded_in_task_finished(tmp_path):
    trajectory = Agent(ScriptedModel([{"tool": "list_dir", "args": {}}]), workspace=tmp_path).run("x")
    end = trajectory.finished
    assert end.status == "error"
    assert "script has 1 replies, asked for reply 2" in end.reason


def test_arun_runs_agents_concurrently_in_one_event_loop(tmp_path):
    import asyncio

    async def both():
        a = Agent(ScriptedModel([{"tool": "write_file", "args": {"path": "a.txt", "content": "A"}},
                                 "a done"]), workspace=tmp_path)
        b = Agent(ScriptedModel(["b done"]), workspace=tmp_path)
        return await asyncio.gather(a.arun("write a"), b.arun("answer b"))

    ta, tb = asyncio.run(both())
    assert (ta.finished.answer, tb.finished.answer) == ("a done", "b done")
    assert (tmp_path / "a.txt").read_text() == "A"
    assert ta.run_id != tb.run_id


def test_run_inside_a_running_event_loop_still_works(tmp_path):
    import asyncio

    async def inside():  # as in a notebook cell
        return Agent(ScriptedModel(["x"]), workspace=tmp_path).run("t")

    assert asyncio.run(inside()).finished.answer == "x"


def test_calls_past_the_per_reply_limit_are_answered_not_run(tmp_path):
    """A weak model sent 60 calls in one reply; past `max_calls_per_step` none runs, and
    each is answered (every call of a reply needs its result) so the model can ask again."""
    from harness.events import ToolFinished
    from harness.state import Budget

    calls = [{"tool": "write_file", "args": {"path": f"f{i}.txt", "content": "x"}}
             for i in range(5)]
    agent = Agent(ScriptedModel([calls, "done"]), workspace=tmp_path,
                  budget=Budget(max_calls_per_step=2))
    run = agent.run("write files")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f0.txt", "f1.txt"]
    ends = run.of_type(ToolFinished)
    assert [e.ok for e in ends] == [True, True, False, False, False]
    assert "at most 2 tool calls and this was call 3 of 5" in ends[2].error
    assert run.finished.status == "answered"
