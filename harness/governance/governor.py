"""`PolicyGovernor`: the default governor, composed of small parts.

review  = budget guard -> memory-gate warnings by severity -> policy rules -> approver
          (a `block` warning runs only when the approver says yes to it: `overrides`)
screen  = provenance of outputs the task pointed to -> isolation of untrusted outputs
verify  = verifiers (commands, schemas, functions), each verdict with its own cost
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.events import GateWarning
from harness.governance.approvers import Approver, AutoApprover
from harness.governance.base import Action, Decision, Verdict
from harness.governance.egress.destinations import TrustedText
from harness.governance.egress.provenance import Provenance
from harness.governance.injection.detector import InstructionDetector
from harness.governance.injection.isolation import Isolation
from harness.governance.policy.policy import Policy
from harness.governance.verifiers import Verifier
from harness.messages import ToolCall
from harness.shell.paths import PathResolver
from harness.state import AgentState, ContextSection, PerRun, Section
from harness.tools.base import ToolResult

RANK = {"allow": 0, "inject": 0, "ask": 1, "deny": 2}
MACHINE_KINDS = ("read", "write", "shell")
"""Tool kinds that reach the machine's files or run commands on it."""


class PolicyGovernor(PerRun):
    """Rules, approvals, gate warnings, isolation and verifiers behind the `Governor` protocol.

    >>> gov = PolicyGovernor(Policy("workspace-write"), approver=AutoApprover(False))

    `detector` finds instruction-like passages in the outputs of calls the task designated,
    which vouch for no destination (default: the isolation's detector, else a new one).
    Each run gets its own copy (`for_run`) holding the run's designated sources, the step
    its gate warnings are about, and the policy's reads of its task and workspace.
    """

    def __init__(self, policy: Policy | None = None, *, approver: Approver | None = None,
                 isolation: Isolation | None = None, verifiers: Iterable[Verifier] = (),
                 name: str | None = None, detector: InstructionDetector | None = None):
        self.policy = policy or Policy()
        self.detector = detector or (isolation.detector if isolation else None) \
            or InstructionDetector()
        self.approver = approver or AutoApprover(False)
        self.isolation = isolation
        self.verifiers = list(verifiers)
        self.name = name or ("policy+isolation" if isolation else "policy")
        self.sources = Provenance(self.detector)
        """What the run's task designated as sources, and what they said."""
        self.warned_at: int | None = None
        """The step the gate warnings in the context are about."""
        self._seen: _RunView | None = None

    def start_run(self, state: AgentState) -> None:
        self.sources = Provenance(self.detector)
        self.warned_at = None
        self._seen = None

    def run_view(self, state: AgentState) -> _RunView:
        """The run's task and workspace as the policy reads them (made once a run)."""
        seen = self._seen
        if seen is None or seen.task != state.task or seen.workspace != state.workspace:
            seen = self._seen = _RunView(state.task, state.workspace,
                                         self.policy.trusted(state.task))
        return seen

    def review(self, call: ToolCall, state: AgentState, warnings: list[GateWarning]) -> Decision:
        self.expire_warnings(state)
        decision = self.budget_guard(state) or self.sandbox_guard(call, state) or \
            self.evaluate(call, state)
        gate = self.gate_decision(warnings, state)
        blocks = [w for w in warnings if w.severity == "block"]
        if gate is not None and RANK[gate.decision] >= RANK[decision.decision] \
                and (blocks or RANK[gate.decision] > RANK[decision.decision]):
            if gate.decision == decision.decision == "ask":  # one question covers both
                gate = gate.model_copy(update={
                    "reason": f"{gate.reason}; and {decision.rule}: {decision.reason}"})
            decision = gate
        if decision.decision == "ask":
            approved = self.approver.approve(call, decision)
            update: dict[str, Any] = {"approved": approved}
            if approved and decision.rule.startswith("gate."):  # the approver saw the blocks
                update["overrides"] = tuple(dict.fromkeys(c for w in blocks for c in w.cites))
            decision = decision.model_copy(update=update)
        return decision

    def evaluate(self, call: ToolCall, state: AgentState) -> Decision:
        """The policy's decision on the call, with what the call's tool declares."""
        view, sandboxed = self.run_view(state), self.runs_sandboxed(call, state)
        return self.policy.evaluate(
            call, state.workspace, task=state.task, sources=self.sources, sandboxed=sandboxed,
            effects=state.tools.effects(call.name), resolver=view.resolver(self.policy, sandboxed),
            trusted=view.trusted)

    def budget_guard(self, state: AgentState) -> Decision | None:
        """Refuse further calls once a token, cost or time budget is spent (the loop then
        stops the run with the reason)."""
        spent = state.budget_spent(steps=False)
        return None if spent is None else Decision(decision="deny", rule=spent[0],
                                                   reason=spent[1])

    def runs_sandboxed(self, call: ToolCall, state: AgentState) -> bool:
        """Whether the call is a command run in a sandbox whose /tmp is its own (the file
        tools run in this process, where /tmp is the host's)."""
        return (state.sandbox is not None and state.sandbox.info.private_tmp
                and self.policy.kind(call, state.tools.effects(call.name)) == "shell")

    def sandbox_guard(self, call: ToolCall, state: AgentState) -> Decision | None:
        """Under `Policy(require_sandbox=True)`, refuse every tool that touches the machine
        (files, commands) when the run's tools are not confined by the operating system."""
        if not self.policy.require_sandbox or self.policy.kind(
                call, state.tools.effects(call.name)) not in MACHINE_KINDS:
            return None
        box = state.sandbox
        if box is not None and box.info.confined:
            return None
        return Decision(decision="deny", rule="require-sandbox", reason=(
            f"this policy requires a sandbox and the run has none "
            f"({box.info.backend if box else 'not recorded'}): {call.name} would touch the "
            f"machine unconfined"))

    def gate_decision(self, warnings: list[GateWarning], state: AgentState) -> Decision | None:
        """Memory-gate warnings become a decision by severity: `inject` puts them into the
        next context, `ask` and `deny` decide the call (configured in `policy.gate`). A
        `block` is refused by the loop unless an approver says yes to it, so `inject` or
        `ask` without an approver's yes never lets one through."""
        if not warnings:
            return None
        actions = [(getattr(self.policy.gate, w.severity), w) for w in warnings]
        worst, _ = max(actions, key=lambda a: RANK[a[0]])
        injected = [w for a, w in actions if a == "inject"]
        if injected:
            self.inject_warnings(injected, state)
        if worst == "inject":
            return None
        deciding = [w for a, w in actions if a == worst]
        top = next((w for w in deciding if w.severity == "block"), deciding[0])
        blocks = [w for w in deciding if w.severity == "block" and w is not top]
        return Decision(decision=worst, rule=f"gate.{top.kind or top.severity}", reason="; ".join(
            f"{w.message} (cites {', '.join(w.cites) or '-'})" for w in [top, *blocks]))

    def inject_warnings(self, warnings: list[GateWarning], state: AgentState) -> None:
        """Put warnings into the next context; several calls of one step add up."""
        lines = [f"- {w.message} (cites {', '.join(w.cites) or '-'})" for w in warnings]
        items = [c for w in warnings for c in w.cites]
        held = state.sections.get(Section.GATE)
        if held is not None:
            lines = [*held.text.splitlines()[1:], *lines]
            items = [*held.items, *items]
        state.put(ContextSection(name=Section.GATE, priority=80, items=items, text=(
            "Memory warnings about your last actions:\n" + "\n".join(lines))))
        self.warned_at = state.step

    def expire_warnings(self, state: AgentState) -> None:
        """Gate warnings are about the step that raised them: drop them once a later step's
        actions come up for review."""
        if Section.GATE in state.sections and self.warned_at != state.step:
            del state.sections[Section.GATE]

    def screen(self, call: ToolCall, result: ToolResult, state: AgentState) -> ToolResult:
        if result.ok:
            self.sources.observe(call, result.output, self.run_view(state).trusted)
        return self.isolation.screen(call, result, state) if self.isolation else result

    def verify(self, action: Action, result: ToolResult | None,
               state: AgentState) -> list[Verdict]:
        verdicts = (v.check(action, result, state) for v in self.verifiers)
        return [v for v in verdicts if v is not None]


class IsolationOnly(PolicyGovernor):
    """Isolation without permission rules (for ablations): every call is allowed."""

    def __init__(self, isolation: Isolation, **kwargs: Any):
        super().__init__(Policy("full"), isolation=isolation, name="isolation", **kwargs)


@dataclass
class _RunView:
    """What a governor's policy reads of its run: the trusted text of its task and the
    path resolvers of its workspace (for commands run confined or not)."""

    task: str
    workspace: Path
    trusted: TrustedText
    resolvers: dict[bool, PathResolver] = field(default_factory=dict)

    def resolver(self, policy: Policy, sandboxed: bool) -> PathResolver:
        held = self.resolvers.get(sandboxed)
        if held is None:
            held = self.resolvers[sandboxed] = policy.resolver(self.workspace, sandboxed)
        return held
