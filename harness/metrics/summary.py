"""One row of figures per run, and their aggregate over a suite's runs."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from harness.events import Trajectory
from harness.metrics.context import budget_utilisation, tokens_per_step, total_tokens
from harness.metrics.cost import (
    cached_input_share,
    cost_usd,
    latency,
    subagent_schema_valid_rate,
    verification_cost_share,
)
from harness.metrics.quality import (
    loop_detected,
    outcome,
    recovery_rate,
    repeated_action_rate,
    repeated_failed_fix_count,
    steps,
    success,
    tool_error_rate,
)

TIMING_KEYS = frozenset({"model_s", "tools_s", "wall_s"})
"""Row keys that are timings (they differ between two runs of the same command)."""


def trajectory_metrics(trajectory: Trajectory) -> dict[str, Any]:
    """Every label-free metric of one run, as a flat dict (timings included, named `*_s`)."""
    return {
        "success": success(trajectory),
        "answered": outcome(trajectory) == "answered",
        "outcome": outcome(trajectory),
        "steps": steps(trajectory),
        "tokens": total_tokens(trajectory),
        "tokens_per_step": tokens_per_step(trajectory),
        "tool_error_rate": tool_error_rate(trajectory),
        "repeated_action_rate": repeated_action_rate(trajectory),
        "repeated_failed_fix_count": repeated_failed_fix_count(trajectory),
        "recovery_rate": recovery_rate(trajectory),
        "loop_detected": loop_detected(trajectory),
        "budget_utilisation": budget_utilisation(trajectory),
        "verification_token_share": verification_cost_share(trajectory)["tokens"],
        "subagent_schema_valid_rate": subagent_schema_valid_rate(trajectory),
        "cost_usd": cost_usd(trajectory),
        "cached_input_share": cached_input_share(trajectory),
        **latency(trajectory),
    }


def aggregate(rows: Iterable[Mapping[str, Any]]) -> dict[str, float | None]:
    """Mean of every numeric or boolean key over the rows that define it. None values are
    skipped (an undefined metric does not count as 0); a key no row defines is None. Keys
    holding anything else (names, lists) are left out."""
    values: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if value is None:
                values.setdefault(key, [])
            elif isinstance(value, bool | int | float) and not (
                    isinstance(value, float) and math.isnan(value)):
                values.setdefault(key, []).append(float(value))
    return {k: (sum(v) / len(v) if v else None) for k, v in values.items()}


def memory_hygiene(memory: Any) -> dict[str, Any] | None:
    """The memory's own `hygiene()` report (duplicates, stale, contradictions, provenance) as a
    dict, or None for a memory that has no such report."""
    report = getattr(memory, "hygiene", None)
    if report is None:
        return None
    value = report()
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else dict(value)
