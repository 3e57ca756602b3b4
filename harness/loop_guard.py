"""Loop detection: notice a run going round in circles, tell the model once, then stop it.

Two signs, both judged from the run's own tool results (no model call, no tokens):

- `repeat`: a call (tool and arguments) gives the same result `repeats` times since the
  last change. A refused call repeated is a repeat too.
- `no-progress`: `idle_steps` steps in a row that changed nothing and brought no tool
  output the run had not seen since the last change.

A change is a successful call of a tool that is not read-only, as its tool declares, that
is not itself a repeat (`harness.metrics.repeated_action_rate` counts repeats the same
way). The first time the guard sees a loop it adds a note to the conversation; if the run
loops again before anything changes, the guard stops it with `status="stopped"` and a
reason starting `loop:`. Each is recorded as a `LoopDetected` event.

    Agent(model, loop_guard=LoopGuard(repeats=3, idle_steps=6))   # the default
    Agent(model, loop_guard=None)                                  # no guard
"""

from __future__ import annotations

from typing import Literal

from harness._fast import MAX_NESTING, cut_deep
from harness.events import LoopDetected
from harness.messages import ToolCall
from harness.metrics.calls import READ_ONLY_TOOLS, signature
from harness.state import AgentState, PerRun
from harness.tools.base import ToolResult
from harness.tools.effects import Effects

Outcome = tuple[str, bool, str | None]
"""A call's identity with its result: signature, ok, output (or error), as
`harness.metrics.stuck_patterns` compares calls."""


class LoopGuard(PerRun):
    """Watches a run's tool results for loops (see the module docstring).

    `repeats`: how many times one call may give one result before it counts as a loop;
    `idle_steps`: how many steps in a row may bring nothing new. Each run gets its own
    copy (`for_run`) that keeps the run's counts.
    """

    def __init__(self, repeats: int = 3, idle_steps: int = 6):
        if repeats < 2 or idle_steps < 1:
            raise ValueError(f"LoopGuard: repeats must be >= 2 and idle_steps >= 1 "
                             f"(got repeats={repeats}, idle_steps={idle_steps})")
        self.repeats = repeats
        self.idle_steps = idle_steps
        self.start_run(None)

    def __repr__(self) -> str:
        return f"LoopGuard(repeats={self.repeats}, idle_steps={self.idle_steps})"

    def start_run(self, state: AgentState | None) -> None:
        self._calls: dict[Outcome, list[str]] = {}  # since the last change: call ids
        self._shown: dict[str, ToolCall] = {}  # a call per key, to name it when found
        self._outputs: set[tuple[str, bool, str | None]] = set()  # tool, ok, text
        self._idle: list[str] = []  # call ids of the idle steps in a row
        self._idle_steps = 0
        self._noted = False
        self._step_new = False
        self._step_calls: list[str] = []
        self._step_repeats: list[Outcome] = []

    # -- what the loop tells the guard ----------------------------------------------------
    def observe(self, call: ToolCall, result: ToolResult, effects: Effects | None) -> None:
        """Take note of one finished (or refused) tool call of the current step."""
        # the call's canonical arguments, as the loop already encoded them for the request
        key = call.name + " " + call.arguments_json()
        self._shown.setdefault(key, call)
        text = result.output if result.ok else result.error
        outcome: Outcome = (key, result.ok, text)
        calls = self._calls.setdefault(outcome, [])
        calls.append(call.id)
        self._step_calls.append(call.id)
        read_only = effects.read_only if effects is not None else call.name in READ_ONLY_TOOLS
        if len(calls) == 1 and result.ok and not read_only:
            self._changed(outcome)
        if (call.name, result.ok, text) not in self._outputs:
            self._outputs.add((call.name, result.ok, text))
            self._step_new = True
        if len(calls) >= self.repeats and outcome not in self._step_repeats:
            self._step_repeats.append(outcome)

    def end_step(self) -> LoopDetected | None:
        """After the step's calls: a `LoopDetected` if the run loops (`noted` the first
        time since the last change, `stopped` after), else None."""
        repeats, new, calls = self._step_repeats, self._step_new, self._step_calls
        self._step_repeats, self._step_new, self._step_calls = [], False, []
        if new:
            self._idle, self._idle_steps = [], 0
        else:
            self._idle += calls
            self._idle_steps += 1
        if repeats:
            found = self._found("repeat", [c for o in repeats for c in self._calls[o]],
                                [o[0] for o in repeats], max(len(self._calls[o]) for o in repeats))
        elif self._idle_steps >= self.idle_steps:
            signatures = [o[0] for o, ids in self._calls.items() if set(ids) & set(self._idle)]
            found = self._found("no-progress", list(self._idle), signatures, self._idle_steps)
        else:
            return None
        self._noted = True
        return found

    # -- the guard's own ------------------------------------------------------------------
    def _changed(self, outcome: Outcome) -> None:
        """A successful state-changing call: what came before may be new information again."""
        self._calls = {outcome: self._calls[outcome]}
        self._outputs = set()
        self._noted, self._step_new = False, True

    def _found(self, kind: Literal["repeat", "no-progress"], calls: list[str],
               keys: list[str], count: int) -> LoopDetected:
        action: Literal["noted", "stopped"] = "stopped" if self._noted else "noted"
        # named as the metrics name actions (compact JSON; arguments too deep are cut)
        signatures = [signature(c.name, cut_deep(dict(c.arguments), MAX_NESTING))
                      for c in (self._shown[k] for k in keys)]
        if kind == "repeat":
            what = "; ".join(signatures)
            seen = f"{what} gave the same result {count} times with nothing changed in between"
        else:
            seen = f"{count} steps in a row changed nothing and brought no new tool output"
        if action == "stopped":
            message = f"loop: {seen}, after a note asking for something else"
        else:
            message = (f"Loop detected: {seen}. Repeating it will not give anything new. "
                       f"Do something different, or give your final answer now.")
        return LoopDetected(kind=kind, action=action, calls=calls, signatures=signatures,
                            count=count, message=message)
