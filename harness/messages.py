"""Data that crosses the model boundary: messages, tool calls, requests and responses.

These are pydantic models because they are stored in trajectories (`ModelCalled`)
and replayed; their JSON is the file format.
"""

from __future__ import annotations

import hashlib
import json
import operator
from itertools import compress
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from harness.tools.base import Toolset

_SORTED = json.JSONEncoder(sort_keys=True)
"""`json.dumps(obj, sort_keys=True)`, built once (the loop encodes calls every step)."""


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
    def from_raw(cls, id: str, name: str, raw: str | dict | None) -> ToolCall:
        """Build a call from the raw argument string a provider returns."""
        if isinstance(raw, dict):
            return cls(id=id, name=name, arguments=raw)
        text = raw or "{}"
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
        raw = self.raw_arguments if self.parse_error else self.arguments_json()
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": raw}}

    def arguments_json(self) -> str:
        """`arguments` as the provider gets them: `json.dumps(arguments, sort_keys=True)`.
        Cached, because the loop encodes each call several times (digest, token counts): a
        call is treated as immutable once made (the cache notices replaced arguments, not
        edits inside them)."""
        cached = self.__dict__.get("_arguments_json")  # not a field: ignored by ==, dumps
        if cached is None or cached[0] is not self.arguments:
            cached = (self.arguments, _sorted_json(self.arguments))
            self.__dict__["_arguments_json"] = cached
        return cached[1]


_SCALAR_JSON = {str: encode_basestring_ascii, int: int.__repr__,
                bool: lambda v: "true" if v else "false"}
"""How `json.dumps` writes a value of each of these exact types."""


def _sorted_json(args: dict[str, Any]) -> str:
    """`_SORTED.encode(args)`; a flat object of strings, integers and booleans (most tool
    calls) is written directly, as the encoder's set-up costs more than such an object."""
    try:
        return "{" + ", ".join([encode_basestring_ascii(k) + ": " + _SCALAR_JSON[type(v)](v)
                                for k, v in sorted(args.items())]) + "}"
    except (KeyError, TypeError):  # a nested, float or None value, or a key that is no str
        return _SORTED.encode(args)


_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__  # past pydantic's validating __setattr__, as model_construct does


def validated(cls: type[_M], **fields: Any) -> _M:
    """`cls(**fields)`, validated alike, without `BaseModel.__init__`'s Python frame: the
    loop makes about ten models a step, and that frame was a fifth of what each cost."""
    return cls.__pydantic_validator__.validate_python(fields)


def updated(model: _M, update: dict[str, Any]) -> _M:
    """`model.model_copy(update=update)`: a shallow copy with the fields in `update` replaced
    (not validated), made directly. pydantic's general path was most of what a scripted
    model spends on a reply."""
    new = model.__class__.__new__(model.__class__)
    _set(new, "__dict__", {**model.__dict__, **update})
    _set(new, "__pydantic_fields_set__", model.__pydantic_fields_set__ | update.keys())
    extra, private = model.__pydantic_extra__, model.__pydantic_private__
    _set(new, "__pydantic_extra__", None if extra is None else dict(extra))
    _set(new, "__pydantic_private__", None if private is None else dict(private))
    return new


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
"""The encoding `ModelRequest.digest` hashes (one encoder, built once: it is immutable)."""


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

    def openai_json(self) -> str:
        """`to_openai()` as canonical JSON. Cached, because the loop digests the whole history
        every step: a message is treated as immutable once sent (the cache notices a new
        role, content, name or number of tool calls, not edits inside a tool call)."""
        key = (self.role, self.content, self.tool_call_id, self.name, len(self.tool_calls))
        cached = self.__dict__.get("_openai_json")  # not a field: ignored by ==, dumps, copies
        if cached is None or cached[0] != key:
            cached = (key, _openai_json(self))
            self.__dict__["_openai_json"] = cached
        return cached[1]


def _openai_json(m: Message) -> str:
    """`_CANONICAL.encode(m.to_openai())`, written out key by key (sorted, compact, ASCII):
    every new message is encoded once, and for messages this small the general encoder's
    set-up was most of the cost. A test holds the two to the same bytes."""
    esc = encode_basestring_ascii
    content = "null" if m.content is None else esc(m.content)
    name = f',"name":{esc(m.name)}' if m.name is not None and m.role == "tool" else ""
    call_id = "" if m.tool_call_id is None else f',"tool_call_id":{esc(m.tool_call_id)}'
    calls = f',"tool_calls":[{",".join([_call_json(c) for c in m.tool_calls])}]' \
        if m.tool_calls else ""
    return f'{{"content":{content}{name},"role":"{m.role}"{call_id}{calls}}}'  # roles are plain


def _call_json(c: ToolCall) -> str:
    raw = c.raw_arguments if c.parse_error else c.arguments_json()
    return (f'{{"function":{{"arguments":{_string(raw)},"name":{encode_basestring_ascii(c.name)}}},'
            f'"id":{encode_basestring_ascii(c.id)},"type":"function"}}')


def _string(text: str | None) -> str:
    return "null" if text is None else encode_basestring_ascii(text)


class Usage(BaseModel):
    """Token usage of one model call."""

    input_tokens: int = 0
    output_tokens: int = 0

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
        payload = messages.encode() + _request_end(_CANONICAL.encode(self.tools))
        return hashlib.sha256(payload).hexdigest()[:16]

    @classmethod
    def of(cls, messages: list[Message], tools: list[dict[str, Any]],
           params: dict[str, Any] | None = None) -> ModelRequest:
        """A request from messages that are already `Message`s, without validating each one
        again (a context constructor builds one every step; validation would cost O(history)).
        What `model_construct` makes, set directly: its general path (aliases, defaults,
        extras) was a tenth of a context build. A test holds the two to the same object."""
        request = cls.__new__(cls)
        _set(request, "__dict__", {"messages": messages, "tools": tools, "params": params or {}})
        _set(request, "__pydantic_fields_set__", {"messages", "tools", "params"})
        _set(request, "__pydantic_extra__", None)
        _set(request, "__pydantic_private__", None)
        return request

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
        return validated(Message, role="assistant", content=self.text, tool_calls=self.tool_calls)


def tools_hash(schemas_json: str) -> str:
    """How tool schemas (as canonical JSON) enter a request digest: their SHA-256, quoted."""
    return '"' + hashlib.sha256(schemas_json.encode()).hexdigest() + '"'


class RequestDigests:
    """`ModelRequest.digest()` for one run's successive requests, hashing only the messages
    that are new since the previous request: a request usually repeats the previous one's
    messages and adds some (the history only grows; a summary replaces a few messages near
    the end), so the loop's per-step cost does not grow with the history."""

    def __init__(self, tools: Toolset | None = None) -> None:
        self._messages: list[Message] = []
        self._json: list[str] = []  # each hashed message's JSON, to rehash a shared prefix
        self._start: tuple[int, Any] = (0, hashlib.sha256(b'{"m":['))
        self._hash: Any = self._start[1].copy()
        self._mark = self._start  # (k, the hash of the first k messages) where requests last diverged
        self._tools: tuple[list[dict[str, Any]], bytes] = ([], _request_end("[]"))
        self._toolset = tools  # the run's tools: their JSON is kept, not encoded per run

    def digest(self, request: ModelRequest) -> str:
        msgs = request.messages
        keep = shared_prefix(msgs, self._messages)
        if keep < len(self._messages):  # replaced or dropped messages: rehash what is shared
            del self._messages[keep:], self._json[keep:]
            self._hash = self._state_after(keep)
        for m in msgs[keep:]:
            text = m.openai_json()
            self._hash.update((("," if self._json else "") + text).encode())
            self._messages.append(m)
            self._json.append(text)
        if request.tools != self._tools[0]:  # usually the same schemas every step
            ts = self._toolset
            tools = ts.schemas_json() if ts is not None and request.tools == ts.schemas() \
                else _CANONICAL.encode(request.tools)
            self._tools = (request.tools, _request_end(tools))
        h = self._hash.copy()
        h.update(self._tools[1])  # the request's end: its tool schemas
        return h.hexdigest()[:16]

    def _state_after(self, keep: int) -> Any:
        """The hash of the first `keep` messages, continued from the state remembered at the
        last divergence when that is no later (a summary usually replaces messages just past
        where the last one did), so a run's summaries are not all rehashed at each new one."""
        start, state = self._mark if self._mark[0] <= keep else self._start
        h = state.copy()
        if keep > start:
            h.update((("," if start else "") + ",".join(self._json[start:keep])).encode())
        self._mark = (keep, h.copy())
        return h


def _request_end(schemas_json: str) -> bytes:
    """What a digest hashes after the messages: the tool schemas, by their hash."""
    return ('],"t":' + tools_hash(schemas_json) + "}").encode()


def shared_prefix(msgs: list[Message], old: list[Message]) -> int:
    """How many leading messages `msgs` has in common with `old`, as the provider sees them."""
    n = min(len(msgs), len(old))
    if n == len(old) and msgs[:n] == old:  # one C loop: identical (usual) or equal messages
        return n
    for i in compress(range(n), map(operator.is_not, old, msgs)):
        if not _same(old[i], msgs[i]):
            return i
    return n


def _same(a: Message, b: Message) -> bool:
    """Equal as the provider sees them (rebuilt system and task messages usually are)."""
    return (a.role == b.role and a.content == b.content and a.tool_call_id == b.tool_call_id
            and a.name == b.name and a.tool_calls == b.tool_calls)
