"""The state of one run, as the loop and the components see it, and the run's record.

`AgentState` is where a run records: `emit` appends an event to the trajectory (and hands
it to the sinks and to memory), `charge` records a model call and adds its tokens and cost,
`budget_spent` is the one budget check. Components that keep state for a run get it from an
object made for that run (`for_run`), never from caches on themselves keyed by run.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Self, TypeVar

from pydantic import BaseModel, Field

from harness._fast import RequestDigests
from harness.events import Event, EventBase, MemoryRecorded, ModelCalled, StopStatus, Trajectory
from harness.messages import Message, ModelRequest, ModelResponse
from harness.sandbox.base import SandboxSession
from harness.tools.base import Toolset

Sink = Callable[[Event], Any]
"""Receives every event of a run as it is recorded (a live view, a JSONL writer)."""
E = TypeVar("E", bound=EventBase)
C = TypeVar("C")


class Budget(BaseModel):
    """Limits that stop a run cleanly, with the reason recorded in `TaskFinished`."""

    max_steps: int = 30
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_seconds: float | None = None
    max_calls_per_step: int = Field(default=16, ge=1)
    """The most tool calls of one reply that run; each call past it is answered "not run"
    (a weak model may send dozens at once, each with its effects, before any result)."""


class Section(StrEnum):
    """The names of a context's sections. Components write their sections under these names
    and a budgeted context gives each its share by the same name (`SECTION_SHARES`); a
    component of your own may use any other name, which gets the default share."""

    SYSTEM = "system"
    TASK = "task"
    HISTORY = "history"
    GATE = "gate"
    """Memory-gate warnings about the step's actions (put by the governor)."""
    SKILLS = "skills"
    """The routed skills: their list, and the bodies loaded."""
    MEMORY = "memory"
    """Project memory's summary: open issues, failed approaches, decisions, facts."""
    RECALLED = "recalled"
    """Memory items recalled for the task, each with its id."""
    OUTPUT = "output"
    """The form the final answer must take (an `Agent(output_type=...)`'s JSON schema)."""


@dataclass
class ContextSection:
    """A named piece of the next model input, contributed by a component.

    `priority` orders what a budgeted context constructor keeps (higher first); `items`
    names what is inside (memory ids, skill names) for the manifest; `trusted=False`
    marks content that came from outside (tool output, files, the web).
    """

    name: str
    text: str
    priority: int = 50
    items: list[str] = field(default_factory=list)
    trusted: bool = True


@dataclass
class AgentState:
    """Everything the loop knows about a run in progress, and the run's record.

    `history` holds the messages after the task (assistant replies and tool results);
    `sections` holds what components contributed for the next context build; `tools` is
    the run's own toolset (a router may add to it; the agent's stays as it was).
    """

    run_id: str
    task: str
    workspace: Path
    tools: Toolset
    budget: Budget
    trajectory: Trajectory = field(default_factory=Trajectory)
    step: int = 0
    history: list[Message] = field(default_factory=list)
    sections: dict[str, ContextSection] = field(default_factory=dict)
    tokens: int = 0
    cost_usd: float | None = 0.0
    started: float = field(default_factory=time.monotonic)
    repairs: int = 0
    done: bool = False
    status: StopStatus | None = None
    reason: str = ""
    answer: str | None = None
    output: Any = None
    """The final answer as the agent's `output_type` (a validated pydantic model), if any."""
    sinks: list[Sink] = field(default_factory=list, repr=False)
    observe: Callable[[Event], list[str]] | None = field(default=None, repr=False)
    """Memory's observer: the ids of the items it recorded from an event, if any."""
    record_requests: bool = False
    """Whether `ModelCalled` keeps each request whole (else its digest only)."""
    sandbox: SandboxSession | None = field(default=None, repr=False)
    """The run's sandbox session, through which its tools reach the machine."""
    _seq: Iterator[int] = field(default_factory=itertools.count, init=False, repr=False)
    digests: RequestDigests = field(init=False, repr=False)
    """Digests of the loop's own requests, each hashing only what it adds to the one before
    (other calls' requests are digested whole)."""

    def __post_init__(self) -> None:
        self.digests = RequestDigests(self.tools)

    # -- the record ------------------------------------------------------------------------
    def emit(self, event: E) -> E:
        """Record `event`: stamp it with its id, run and step, append it to the trajectory,
        hand it to each sink, and let memory observe it (what memory records is recorded
        too, as `MemoryRecorded`)."""
        event.stamp(self.run_id, next(self._seq), self.step)
        one: Event = event  # type: ignore[assignment]  # each event class is in the union
        self.trajectory.events.append(one)
        for sink in self.sinks:
            sink(one)
        if self.observe is not None and not isinstance(event, MemoryRecorded):
            recorded = self.observe(one)
            if recorded:
                self.emit(MemoryRecorded(memory_ids=recorded))
        return event

    def charge(self, reply: ModelResponse, purpose: str = "agent", *,
               request: ModelRequest | None = None, model: str = "") -> ModelCalled:
        """Record one model call made for this run, by whichever component, and add its
        tokens and cost to the run's: the one place any call's usage is counted. `purpose`
        tags the call ("agent", "summarise", "skill_routing", "worker", ...) so that metrics
        can split the spend; `model` names the model when the reply does not. A reply from a
        response cache is recorded `cached`: its tokens count as reported, its cost is 0."""
        digest = "" if request is None else self.digests.digest(request) \
            if purpose == "agent" else request.digest()
        event = self.emit(ModelCalled(
            model=reply.model or model, request_digest=digest,
            request=request if self.record_requests else None, response=reply,
            usage=reply.usage, cost_usd=reply.cost_usd, latency_s=reply.latency_s,
            purpose=purpose, cached=getattr(reply, "cached", False)))
        self.tokens += reply.usage.total_tokens
        if self.cost_usd is not None:
            self.cost_usd = None if reply.cost_usd is None else self.cost_usd + reply.cost_usd
        return event

    def budget_spent(self, *, steps: bool = True) -> tuple[str, str] | None:
        """The first of the run's budgets it has spent, as `(rule, reason)`, or None: the
        one budget check. The loop stops the run on it after each step (`steps=True`); a
        governor refuses further calls on it within a step (`steps=False`)."""
        b = self.budget
        if steps and self.step >= b.max_steps:
            return "budget.steps", f"max_steps reached ({b.max_steps})"
        if b.max_tokens is not None and self.tokens >= b.max_tokens:
            return "budget.tokens", f"token budget reached ({self.tokens} >= {b.max_tokens})"
        if (b.max_cost_usd is not None and self.cost_usd is not None
                and self.cost_usd >= b.max_cost_usd):
            return "budget.cost", (f"cost budget reached (${self.cost_usd:.4f} >= "
                                   f"${b.max_cost_usd:.4f})")
        if b.max_seconds is not None and self.elapsed >= b.max_seconds:
            return "budget.time", (f"time budget reached ({self.elapsed:.1f}s >= "
                                   f"{b.max_seconds}s)")
        return None

    # -- what the loop and components change ----------------------------------------------
    def put(self, section: ContextSection | Iterable[ContextSection] | None) -> None:
        """Contribute a section (or several) to the next context build, replacing any
        held under the same name."""
        if section is None:
            return
        for s in [section] if isinstance(section, ContextSection) else section:
            self.sections[s.name] = s

    def stop(self, status: StopStatus, reason: str, answer: str | None = None) -> None:
        self.done, self.status, self.reason = True, status, reason
        if answer is not None:
            self.answer = answer

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class PerRun:
    """For a component that keeps state for a run: `for_run(state)` returns a shallow copy
    of the component (its configuration shared) on which `start_run(state)` sets up the
    run's own state. The loop calls `for_run` once at the start of each run and uses what
    it returns for that run only, so two runs never see each other's state."""

    def for_run(self, state: AgentState) -> Self:
        run = copy.copy(self)
        run.start_run(state)
        return run

    def start_run(self, state: AgentState) -> None:
        """Set up this run's state on the per-run copy (override; call super())."""


def for_run(component: C, state: AgentState) -> C:
    """The object that serves `component` for one run: what its `for_run(state)` returns,
    or the component itself when it keeps no state for a run (it has no `for_run`)."""
    make = getattr(component, "for_run", None)
    return component if make is None else make(state)
