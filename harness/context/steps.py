"""History as a list of steps, the units a history strategy keeps, masks, summarises or
drops whole: an assistant message with the results of its tool calls (never split, so no
provider rejects the history), or a lone user message such as verification feedback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from harness.messages import Message, ToolCall, call_signature

Treatment = Literal["verbatim", "masked", "summary", "omitted", "truncated"]
"""How a part shows its steps; "omitted" parts are a note saying which steps are left out."""


@dataclass
class Part:
    """Messages standing for `steps` (1-based, ascending), and how they were treated."""

    messages: list[Message]
    steps: Sequence[int]
    treatment: Treatment

    @property
    def results(self) -> int:
        return sum(m.role == "tool" for m in self.messages)


@dataclass
class Step:
    """One model turn and the tool results that answer it. `index` is 1-based."""

    index: int
    messages: list[Message] = field(default_factory=list)
    shown: Part | None = field(default=None, init=False, repr=False, compare=False)
    """The step's verbatim part, kept so that every build shows the same object."""

    @property
    def calls(self) -> list[ToolCall]:
        return [c for m in self.messages if m.role == "assistant" for c in m.tool_calls]

    @property
    def results(self) -> list[Message]:
        return [m for m in self.messages if m.role == "tool"]


def split_steps(history: list[Message]) -> list[Step]:
    """Group messages into steps: each assistant message opens a step and collects the tool
    messages after it; any other message is a step of its own."""
    return extend_steps([], history)


def extend_steps(steps: list[Step], messages: list[Message]) -> list[Step]:
    """`steps` with `messages` added (results join the open step), in place."""
    for m in messages:
        if m.role == "tool" and steps and steps[-1].messages[0].role == "assistant":
            steps[-1].messages.append(m)
        else:
            steps.append(Step(index=len(steps) + 1, messages=[m]))
    return steps


def outcome(result: Message) -> str:
    """"ok", or "error: <first line>" for a result that reports an error."""
    text = _unfenced(result.content or "").lstrip()
    if text[:5].lower() != "error":  # the first line starts so too: no need to split a long output
        return "ok"
    first = text.splitlines()[0]
    return "error: " + first[5:].lstrip(" :").strip()[:160]


def _unfenced(text: str) -> str:
    if text.startswith("<untrusted ") and "\n" in text:
        return text.split("\n", 1)[1]
    return text


def describe_ranges(indices: Sequence[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> "1-3, 7, 9-10"; a `range` is described without walking it."""
    if isinstance(indices, range) and indices.step == 1 and len(indices) > 1:
        return f"{indices.start}-{indices.stop - 1}"
    out: list[str] = []
    ids = sorted(indices)
    start = prev = None
    for i in [*ids, None]:
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    return ", ".join(out)


def steps_label(indices: Sequence[int]) -> str:
    """"step 3", "steps 1-3, 7"; a `range` is labelled without walking it."""
    return ("step " if len(indices) == 1 else "steps ") + describe_ranges(indices)


def step_text(step: Step, max_chars: int = 8_000) -> str:
    """A step as plain text (for summarisers): the thought, each call, its outcome and output."""
    lines = [f"[step {step.index}]"]
    calls: list[ToolCall] = []
    results: list[Message] = []
    for m in step.messages:
        if m.role == "tool":
            results.append(m)
            continue
        if m.content and m.role in ("assistant", "user"):
            lines.append(f"{m.role}: {m.content.strip()}")
        if m.role == "assistant":
            calls += m.tool_calls
    by_id = {m.tool_call_id: m for m in results}
    for i, call in enumerate(calls):
        result = by_id.get(call.id)
        if result is None and i < len(results):
            result = results[i]
        lines.append(f"call: {call_signature(call)}")
        if result is not None:
            body = (result.content or "").strip()
            if len(body) > max_chars:
                body = body[: max_chars // 2] + "\n[...]\n" + body[-max_chars // 2:]
            lines.append(f"result ({outcome(result)}):\n{body}")
    return "\n".join(lines)
