"""What a run cost: money, time, the share spent verifying, and subagent return fidelity."""

from __future__ import annotations

from collections.abc import Iterable

from harness.events import (
    ModelCalled,
    SubagentReturned,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    Trajectory,
    Verified,
)


def cost_usd(trajectory: Trajectory) -> float | None:
    """Sum of `cost_usd` over every model call; None when any call's cost is unknown (a model
    with no price), so an unknown cost is never reported as free."""
    total = 0.0
    for e in trajectory.of_type(ModelCalled):
        if e.cost_usd is None:
            return None
        total += e.cost_usd
    return total


def cached_input_share(trajectory: Trajectory) -> float | None:
    """Input tokens the provider served from its prompt cache / all input tokens, over every
    model call (`Usage.cached_input_tokens`); None when no call had input."""
    calls = trajectory.of_type(ModelCalled)
    total = sum(e.usage.input_tokens for e in calls)
    return sum(e.usage.cached_input_tokens for e in calls) / total if total else None


def cost_per_solved_task(trajectories: Iterable[Trajectory]) -> float | None:
    """Total cost of the runs / runs that ended `success` (a checked answer that passed);
    None when none succeeded or any run's cost is unknown."""
    runs = list(trajectories)
    solved = sum(1 for t in runs if t.finished is not None and t.finished.status == "success")
    costs = [cost_usd(t) for t in runs]
    if not solved or any(c is None for c in costs):
        return None
    return sum(c for c in costs if c is not None) / solved


def spend_by_purpose(trajectory: Trajectory) -> dict[str, dict[str, float | None]]:
    """Model spend split by why each call was made (`ModelCalled.purpose`: "agent",
    "summarise", "skill_routing", "worker", ...): per purpose its `calls`, `tokens` and
    `cost_usd` (None when any of its calls has no known price). Every call a run paid for is
    recorded (`AgentState.charge`), so the parts add up to the run's totals."""
    out: dict[str, dict[str, float | None]] = {}
    for e in trajectory.of_type(ModelCalled):
        part = out.setdefault(e.purpose, {"calls": 0, "tokens": 0, "cost_usd": 0.0})
        part["calls"] = (part["calls"] or 0) + 1
        part["tokens"] = (part["tokens"] or 0) + e.usage.total_tokens
        cost = part["cost_usd"]
        part["cost_usd"] = None if cost is None or e.cost_usd is None else cost + e.cost_usd
    return out


def latency(trajectory: Trajectory) -> dict[str, float]:
    """Seconds spent: `model_s` (sum of model call latencies), `tools_s` (sum of tool
    durations), and `wall_s` (last `TaskFinished.ts` - first `TaskStarted.ts`, 0.0 when the run
    has no start or end)."""
    starts, ends = trajectory.of_type(TaskStarted), trajectory.of_type(TaskFinished)
    return {
        "model_s": sum(e.latency_s for e in trajectory.of_type(ModelCalled)),
        "tools_s": sum(e.duration_s for e in trajectory.of_type(ToolFinished)),
        "wall_s": max(0.0, ends[-1].ts - starts[0].ts) if starts and ends else 0.0,
    }


def verification_cost_share(trajectory: Trajectory) -> dict[str, float]:
    """The share of the run's tokens, calls and seconds spent verifying.

    Verification totals are the sums of `Verified.cost`; the denominators add the agent's own
    model calls (`purpose == "agent"`: their tokens, their number, their latency plus tool
    durations). Each share is 0.0 when its denominator is 0."""
    v_tokens = v_calls = 0
    v_seconds = 0.0
    for e in trajectory.of_type(Verified):
        v_tokens += e.cost.tokens
        v_calls += e.cost.calls
        v_seconds += e.cost.seconds
    agent = [e for e in trajectory.of_type(ModelCalled) if e.purpose == "agent"]
    a_tokens = sum(e.usage.total_tokens for e in agent)
    a_seconds = (sum(e.latency_s for e in agent)
                 + sum(e.duration_s for e in trajectory.of_type(ToolFinished)))

    def share(part: float, rest: float) -> float:
        return part / (part + rest) if part + rest else 0.0

    return {"tokens": share(v_tokens, a_tokens), "calls": share(v_calls, len(agent)),
            "seconds": share(v_seconds, a_seconds)}


def subagent_schema_valid_rate(trajectory: Trajectory) -> float | None:
    """Subagent returns that validated against their output schema (`SubagentReturned.ok`) /
    all subagent returns. None when the run started no subagent."""
    returns = trajectory.of_type(SubagentReturned)
    return sum(e.ok for e in returns) / len(returns) if returns else None
