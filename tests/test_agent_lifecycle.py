"""A finished run is freed by reference counting alone: no cycle keeps its state alive
until the next full garbage collection."""

import gc
import weakref

import pytest

from harness import Agent, ScriptedModel
from harness.context import FullHistoryContext
from harness.events import ContextBuilt, TaskFinished


class StateWatchingAgent(Agent):
    """Keeps a weak reference to every run's state."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.states = []

    def start(self, task, run_id=None):
        state = super().start(task, run_id)
        self.states.append(weakref.ref(state))
        return state


def script(steps):
    return [{"tool": "read_file", "args": {"path": "a.txt"}}] * steps + ["done"]


def test_a_finished_runs_state_is_freed_without_the_garbage_collector(tmp_path):
    (tmp_path / "a.txt").write_text("hello " * 50)
    seen = []
    for context in (None, FullHistoryContext()):  # default: summarising every few steps
        agent = StateWatchingAgent(ScriptedModel(script(7)), context=context,
                                   workspace=tmp_path, sinks=[seen.append])
        gc.collect()
        gc.disable()
        try:
            trajectory = agent.run("read a.txt")
            assert agent.states[0]() is None
        finally:
            gc.enable()
        assert trajectory.finished.status == "success"
        assert len(trajectory.of_type(ContextBuilt)) == 8
    assert sum(isinstance(e, TaskFinished) for e in seen) == 2


def test_emitting_after_the_state_is_gone_says_so(tmp_path):
    agent = Agent(ScriptedModel(["done"]), workspace=tmp_path)
    emit = agent.start("t").emit  # the state is dropped at once
    with pytest.raises(RuntimeError, match="freed"):
        emit(TaskFinished(status="error", reason="late"))
