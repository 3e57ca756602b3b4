"""Builders shared by the context tests (histories, states, pairing checks); no tests here."""

from __future__ import annotations

from pathlib import Path

from harness.events import Event
from harness.messages import Message, ToolCall
from harness.state import AgentState, Budget, ContextSection
from harness.tools.base import Tool, Toolset


def step(i: int, outputs: list[str], *, channel: str | None = "file", tool: str = "read_file",
         text: str | None = None) -> list[Message]:
    """One model turn calling `tool` once per output, followed by the results."""
    calls = [ToolCall(id=f"c{i}_{j}", name=tool, arguments={"path": f"f{i}_{j}.txt"})
             for j in range(len(outputs))]
    return [Message(role="assistant", content=text, tool_calls=calls),
            *(Message(role="tool", tool_call_id=c.id, name=tool, content=out, channel=channel)
              for c, out in zip(calls, outputs, strict=True))]


def history(n: int, size: int = 200, *, calls_per_step: int = 1) -> list[Message]:
    """`n` steps whose outputs are `size` characters and name their step."""
    out: list[Message] = []
    for i in range(1, n + 1):
        out += step(i, [f"output {i}.{j} " + "x" * size for j in range(calls_per_step)])
    return out


def state(hist: list[Message], *, task: str = "Find the thing.", tools: list[Tool] = (),
          sections: list[ContextSection] = (), run_id: str = "run") -> tuple[AgentState, list[Event]]:
    events: list[Event] = []
    st = AgentState(run_id=run_id, task=task, workspace=Path("."), tools=Toolset(tools),
                    budget=Budget(), sinks=[events.append])
    st.history = list(hist)
    for s in sections:
        st.put(s)
    return st, events


def pairs_intact(messages: list[Message]) -> bool:
    """Every tool call is answered right after its message, and every result follows its call."""
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.role == "tool":
            return False  # a result without the call before it
        if m.role == "assistant" and m.tool_calls:
            ids = [c.id for c in m.tool_calls]
            answers = messages[i + 1:i + 1 + len(ids)]
            if [a.role for a in answers] != ["tool"] * len(ids) or \
                    [a.tool_call_id for a in answers] != ids:
                return False
            i += len(ids)
        i += 1
    return True


def test_a_call_signature_writes_each_argument_as_json_whatever_its_type():
    import json

    from harness.messages import call_signature

    values = [0, -7, 2**70, True, False, None, 2.5, "é \" \\ \n", [1, "x"], {"b": 1, "a": [None]}]
    for v in values:
        call = ToolCall(id="c", name="f", arguments={"x": v, "n": 3})
        expected = f"f(x={json.dumps(v, ensure_ascii=False)}, n=3)"
        assert call_signature(call, limit=1000) == expected
