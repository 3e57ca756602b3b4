"""Audit a run: what governance allowed, denied and asked about, by rule, and why."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field

from harness.events import (
    PolicyDecided,
    SubagentReturned,
    TaskStarted,
    ToolRequested,
    Trajectory,
    Verified,
)
from harness.sandbox.base import SandboxInfo


class AuditEntry(BaseModel):
    """One governed tool call."""

    step: int
    tool: str
    decision: str
    rule: str
    reason: str
    approved: bool | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)


class Audit(BaseModel):
    """A run's governance record, summarised."""

    run_id: str
    sandbox: SandboxInfo | None
    """What confined the run's tools (None: not recorded, an older log)."""
    calls: int
    allowed: int
    denied: int
    asked: int
    approved: int
    by_rule: dict[str, dict[str, int]]
    entries: list[AuditEntry]
    subagents: dict[str, int]
    verifications: dict[str, int]
    verification_seconds: float


def audit(trajectory: Trajectory) -> Audit:
    """Summarise every `PolicyDecided`, `SubagentReturned` and `Verified` of a run."""
    calls = {e.call.id: e.call for e in trajectory.of_type(ToolRequested)}
    entries = [AuditEntry(step=e.step, tool=e.tool, decision=e.decision, rule=e.rule,
                          reason=e.reason, approved=e.approved,
                          arguments=calls[e.call_id].arguments if e.call_id in calls else {})
               for e in trajectory.of_type(PolicyDecided)]
    by_rule: dict[str, Counter] = {}
    for e in entries:
        by_rule.setdefault(e.rule, Counter())[e.decision] += 1
    returns = trajectory.of_type(SubagentReturned)
    verdicts = trajectory.of_type(Verified)
    started = trajectory.of_type(TaskStarted)
    return Audit(
        run_id=trajectory.run_id, sandbox=started[0].sandbox if started else None,
        calls=len(entries),
        allowed=sum(e.decision == "allow" for e in entries),
        denied=sum(e.decision == "deny" for e in entries),
        asked=sum(e.decision == "ask" for e in entries),
        approved=sum(e.decision == "ask" and bool(e.approved) for e in entries),
        by_rule={k: dict(v) for k, v in sorted(by_rule.items())}, entries=entries,
        subagents={"returned": len(returns), "rejected": sum(not r.ok for r in returns)},
        verifications={"passed": sum(v.ok for v in verdicts),
                       "failed": sum(not v.ok for v in verdicts)},
        verification_seconds=round(sum(v.cost.seconds for v in verdicts), 6))
