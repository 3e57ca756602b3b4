"""Context construction: what enters the model's input at each step."""

from harness.context.base import (DEFAULT_SYSTEM_PROMPT, Context, ContextConstructor,
                                  FullHistoryContext)

__all__ = ["DEFAULT_SYSTEM_PROMPT", "Context", "ContextConstructor", "FullHistoryContext"]
