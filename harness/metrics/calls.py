"""Tool calls as metrics see them: each request paired with its outcome, and what its tool
declared it does (from the run's `TaskStarted.tools`, and `SkillsRouted.tools` for tools
a router added; trajectories recorded before tools
declared effects fall back to the tool-name sets below)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness.events import SkillsRouted, TaskStarted, ToolFinished, ToolRequested, Trajectory
from harness.tools.effects import Effects

READ_ONLY_TOOLS = frozenset({"read_file", "list_dir", "search_files", "search", "recall"})
"""Tools that never change the world; their calls are not a 'change in between' (for
trajectories without declared effects)."""

FIX_TOOLS = frozenset({"edit_file", "write_file"})
"""Tools whose calls are attempts to fix something (without declared effects)."""

CHECK_TOOLS = frozenset({"run_shell"})
"""Tools whose calls check a fix (run the tests; without declared effects)."""


@dataclass(frozen=True)
class CallRecord:
    """One tool call: what was asked, and how it ended (`ok` is None if it never finished)."""

    call_id: str
    tool: str
    arguments: dict[str, Any]
    step: int
    ok: bool | None
    refused: bool = False
    output: str = ""
    error: str | None = None
    effects: Effects | None = None
    """What the tool declared it does; None in trajectories recorded before tools did."""

    @property
    def signature(self) -> str:
        """The action's identity: tool and canonical JSON arguments."""
        return signature(self.tool, self.arguments)

    @property
    def failed(self) -> bool:
        """Finished with an error (refusals included)."""
        return self.ok is False

    @property
    def read_only(self) -> bool:
        """The tool changes nothing (it declares no writes, commands or sends)."""
        if self.effects is None:
            return self.tool in READ_ONLY_TOOLS
        return self.effects.read_only

    @property
    def fix(self) -> bool:
        """An attempt to fix something: a call of a tool that changes the files its
        arguments name (and runs no commands)."""
        if self.effects is None:
            return self.tool in FIX_TOOLS
        e = self.effects
        return (e.writes or e.deletes) and bool(e.paths) and not e.executes

    @property
    def check(self) -> bool:
        """A call that may check a fix: one that runs a command (the tests)."""
        if self.effects is None:
            return self.tool in CHECK_TOOLS
        return self.effects.executes


def signature(tool: str, arguments: dict[str, Any]) -> str:
    return tool + " " + json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)


def tool_calls(trajectory: Trajectory | Iterable[Any]) -> list[CallRecord]:
    """Every `ToolRequested` in order, joined with its `ToolFinished` by call id."""
    events = list(trajectory)
    finished = {e.call_id: e for e in events if isinstance(e, ToolFinished)}
    declared: dict[str, Effects] = {}
    out = []
    for e in events:
        if isinstance(e, TaskStarted):
            declared = dict(e.tools)
        elif isinstance(e, SkillsRouted):
            declared.update(e.tools)
        if not isinstance(e, ToolRequested):
            continue
        end = finished.get(e.call.id)
        out.append(CallRecord(
            call_id=e.call.id, tool=e.call.name, arguments=dict(e.call.arguments), step=e.step,
            ok=None if end is None else end.ok, refused=bool(end and end.refused),
            output="" if end is None else end.output, error=None if end is None else end.error,
            effects=declared.get(e.call.name)))
    return out
