"""Renders trajectory events for people: a live console view and `harness view`."""

from __future__ import annotations

import json
from typing import Any

from harness.events import (
    ContextBuilt,
    Event,
    GateWarned,
    LoopDetected,
    ModelCalled,
    PolicyDecided,
    SkillsRouted,
    SubagentReturned,
    SubagentStarted,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    ToolRequested,
    Verified,
)

STATUS_STYLES = {"success": "bold green", "answered": "bold yellow"}
"""An answered run is not a failure, and not a success either: no one checked it."""


def _short(text: str | None, limit: int = 300) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit] + f" … [{len(text) - limit} more chars]"


def describe(event: Event) -> tuple[str, str] | None:
    """A (style, line) for an event, or None for events not worth a line."""
    match event:
        case TaskStarted():
            line = f"task: {_short(event.task)}  [model {event.model}]"
            if event.sandbox is not None:
                line += f"\n  {event.sandbox.describe()}"
            unconfined = event.sandbox is not None and not event.sandbox.confined
            return ("bold red" if unconfined else "bold"), line
        case ContextBuilt():
            m = event.manifest
            parts = ", ".join(f"{s.name} {s.tokens}" for s in m.sections if s.tokens)
            return "dim", f"context: {m.total_tokens} tokens ({parts})"
        case ModelCalled():
            r = event.response
            cost = "cost ?" if event.cost_usd is None else f"${event.cost_usd:.5f}"
            line = (f"model: {event.usage.input_tokens} in / {event.usage.output_tokens} out, "
                    f"{cost}, {event.latency_s * 1000:.0f} ms")
            if r.text:
                line += f"\n  {_short(r.text)}"
            return "cyan", line
        case ToolRequested():
            args = event.call.raw_arguments if event.call.parse_error else json.dumps(
                event.call.arguments)
            return "yellow", f"→ {event.call.name}({_short(args, 200)})"
        case PolicyDecided() if event.decision != "allow":
            return "magenta", f"policy: {event.decision} [{event.rule}] {event.reason}"
        case GateWarned():
            return "magenta", "gate: " + "; ".join(
                f"{w.message} (cites {', '.join(w.cites)})" for w in event.warnings)
        case ToolFinished():
            if event.ok:
                return "green", f"  ✓ {event.tool}: {_short(event.output, 200)}"
            return "red", f"  ✗ {event.tool}: {_short(event.error, 200)}"
        case Verified():
            mark = "✓" if event.ok else "✗"
            return ("green" if event.ok else "red"), f"verify {mark} {event.verifier}: {event.detail}"
        case SkillsRouted():
            return "blue", f"skills: loaded {event.loaded or 'none'}; candidates " + ", ".join(
                f"{n} {s:.2f}" for n, s in event.candidates[:5])
        case SubagentStarted():
            return "blue", f"subagent {event.child_run_id}: {_short(event.task, 120)}"
        case SubagentReturned():
            return "blue", f"subagent {event.child_run_id} returned ok={event.ok}"
        case LoopDetected():
            return "bold yellow", f"loop ({event.kind}, {event.action}): {_short(event.message, 200)}"
        case TaskFinished():
            cost = "?" if event.cost_usd is None else f"${event.cost_usd:.4f}"
            style = STATUS_STYLES.get(event.status, "bold red")
            line = (f"{event.status}: {event.reason} — {event.steps} steps, "
                    f"{event.tokens} tokens, {cost}")
            return style, line + (f"\n  answer: {_short(event.answer)}" if event.answer else "")
    return None


class ConsoleView:
    """An event sink that prints each event as it happens (rich colours on a terminal)."""

    def __init__(self, console: Any = None):
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False)
        self._step = -1

    def __call__(self, event: Event) -> None:
        if event.step != self._step and event.step > 0:
            self._step = event.step
            self.console.rule(f"step {event.step}", style="dim")
        line = describe(event)
        if line:
            from rich.text import Text

            self.console.print(Text(line[1], style=line[0]))
