"""Peer frameworks driven offline by zero-latency fake models, for the `overhead` suite.

Each driver runs the same workload as ours — N calls of a trivial `add(a, b)` tool, then a
final answer — in the framework's best offline configuration (see
`shared/notes/peer-overhead.md`): smolagents' `ToolCallingAgent` with a `Model.generate`
subclass and logging off; langgraph's `create_react_agent` with a fake chat model whose
`bind_tools` returns itself, `recursion_limit = 2N + 10`, and no checkpointer.
Peers are optional (the `bench-peers` extra); `available_peers()` says which are installed.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from collections.abc import Callable

PEERS = {"smolagents": "smolagents", "langgraph": "langgraph"}
"""Peer name -> the module that must be importable to run it."""

Driver = Callable[[int], int]
"""driver(n) runs the workload with n tool steps and returns the number of tool calls made."""


def available_peers() -> dict[str, bool]:
    return {name: importlib.util.find_spec(module) is not None for name, module in PEERS.items()}


def make_driver(name: str) -> Driver:
    """Import the peer and return its driver (imports happen here, not at module import)."""
    return {"smolagents": _smolagents_driver, "langgraph": _langgraph_driver}[name]()


def _smolagents_driver() -> Driver:
    from smolagents import ChatMessage, Model, Tool, ToolCallingAgent
    from smolagents.models import ChatMessageToolCall, ChatMessageToolCallFunction
    from smolagents.monitoring import LogLevel, TokenUsage

    class AddTool(Tool):
        name = "add"
        description = "Add two integers."
        inputs = {"a": {"type": "integer", "description": "first"},
                  "b": {"type": "integer", "description": "second"}}
        output_type = "integer"

        def forward(self, a: int, b: int) -> int:
            return a + b

    class FakeModel(Model):
        def __init__(self, n: int):
            super().__init__(model_id="fake")
            self.n, self.calls = n, 0

        def generate(self, messages, stop_sequences=None, response_format=None,
                     tools_to_call_from=None, **kwargs):
            self.calls += 1
            name, args = (("add", {"a": self.calls, "b": 1}) if self.calls <= self.n
                          else ("final_answer", {"answer": "done"}))
            call = ChatMessageToolCall(id=f"c{self.calls}", type="function",
                                       function=ChatMessageToolCallFunction(name=name,
                                                                            arguments=args))
            return ChatMessage(role="assistant", content=None, tool_calls=[call],
                               token_usage=TokenUsage(input_tokens=10, output_tokens=5))

    logging.getLogger("smolagents").setLevel(logging.ERROR)

    def run(n: int) -> int:
        model = FakeModel(n)
        agent = ToolCallingAgent(tools=[AddTool()], model=model, max_steps=n + 5,
                                 verbosity_level=LogLevel.OFF)
        agent.run("Add numbers with the add tool, then give the final answer.")
        return model.calls - 1

    return run


def _langgraph_driver() -> Driver:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
        from langchain_core.messages import AIMessage
        from langchain_core.tools import tool
        from langgraph.prebuilt import create_react_agent

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    class FakeChat(GenericFakeChatModel):
        def bind_tools(self, tools, **kwargs):
            return self

    def replies(n: int):
        for i in range(1, n + 1):
            yield AIMessage(content="", tool_calls=[{"name": "add", "args": {"a": i, "b": 1},
                                                     "id": f"c{i}"}],
                            usage_metadata={"input_tokens": 10, "output_tokens": 5,
                                            "total_tokens": 15})
        yield AIMessage(content="done")

    def run(n: int) -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            agent = create_react_agent(FakeChat(messages=replies(n)), [add])
        out = agent.invoke({"messages": [("user", "Add numbers with the add tool.")]},
                           config={"recursion_limit": 2 * n + 10})
        return sum(1 for m in out["messages"] if getattr(m, "type", "") == "tool")

    return run
