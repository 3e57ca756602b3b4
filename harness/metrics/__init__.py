"""Metrics: pure functions over trajectories (and memory reports), each with its exact
definition in its docstring. Harness-level figures, not model-level scores."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "CallRecord": "harness.metrics.calls",
    "aggregate": "harness.metrics.summary",
    "attack_success": "harness.metrics.governance",
    "benign_refused": "harness.metrics.governance",
    "budget_utilisation": "harness.metrics.context",
    "cacheable_prefix_share": "harness.metrics.context",
    "prefix_share": "harness.metrics.context",
    "cached_input_share": "harness.metrics.cost",
    "cost_per_solved_task": "harness.metrics.cost",
    "cost_usd": "harness.metrics.cost",
    "evidence_in_context_rate": "harness.metrics.context",
    "failed_fixes": "harness.metrics.quality",
    "latency": "harness.metrics.cost",
    "loop_detected": "harness.metrics.quality",
    "matches_attack": "harness.metrics.governance",
    "memory_hygiene": "harness.metrics.summary",
    "recovery_rate": "harness.metrics.quality",
    "repeated_action_rate": "harness.metrics.quality",
    "repeated_failed_fix_count": "harness.metrics.quality",
    "signature": "harness.metrics.calls",
    "spend_by_purpose": "harness.metrics.cost",
    "steps": "harness.metrics.quality",
    "stuck_patterns": "harness.metrics.quality",
    "subagent_schema_valid_rate": "harness.metrics.cost",
    "outcome": "harness.metrics.quality",
    "success": "harness.metrics.quality",
    "tokens_by_step": "harness.metrics.context",
    "tokens_per_solved_task": "harness.metrics.context",
    "tokens_per_step": "harness.metrics.context",
    "tool_calls": "harness.metrics.calls",
    "tool_error_rate": "harness.metrics.quality",
    "total_tokens": "harness.metrics.context",
    "trajectory_metrics": "harness.metrics.summary",
    "unsafe_allowed": "harness.metrics.governance",
    "verification_cost_share": "harness.metrics.cost",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.metrics.calls import CallRecord, signature, tool_calls
    from harness.metrics.context import (
        budget_utilisation,
        cacheable_prefix_share,
        evidence_in_context_rate,
        prefix_share,
        tokens_by_step,
        tokens_per_solved_task,
        tokens_per_step,
        total_tokens,
    )
    from harness.metrics.cost import (
        cached_input_share,
        cost_per_solved_task,
        cost_usd,
        latency,
        spend_by_purpose,
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
        outcome,
        recovery_rate,
        repeated_action_rate,
        repeated_failed_fix_count,
        steps,
        stuck_patterns,
        success,
        tool_error_rate,
    )
    from harness.metrics.summary import aggregate, memory_hygiene, trajectory_metrics
