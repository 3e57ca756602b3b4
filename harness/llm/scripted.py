"""Offline models that are real `Model`s: scripted replies and functions of the request.

Part of the library so users test their own agents exactly as we test ours.
"""

from __future__ import annotations

import itertools
import json
import operator
import threading
from collections.abc import Callable, Iterable
from itertools import compress
from pathlib import Path
from typing import Any

from harness._fast import updated
from harness.llm.base import ModelError, SyncModel
from harness.llm.base import estimate_tokens as estimate_tokens  # re-exported: its old home
from harness.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
    text_parts,
)

Reply = str | dict[str, Any] | list[dict[str, Any]] | ModelResponse
"""A scripted reply: final text, one tool call `{"tool": name, "args": {...}}`,
a list of tool calls, or a full `ModelResponse`."""


class ScriptExhausted(ModelError):
    """The scripted model was asked for more replies than its script holds."""


_call_ids = itertools.count(1)


class RequestTextLength:
    """`len(request.text())` for successive requests, measuring only the messages that are
    new or replaced since the previous request (a run's history only grows), so an estimate
    of input tokens costs the same at step 1000 as at step 10. Messages are treated as
    immutable once sent, as `Message.openai_json` does."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._sizes: list[tuple[int, int]] = []  # per message: characters, parts
        self._chars = self._parts = 0
        self._lock = threading.Lock()  # one model may serve concurrent runs

    def __call__(self, request: ModelRequest) -> int:
        msgs = request.messages
        with self._lock:
            while len(self._messages) > len(msgs):
                self._set(len(self._messages) - 1, None)
            old = self._messages
            if msgs[:len(old)] != old:  # some earlier message was replaced
                for i in compress(range(len(old)), map(operator.is_not, old, msgs)):
                    self._set(i, msgs[i])
            for m in msgs[len(old):]:
                self._set(len(old), m)
            return self._chars + max(self._parts - 1, 0)  # parts are joined by newlines

    def _set(self, i: int, m: Message | None) -> None:
        """Put `m` at position `i` (append at the end; None removes the last)."""
        if i < len(self._sizes):
            old_chars, old_parts = self._sizes[i]
            self._chars, self._parts = self._chars - old_chars, self._parts - old_parts
        if m is None:
            del self._messages[i], self._sizes[i]
            return
        parts = text_parts(m)
        size = (sum(map(len, parts)), len(parts))
        if i < len(self._sizes):
            self._messages[i], self._sizes[i] = m, size
        else:
            self._messages.append(m)
            self._sizes.append(size)
        self._chars, self._parts = self._chars + size[0], self._parts + size[1]


def to_response(reply: Reply, *, model: str = "scripted", request: ModelRequest | None = None,
                call_prefix: str = "call",
                text_length: Callable[[ModelRequest], int] | None = None,
                cost_usd: float | None = None) -> ModelResponse:
    """Normalise a scripted reply into a `ModelResponse` with estimated usage, `model` and
    (if it has none) `cost_usd`.

    `text_length` measures the request's text (default `len(request.text())`; a model that
    sees a run's requests passes its `RequestTextLength`)."""
    if isinstance(reply, ModelResponse):
        resp = reply
    elif isinstance(reply, str):
        resp = ModelResponse(text=reply)
    else:
        calls = reply if isinstance(reply, list) else [reply]
        tool_calls = []
        text = None
        for i, c in enumerate(calls):
            if "tool" not in c:
                raise ModelError(f"scripted reply {c!r} has no 'tool' key")
            args = c.get("args", {})
            tool_calls.append(ToolCall.from_raw(c.get("id") or f"{call_prefix}_{i}", c["tool"], args))
            text = c.get("text", text)
        resp = ModelResponse(text=text, tool_calls=tool_calls)
    update: dict[str, Any] = {}
    if resp.usage.input_tokens == 0 and request is not None:
        out_text = (resp.text or "") + "".join(json.dumps(c.arguments) for c in resp.tool_calls)
        chars = text_length(request) if text_length else len(request.text())
        update["usage"] = Usage(input_tokens=(chars + 3) // 4,  # = estimate_tokens(text)
                                output_tokens=estimate_tokens(out_text))
    if not resp.model:
        update["model"] = model
    if resp.cost_usd is None and cost_usd is not None:
        update["cost_usd"] = cost_usd
    return updated(resp, update) if update else resp


class ScriptedModel(SyncModel):
    """Replies from a list, in order, or from a policy function of the request.

    >>> m = ScriptedModel([{"tool": "read_file", "args": {"path": "a.py"}}, "done"])

    A policy function receives the `ModelRequest` and returns a reply. Tool call ids are
    deterministic (`call_{n}_{i}`), so a run with a scripted model reproduces exactly.
    """

    def __init__(self, script: Iterable[Reply] | Callable[[ModelRequest], Reply], *,
                 name: str = "scripted", cost_per_call: float | None = 0.0):
        self.name = name
        self.cost_per_call = cost_per_call
        self._policy = script if callable(script) else None
        self._script = None if callable(script) else list(script)
        self.calls = 0
        self._text_length = RequestTextLength()

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedModel:
        """Load a script: a JSON list of replies (strings, tool-call objects, lists of them)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: cannot read script: {exc}") from exc
        if not isinstance(data, list):
            raise ModelError(f"{path}: a script is a JSON list of replies, got {type(data).__name__}")
        return cls(data, name=f"scripted:{path.name}")

    def complete(self, request: ModelRequest) -> ModelResponse:
        n = self.calls
        self.calls += 1
        if self._policy is not None:
            reply = self._policy(request)
        else:
            assert self._script is not None
            if n >= len(self._script):
                raise ScriptExhausted(
                    f"{self.name}: script has {len(self._script)} replies, "
                    f"asked for reply {n + 1}")
            reply = self._script[n]
        return to_response(reply, model=self.name, request=request, call_prefix=f"call_{n}",
                           text_length=self._text_length, cost_usd=self.cost_per_call)


class FunctionModel(ScriptedModel):
    """A model written as a function of the request (alias of a policy-driven ScriptedModel)."""

    def __init__(self, fn: Callable[[ModelRequest], Reply], *, name: str = "function"):
        super().__init__(fn, name=name)
