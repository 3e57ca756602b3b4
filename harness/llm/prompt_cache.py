"""Prompt caching: mark a request's stable prefix for providers that need to be told.

OpenAI, Gemini and DeepSeek cache a repeated prefix on their own. Anthropic's Claude
(directly, on Bedrock or on Vertex) caches only up to `cache_control` breakpoints, at most
four a request. `mark_stable_prefix` places them where an agent's next request will repeat
the current one: after the tool schemas, after the system message, and on the last two
messages (the newest one is written to the cache for the next turn; the one before it is
where this turn's prefix was written by the previous one).
"""

from __future__ import annotations

import copy
from typing import Any

MAX_BREAKPOINTS = 4
EPHEMERAL = {"type": "ephemeral"}


def needs_breakpoints(model: str) -> bool:
    """Whether `model` (a litellm model string) caches only at explicit breakpoints."""
    name = model.lower()
    return "claude" in name or name.startswith("anthropic/")


def mark_stable_prefix(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A copy of litellm `kwargs` with at most `MAX_BREAKPOINTS` cache breakpoints: the last
    tool schema, the system message, and the last two other messages."""
    out = dict(kwargs)
    messages = copy.deepcopy(kwargs.get("messages") or [])
    targets: list[int] = []
    if messages and messages[0].get("role") == "system":
        targets.append(0)
    rest = [i for i in range(len(messages)) if i not in targets]
    budget = MAX_BREAKPOINTS - (1 if kwargs.get("tools") else 0)
    targets += rest[-max(0, budget - len(targets)):] if budget > len(targets) else []
    for i in targets:
        messages[i] = _with_breakpoint(messages[i])
    out["messages"] = messages
    if kwargs.get("tools"):
        tools = copy.deepcopy(kwargs["tools"])
        tools[-1]["cache_control"] = dict(EPHEMERAL)
        out["tools"] = tools
    return out


def _with_breakpoint(message: dict[str, Any]) -> dict[str, Any]:
    """The message with `cache_control` on its last content block (text turned into one)."""
    content = message.get("content")
    if isinstance(content, str) and content:
        message["content"] = [{"type": "text", "text": content, "cache_control": dict(EPHEMERAL)}]
    elif isinstance(content, list) and content:
        content[-1] = {**content[-1], "cache_control": dict(EPHEMERAL)}
    else:
        return message  # an empty content (a bare tool call) holds no breakpoint
    return message


def breakpoints(kwargs: dict[str, Any]) -> int:
    """How many cache breakpoints a request carries."""
    count = sum(1 for t in kwargs.get("tools") or [] if "cache_control" in t)
    for m in kwargs.get("messages") or []:
        content = m.get("content")
        if isinstance(content, list):
            count += sum(1 for part in content if isinstance(part, dict) and "cache_control" in part)
    return count
