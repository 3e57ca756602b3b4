"""Trajectories: JSONL round trips, streaming writes, corrupt lines, and replay."""

import json

import pytest

from harness import Agent, ReplayModel, ScriptedModel, Trajectory, TrajectoryWriter
from harness.events import ModelCalled, TaskFinished, TrajectoryError, TrajectoryReadWarning
from harness.llm import ReplayDivergence
from tests.test_agent_loop import fix_script, make_buggy_project


def run_fix(ws):
    ws.mkdir(parents=True, exist_ok=True)
    make_buggy_project(ws)
    return Agent(ScriptedModel(fix_script()), workspace=ws).run("Fix the failing test",
                                                                run_id="fix-1")


def test_jsonl_round_trip_keeps_every_event(tmp_path):
    trajectory = run_fix(tmp_path / "ws")
    path = trajectory.write(tmp_path / "run.jsonl")
    lines = path.read_text().splitlines()
    assert len(lines) == len(trajectory)
    assert all(json.loads(line)["run_id"] == "fix-1" for line in lines)
    again = Trajectory.read(path)
    assert [e.model_dump() for e in again] == [e.model_dump() for e in trajectory]
    assert again.problems == []


def test_streaming_writer_flushes_each_event_as_it_happens(tmp_path):
    (tmp_path / "ws").mkdir()
    out = tmp_path / "live.jsonl"
    seen_on_disk = []
    writer = TrajectoryWriter(out)

    def sink(event):
        writer(event)
        seen_on_disk.append(len(out.read_text().splitlines()))

    Agent(ScriptedModel(["done"]), workspace=tmp_path / "ws", sinks=[sink]).run("t")
    writer.close()
    assert seen_on_disk == list(range(1, len(seen_on_disk) + 1))


def test_corrupt_and_truncated_lines_are_reported_and_the_rest_is_kept(tmp_path):
    trajectory = run_fix(tmp_path / "ws")
    path = trajectory.write(tmp_path / "run.jsonl")
    lines = path.read_text().splitlines()
    lines.insert(3, '{"type": "tool_finished", "call_id": ')  # torn JSON
    lines.insert(6, '{"type": "no_such_event", "id": "x"}')    # unknown type
    lines.append(lines[-1][: len(lines[-1]) // 2])               # truncated last line
    path.write_text("\n".join(lines) + "\n")

    with pytest.warns(TrajectoryReadWarning, match=r"run\.jsonl line 4"):
        again = Trajectory.read(path)
    assert [p.line for p in again.problems] == [4, 7, len(lines)]
    assert "not valid JSON" in again.problems[0].error
    assert len(again) == len(trajectory)
    assert isinstance(again[-1], TaskFinished)
    with pytest.raises(TrajectoryError, match="line 4"):
        Trajectory.read(path, strict=True)


def test_replay_reproduces_every_event_but_timestamps(tmp_path):
    (tmp_path / "b").mkdir()
    original = run_fix(tmp_path / "a")
    recorded = Trajectory.read(original.write(tmp_path / "run.jsonl"))

    make_buggy_project(tmp_path / "b")
    replayed = Agent(ReplayModel(recorded), workspace=tmp_path / "b").run(
        "Fix the failing test", run_id="fix-1")
    assert len(replayed) == len(original)
    assert replayed.comparable() == [
        {**e, "workspace": str(tmp_path / "b")} if e["type"] == "task_started" else e
        for e in original.comparable()]
    assert "a + b" in (tmp_path / "b" / "calc.py").read_text()


def test_replay_names_the_step_where_the_run_diverges(tmp_path):
    original = run_fix(tmp_path / "ws")
    model = ReplayModel(original)
    end = Agent(model, workspace=tmp_path / "ws").run("A different task").finished
    assert end.status == "error"
    assert "replay diverged at step 1" in end.reason

    assert len(original.of_type(ModelCalled)) == 4
    with pytest.raises(ReplayDivergence, match="has 4 model calls"):
        exhausted = ReplayModel(original, strict=False)
        for _ in range(5):
            exhausted.complete(original.of_type(ModelCalled)[0].request or _empty())


def _empty():
    from harness.llm import Message, ModelRequest

    return ModelRequest(messages=[Message(role="user", content="x")])
