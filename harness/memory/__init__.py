"""Memory: what the agent remembers across steps and runs, and the pre-action gate.

`ProjectMemory` is the default: an append-only event log (`events.jsonl`), projections
rebuilt from it, hybrid recall, hygiene, and an approach-level pre-action gate."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "Memory": "harness.memory.base",
    "NullMemory": "harness.memory.base",
    "Recalled": "harness.memory.base",
    "Attempt": "harness.memory.events",
    "Fact": "harness.memory.events",
    "Fix": "harness.memory.events",
    "Forget": "harness.memory.events",
    "Fragile": "harness.memory.events",
    "Issue": "harness.memory.events",
    "MemoryEvent": "harness.memory.events",
    "Note": "harness.memory.events",
    "ProjectDecision": "harness.memory.events",
    "RecordedAction": "harness.memory.events",
    "Supersede": "harness.memory.events",
    "parse_memory_event": "harness.memory.events",
    "HygieneReport": "harness.memory.hygiene",
    "MemoryLog": "harness.memory.log",
    "MemoryLogWarning": "harness.memory.log",
    "ProjectMemory": "harness.memory.project",
    "RecallConfig": "harness.memory.recall",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.memory.base import Memory, NullMemory, Recalled
    from harness.memory.events import (
        Attempt,
        Fact,
        Fix,
        Forget,
        Fragile,
        Issue,
        MemoryEvent,
        Note,
        ProjectDecision,
        RecordedAction,
        Supersede,
        parse_memory_event,
    )
    from harness.memory.hygiene import HygieneReport
    from harness.memory.log import MemoryLog, MemoryLogWarning
    from harness.memory.project import ProjectMemory
    from harness.memory.recall import RecallConfig
