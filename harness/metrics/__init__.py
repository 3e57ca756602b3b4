"""Metrics: pure functions over trajectories (and memory reports), each with its exact
definition in its docstring. Harness-level figures, not model-level scores."""

from harness.metrics.calls import CallRecord, signature, tool_calls
from harness.metrics.context import (
    budget_utilisation,
    evidence_in_context_rate,
    tokens_by_step,
    tokens_per_solved_task,
    tokens_per_step,
    total_tokens,
)
from harness.metrics.cost import (
    cost_usd,
    latency,
    subagent_schema_valid_rate,
    verification_cost_share,
)
from harness.metrics.governance import (
    attack_success,
    benign_refused,
    matches_attack,
    unsafe_allowed,
)
from harness.metrics.quality import (
    failed_fixes,
    loop_detected,
    recovery_rate,
    repeated_action_rate,
    repeated_failed_fix_count,
    steps,
    stuck_patterns,
    success,
    tool_error_rate,
)
from harness.metrics.summary import aggregate, memory_hygiene, trajectory_metrics

__all__ = [
    "CallRecord", "aggregate", "attack_success", "benign_refused", "budget_utilisation",
    "cost_usd", "evidence_in_context_rate", "failed_fixes", "latency", "loop_detected",
    "matches_attack", "memory_hygiene", "recovery_rate", "repeated_action_rate",
    "repeated_failed_fix_count", "signature", "steps", "stuck_patterns", "subagent_schema_valid_rate",
    "success", "tool_error_rate", "tokens_by_step", "tokens_per_solved_task", "tokens_per_step", "tool_calls",
    "total_tokens", "trajectory_metrics", "unsafe_allowed", "verification_cost_share",
]
