"""The `SkillRouter` protocol and the minimal default: no skills."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from harness.state import AgentState, ContextSection


@dataclass
class Routing:
    """A router's answer for one step: ranked candidates, which bodies were loaded, and the
    context section that lists them."""

    candidates: list[tuple[str, float]] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    section: ContextSection | None = None
    router: str = ""


@runtime_checkable
class SkillRouter(Protocol):
    """Chooses which skills the model sees at this step."""

    def route(self, state: AgentState) -> Routing: ...


class NoSkills:
    """Routes nothing."""

    name = "none"

    def route(self, state: AgentState) -> Routing:
        return Routing(router=self.name)
