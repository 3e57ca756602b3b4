"""The `Governor` protocol and the minimal default: allow everything, verify nothing."""

from __future__ import annotations

from collections.abc import Sequence
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
    Immutable (a changed decision is a copy), so one instance can answer many calls.

    A memory gate warning of severity `block` refuses the call whatever the decision,
    unless the decision explicitly approves it: it is allowed and `overrides` lists every
    memory event id the warning cites (see `enforce_blocks`)."""

    model_config = ConfigDict(frozen=True)

    decision: Literal["allow", "deny", "ask"]
    rule: str = ""
    reason: str = ""
    approved: bool | None = None
    overrides: tuple[str, ...] = ()
    """Memory event ids cited by `block` warnings that this decision lets through."""

    @property
    def allowed(self) -> bool:
        return self.decision == "allow" or (self.decision == "ask" and bool(self.approved))

    def approves(self, warning: GateWarning) -> bool:
        """Whether this decision explicitly lets the call run despite `warning`."""
        if warning.severity != "block":
            return self.allowed
        return self.allowed and bool(warning.cites) and set(warning.cites) <= set(self.overrides)

    def enforce_blocks(self, warnings: Sequence[GateWarning]) -> Decision:
        """The decision the loop acts on: this one, or, when a `block` warning stands that
        it does not approve, a refusal (`gate.block`) citing the warnings' event ids."""
        blocking = [w for w in warnings if w.severity == "block" and not self.approves(w)]
        if not blocking:
            return self
        cites = list(dict.fromkeys(c for w in blocking for c in w.cites))
        why = "; ".join(w.message for w in blocking)
        return Decision(decision="deny", rule="gate.block", reason=(
            f"project memory blocks this call: {why} (cites {', '.join(cites) or '-'}); "
            f"the governor did not approve it ({self.decision} by {self.rule or 'no rule'})"))


class Verdict(BaseModel):
    """A verifier's judgement of an action's result or of the final answer."""

    verifier: str
    ok: bool
    detail: str = ""
    cost: VerificationCost = VerificationCost()


@runtime_checkable
class Governor(Protocol):
    """Decides what may run, screens what comes back, and verifies results.

    `review` sees the memory gate's warnings for the call; a `block` among them refuses
    the call unless the returned decision explicitly approves it (`Decision.overrides`
    names the ids the block cites); `screen` may replace an untrusted result before it
    reaches the model (isolation); `verify` runs after each tool call and on the final
    answer (then `result` is None).
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
