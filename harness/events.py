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


class GitState(BaseModel):
    """The repository a workspace lies in: where, at which commit, and what differed from it."""

    root: str
    commit: str
    path: str = "."
    """The workspace's folder inside the repository."""
    dirty: list[str] = Field(default_factory=list)
    """Paths (relative to the workspace) that differed from the commit, untracked ones included."""


class WorkspaceState(BaseModel):
    """What a workspace held when a run began: enough to restore it and to check a restore.

    `files` maps each file's path (relative, `/`-separated) to `SIZE:SHA256`; `snapshot`, kept
    when the workspace is small, maps paths to their content in base64; `git` names the
    commit of the repository around it. `complete` is False when the manifest stopped at its
    limit (a huge workspace is recorded by its commit, not file by file)."""

    files: dict[str, str] = Field(default_factory=dict)
    complete: bool = True
    snapshot: dict[str, str] | None = None
    git: GitState | None = None


class TaskStarted(EventBase):
    """A run began."""

    type: Literal["task_started"] = "task_started"
    task: str
    model: str = ""
    workspace: str = ""
    """The workspace's absolute path."""
    workspace_state: WorkspaceState | None = None
    """What the workspace held as the run began (None when not recorded)."""
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
    cached: bool = False
    """The reply came from a response cache, not the provider: `usage` is the tokens it
    reported when it was first made, `cost_usd` is 0 (nothing was paid)."""


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
    overrides: tuple[str, ...] = ()
    """Memory event ids of `block` gate warnings the decision let through."""


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
    grader: bool = False
    """A grader's verdict: it judged the run's outcome and was never shown to the model."""


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


class LoopDetected(EventBase):
    """The loop guard (`harness.loop_guard`) saw the run repeat itself or learn nothing, and
    told the model (`noted`) or, once told, stopped the run (`stopped`)."""

    type: Literal["loop_detected"] = "loop_detected"
    kind: Literal["repeat", "no-progress"]
    """`repeat`: a call (tool and arguments) gave the same result again; `no-progress`:
    steps in a row brought no new tool output and changed nothing."""
    action: Literal["noted", "stopped"]
    calls: list[str] = Field(default_factory=list)
    """Ids of the tool calls involved: the repeats, or the calls of the idle steps."""
    signatures: list[str] = Field(default_factory=list)
    """The actions involved, each as tool and canonical JSON arguments."""
    count: int = 0
    """How often the call gave that result, or how many steps brought nothing new."""
    message: str = ""
    """The note shown to the model, or the reason the run stopped."""


StopStatus = Literal["success", "answered", "failed", "stopped", "error"]
"""How a run ended: `success` (a final answer that a verifier or grader checked and passed),
`answered` (a final answer no one checked), `failed` (a check failed), `stopped` (a budget
or an interrupt), `error` (the run could not go on)."""


class TaskFinished(EventBase):
    """A run ended, with the reason it stopped."""

    type: Literal["task_finished"] = "task_finished"
    status: StopStatus
    reason: str
    answer: str | None = None
    output: Any = None
    """The final answer as the run's output type, as JSON (None without one)."""
    steps: int = 0
    tokens: int = 0
    cost_usd: float | None = None


Event = Annotated[
    TaskStarted | ContextBuilt | ModelCalled | ToolRequested | PolicyDecided | GateWarned
    | ToolFinished | Verified | MemoryRecorded | SkillsRouted | SubagentStarted
    | SubagentReturned | LoopDetected | TaskFinished,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


from harness.errors import DataError  # noqa: E402  (this part of the module reads and writes logs)

MAX_LINE_BYTES = 32 * 1024 * 1024
"""A trajectory line longer than this is reported as a problem and skipped, not read."""

MAX_EVENT_DEPTH = 100
"""How deeply an event's JSON may nest when written: deeper containers are cut (see
`event_json`). Well under pydantic's own limit (~255), well over any event's shape."""


class LineProblem(BaseModel):
    """A line of a JSONL file that could not be read."""

    path: str
    line: int
    error: str

    def __str__(self) -> str:
        return f"{self.path} line {self.line}: {self.error}"


class TrajectoryReadWarning(UserWarning):
    """A line of a trajectory file was skipped."""


class TrajectoryError(DataError):
    """A trajectory file, or one event in it, could not be read; the message names the
    field (and, when read from a file, the file and the line)."""


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Validate one event from a JSON line or a dict.

    Raises `TrajectoryError` naming the field that is wrong (and nothing else, whatever the
    input). JSON that escapes a lone surrogate (`"\\ud800"`, as `event_json` writes one)
    reads back to the same string."""
    try:
        if isinstance(data, dict):
            return EVENT_ADAPTER.validate_python(data)
        if _may_escape_surrogates(data):  # pydantic's parser replaces or refuses them
            decoded = _json_fallback(data)
        else:
            try:
                return EVENT_ADAPTER.validate_json(data)
            except ValidationError as exc:
                if exc.errors()[0].get("type") != "json_invalid":
                    raise
                decoded = _json_fallback(data)  # what pydantic's parser refuses, json may not
                if decoded is None:
                    raise
        if decoded is None:
            raise TrajectoryError("not valid JSON")
        if not isinstance(decoded, dict):
            raise TrajectoryError(f"an event is a JSON object, got {type(decoded).__name__}")
        return EVENT_ADAPTER.validate_python(decoded)
    except ValidationError as exc:
        raise TrajectoryError(_short_error(exc)) from exc
    except RecursionError as exc:  # pydantic validating a deeply nested dict
        raise TrajectoryError("nested too deeply to read") from exc


def _may_escape_surrogates(text: str | bytes) -> bool:
    """Whether JSON text may hold a `\\uD800`-`\\uDFFF` escape (a few other escapes too)."""
    if isinstance(text, str):
        return "\\ud" in text or "\\uD" in text
    return b"\\ud" in text or b"\\uD" in text


def _json_fallback(text: str | bytes) -> Any:
    """`json.loads(text)` for text that pydantic's JSON parser refuses but json reads (lone
    surrogate escapes, non-finite numbers), or None if json refuses it too."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def event_json(event: BaseModel) -> str:
    """One event as a line of JSON, whatever it holds: the fast `model_dump_json`, or, for
    an event pydantic cannot write (or would write with a U+FFFD), plain JSON in which a lone surrogate (which UTF-8 cannot
    encode) is the escape `\\ud800` (read back as the same string by `parse_event`) and any
    container nested more than `MAX_EVENT_DEPTH` levels down is replaced by the text
    `[cut: nested deeper than ... levels]`. Never raises for an event's content."""
    try:
        text = event.model_dump_json()
        if "\ufffd" not in text:  # pydantic writes a surrogate in a dict key as U+FFFD
            return text
    except (ValueError, RecursionError):  # PydanticSerializationError is a ValueError
        pass
    # Python mode: pydantic's JSON mode also replaces a surrogate in a key; json's
    # ensure_ascii escapes every surrogate instead.
    data = _fast.cut_deep(event, MAX_EVENT_DEPTH).model_dump(warnings=False)
    return json.dumps(data, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    """What JSON holds for a value pydantic's Python mode leaves as it is."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


class Trajectory:
    """An ordered list of events: the single record of a run."""

    def __init__(self, events: Iterable[Event] = (), problems: Iterable[LineProblem] = ()):
        self.events: list[Event] = list(events)
        self.problems: list[LineProblem] = list(problems)
        self._output: Any = None

    @property
    def output(self) -> Any:
        """The run's final answer as its agent's `output_type`: the validated value in the
        process that ran it, its JSON (`TaskFinished.output`) in a trajectory read back."""
        if self._output is not None:
            return self._output
        end = self.finished
        return end.output if end is not None else None

    @output.setter
    def output(self, value: Any) -> None:
        self._output = value

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
        """Write every event as one JSON line (see `event_json`). The file is replaced only
        once every line is written, so a failure leaves any earlier file whole."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            with partial.open("w", encoding="utf-8") as fh:
                for event in self.events:
                    fh.write(event_json(event) + "\n")
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return path

    @classmethod
    def read(cls, path: str | os.PathLike[str], *, strict: bool = False) -> Trajectory:
        """Read a JSONL trajectory.

        A corrupt, truncated or over-long line (see `MAX_LINE_BYTES`) is recorded in
        `problems` (file and line number) and reported as a `TrajectoryReadWarning`; every
        good line before and after it is kept. With `strict=True` the first problem raises
        `TrajectoryError` instead. A byte-order mark and CRLF line ends are read as plain
        UTF-8 lines; bytes that are not UTF-8 are read as U+FFFD. A file that cannot be
        opened raises `TrajectoryError`.
        """
        path = Path(path)
        events: list[Event] = []
        problems: list[LineProblem] = []
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise TrajectoryError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        with fh:
            for lineno, raw in enumerate(_lines(fh), start=1):
                try:
                    if raw is None:
                        raise TrajectoryError(f"line is longer than {MAX_LINE_BYTES} bytes")
                    text = raw.decode("utf-8", errors="replace")
                    if lineno == 1:
                        text = text.removeprefix("\ufeff")
                    if not text.strip():
                        continue
                    events.append(parse_event(text))
                except TrajectoryError as exc:
                    problem = LineProblem(path=str(path), line=lineno, error=str(exc))
                    if strict:
                        raise TrajectoryError(str(problem)) from exc
                    problems.append(problem)
                    warnings.warn(str(problem), TrajectoryReadWarning, stacklevel=2)
        return cls(events, problems)

    def comparable(self) -> list[dict[str, Any]]:
        return [e.comparable() for e in self.events]


def _lines(fh: IO[bytes]) -> Iterator[bytes | None]:
    """The lines of a binary file, each at most `MAX_LINE_BYTES` long (None for a longer
    one, whose bytes are skipped, not held)."""
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):
            line = fh.readline(1 << 20)
        yield None


def _short_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "json_invalid")
    kind = err.get("type", "")
    if kind == "json_invalid":
        return f"not valid JSON ({err.get('msg', '')})"
    return f"field '{where}': {err.get('msg', '')}" if where else err.get("msg", str(exc))


class TrajectoryWriter:
    """Streams events to a JSONL file, flushing after each one so a crash loses nothing.
    Every event is written, whatever it holds (see `event_json`)."""

    def __init__(self, path: str | os.PathLike[str], *, append: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = self.path.open("a" if append else "w", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        self.write(event)

    def write(self, event: Event) -> None:
        if self._fh is None:
            raise TrajectoryError(f"{self.path}: writer is closed")
        self._fh.write(event_json(event) + "\n")
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
    """`obj` as sorted JSON (anything JSON cannot hold as its `str`); a lone surrogate is
    escaped, and a value nested too deeply to encode is cut (see `event_json`)."""
    try:
        return json.dumps(obj, sort_keys=True, default=str)
    except RecursionError:
        return json.dumps(_fast.cut_deep(obj, MAX_EVENT_DEPTH), sort_keys=True, default=str)
