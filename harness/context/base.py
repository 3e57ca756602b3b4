"""The `ContextConstructor` protocol and the minimal default: the full history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from harness._fast import validated
from harness.events import ContextManifest, SectionInfo
from harness.llm.base import estimate_tokens
from harness.messages import Message, ModelRequest
from harness.state import AgentState, PerRun

if TYPE_CHECKING:
    from harness.context.history import HistoryView

DEFAULT_SYSTEM_PROMPT = (
    "You are a careful, capable agent working in a workspace through tools. "
    "Use the tools to inspect and change things; check your work. "
    "When you are done, reply with the final answer and no tool call."
)


@dataclass
class Context:
    """A built model input and its manifest (what went in, and why). `history` is the
    history as the strategy showed it, when the constructor uses one."""

    request: ModelRequest
    manifest: ContextManifest
    history: HistoryView | None = None


@runtime_checkable
class ContextConstructor(Protocol):
    """Builds each step's model input from the run state."""

    def build(self, state: AgentState) -> Context: ...


class FullHistoryContext(PerRun):
    """System prompt and contributed sections, the task, then every message so far."""

    name = "full"

    def __init__(self, system_prompt: str = DEFAULT_SYSTEM_PROMPT):
        self.system_prompt = system_prompt
        self._counted: tuple[int, Message | None, int] = (0, None, 0)
        self._fixed: tuple[Any, ...] | None = None

    def start_run(self, state: AgentState) -> None:
        self._counted, self._fixed = (0, None, 0), None

    def _history_tokens(self, state: AgentState) -> int:
        """Tokens of the history, counted incrementally (the loop only appends to it), so a
        step costs the same at step 1000 as at step 10; recounted if the history changed."""
        n, last, total = self._counted
        history = state.history
        if n > len(history) or (n and history[n - 1] is not last):
            n, total = 0, 0
        for m in history[n:]:
            total += estimate_tokens((m.content or "") + "".join(
                c.raw_arguments or "" if c.parse_error else c.arguments_json()
                for c in m.tool_calls))
        self._counted = (len(history), history[-1] if history else None, total)
        return total

    def build(self, state: AgentState) -> Context:
        sections = sorted(state.sections.values(), key=lambda s: -s.priority)
        system = "\n\n".join([self.system_prompt, *(s.text for s in sections if s.text)])
        key = (system, state.task, state.tools.key)
        if self._fixed is None or self._fixed[0] != key:
            # the same objects while unchanged: each step's request then visibly extends the
            # last, and their digests and counts are remembered
            self._fixed = (key, Message(role="system", content=system),
                           Message(role="user", content=state.task), state.tools.schemas(),
                           SectionInfo(name="system", tokens=estimate_tokens(self.system_prompt),
                                       priority=100),
                           SectionInfo(name="task", tokens=estimate_tokens(state.task),
                                       priority=90))
        _, system_message, task_message, schemas, system_info, task_info = self._fixed
        infos = [system_info,
                 *(SectionInfo(name=s.name, tokens=estimate_tokens(s.text), priority=s.priority,
                               items=list(s.items)) for s in sections),
                 task_info,
                 validated(SectionInfo, name="history", tokens=self._history_tokens(state),
                           items=[f"{len(state.history)} messages"])]
        request = ModelRequest.of([system_message, task_message, *state.history], schemas)
        manifest = validated(ContextManifest, sections=infos,
                             total_tokens=sum(i.tokens for i in infos), strategy=self.name)
        return Context(request=request, manifest=manifest)
