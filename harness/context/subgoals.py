"""Subgoal chunking: steps grouped under the subgoal the agent declared; finished subgoals
collapse to their summary, the current one stays verbatim.

An agent declares a subgoal in either of two ways:

- by calling the `declare_subgoal(goal, summary="")` tool (add it to the agent's tools);
  `summary` is the agent's own account of the subgoal it just finished;
- by a line `Subgoal: <goal>` in its reply text (no tool needed).

Declaring a subgoal finishes the previous one. A finished subgoal's summary is the one the
agent wrote; without it, the strategy's summariser writes one (recorded as a
`ModelCalled(purpose="summarise")`), once per subgoal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.context.history import HistoryView, Part
from harness.context.steps import Step, steps_label
from harness.context.summarise import SummariseHistory, Summariser, summary_part
from harness.context.tokens import TokenCounter
from harness.llm.base import Model
from harness.state import AgentState, PerRun
from harness.tools.base import tool
from harness.tools.effects import Effects

SUBGOAL_TOOL = "declare_subgoal"
_SUBGOAL_LINE = re.compile(r"^\s*subgoal:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


@tool(name=SUBGOAL_TOOL, effects=Effects())  # it only marks the history
def declare_subgoal(goal: str, summary: str = "") -> str:
    """Declare the subgoal you start now; this finishes the previous subgoal, whose steps
    will then be shown only as a summary.

    Args:
        goal: what this subgoal is to achieve, in a few words.
        summary: what the subgoal you just finished established (the facts you will still
            need). Leave empty to have it summarised for you.
    """
    return f"subgoal started: {goal}"


@dataclass
class Subgoal:
    """A run of steps under one declared goal."""

    goal: str
    steps: list[Step] = field(default_factory=list)
    summary: str = ""
    """What the agent wrote about this subgoal when it declared the next one."""


def declaration(step: Step) -> tuple[str, str] | None:
    """(goal, summary of the previous subgoal) if this step declares a subgoal."""
    for call in step.calls:
        if call.name == SUBGOAL_TOOL:
            return (str(call.arguments.get("goal", "")).strip() or "(unnamed)",
                    str(call.arguments.get("summary", "")).strip())
    for m in step.messages:
        if m.role == "assistant" and m.content:
            found = _SUBGOAL_LINE.search(m.content)
            if found:
                return found.group(1), ""
    return None


def subgoals(steps: list[Step]) -> list[Subgoal]:
    """Split steps at each declaration; steps before the first belong to "(start)"."""
    return [g for g in extend_subgoals([Subgoal("(start)")], steps) if g.steps]


def extend_subgoals(groups: list[Subgoal], steps: list[Step]) -> list[Subgoal]:
    """`groups` with `steps` added, in place: a declaring step opens a new subgoal."""
    for s in steps:
        declared = declaration(s)
        if declared is not None:
            groups[-1].summary = declared[1]
            groups.append(Subgoal(declared[0]))
        groups[-1].steps.append(s)
    return groups


@dataclass
class _Grouping:
    """A run's steps grouped so far. A step's declaration is in its assistant message,
    which never changes, so only new steps need grouping."""

    steps: list[Step]
    """The steps list grouped (the context's own, extended in place by the loop)."""
    seen: int = 0
    groups: list[Subgoal] = field(default_factory=lambda: [Subgoal("(start)")])
    finished: dict[tuple[str, ...], Part] = field(default_factory=dict)
    """Each finished subgoal's summary part, the same object every build."""


class SubgoalHistory(PerRun):
    """Finished subgoals as one summary each; the current subgoal verbatim, except that
    when it runs long (or the agent never declares one) its steps more than `keep_open`
    back are summarised in batches of `batch`, as `SummariseHistory` does."""

    name = "subgoal"

    def __init__(self, summariser: Model | None = None, *, keep_open: int = 6, batch: int = 4,
                 max_summary_tokens: int = 600):
        if keep_open < 1:
            raise ValueError("subgoal: keep_open must be at least 1")
        self.summariser = Summariser(summariser)
        self.keep_open = keep_open
        self._open = SummariseHistory(keep_last=keep_open, batch=batch,
                                      max_summary_tokens=max_summary_tokens)
        self._open.summariser = self.summariser
        self._summaries: dict[tuple[int, int], tuple[str, str, list[int]]] = {}
        """Per finished subgoal (first, last step): the summariser's summary, and its error
        with the steps whose summary fell back to the list of calls ("", [] if none)."""
        self._grouping_of: _Grouping | None = None

    def start_run(self, state: AgentState) -> None:
        self._open = self._open.for_run(state)
        self._summaries, self._grouping_of = {}, None

    def _grouping(self, steps: list[Step], state: AgentState) -> _Grouping:
        """The run's subgoals, grouping only the steps added since the last view."""
        g = self._grouping_of
        if g is None or g.steps is not steps or g.seen > len(steps):
            g = self._grouping_of = _Grouping(steps)
        extend_subgoals(g.groups, steps[g.seen:])
        g.seen = len(steps)
        return g

    def view(self, steps: list[Step], state: AgentState, counter: TokenCounter, *,
             room: int | None = None) -> HistoryView:
        grouping = self._grouping(steps, state)
        groups = [g for g in grouping.groups if g.steps]
        if not groups:
            return HistoryView([], "no steps yet")
        cache = self._summaries
        parts = []
        for n, g in enumerate(groups[:-1], 1):
            ids = [s.index for s in g.steps]
            author = "agent"
            text = g.summary
            if not text:
                key = (ids[0], ids[-1])
                if key not in cache:
                    summary = self.summariser.summarise_steps(state, g.steps)
                    cache[key] = (summary.text, summary.error, summary.failed)
                text, author = cache[key][0], self.summariser.name
            title = f'Subgoal {n} "{g.goal}" ({steps_label(ids)}), finished'
            part = grouping.finished.get((title, text, author))
            if part is None:
                part = grouping.finished[title, text, author] = summary_part(ids, text, author,
                                                                             title)
            parts.append(part)
        current = groups[-1]
        shown = self._open.view(current.steps, state, counter,
                                key=f"subgoal from step {current.steps[0].index}")
        note = f"{len(groups) - 1} finished subgoal(s) collapsed to summaries; current " \
               f'subgoal "{current.goal}" ({len(current.steps)} steps): {shown.note}'
        failed = [f"{steps_label(steps)}: {error}" for _, error, steps in cache.values() if error]
        if failed:
            note += f"; the summariser failed on finished {'; '.join(failed)}: their calls " \
                    f"and outcomes are shown instead"
        return HistoryView(parts + shown.parts, note)
