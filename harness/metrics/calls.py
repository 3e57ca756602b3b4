"""Tool calls as metrics see them: each request paired with its outcome."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness.events import ToolFinished, ToolRequested, Trajectory

READ_ONLY_TOOLS = frozenset({"read_file", "list_dir", "search_files", "search", "recall"})
"""Tools that never change the world; their calls are not a 'change in between'."""

FIX_TOOLS = frozenset({"edit_file", "write_file"})
"""Tools whose calls are attempts to fix something."""

CHECK_TOOLS = frozenset({"run_shell"})
"""Tools whose calls check a fix (run the tests)."""


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

    @property
    def signature(self) -> str:
        """The action's identity: tool and canonical JSON arguments."""
        return signature(self.tool, self.arguments)

    @property
    def failed(self) -> bool:
        """Finished with an error (refusals included)."""
        return self.ok is False


def signature(tool: str, arguments: dict[str, Any]) -> str:
    return tool + " " + json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)


def tool_calls(trajectory: Trajectory | Iterable[Any]) -> list[CallRecord]:
    """Every `ToolRequested` in order, joined with its `ToolFinished` by call id."""
    events = list(trajectory)
    finished = {e.call_id: e for e in events if isinstance(e, ToolFinished)}
    out = []
    for e in events:
        if not isinstance(e, ToolRequested):
            continue
        end = finished.get(e.call.id)
        out.append(CallRecord(
            call_id=e.call.id, tool=e.call.name, arguments=dict(e.call.arguments), step=e.step,
            ok=None if end is None else end.ok, refused=bool(end and end.refused),
            output="" if end is None else end.output, error=None if end is None else end.error))
    return out
