"""Context efficiency: what the model read, per step and per solved task."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from harness._fast import shared_prefix
from harness.events import ContextBuilt, ModelCalled, Trajectory
from harness.messages import ModelRequest
from harness.metrics.quality import success


def _agent_calls(trajectory: Trajectory) -> list[ModelCalled]:
    return [e for e in trajectory.of_type(ModelCalled) if e.purpose == "agent"]


def tokens_by_step(trajectory: Trajectory) -> list[int]:
    """Input tokens of each agent model call, in order (the curve a context strategy draws)."""
    return [e.usage.input_tokens for e in _agent_calls(trajectory)]


def total_tokens(trajectory: Trajectory) -> int:
    """Input plus output tokens over every model call of the run (any purpose)."""
    return sum(e.usage.total_tokens for e in trajectory.of_type(ModelCalled))


def tokens_per_step(trajectory: Trajectory) -> float:
    """Mean input+output tokens per agent model call; 0.0 when there was none."""
    calls = _agent_calls(trajectory)
    return sum(e.usage.total_tokens for e in calls) / len(calls) if calls else 0.0


def tokens_per_solved_task(trajectories: Iterable[Trajectory]) -> float | None:
    """All tokens spent over all runs (solved or not) / number of runs that succeeded.
    None when no run succeeded."""
    runs = list(trajectories)
    solved = sum(success(t) for t in runs)
    return sum(total_tokens(t) for t in runs) / solved if solved else None


def budget_utilisation(trajectory: Trajectory) -> float | None:
    """Mean over built contexts that had a token budget of `total_tokens / budget_tokens`
    (1.0 = the context filled its budget). None when no context recorded a budget."""
    shares = [e.manifest.total_tokens / e.manifest.budget_tokens
              for e in trajectory.of_type(ContextBuilt) if e.manifest.budget_tokens]
    return sum(shares) / len(shares) if shares else None


def evidence_in_context_rate(trajectory: Trajectory, evidence: Sequence[str]) -> float | None:
    """Share of the task's evidence items that reached the model at least once. An item
    reached the model when it is listed among the items of a section in a context manifest
    (memory ids, skill names, ...) or occurs verbatim in a recorded model request (agents
    record requests with `record_requests=True`). None when the task names no evidence."""
    wanted = list(dict.fromkeys(evidence))
    if not wanted:
        return None
    seen: set[str] = set()
    for e in trajectory.of_type(ContextBuilt):
        for section in e.manifest.sections:
            seen.update(section.items)
    texts = [e.request.text() for e in trajectory.of_type(ModelCalled) if e.request is not None]
    hits = sum(item in seen or any(item in text for text in texts) for item in wanted)
    return hits / len(wanted)


def cacheable_prefix_share(trajectory: Trajectory) -> float | None:
    """What a provider's prompt cache could serve: over the agent's model calls after the
    first, the input (the tool schemas, then the messages, as the provider sees them) that
    repeats a prefix of the previous call's input / all their input, in characters of the
    requests' JSON (the ratio tokens would give, without a tokenizer). A change of tools
    breaks the prefix at the start. Needs recorded requests (`Agent(record_requests=True)`);
    None without two of them."""
    return prefix_share([e.request for e in trajectory.of_type(ModelCalled)
                         if e.purpose == "agent" and e.request is not None])


def prefix_share(requests: Sequence[ModelRequest]) -> float | None:
    """`cacheable_prefix_share` of a sequence of requests, each against the one before."""
    shared = total = 0
    for before, now in zip(requests, requests[1:], strict=False):
        sizes = [len(m.openai_json()) for m in now.messages]
        tools = len(json.dumps(now.tools, sort_keys=True))
        total += tools + sum(sizes)
        if now.tools == before.tools:
            shared += tools + sum(sizes[:shared_prefix(now.messages, before.messages)])
    return shared / total if total else None
