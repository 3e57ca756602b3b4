"""History strategies: which past steps the model sees, and in what form.

A strategy turns the run's steps into a `HistoryView`: an ordered list of parts, each
standing for some steps and saying how it treats them (verbatim, masked, summary, ...).
The budgeted constructor then fits the parts into the token budget, dropping whole parts
oldest first, so a tool call and its result are never separated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from harness.context._memos import RecentMemos
from harness.context.steps import Part, Step, call_signature, outcome, steps_label
from harness.context.tokens import TokenCounter
from harness.messages import Message
from harness.state import AgentState, PerRun


@dataclass
class HistoryView:
    """What a strategy shows of the history, and a one-line account of how it chose."""

    parts: list[Part] = field(default_factory=list)
    note: str = ""

    @property
    def messages(self) -> list[Message]:
        return [m for p in self.parts for m in p.messages]

    @property
    def shown(self) -> list[Part]:
        """The parts that show steps (all but the notes about omitted ones)."""
        return [p for p in self.parts if p.treatment != "omitted"]


@runtime_checkable
class HistoryStrategy(Protocol):
    """Chooses how past steps appear in the next model input. `room` is the tokens the
    budget leaves for the history (None when no budget applies), for a strategy whose
    choice depends on it. Each `view` returns a new `HistoryView` (the parts may be the same
    objects as before): the built context keeps it as the history it shows. A strategy that
    remembers things about a run between views is a `PerRun`: it gets a copy per run."""

    name: str

    def view(self, steps: list[Step], state: AgentState, counter: TokenCounter, *,
             room: int | None = None) -> HistoryView: ...


def verbatim(step: Step) -> Part:
    """The step as it is; the same part while the step is unchanged, so that what a build
    counted for it is reused by the next."""
    part = step.shown
    if part is None or len(part.messages) != len(step.messages):
        part = step.shown = Part(list(step.messages), (step.index,), "verbatim")
    return part


def masked(step: Step, counter: TokenCounter, min_tokens: int = 0) -> Part:
    """The step with each tool output longer than `min_tokens` replaced by a one-line
    placeholder that keeps the call (in the assistant message) and its outcome."""
    out: list[Message] = []
    changed = False
    for m in step.messages:
        n = counter.count(m.content)
        if m.role != "tool" or n <= min_tokens:
            out.append(m)
            continue
        changed = True
        out.append(Message(role="tool", tool_call_id=m.tool_call_id, name=m.name, content=(
            f"[output omitted to save context: {m.name or 'tool'} -> {outcome(m)}, "
            f"{n} tokens; call it again to see it]")))
    return Part(out, (step.index,), "masked" if changed else "verbatim")


def omitted_note(steps: Sequence[int], why: str) -> Part:
    """A one-line user message telling the model that steps are not shown, and why."""
    return Part([Message(role="user", content=f"[{steps_label(steps)} not shown: "
                                              f"{why}]")], steps, "omitted")


class PartsMemo:
    """A strategy's parts for a run's steps, kept between views so that a view remakes
    only the parts that can have changed: the loop appends steps, and results only to the
    last step, so a strategy whose treatment of a step depends on how many steps follow it
    remakes just the last few. A different steps list, or a shorter one, starts over.
    Without it, `full` and `mask` cost O(steps) Python work a build."""

    def __init__(self, keep: int = 4) -> None:
        self._memos: RecentMemos[int, tuple[list[Step], list[Part], Counter[str]]] = \
            RecentMemos(keep=keep)

    def update(self, steps: list[Step], make: Callable[[int, Step], Part], redo: int
               ) -> tuple[list[Part], Counter[str]]:
        """`[make(i, s) for i, s in enumerate(steps)]` (a new list each call, as views must
        not change afterwards) and how many parts have each treatment, remaking only the
        last `redo` parts of the previous update for the same list."""
        hit = self._memos.get(id(steps))
        if hit is None or hit[0] is not steps or len(hit[1]) > len(steps):
            hit = self._memos[id(steps)] = (steps, [], Counter())
        _, parts, treatments = hit
        for p in parts[max(len(parts) - redo, 0):]:
            treatments[p.treatment] -= 1
        del parts[max(len(parts) - redo, 0):]
        for i in range(len(parts), len(steps)):
            parts.append(make(i, steps[i]))
            treatments[parts[-1].treatment] += 1
        return list(parts), treatments


class FullHistory(PerRun):
    """Every step, verbatim (the budget still drops the oldest steps when it must)."""

    name = "full"

    def __init__(self) -> None:
        self._parts = PartsMemo()

    def start_run(self, state: AgentState) -> None:
        self._parts = PartsMemo()

    def view(self, steps: list[Step], state: AgentState, counter: TokenCounter, *,
             room: int | None = None) -> HistoryView:
        parts, _ = self._parts.update(steps, lambda i, s: verbatim(s), redo=1)
        return HistoryView(parts, "all steps verbatim")


class LastN:
    """The last `n` steps verbatim; older steps are left out, with a note saying so."""

    name = "last-n"

    def __init__(self, n: int = 5):
        if n < 1:
            raise ValueError("last-n: n must be at least 1")
        self.n = n

    def view(self, steps: list[Step], state: AgentState, counter: TokenCounter, *,
             room: int | None = None) -> HistoryView:
        recent = steps[-self.n:]
        old = range(1, recent[0].index) if recent else range(0)
        parts = [omitted_note(old, f"only the last {self.n} steps are kept")] if old else []
        return HistoryView(parts + [verbatim(s) for s in recent],
                           f"last {self.n} steps verbatim, {len(old)} older left out")


class MaskObservations(PerRun):
    """Observation masking: every call stays, but tool outputs older than the last
    `keep_last` steps become a one-line placeholder with the call's outcome and size.
    Outputs of at most `min_tokens` are kept as they are (a placeholder would not be
    shorter)."""

    name = "mask"

    def __init__(self, keep_last: int = 3, min_tokens: int = 32):
        if keep_last < 1:
            raise ValueError("mask: keep_last must be at least 1")
        self.keep_last = keep_last
        self.min_tokens = min_tokens
        self._cache: dict[int, tuple[Step, int, Part]] = {}
        self._parts = PartsMemo()

    def start_run(self, state: AgentState) -> None:
        self._cache, self._parts = {}, PartsMemo()

    def _masked(self, step: Step, counter: TokenCounter) -> Part:
        """`masked(step)`, remembered per step (a masked step never changes again)."""
        hit = self._cache.get(id(step))
        if hit is None or hit[0] is not step or hit[1] != len(step.messages):
            hit = self._cache[id(step)] = (step, len(step.messages),
                                           masked(step, counter, self.min_tokens))
        return hit[2]

    def view(self, steps: list[Step], state: AgentState, counter: TokenCounter, *,
             room: int | None = None) -> HistoryView:
        cut = len(steps) - self.keep_last
        parts, treatments = self._parts.update(
            steps, lambda i, s: self._masked(s, counter) if i < cut else verbatim(s),
            redo=self.keep_last)  # the steps that were recent last time may be masked now
        return HistoryView(parts, f"outputs of {treatments['masked']} older steps masked, "
                                  f"calls kept; last {self.keep_last} steps verbatim")


def describe_calls(steps: list[Step]) -> str:
    """One line per step: its calls and their outcomes (a summary that needs no model)."""
    lines = []
    for s in steps:
        results = s.results
        for i, call in enumerate(s.calls):
            res = outcome(results[i]) if i < len(results) else "no result"
            lines.append(f"step {s.index}: {call_signature(call, 80)} -> {res}")
    return "\n".join(lines)
