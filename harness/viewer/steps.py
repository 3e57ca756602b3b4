"""A trajectory grouped for reading: the run's outcome, its steps, and each tool call with
everything that happened to it (policy, gate, result, verdicts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.events import (
    ContextBuilt,
    Event,
    GateWarned,
    ModelCalled,
    PolicyDecided,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    ToolRequested,
    Trajectory,
    Verified,
)
from harness.messages import ToolCall


@dataclass
class CallView:
    """One tool call and what became of it."""

    call: ToolCall
    decision: PolicyDecided | None = None
    gate: list[GateWarned] = field(default_factory=list)
    finished: ToolFinished | None = None
    verdicts: list[Verified] = field(default_factory=list)


@dataclass
class StepView:
    """The events of one step, in order, with its tool calls paired by call id."""

    number: int
    events: list[Event] = field(default_factory=list)
    calls: dict[str, CallView] = field(default_factory=dict)

    @property
    def model_calls(self) -> list[ModelCalled]:
        return [e for e in self.events if isinstance(e, ModelCalled)]

    @property
    def tokens(self) -> int:
        return sum(c.usage.input_tokens + c.usage.output_tokens for c in self.model_calls)

    @property
    def cost_usd(self) -> float | None:
        costs = [c.cost_usd for c in self.model_calls]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    @property
    def latency_s(self) -> float:
        return sum(c.latency_s for c in self.model_calls)


@dataclass
class RunView:
    """A run as the viewer shows it."""

    start: TaskStarted | None
    finish: TaskFinished | None
    steps: list[StepView]

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.steps)

    @property
    def cost_usd(self) -> float | None:
        costs = [s.cost_usd for s in self.steps if s.model_calls]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    @property
    def latency_s(self) -> float:
        return sum(s.latency_s for s in self.steps)

    @property
    def model_steps(self) -> int:
        """Steps in which the model was called (what a run's `steps` counts)."""
        return sum(1 for s in self.steps if s.model_calls)


def group(trajectory: Trajectory) -> RunView:
    """The trajectory's events by step (in the order they happened), tool calls paired."""
    steps: dict[int, StepView] = {}
    start: TaskStarted | None = None
    finish: TaskFinished | None = None
    for event in trajectory:
        if isinstance(event, TaskStarted) and start is None:
            start = event
            continue
        if isinstance(event, TaskFinished):
            finish = event
            continue
        step = steps.setdefault(event.step, StepView(event.step))
        step.events.append(event)
        _pair(step, event)
    return RunView(start, finish, [steps[n] for n in sorted(steps)])


def _pair(step: StepView, event: Event) -> None:
    if isinstance(event, ToolRequested):
        step.calls[event.call.id] = CallView(event.call)
        return
    call_id = getattr(event, "call_id", None)
    view = step.calls.get(call_id) if isinstance(call_id, str) else None
    if view is None:
        return
    if isinstance(event, PolicyDecided):
        view.decision = event
    elif isinstance(event, GateWarned):
        view.gate.append(event)
    elif isinstance(event, ToolFinished):
        view.finished = event
    elif isinstance(event, Verified):
        view.verdicts.append(event)


def manifest_of(step: StepView) -> ContextBuilt | None:
    """The step's (last) built context."""
    built = [e for e in step.events if isinstance(e, ContextBuilt)]
    return built[-1] if built else None
