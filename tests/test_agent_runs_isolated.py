"""Each run owns its record and its state: two runs of one Agent, interleaved on one event
loop, never see each other's history, sections, tools, sources or memory recorder, and the
long-lived components keep no run's state."""

from __future__ import annotations

import asyncio

from harness import Agent, ScriptedModel
from harness.context import BudgetedContext
from harness.events import ContextBuilt, ModelCalled, SkillsRouted, TaskStarted, ToolRequested
from harness.governance import Policy, PolicyGovernor
from harness.memory import ProjectMemory
from harness.skills import LexicalRouter, SkillLibrary
from harness.state import Budget, Section


class Interleaving(ScriptedModel):
    """A scripted model whose async call yields to the event loop, so that runs alternate."""

    async def acomplete(self, request):
        await asyncio.sleep(0)
        return self.complete(request)


def policy_for(request):
    """Read the file the task names four times, then answer naming it."""
    task = request.messages[1].content
    name = "a.txt" if "a.txt" in task else "b.txt"
    reads = sum(1 for m in request.messages if m.role == "tool")
    if reads < 4:
        return {"tool": "read_file", "args": {"path": name}}
    return f"done with {name}"


def make_agent(tmp_path, sinks=()):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "a.txt").write_text("alpha " * 40)
    (tmp_path / "b.txt").write_text("bravo " * 40)
    skill = tmp_path / "skills" / "csv-tools"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: csv-tools\ndescription: read and summarise "
                                    "text files such as a.txt and b.txt\n---\n# csv\nUse it.")
    (skill / "tools.py").write_text(
        "from harness.tools import tool\n\n@tool\ndef count_words(text: str) -> str:\n"
        '    """Count words."""\n    return str(len(text.split()))\n')
    memory = ProjectMemory(tmp_path / "mem", workspace=tmp_path)
    memory.note("the files a.txt and b.txt hold test data for summaries")
    return Agent(Interleaving(policy_for), workspace=tmp_path,
                 context=BudgetedContext("compact", budget_tokens=6000),
                 router=LexicalRouter(SkillLibrary([tmp_path / "skills"])),
                 governor=PolicyGovernor(Policy("workspace-write")), memory=memory,
                 budget=Budget(max_steps=12), sinks=sinks, loop_guard=None)


async def two_interleaved(agent):
    return await asyncio.gather(agent.arun("summarise a.txt", run_id="run-a"),
                                agent.arun("summarise b.txt", run_id="run-b"))


def test_two_interleaved_runs_of_one_agent_keep_their_own_state(tmp_path):
    order = []
    agent = make_agent(tmp_path, sinks=[lambda e: order.append(e.run_id)])
    tools_before = list(agent.tools.names())
    a, b = asyncio.run(two_interleaved(agent))

    for trajectory, mine, other in ((a, "a.txt", "b.txt"), (b, "b.txt", "a.txt")):
        assert trajectory.finished.status == "answered", trajectory.finished.reason
        assert trajectory.finished.answer == f"done with {mine}"
        run_id = trajectory.run_id
        assert [e.id for e in trajectory] == [f"{run_id}:{i}" for i in range(len(trajectory))]
        assert {e.run_id for e in trajectory} == {run_id}
        called = trajectory.of_type(ModelCalled)
        assert called and all(e.purpose == "agent" for e in called)
        outputs = " ".join(e.output for e in trajectory if getattr(e, "output", None))
        assert ("alpha" in outputs) == (mine == "a.txt") and ("bravo" in outputs) == (mine == "b.txt")
        assert other not in " ".join(e.call.arguments.get("path", "")
                                     for e in trajectory if hasattr(e, "call"))
        # the recalled memory item is in every context of the run, under its own share
        manifests = [e.manifest for e in trajectory.of_type(ContextBuilt)]
        assert all(any(s.name == Section.RECALLED and s.items for s in m.sections)
                   for m in manifests)

    # the runs really alternated, and each loaded the skill whose tool joined its own toolset
    assert sum(x != y for x, y in zip(order, order[1:], strict=False)) >= 6
    assert all(e.loaded == ["csv-tools"] for t in (a, b) for e in t.of_type(SkillsRouted))
    for t in (a, b):
        tools = next(s for s in t.of_type(ContextBuilt)[-1].manifest.sections if s.name == "tools")
        assert "count_words" in tools.items
        # the tools routing added are recorded with what they declare, once
        added = [e.tools for e in t.of_type(SkillsRouted) if e.tools]
        assert len(added) == 1 and {"count_words", "load_skill"} <= set(added[0])
        assert added[0]["load_skill"].reads and not added[0]["load_skill"].writes
    assert agent.tools.names() == tools_before
    # the long-lived components hold no run's state
    assert agent.context._run.seen == 0
    assert agent.governor.sources.sources == [] and agent.governor._seen is None
    assert agent.memory.recorder.calls == {} and agent.memory.recorder.run_id == ""
    assert all(isinstance(e, TaskStarted) for e in (a[0], b[0]))


def test_interleaved_runs_give_each_run_what_a_run_alone_gets(tmp_path):
    alone = [make_agent(tmp_path / "1").run("summarise a.txt", run_id="run-a"),
             make_agent(tmp_path / "2").run("summarise b.txt", run_id="run-b")]
    together = asyncio.run(two_interleaved(make_agent(tmp_path / "3")))
    for one, two in zip(alone, together, strict=True):
        assert [e.type for e in one] == [e.type for e in two]
        assert calls(one) == calls(two) and one.finished.answer == two.finished.answer
        assert [e.manifest.total_tokens for e in one.of_type(ContextBuilt)] == \
            [e.manifest.total_tokens for e in two.of_type(ContextBuilt)]


def calls(trajectory):
    return [(e.call.name, e.call.arguments) for e in trajectory.of_type(ToolRequested)]


def test_with_a_tool_executor_runs_on_one_loop_run_their_tools_at_the_same_time(tmp_path):
    """Each run's tool waits at a barrier for the other run's tool: that passes only if the
    two calls run at once, off the event loop that awaits both runs."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from harness.events import ToolFinished
    from harness.tools import tool

    meet = threading.Barrier(2, timeout=20)
    threads: set[str] = set()

    @tool
    def rendezvous() -> str:
        """Wait for the other run's call."""
        threads.add(threading.current_thread().name)
        meet.wait()
        return "met"

    def agent(pool):
        return Agent(ScriptedModel([{"tool": "rendezvous", "args": {}}, "done"]),
                     tools=[rendezvous], workspace=tmp_path, tool_executor=pool)

    async def both(pool):
        return await asyncio.gather(agent(pool).arun("a"), agent(pool).arun("b"))

    with ThreadPoolExecutor(2, thread_name_prefix="tools") as pool:
        runs = asyncio.run(both(pool))
    for run in runs:
        assert [e.output for e in run.of_type(ToolFinished)] == ["met"]
        assert run.finished.status == "answered"
    assert threads and all(name.startswith("tools") for name in threads)
    # without one, the first run's tool holds the loop: the two never meet
    meet = threading.Barrier(2, timeout=1)
    runs = asyncio.run(both(None))
    assert all(not e.ok for run in runs for e in run.of_type(ToolFinished))
