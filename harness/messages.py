"""Data that crosses the model boundary: messages, tool calls, requests and responses.

These are pydantic models because they are stored in trajectories (`ModelCalled`)
and replayed; their JSON is the file format.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from harness._fast import (
    CANONICAL,
    MAX_NESTING,
    RequestDigests,
    arguments_json,
    constructed,
    cut_deep,
    message_json,
    nesting_depth,
    request_end,
    sent_arguments,
    text_nesting_depth,
    tools_hash,
    value_json,
)

__all__ = ["ToolCall", "Message", "Usage", "ModelRequest", "ModelResponse", "RequestDigests",
           "text_parts", "tools_hash"]


class ToolCall(BaseModel):
    """One tool call requested by the model.

    `arguments` is the parsed JSON object. When the model sent arguments that are not
    a JSON object, `arguments` is empty, `raw_arguments` keeps what was sent and
    `parse_error` says what was wrong, so the loop can hand the error back to the model.
    """

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = None
    parse_error: str | None = None

    @classmethod
    def from_raw(cls, id: str, name: str, raw: str | dict[str, Any] | None) -> ToolCall:
        """Build a call from the raw argument string a provider returns. Arguments nested
        deeper than `MAX_NESTING` are kept as text with a `parse_error`, never parsed."""
        if isinstance(raw, dict):
            if nesting_depth(raw, MAX_NESTING) <= MAX_NESTING:
                return cls(id=id, name=name, arguments=raw)
            return cls(id=id, name=name, raw_arguments=json.dumps(cut_deep(raw, MAX_NESTING)),
                       parse_error=f"arguments nest deeper than {MAX_NESTING} levels")
        text = raw or "{}"
        if text_nesting_depth(text, MAX_NESTING) > MAX_NESTING:
            return cls(id=id, name=name, raw_arguments=text,
                       parse_error=f"arguments nest deeper than {MAX_NESTING} levels")
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            return cls(id=id, name=name, raw_arguments=text,
                       parse_error=f"arguments are not valid JSON ({exc.msg} at char {exc.pos})")
        if not isinstance(parsed, dict):
            return cls(id=id, name=name, raw_arguments=text,
                       parse_error=f"arguments must be a JSON object, got {type(parsed).__name__}")
        return cls(id=id, name=name, arguments=parsed)

    def to_openai(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": sent_arguments(self)}}

    arguments_json = arguments_json
    """`call.arguments_json()`: `arguments` as the provider gets them, `json.dumps(arguments,
    sort_keys=True)`. Remembered, because the loop encodes each call several times (digest,
    token counts): a call is treated as immutable once made (replaced arguments are noticed,
    not edits inside them). A fast path: see `harness._fast.arguments_json`."""


def call_signature(call: ToolCall, limit: int = 120) -> str:
    """`read_file(path="a.py")`, shortened to `limit` characters."""
    if call.parse_error:
        args = call.raw_arguments or ""
    else:
        args = ", ".join([f"{k}={value_json(v)}" for k, v in call.arguments.items()])
    text = f"{call.name}({args})"
    return text if len(text) <= limit else text[: limit - 4] + "...)"


class Message(BaseModel):
    """A chat message in the OpenAI shape that litellm speaks."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    channel: str | None = None
    """For tool results: where the content came from ("file", "shell", "search", ...).
    Not sent to the provider; context constructors use it to fence untrusted content."""

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None and self.role == "tool":
            out["name"] = self.name
        return out

    openai_json = message_json
    """`message.openai_json()`: `to_openai()` as canonical JSON. Remembered, because the loop
    digests the whole history every step: a message is treated as immutable once sent (a new
    role, content, name or number of tool calls is noticed, not edits inside a tool call).
    A fast path: see `harness._fast.message_json`."""


class Usage(BaseModel):
    """Token usage of one model call, as the provider reports it.

    `input_tokens` counts every input token, those read from the provider's prompt cache
    (`cached_input_tokens`) and those written to it (`cache_write_tokens`) included;
    `output_tokens` counts every output token, `reasoning_tokens` (a reasoning model's
    thinking) included. The parts are 0 where a provider does not report them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class ModelRequest(BaseModel):
    """What the loop asks a model: messages, tool schemas (OpenAI function format) and params."""

    messages: list[Message]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)

    def digest(self) -> str:
        """A stable hash of the request, recorded in `ModelCalled` so replay can detect
        divergence: the first 16 hex digits of the SHA-256 of `{"m": [each message's
        to_openai()], "t": <the SHA-256 hex of the tool schemas' JSON>}`, all as canonical
        JSON (sorted keys, no spaces, ASCII). The schemas go in by their hash, so that a run
        that rehashes only its new messages each step does not rehash the schemas too."""
        messages = '{"m":[' + ",".join([m.openai_json() for m in self.messages])
        payload = messages.encode() + request_end(CANONICAL.encode(self.tools))
        return hashlib.sha256(payload).hexdigest()[:16]

    @classmethod
    def of(cls, messages: list[Message], tools: list[dict[str, Any]],
           params: dict[str, Any] | None = None) -> ModelRequest:
        """A request from messages that are already `Message`s, without validating each one
        again (a context constructor builds one every step; validation would cost O(history)).
        A test holds it to what `model_construct` makes."""
        return constructed(cls, {"messages": messages, "tools": tools, "params": params or {}})

    def text(self) -> str:
        """Everything the model can read in this request, as one string (for probes and metrics)."""
        return "\n".join([part for m in self.messages for part in text_parts(m)])


def text_parts(m: Message) -> list[str]:
    """What the model can read in one message: its content, then each call's arguments."""
    parts = [m.content] if m.content else []
    parts += [c.raw_arguments or json.dumps(c.arguments) for c in m.tool_calls]
    return parts


class ModelResponse(BaseModel):
    """A model's reply: text and/or tool calls, with usage, cost (USD or None) and latency."""

    text: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = None
    latency_s: float = 0.0
    model: str = ""
    raw: dict[str, Any] | None = None

    def as_message(self) -> Message:
        return Message(role="assistant", content=self.text, tool_calls=self.tool_calls)


def extract_json(text: str) -> str:
    """The JSON in an answer: a fenced block if there is one, else the outermost {...}."""
    m = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if m:
        return m.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidate = text[start:end + 1]
        try:
            json.loads(candidate)
            return candidate
        except json.JSONDecodeError:
            pass
    return text.strip()
