"""How a run lives and ends: a finished run is freed by reference counting alone (no cycle
keeps its state alive until the next full garbage collection), and a run that can never
suspend is driven without an event loop."""

import asyncio
import gc
import threading
import weakref

from harness import Agent, ScriptedModel
from harness.context import FullHistoryContext
from harness.events import ContextBuilt, TaskFinished
from harness.tools import tool


class StateWatchingAgent(Agent):
    """Keeps a weak reference to every run's state."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.states = []

    def new_state(self, task, run_id=None):
        state = super().new_state(task, run_id)
        self.states.append(weakref.ref(state))
        return state


def script(steps):
    return [{"tool": "read_file", "args": {"path": "a.txt"}}] * steps + ["done"]


def test_a_finished_runs_state_is_freed_without_the_garbage_collector(tmp_path):
    (tmp_path / "a.txt").write_text("hello " * 50)
    seen = []
    for context in (None, FullHistoryContext()):  # default: summarising every few steps
        agent = StateWatchingAgent(ScriptedModel(script(7)), context=context, loop_guard=None,
                                   workspace=tmp_path, sinks=[seen.append])
        gc.collect()
        gc.disable()
        try:
            trajectory = agent.run("read a.txt")
            assert agent.states[0]() is None
        finally:
            gc.enable()
        assert trajectory.finished.status == "answered"
        assert len(trajectory.of_type(ContextBuilt)) == 8
    assert sum(isinstance(e, TaskFinished) for e in seen) == 2


def loop_seen_by_a_tool():
    """A tool that records whether it ran inside an event loop, and in which thread."""
    seen = []

    @tool
    def probe() -> str:
        """Report."""
        seen.append((asyncio._get_running_loop() is not None, threading.current_thread().name))
        return "ok"

    return probe, seen


class SleepyModel(ScriptedModel):
    """A scripted model whose async call really suspends."""

    async def acomplete(self, request):
        await asyncio.sleep(0.001)
        return self.complete(request)


class PausingAgent(Agent):
    """An agent whose step yields to the event loop first."""

    async def step(self, state):
        await asyncio.sleep(0)
        await super().step(state)


def test_a_run_that_cannot_suspend_needs_no_event_loop_and_one_that_can_gets_one(tmp_path):
    probe, seen = loop_seen_by_a_tool()
    steps = [{"tool": "probe", "args": {}}, "done"]
    cases = [(Agent, ScriptedModel, False), (Agent, SleepyModel, True),
             (PausingAgent, ScriptedModel, True)]
    for agent_cls, model_cls, needs_loop in cases:
        seen.clear()
        agent = agent_cls(model_cls(steps), tools=[probe], workspace=tmp_path)
        assert agent.run("probe").finished.status == "answered"
        assert seen == [(needs_loop, threading.current_thread().name)]


def test_inside_a_running_loop_a_run_that_cannot_suspend_stays_in_the_callers_thread(tmp_path):
    probe, seen = loop_seen_by_a_tool()
    steps = [{"tool": "probe", "args": {}}, "done"]

    async def main():
        for model_cls in (ScriptedModel, SleepyModel):
            Agent(model_cls(steps), tools=[probe], workspace=tmp_path).run("probe")

    asyncio.run(main())
    (_, thread1), (loop2, thread2) = seen
    assert thread1 == threading.current_thread().name  # no worker thread, no second loop
    assert thread2.startswith("harness-run") and loop2


def test_a_memory_built_on_nullmemory_that_observes_sees_every_event(tmp_path):
    from harness.memory import NullMemory

    class Watching(NullMemory):
        def __init__(self):
            self.seen = []

        def observe(self, event):
            self.seen.append(event.type)
            return []

    memory = Watching()
    trajectory = Agent(ScriptedModel(["done"]), memory=memory, workspace=tmp_path).run("t")
    assert memory.seen == [e.type for e in trajectory]
