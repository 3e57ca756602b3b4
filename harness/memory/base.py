"""The `Memory` protocol and the minimal default: a memory that remembers nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from harness.events import Event, GateWarning
from harness.messages import ToolCall
from harness.state import AgentState, ContextSection
from harness.tools.effects import Effects


class Recalled(BaseModel):
    """One recalled memory item with its score and provenance."""

    id: str
    text: str
    score: float
    kind: str = ""
    provenance: list[str] = Field(default_factory=list)


@runtime_checkable
class Memory(Protocol):
    """What the loop asks of a memory.

    `observe` sees every trajectory event and returns the ids of memory items it recorded;
    `context` contributes sections (a summary, recalled items) before each model call;
    `check` is the pre-action gate; `effects` is what the call's tool declares it does
    (`state.tools.effects(call.name)`; None when not known).
    """

    def observe(self, event: Event) -> list[str]: ...

    def recall(self, query: str, k: int = 5) -> list[Recalled]: ...

    def check(self, call: ToolCall, effects: Effects | None = None) -> list[GateWarning]: ...

    def context(self, state: AgentState
                ) -> ContextSection | Sequence[ContextSection] | None: ...


class NullMemory:
    """Remembers nothing, recalls nothing, never warns."""

    name = "none"

    def observe(self, event: Event) -> list[str]:
        return []

    def recall(self, query: str, k: int = 5) -> list[Recalled]:
        return []

    def check(self, call: ToolCall, effects: Effects | None = None) -> list[GateWarning]:
        return []

    def context(self, state: AgentState) -> ContextSection | None:
        return None
