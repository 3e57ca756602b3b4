"""The state of one run, as the loop and the components see it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from harness.events import Event, StopStatus, Trajectory
from harness.messages import Message, RequestDigests
from harness.sandbox.base import SandboxSession
from harness.tools.base import Toolset


class Budget(BaseModel):
    """Limits that stop a run cleanly, with the reason recorded in `TaskFinished`."""

    max_steps: int = 30
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_seconds: float | None = None


@dataclass
class ContextSection:
    """A named piece of the next model input, contributed by a component.

    `priority` orders what a budgeted context constructor keeps (higher first); `items`
    names what is inside (memory ids, skill names) for the manifest; `trusted=False`
    marks content that came from outside (tool output, files, the web).
    """

    name: str
    text: str
    priority: int = 50
    items: list[str] = field(default_factory=list)
    trusted: bool = True


@dataclass
class AgentState:
    """Everything the loop knows about a run in progress.

    `history` holds the messages after the task (assistant replies and tool results);
    `sections` holds what components contributed for the next context build.
    """

    run_id: str
    task: str
    workspace: Path
    tools: Toolset
    budget: Budget
    emit: Callable[[Event], Event]
    trajectory: Trajectory = field(default_factory=Trajectory)
    step: int = 0
    history: list[Message] = field(default_factory=list)
    sections: dict[str, ContextSection] = field(default_factory=dict)
    tokens: int = 0
    cost_usd: float | None = 0.0
    started: float = field(default_factory=time.monotonic)
    repairs: int = 0
    done: bool = False
    status: StopStatus | None = None
    reason: str = ""
    answer: str | None = None
    digests: RequestDigests = field(default_factory=RequestDigests, repr=False)
    sandbox: SandboxSession | None = field(default=None, repr=False)
    """The run's sandbox session, through which its tools reach the machine."""

    def put(self, section: ContextSection | None) -> None:
        if section is not None:
            self.sections[section.name] = section

    def stop(self, status: StopStatus, reason: str, answer: str | None = None) -> None:
        self.done, self.status, self.reason = True, status, reason
        if answer is not None:
            self.answer = answer

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
