"""The span tree of a run, built from its events: live as a sink, or after the fact.

One tree per run: a root `invoke_agent` span from `TaskStarted` to `TaskFinished`; a `chat`
span per model call (ending at its `ModelCalled`, starting `latency_s` before); an
`execute_tool` span per tool call, from `ToolRequested` to `ToolFinished` (or its last
verdict), with the policy decision, gate warnings and verdicts as its span events; a child
`invoke_agent` span per subagent. Context, memory and skills events, and a final answer's
verdicts, are span events on the root. Every time comes from the events' `ts`, so a run
exported after the fact carries its real times. Needs the `otel` extra.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from harness.events import (
    ContextBuilt,
    Event,
    GateWarned,
    LineProblem,
    MemoryRecorded,
    ModelCalled,
    PolicyDecided,
    SkillsRouted,
    SubagentReturned,
    SubagentStarted,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    ToolRequested,
    Trajectory,
    Verified,
)
from harness.telemetry import attributes as attr

TRACER_NAME = "harness.telemetry"
OK_STATUSES = frozenset({"success", "answered"})
ERROR_STATUSES = frozenset({"failed", "error"})


def _ns(ts: float) -> int:
    return int(ts * 1e9)


class OTelSink:
    """A `Sink` that opens and closes OpenTelemetry spans as a run's events arrive:
    `Agent(sinks=[OTelSink()])`. Spans go to `tracer_provider`, or the global one when None.

    A run's spans end with its `TaskFinished`; `close()` ends those of runs that never
    finished (at their last event's time). One sink may watch several runs at once."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None):
        self._tracer = trace.get_tracer(TRACER_NAME, tracer_provider=tracer_provider)
        self._runs: dict[str, _RunSpans] = {}
        self._ended_spans = 0
        self._lock = threading.Lock()

    @property
    def spans(self) -> int:
        """How many spans this sink has started."""
        return self._ended_spans + sum(run.started for run in self._runs.values())

    def __call__(self, event: Event) -> None:
        with self._lock:
            run = self._run_for(event)
            run.add(event)
            if isinstance(event, TaskFinished):
                self._ended_spans += self._runs.pop(event.run_id).started

    def close(self) -> None:
        """End the spans of every run that has not finished, at its last event's time."""
        with self._lock:
            for run in self._runs.values():
                run.end_all(run.last_ns, finished=False)
                self._ended_spans += run.started
            self._runs.clear()

    def _run_for(self, event: Event) -> _RunSpans:
        """The run `event` belongs to; a new tree at its `TaskStarted` (or at its first
        event seen, when its start was not)."""
        run = self._runs.get(event.run_id)
        if run is not None and run.seen and isinstance(event, TaskStarted):  # began again
            run.end_all(run.last_ns, finished=False)
            self._ended_spans += run.started
            run = None
        if run is None:
            run = self._runs[event.run_id] = self._start_run(event)
        return run

    def _start_run(self, event: Event) -> _RunSpans:
        parent = self._runs.get(event.parent_run_id) if isinstance(event, TaskStarted) \
            and event.parent_run_id else None
        context = None if parent is None else trace.set_span_in_context(
            parent.subagents.get(event.run_id, parent.root))
        return _RunSpans(self._tracer, event, context)


class _RunSpans:
    """The open spans of one run, and its token totals."""

    def __init__(self, tracer: Tracer, first: Event, context: Any):
        self.tracer = tracer
        self.started = self.seen = 0
        self.last_ns = _ns(first.ts)
        start = attr.run_started(first) if isinstance(first, TaskStarted) else {
            attr.OPERATION: attr.INVOKE_AGENT, attr.CONVERSATION_ID: first.run_id,
            "harness.run.id": first.run_id, "harness.run.started_seen": False}
        self.scopes: list[Span] = []
        """The spans a new span nests under, innermost last: root, a running tool call, a
        subagent."""
        self.root = self._start(attr.INVOKE_AGENT, self.last_ns, start, context)
        self.scopes.append(self.root)
        self.tools: dict[str, Span] = {}
        self.finished_tools: dict[str, int] = {}
        """Call id -> end time of calls that finished and may still get verdicts."""
        self.subagents: dict[str, Span] = {}
        self.usage: dict[str, int] = {}
        """The run's token totals, by attribute name."""

    def add(self, event: Event) -> None:
        self.seen += 1
        t = _ns(event.ts)
        self.last_ns = max(self.last_ns, t)
        if not isinstance(event, MemoryRecorded) and not (
                isinstance(event, Verified) and event.call_id in self.finished_tools):
            self._end_finished_tools()
        if isinstance(event, ModelCalled):
            for name, tokens in attr.usage_of(event).items():
                self.usage[name] = self.usage.get(name, 0) + tokens
            name = f"{attr.CHAT} {event.model}" if event.model else attr.CHAT
            span = self._start(name, t - _ns(event.latency_s), attr.model_called(event))
            span.end(end_time=t)
        elif isinstance(event, ToolRequested):
            span = self._start(f"{attr.EXECUTE_TOOL} {event.call.name}", t,
                               attr.tool_requested(event))
            self.tools[event.call.id] = span
            self.scopes.append(span)
        elif isinstance(event, PolicyDecided):
            self._on_tool(event.call_id, "policy_decided", attr.policy_decided(event), t)
        elif isinstance(event, GateWarned):
            for warning in event.warnings:
                self._on_tool(event.call_id, "gate_warned", attr.gate_warning(warning), t)
        elif isinstance(event, ToolFinished):
            self._finish_tool(event, t)
        elif isinstance(event, Verified):
            self._on_tool(event.call_id, "verified", attr.verified(event), t)
            if event.call_id in self.finished_tools:
                self.finished_tools[event.call_id] = t
        elif isinstance(event, SubagentStarted):
            span = self._start(attr.INVOKE_AGENT, t, attr.subagent_started(event))
            self.subagents[event.child_run_id] = span
            self.scopes.append(span)
        elif isinstance(event, SubagentReturned):
            self._return_subagent(event, t)
        elif isinstance(event, TaskFinished):
            self.root.set_attributes(attr.run_finished(event, self.usage))
            if event.status in OK_STATUSES:
                self.root.set_status(Status(StatusCode.OK))
            elif event.status in ERROR_STATUSES:
                self.root.set_status(Status(StatusCode.ERROR, event.reason))
            self.end_all(t)
        elif isinstance(event, ContextBuilt):
            self.root.add_event("context_built", attr.context_built(event), timestamp=t)
        elif isinstance(event, MemoryRecorded):
            self.root.add_event("memory_recorded", attr.memory_recorded(event), timestamp=t)
        elif isinstance(event, SkillsRouted):
            self.root.add_event("skills_routed", attr.skills_routed(event), timestamp=t)
        elif not isinstance(event, TaskStarted):
            self.root.add_event(event.type, {"harness.event.id": event.id}, timestamp=t)

    def note_problems(self, problems: Iterable[LineProblem]) -> None:
        """Record lines of the run's file that could not be read, on the root span."""
        for problem in problems:
            self.root.add_event("trajectory_line_skipped", {
                "harness.trajectory.path": problem.path, "harness.trajectory.line":
                problem.line, "harness.trajectory.error": problem.error},
                timestamp=self.last_ns)

    def end_all(self, t: int, *, finished: bool = True) -> None:
        """End every span of the run still open (the root last) at `t` at the latest."""
        if not finished:
            self.root.set_attribute("harness.run.finished", False)
        for call_id, span in list(self.tools.items()):
            span.end(end_time=self.finished_tools.get(call_id, t))
        for span in self.subagents.values():
            span.end(end_time=t)
        self.tools.clear()
        self.finished_tools.clear()
        self.subagents.clear()
        self.scopes = [self.root]
        self.root.end(end_time=t)

    # -- helpers ---------------------------------------------------------------------------
    def _start(self, name: str, t: int, attributes: attr.Attributes,
               context: Any = None) -> Span:
        if context is None and self.scopes:
            context = trace.set_span_in_context(self.scopes[-1])
        self.started += 1
        return self.tracer.start_span(name, context=context, attributes=attributes,
                                      start_time=t)

    def _on_tool(self, call_id: str | None, name: str, attributes: attr.Attributes,
                 t: int) -> None:
        span = self.tools.get(call_id) if call_id else None
        if span is None:  # a final answer's verdict, or an event about a call not seen
            span = self.root
            if call_id:
                attributes = {**attributes, attr.TOOL_CALL_ID: call_id}
        span.add_event(name, attributes, timestamp=t)

    def _finish_tool(self, event: ToolFinished, t: int) -> None:
        span = self.tools.get(event.call_id)
        if span is None:  # its request was not seen (a cut log): a span of its own
            span = self._start(f"{attr.EXECUTE_TOOL} {event.tool}", t, {
                attr.OPERATION: attr.EXECUTE_TOOL, attr.TOOL_NAME: event.tool,
                attr.TOOL_CALL_ID: event.call_id})
            self.tools[event.call_id] = span
        span.set_attributes(attr.tool_finished(event))
        if attr.tool_outcome(event) == "error":
            span.set_status(Status(StatusCode.ERROR, event.error or "tool error"))
        if span in self.scopes:
            self.scopes.remove(span)
        self.finished_tools[event.call_id] = t

    def _end_finished_tools(self) -> None:
        for call_id, t in self.finished_tools.items():
            self.tools.pop(call_id).end(end_time=t)
        self.finished_tools.clear()

    def _return_subagent(self, event: SubagentReturned, t: int) -> None:
        span = self.subagents.pop(event.child_run_id, None)
        if span is None:
            self.root.add_event("subagent_returned", attr.subagent_returned(event),
                                timestamp=t)
            return
        span.set_attributes(attr.subagent_returned(event))
        if not event.ok:
            span.set_status(Status(StatusCode.ERROR, event.error or "subagent failed"))
        if span in self.scopes:
            self.scopes.remove(span)
        span.end(end_time=t)


def export_trajectory(trajectory: Trajectory,
                      tracer_provider: trace.TracerProvider | None = None) -> int:
    """Export a recorded run's events as the spans `OTelSink` makes live (the same names,
    parents and attributes), at the run's own times; lines of its file that could not be
    read are span events (`trajectory_line_skipped`) on its root. Returns how many spans
    were made; flushes the provider when it can."""
    sink = OTelSink(tracer_provider)
    problems = list(trajectory.problems)
    for event in trajectory:
        if problems:  # on the first run's root, before any of its spans can end
            sink._run_for(event).note_problems(problems)
            problems = []
        sink(event)
    sink.close()
    provider = tracer_provider or trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if callable(flush):
        flush()
    return sink.spans
