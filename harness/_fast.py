"""Fast paths of the loop, each doing what a plain expression does, at less cost.

The loop and the public types read as plain Python; where a plain expression was a
measured share of the loop's own cost (the `overhead` suite: `harness bench overhead`),
the faster equivalent sits here with what it saved, and a test holds the two to the same
result. Nothing here imports the rest of `harness`: it works on any pydantic model.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Callable, Sequence
from itertools import compress
from json.encoder import encode_basestring_ascii
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__  # past pydantic's validating __setattr__, as model_construct does


def stamp(event: BaseModel, run_id: str, seq: int, step: int) -> None:
    """`event.id, event.run_id, event.step = f"{run_id}:{seq}", run_id, step`, past
    pydantic's validating `__setattr__` (the values are of the fields' types): three
    validated writes per event were 6% of the loop's cost."""
    fields = event.__dict__
    fields["id"] = f"{run_id}:{seq}"
    fields["run_id"] = run_id
    fields["step"] = step


def validated(cls: type[_M], **fields: Any) -> _M:
    """`cls(**fields)`, validated alike, without `BaseModel.__init__`'s Python frame (1.8%
    of the loop's cost when the loop made its events this way). For code outside the loop
    that builds many small models; the loop itself uses the constructors."""
    made: _M = cls.__pydantic_validator__.validate_python(fields)
    return made


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


def constructed(cls: type[_M], fields: dict[str, Any]) -> _M:
    """`cls.model_construct(**fields)` for a model whose every field is given (no defaults,
    aliases or extras to apply): its general path was a tenth of a context build."""
    model = cls.__new__(cls)
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", set(fields))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def arguments_json(call: _Call) -> str:
    """`sorted_json(call.arguments)`, remembered on the call (not a field: ignored by ==,
    dumps and copies) while its arguments are the same object: the loop encodes each call
    several times a step (digest, token counts). A call is treated as immutable once made
    (edits inside its arguments go unnoticed)."""
    held = call.__dict__.get("_arguments_json")
    if held is None or held[0] is not call.arguments:
        held = call.__dict__["_arguments_json"] = (call.arguments, sorted_json(call.arguments))
    return held[1]


def message_json(m: _Message) -> str:
    """`openai_json(m)`, remembered on the message while its role, content, names and number
    of calls stay the same: the loop digests the whole history every step. A message is
    treated as immutable once sent."""
    key = (m.role, m.content, m.tool_call_id, m.name, len(m.tool_calls))
    held = m.__dict__.get("_openai_json")
    if held is None or held[0] != key:
        held = m.__dict__["_openai_json"] = (key, openai_json(m))
    return held[1]


# -- JSON as the provider gets it --------------------------------------------------------

SORTED = json.JSONEncoder(sort_keys=True)
"""`json.dumps(obj, sort_keys=True)`, built once."""
CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
"""The encoding request digests hash (sorted, compact, ASCII)."""

_SCALAR_JSON: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii, int: int.__repr__, bool: lambda v: "true" if v else "false"}
"""How `json.dumps` writes a value of each of these exact types."""


_VALUE_JSON = json.JSONEncoder(ensure_ascii=False)


def value_json(value: object) -> str:
    """`json.dumps(value, ensure_ascii=False)` with one encoder built once; an int is written
    directly (the encoder's general path builds an iterator per value, and most tool
    arguments are plain numbers or strings)."""
    return int.__repr__(value) if type(value) is int else _encoded(_VALUE_JSON, value)


def model_fields(model: BaseModel) -> dict[str, Any]:
    """`dict(model)`: a model's fields by name (`dict(model)` iterates through pydantic's
    slow path; a tool's validated arguments are unpacked this way every call)."""
    return dict(model.__dict__)


def sorted_json(args: dict[str, Any]) -> str:
    """`SORTED.encode(args)`; a flat object of strings, integers and booleans (most tool
    calls) is written directly, as the encoder's set-up costs more than such an object."""
    try:
        return "{" + ", ".join([encode_basestring_ascii(k) + ": " + _SCALAR_JSON[type(v)](v)
                                for k, v in sorted(args.items())]) + "}"
    except (KeyError, TypeError):  # a nested, float or None value, or a key that is no str
        return _encoded(SORTED, args)


def _encoded(encoder: json.JSONEncoder, value: object) -> str:
    """`encoder.encode(value)`; a value nested too deeply to encode is encoded cut at
    `MAX_NESTING` (the loop refuses such tool arguments, but still records and resends
    the call)."""
    try:
        return encoder.encode(value)
    except RecursionError:
        return encoder.encode(cut_deep(value, MAX_NESTING))


class _Call(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def arguments(self) -> dict[str, Any]: ...
    @property
    def raw_arguments(self) -> str | None: ...
    @property
    def parse_error(self) -> str | None: ...
    __dict__: dict[str, Any]

    def arguments_json(self) -> str: ...


class _Message(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str | None: ...
    @property
    def tool_calls(self) -> Sequence[Any]: ...
    @property
    def tool_call_id(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    __dict__: dict[str, Any]

    def openai_json(self) -> str: ...


def openai_json(m: _Message) -> str:
    """`CANONICAL.encode(m.to_openai())`, written out key by key: every new message is
    encoded once, and for messages this small the general encoder's set-up was most of the
    cost. A test holds the two to the same bytes."""
    esc = encode_basestring_ascii
    content = "null" if m.content is None else esc(m.content)
    name = f',"name":{esc(m.name)}' if m.name is not None and m.role == "tool" else ""
    call_id = "" if m.tool_call_id is None else f',"tool_call_id":{esc(m.tool_call_id)}'
    calls = f',"tool_calls":[{",".join([_call_json(c) for c in m.tool_calls])}]' \
        if m.tool_calls else ""
    return f'{{"content":{content}{name},"role":"{m.role}"{call_id}{calls}}}'  # roles are plain


def sent_arguments(c: _Call) -> str:
    """A call's arguments as the provider is sent them: its JSON, or, for arguments the model
    wrote that were not a JSON object, an object holding that text (`unparsed_arguments`):
    servers that parse the history's arguments (llama.cpp's) refuse a whole request whose
    history holds invalid JSON, and the model still sees what it wrote."""
    if c.parse_error:
        return json.dumps({"unparsed_arguments": c.raw_arguments or ""})
    return c.arguments_json()


def _call_json(c: _Call) -> str:
    raw = sent_arguments(c)
    return (f'{{"function":{{"arguments":{_string(raw)},"name":{encode_basestring_ascii(c.name)}}},'
            f'"id":{encode_basestring_ascii(c.id)},"type":"function"}}')


def _string(text: str | None) -> str:
    return "null" if text is None else encode_basestring_ascii(text)


# -- request digests, incrementally --------------------------------------------------------

def tools_hash(schemas_json: str) -> str:
    """How tool schemas (as canonical JSON) enter a request digest: their SHA-256, quoted."""
    return '"' + hashlib.sha256(schemas_json.encode()).hexdigest() + '"'


def request_end(schemas_json: str) -> bytes:
    """What a digest hashes after the messages: the tool schemas, by their hash."""
    return ('],"t":' + tools_hash(schemas_json) + "}").encode()


class _Request(Protocol):
    @property
    def messages(self) -> list[Any]: ...
    @property
    def tools(self) -> list[dict[str, Any]]: ...


class _Schemas(Protocol):
    def schemas(self) -> list[dict[str, Any]]: ...

    def schemas_json(self) -> str: ...


class RequestDigests:
    """`ModelRequest.digest()` for a stream of successive requests, hashing only the
    messages that are new since the previous request: a request usually repeats the
    previous one's messages and adds some (the history only grows; a summary replaces a few
    messages near the end), so the loop's per-step cost does not grow with the history."""

    def __init__(self, tools: _Schemas | None = None) -> None:
        self._messages: list[Any] = []
        self._json: list[str] = []  # each hashed message's JSON, to rehash a shared prefix
        self._start: tuple[int, Any] = (0, hashlib.sha256(b'{"m":['))
        self._hash: Any = self._start[1].copy()
        self._mark = self._start  # (k, the hash of the first k messages) where requests last diverged
        self._tools: tuple[list[dict[str, Any]], bytes] = ([], request_end("[]"))
        self._toolset = tools  # the run's tools: their JSON is kept, not encoded per run

    def digest(self, request: _Request) -> str:
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
                else CANONICAL.encode(request.tools)
            self._tools = (request.tools, request_end(tools))
        h = self._hash.copy()
        h.update(self._tools[1])  # the request's end: its tool schemas
        digest: str = h.hexdigest()[:16]
        return digest

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


def shared_prefix(msgs: Sequence[_Message], old: Sequence[_Message]) -> int:
    """How many leading messages `msgs` has in common with `old`, as the provider sees them."""
    n = min(len(msgs), len(old))
    if n == len(old) and msgs[:n] == old:  # one C loop: identical (usual) or equal messages
        return n
    for i in compress(range(n), map(operator.is_not, old, msgs)):
        if not _same(old[i], msgs[i]):
            return i
    return n


def _same(a: _Message, b: _Message) -> bool:
    """Equal as the provider sees them (rebuilt system and task messages usually are)."""
    return (a.role == b.role and a.content == b.content and a.tool_call_id == b.tool_call_id
            and a.name == b.name and a.tool_calls == b.tool_calls)


# -- bounds on nesting ---------------------------------------------------------------------
# Python's json module and pydantic recurse once per level of nesting, so a value nested
# deeply enough (a model's tool arguments 100,000 levels deep) raises RecursionError, or
# pydantic's "maximum serialization depth exceeded", wherever it is encoded. These count and
# cut nesting without recursing, so the loop can refuse such a value and a record can still
# be written.

MAX_NESTING = 64
"""The deepest a value the loop handles may nest (tool arguments deeper are refused)."""

DEEP_MARKER = "[cut: nested deeper than {limit} levels]"
"""What `cut_deep` puts in place of a container nested past its limit."""

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def nesting_depth(value: object, limit: int) -> int:
    """How deeply dicts, lists and tuples nest in `value` (a scalar: 0, `{}`: 1), counted
    without recursion; counting stops at `limit + 1` (deeper than the limit)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > limit:
            return limit + 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def text_nesting_depth(text: str, limit: int) -> int:
    """How deeply arrays and objects nest in JSON text (brackets inside strings do not
    count), without parsing it; counting stops at `limit + 1`."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return limit + 1
    return deepest


def cut_deep(value: Any, limit: int, _depth: int = 0) -> Any:
    """`value` with every container nested more than `limit` levels down (models, dicts,
    lists, tuples) replaced by `DEEP_MARKER`; what is not cut is shared, not copied.
    Recurses at most `limit` levels."""
    if not isinstance(value, BaseModel | dict | list | tuple):
        return value
    if _depth >= limit:
        return DEEP_MARKER.format(limit=limit)
    if isinstance(value, BaseModel):
        return updated(value, {k: cut_deep(v, limit, _depth + 1)
                               for k, v in value.__dict__.items()})
    if isinstance(value, dict):
        return {k: cut_deep(v, limit, _depth + 1) for k, v in value.items()}
    return [cut_deep(v, limit, _depth + 1) for v in value]
