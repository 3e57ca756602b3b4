"""Memory: what the agent remembers across steps and runs, and the pre-action gate.

`ProjectMemory` is the default: an append-only event log (`events.jsonl`), projections
rebuilt from it, hybrid recall, hygiene, and an approach-level pre-action gate.
"""

from harness.memory.base import Memory, NullMemory, Recalled
from harness.memory.events import (
    Action,
    Attempt,
    Decision,
    Fact,
    Fix,
    Forget,
    Fragile,
    Issue,
    MemoryEvent,
    Note,
    Supersede,
    parse_memory_event,
)
from harness.memory.hygiene import HygieneReport
from harness.memory.log import MemoryLog, MemoryLogWarning
from harness.memory.project import ProjectMemory
from harness.memory.recall import RecallConfig

__all__ = ["Action", "Attempt", "Decision", "Fact", "Fix", "Forget", "Fragile", "HygieneReport",
           "Issue", "Memory", "MemoryEvent", "MemoryLog", "MemoryLogWarning", "Note",
           "NullMemory", "ProjectMemory", "RecallConfig", "Recalled", "Supersede",
           "parse_memory_event"]
