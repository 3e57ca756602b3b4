"""The spine: every step of a run is a typed event in one append-only log.

The loop emits events; the console view, metrics, reports and replay read them.
A `Trajectory` is a list of events stored as JSONL, one event per line.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from harness import _fast
from harness.messages import ModelRequest, ModelResponse, ToolCall, Usage
from harness.sandbox.base import SandboxInfo
from harness.tools.effects import Effects

# Fields that legitimately differ between two runs of the same trajectory.
VOLATILE_FIELDS = frozenset({"ts", "latency_s", "duration_s", "seconds"})


class EventBase(BaseModel):
    """Fields every event carries. `id` is `{run_id}:{seq}`, unique within a log."""

    model_config = ConfigDict(extra="forbid")

    id: str = ""
    run_id: str = ""
    step: int = 0
    ts: float = Field(default_factory=time.time)

    stamp = _fast.stamp
    """`event.stamp(run_id, seq, step)` gives the event its place in a run's record: `id`
    (`{run_id}:{seq}`), `run_id` and `step`. The one place these are set, called by
    `AgentState.emit` as it records the event (a fast path: see `harness._fast.stamp`)."""

    def comparable(self) -> dict[str, Any]:
        """The event without timing fields, for reproducibility checks."""
        comparable: dict[str, Any] = without_keys(self.model_dump(mode="json"), VOLATILE_FIELDS)
        return comparable


def without_keys(value: Any, keys: frozenset[str]) -> Any:
    """`value` (JSON-like) with every dict entry named in `keys` removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without_keys(v, keys) for v in value]
    return value


class TaskStarted(EventBase):
    """A run began."""

    type: Literal["task_started"] = "task_started"
    task: str
    model: str = ""
    workspace: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    parent_run_id: str | None = None
    sandbox: SandboxInfo | None = None
    """What confined the run's tools (None in logs written before sandboxes existed)."""
    tools: dict[str, Effects] = Field(default_factory=dict)
    """What each of the run's tools declares it does (empty in logs written before tools
    declared their effects)."""


class SectionInfo(BaseModel):
    """One section of a built context: what went in, its tokens, what was left out and why."""

    name: str
    tokens: int
    priority: int = 0
    items: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    note: str = ""


class ContextManifest(BaseModel):
    """Why the model saw what it saw: every section with its token count."""

    sections: list[SectionInfo] = Field(default_factory=list)
    total_tokens: int = 0
    budget_tokens: int | None = None
    strategy: str = ""


class ContextBuilt(EventBase):
    """The context constructor built the next model input."""

    type: Literal["context_built"] = "context_built"
    manifest: ContextManifest


class ModelCalled(EventBase):
    """One model call: request digest, full response, usage, cost and latency.

    `request` holds the full input only when the agent was asked to record requests.
    """

    type: Literal["model_called"] = "model_called"
    model: str = ""
    request_digest: str
    request: ModelRequest | None = None
    response: ModelResponse
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = None
    latency_s: float = 0.0
    purpose: str = "agent"
    """Why the call was made: "agent" (the loop's own turn), "summarise", "skill_routing",
    "worker", ... Every call a run pays for is recorded, each with its purpose."""


class ToolRequested(EventBase):
    """The model asked for a tool call."""

    type: Literal["tool_requested"] = "tool_requested"
    call: ToolCall


class PolicyDecided(EventBase):
    """The governor decided on a tool call."""

    type: Literal["policy_decided"] = "policy_decided"
    call_id: str
    tool: str
    decision: Literal["allow", "deny", "ask"]
    rule: str = ""
    reason: str = ""
    approved: bool | None = None


class GateWarning(BaseModel):
    """A memory gate warning: what the action repeats or breaks, citing event ids."""

    message: str
    severity: Literal["info", "warn", "block"] = "warn"
    cites: list[str] = Field(default_factory=list)
    kind: str = ""


class GateWarned(EventBase):
    """The memory gate raised warnings before a tool call."""

    type: Literal["gate_warned"] = "gate_warned"
    call_id: str
    tool: str
    warnings: list[GateWarning]


class ToolFinished(EventBase):
    """A tool call finished (or was refused). `error` is set when it failed."""

    type: Literal["tool_finished"] = "tool_finished"
    call_id: str
    tool: str
    ok: bool
    output: str = ""
    error: str | None = None
    refused: bool = False
    duration_s: float = 0.0
    channel: str = "none"


class VerificationCost(BaseModel):
    tokens: int = 0
    calls: int = 0
    seconds: float = 0.0


class Verified(EventBase):
    """A verifier checked an action's result or the final answer."""

    type: Literal["verified"] = "verified"
    call_id: str | None = None
    verifier: str
    ok: bool
    detail: str = ""
    cost: VerificationCost = Field(default_factory=VerificationCost)


class MemoryRecorded(EventBase):
    """Memory stored items derived from this run."""

    type: Literal["memory_recorded"] = "memory_recorded"
    memory_ids: list[str]
    kind: str = ""
    summary: str = ""


class SkillsRouted(EventBase):
    """The skill router ranked candidates and decided which bodies to load."""

    type: Literal["skills_routed"] = "skills_routed"
    candidates: list[tuple[str, float]] = Field(default_factory=list)
    loaded: list[str] = Field(default_factory=list)
    router: str = ""
    tools: dict[str, Effects] = Field(default_factory=dict)
    """Tools that joined the run's toolset with this routing (`load_skill`, a loaded
    skill's own tools), with what each declares it does, as `TaskStarted.tools`."""


class SubagentStarted(EventBase):
    """A worker agent was handed a task and an output schema."""

    type: Literal["subagent_started"] = "subagent_started"
    child_run_id: str
    task: str
    output_schema: dict[str, Any] = Field(default_factory=dict)


class SubagentReturned(EventBase):
    """A worker returned; only a schema-valid `value` crosses back."""

    type: Literal["subagent_returned"] = "subagent_returned"
    child_run_id: str
    ok: bool
    value: Any = None
    error: str | None = None


StopStatus = Literal["success", "failed", "stopped", "error"]


class TaskFinished(EventBase):
    """A run ended, with the reason it stopped."""

    type: Literal["task_finished"] = "task_finished"
    status: StopStatus
    reason: str
    answer: str | None = None
    steps: int = 0
    tokens: int = 0
    cost_usd: float | None = None


Event = Annotated[
    TaskStarted | ContextBuilt | ModelCalled | ToolRequested | PolicyDecided | GateWarned
    | ToolFinished | Verified | MemoryRecorded | SkillsRouted | SubagentStarted
    | SubagentReturned | TaskFinished,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class LineProblem(BaseModel):
    """A line of a JSONL file that could not be read."""

    path: str
    line: int
    error: str

    def __str__(self) -> str:
        return f"{self.path} line {self.line}: {self.error}"


class TrajectoryReadWarning(UserWarning):
    """A line of a trajectory file was skipped."""


def parse_event(data: str | dict[str, Any]) -> Event:
    """Validate one event from a JSON string or dict."""
    if isinstance(data, str):
        return EVENT_ADAPTER.validate_json(data)
    return EVENT_ADAPTER.validate_python(data)


class Trajectory:
    """An ordered list of events: the single record of a run."""

    def __init__(self, events: Iterable[Event] = (), problems: Iterable[LineProblem] = ()):
        self.events: list[Event] = list(events)
        self.problems: list[LineProblem] = list(problems)

    def append(self, event: Event) -> Event:
        self.events.append(event)
        return event

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, i: int) -> Event:
        return self.events[i]

    def of_type(self, *types: type[EventBase]) -> list[Any]:
        """Events of the given classes, in order."""
        return [e for e in self.events if isinstance(e, types)]

    @property
    def finished(self) -> TaskFinished | None:
        ends = self.of_type(TaskFinished)
        return ends[-1] if ends else None

    @property
    def run_id(self) -> str:
        return self.events[0].run_id if self.events else ""

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write every event as one JSON line."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for event in self.events:
                fh.write(event.model_dump_json() + "\n")
        return path

    @classmethod
    def read(cls, path: str | os.PathLike[str], *, strict: bool = False) -> Trajectory:
        """Read a JSONL trajectory.

        A corrupt or truncated line is recorded in `problems` (file and line number) and
        reported as a `TrajectoryReadWarning`; every good line before and after it is
        kept. With `strict=True` the first problem raises `TrajectoryError` instead.
        """
        path = Path(path)
        events: list[Event] = []
        problems: list[LineProblem] = []
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    events.append(parse_event(line))
                except ValidationError as exc:
                    problem = LineProblem(path=str(path), line=lineno, error=_short_error(exc))
                    if strict:
                        raise TrajectoryError(str(problem)) from exc
                    problems.append(problem)
                    warnings.warn(str(problem), TrajectoryReadWarning, stacklevel=2)
        return cls(events, problems)

    def comparable(self) -> list[dict[str, Any]]:
        return [e.comparable() for e in self.events]


class TrajectoryError(ValueError):
    """A trajectory file could not be read."""


def _short_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "json_invalid")
    kind = err.get("type", "")
    if kind == "json_invalid":
        return f"not valid JSON ({err.get('msg', '')})"
    return f"field '{where}': {err.get('msg', '')}" if where else err.get("msg", str(exc))


class TrajectoryWriter:
    """Streams events to a JSONL file, flushing after each one so a crash loses nothing."""

    def __init__(self, path: str | os.PathLike[str], *, append: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = self.path.open("a" if append else "w", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        self.write(event)

    def write(self, event: Event) -> None:
        if self._fh is None:
            raise TrajectoryError(f"{self.path}: writer is closed")
        self._fh.write(event.model_dump_json() + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def dump_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)
