"""Verifiers: checks after an action or before a final answer is accepted.

A failing verifier on the final answer hands the agent its detail for a bounded number of
repair attempts (`Agent.max_repairs`). Each verdict records its own cost (calls, tokens,
seconds), so verification spend is measured apart from the agent's.
"""

from __future__ import annotations

import fnmatch
import subprocess
import time
from collections.abc import Callable
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ValidationError

from harness.events import VerificationCost
from harness.governance.base import Action, FinalAnswer, Verdict
from harness.messages import extract_json
from harness.state import AgentState
from harness.tools.base import ToolResult
from harness.tools.builtin import truncate

When = Literal["final", "tool", "both"]


@runtime_checkable
class Verifier(Protocol):
    """Judges an action's result (`result` set) or the final answer (`result` None).
    Returns None when it does not apply to this action."""

    name: str

    def check(self, action: Action, result: ToolResult | None,
              state: AgentState) -> Verdict | None: ...


class _Scoped:
    """When a verifier runs: on the final answer, after matching tool calls, or both."""

    def __init__(self, when: When, tools: tuple[str, ...]):
        self.when, self.tools = when, tools

    def applies(self, action: Action) -> bool:
        if isinstance(action, FinalAnswer):
            return self.when in ("final", "both")
        return self.when in ("tool", "both") and any(
            fnmatch.fnmatchcase(action.name, t) for t in self.tools)


class CommandVerifier(_Scoped):
    """Runs a command (tests, a linter) in the workspace; exit status 0 passes."""

    def __init__(self, command: str, *, name: str | None = None, when: When = "final",
                 tools: tuple[str, ...] = ("write_file", "edit_file"), timeout_s: float = 300,
                 max_chars: int = 4000):
        super().__init__(when, tools)
        self.command, self.timeout_s, self.max_chars = command, timeout_s, max_chars
        self.name = name or f"command:{command}"

    def check(self, action: Action, result: ToolResult | None,
              state: AgentState) -> Verdict | None:
        if not self.applies(action):
            return None
        start = time.perf_counter()
        try:
            proc = subprocess.run(self.command, shell=True, cwd=state.workspace, text=True,
                                  capture_output=True, timeout=self.timeout_s,
                                  stdin=subprocess.DEVNULL, errors="replace")
            ok, out = proc.returncode == 0, (proc.stdout or "") + (proc.stderr or "")
            detail = f"exit code {proc.returncode}\n{truncate(out, self.max_chars)}".strip()
        except subprocess.TimeoutExpired:
            ok, detail = False, f"timed out after {self.timeout_s:g}s"
        cost = VerificationCost(calls=1, seconds=time.perf_counter() - start)
        return Verdict(verifier=self.name, ok=ok, detail=detail, cost=cost)


class SchemaVerifier(_Scoped):
    """The final answer must be JSON (bare or in a ``` block) that validates against a
    pydantic model."""

    def __init__(self, schema: type[BaseModel], *, name: str | None = None):
        super().__init__("final", ())
        self.schema = schema
        self.name = name or f"schema:{schema.__name__}"

    def check(self, action: Action, result: ToolResult | None,
              state: AgentState) -> Verdict | None:
        if not self.applies(action) or not isinstance(action, FinalAnswer):
            return None
        start = time.perf_counter()
        ok, detail = True, "valid"
        try:
            self.schema.model_validate_json(extract_json(action.text))
        except ValidationError as exc:
            ok = False
            detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(answer)'}: {e['msg']}"
                               for e in exc.errors()[:5])
            detail = f"the answer does not match {self.schema.__name__}: {detail}"
        cost = VerificationCost(calls=1, seconds=time.perf_counter() - start)
        return Verdict(verifier=self.name, ok=ok, detail=detail, cost=cost)


CheckFn = Callable[[Action, ToolResult | None, AgentState], "bool | tuple[bool, str] | Verdict"]


class FunctionVerifier(_Scoped):
    """A custom check: `fn(action, result, state)` returns a bool, `(ok, detail)` or a
    `Verdict`. An exception in it is a failed verdict naming the exception."""

    def __init__(self, fn: CheckFn, *, name: str | None = None, when: When = "final",
                 tools: tuple[str, ...] = ("*",)):
        super().__init__(when, tools)
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", "function"))

    def check(self, action: Action, result: ToolResult | None,
              state: AgentState) -> Verdict | None:
        if not self.applies(action):
            return None
        start = time.perf_counter()
        try:
            out = self.fn(action, result, state)
        except Exception as exc:
            out = (False, f"{type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - start
        if isinstance(out, Verdict):
            if out.cost.seconds == 0:
                out = out.model_copy(update={"cost": out.cost.model_copy(
                    update={"seconds": seconds, "calls": max(out.cost.calls, 1)})})
            return out
        ok, detail = out if isinstance(out, tuple) else (bool(out), "")
        return Verdict(verifier=self.name, ok=bool(ok), detail=detail,
                       cost=VerificationCost(calls=1, seconds=seconds))
