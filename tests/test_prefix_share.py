"""The cacheable prefix share: how much of each request repeats the previous one's start."""

from __future__ import annotations

from harness.agent import Agent
from harness.context import BudgetedContext
from harness.llm import ScriptedModel
from harness.messages import Message, ModelRequest
from harness.metrics import cacheable_prefix_share, prefix_share


def read_run(tmp_path, strategy: str, **params):
    for i in range(6):
        (tmp_path / f"n{i}.txt").write_text(f"note {i} " * 40)
    script = [{"tool": "read_file", "args": {"path": f"n{i}.txt"}} for i in range(6)] + ["done"]
    agent = Agent(ScriptedModel(script), workspace=tmp_path, record_requests=True,
                  context=BudgetedContext(strategy, **params), loop_guard=None)
    return agent.run("read the notes")


def test_an_append_only_history_is_mostly_cacheable_and_a_sliding_window_is_not(tmp_path):
    full = cacheable_prefix_share(read_run(tmp_path, "full"))
    window = cacheable_prefix_share(read_run(tmp_path, "last-n", n=1))
    assert full is not None and window is not None
    assert full > 0.6 and window < full


def test_the_share_counts_messages_repeated_from_the_start_and_tools_first():
    a = [Message(role="system", content="s" * 100), Message(role="user", content="u" * 100)]
    first = ModelRequest(messages=a)
    grown = ModelRequest(messages=[*a, Message(role="assistant", content="x" * 100)])
    rewritten = ModelRequest(messages=[a[0], Message(role="user", content="v" * 100)])
    assert prefix_share([first]) is None
    share = prefix_share([first, grown])
    assert 0.6 < share < 0.7  # two of three equal-sized messages (plus the empty tools)
    assert prefix_share([first, rewritten]) < share
    retooled = ModelRequest(messages=[*a], tools=[{"type": "function", "function": {"name": "t"}}])
    assert prefix_share([first, retooled]) == 0.0  # new tool schemas break the prefix first
