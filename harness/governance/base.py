"""The `Governor` protocol and the minimal default: allow everything, verify nothing."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from harness.events import GateWarning, VerificationCost
from harness.messages import ToolCall
from harness.state import AgentState
from harness.tools.base import ToolResult


class FinalAnswer(BaseModel):
    """The model's final answer, as an action the governor can verify."""

    text: str


Action = ToolCall | FinalAnswer


class Decision(BaseModel):
    """A governor's decision on a tool call. An `ask` is allowed only when `approved`.
    Immutable (a changed decision is a copy), so one instance can answer many calls."""

    model_config = ConfigDict(frozen=True)

    decision: Literal["allow", "deny", "ask"]
    rule: str = ""
    reason: str = ""
    approved: bool | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "allow" or (self.decision == "ask" and bool(self.approved))


class Verdict(BaseModel):
    """A verifier's judgement of an action's result or of the final answer."""

    verifier: str
    ok: bool
    detail: str = ""
    cost: VerificationCost = VerificationCost()


@runtime_checkable
class Governor(Protocol):
    """Decides what may run, screens what comes back, and verifies results.

    `review` sees the memory gate's warnings for the call; `screen` may replace an
    untrusted result before it reaches the model (isolation); `verify` runs after each
    tool call and on the final answer (then `result` is None).
    """

    def review(self, call: ToolCall, state: AgentState, warnings: list[GateWarning]) -> Decision: ...

    def screen(self, call: ToolCall, result: ToolResult, state: AgentState) -> ToolResult: ...

    def verify(self, action: Action, result: ToolResult | None,
               state: AgentState) -> list[Verdict]: ...


_ALLOW = Decision(decision="allow", rule="allow-all")


class AllowAll:
    """Allows every call, passes every result through, verifies nothing."""

    name = "none"

    def review(self, call: ToolCall, state: AgentState, warnings: list[GateWarning]) -> Decision:
        return _ALLOW

    def screen(self, call: ToolCall, result: ToolResult, state: AgentState) -> ToolResult:
        return result

    def verify(self, action: Action, result: ToolResult | None,
               state: AgentState) -> list[Verdict]:
        return []
