"""Memory: what the agent remembers across steps and runs, and the pre-action gate."""

from harness.memory.base import Memory, NullMemory, Recalled

__all__ = ["Memory", "NullMemory", "Recalled"]
