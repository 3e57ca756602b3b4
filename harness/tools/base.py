"""Tools: typed Python functions with a JSON schema the model sees.

`@tool` reads the type hints and the docstring; arguments from the model are validated
with pydantic, and any problem comes back to the model as a tool error it can correct.
"""

from __future__ import annotations

import inspect
import json
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from harness._fast import MAX_NESTING, model_fields, nesting_depth, validated
from harness.errors import ToolError as ToolError
from harness.errors import WorkspaceEscape as WorkspaceEscape
from harness.messages import ToolCall
from harness.tools.effects import Effects, undeclared

if TYPE_CHECKING:
    from harness.sandbox.base import SandboxSession
    from harness.sandbox.files import WorkspaceFiles

MAX_ARGUMENT_DEPTH = MAX_NESTING
"""Tool arguments nested deeper than this are refused with a tool error, before validation
(pydantic and json recurse once per level)."""

Channel = Literal["none", "file", "shell", "search", "web", "subagent"]
"""Where a tool's output comes from; anything but "none" is untrusted content."""


@dataclass(slots=True)
class ToolContext:
    """What a running tool may know: its workspace, the run it belongs to, and the run's
    sandbox, through which a tool that touches the machine reaches it (`ctx.sandbox.run`
    for commands, `ctx.files` for files). Made without a sandbox, it gets an unconfined one
    (`NoSandbox`) on first use."""

    workspace: Path
    run_id: str = ""
    step: int = 0
    env: dict[str, str] = field(default_factory=dict)
    session: SandboxSession | None = None

    @property
    def sandbox(self) -> SandboxSession:
        if self.session is None:
            from harness.sandbox.local import NoSandbox

            self.session = NoSandbox().open(self.workspace)
        return self.session

    @property
    def files(self) -> WorkspaceFiles:
        """The workspace's files, every path resolved beneath it."""
        return self.sandbox.files

    def resolve(self, path: str) -> Path:
        """Deprecated: a path checked here and then opened by name can be swapped for a
        symlink in between. Read and write through `ctx.files` instead."""
        warnings.warn("ToolContext.resolve is deprecated: use ctx.files, which resolves "
                      "beneath the workspace as it opens", DeprecationWarning, stacklevel=2)
        root = self.workspace.resolve()
        raw = Path(path).expanduser() if path.startswith("~") else Path(path)
        resolved = (raw if raw.is_absolute() else root / raw).resolve()
        if resolved != root and root not in resolved.parents:
            raise WorkspaceEscape(f"path '{path}' is outside the workspace (give paths "
                                  f"relative to it)")
        return resolved


class ToolResult(BaseModel):
    """The outcome of one tool call as the loop records it."""

    call_id: str
    tool: str
    ok: bool
    output: str = ""
    error: str | None = None
    channel: Channel = "none"
    refused: bool = False
    duration_s: float = 0.0

    def content(self) -> str:
        """The text the model sees for this result."""
        return self.output if self.ok else f"ERROR: {self.error}"


_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into a description and per-argument descriptions."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    desc: list[str] = []
    args: dict[str, str] = {}
    section = None
    current = None
    for line in lines:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            section = "args"
            continue
        if stripped in ("Returns:", "Raises:", "Example:", "Examples:"):
            section = "other"
            continue
        if section is None:
            desc.append(line)
        elif section == "args":
            m = _ARG_LINE.match(line)
            if m and not line.startswith(" " * 8):
                current = m.group(1).lstrip("*")
                args[current] = m.group(3).strip()
            elif current and stripped:
                args[current] += " " + stripped
    return "\n".join(desc).strip(), args


class Tool:
    """A callable the model can request, with a name, description and argument schema.

    Subclass and override `run`, or use the `@tool` decorator on a function. `effects`
    declares what the tool does (reads, writes, executes, sends; which arguments hold
    paths, commands, destinations); a tool that declares none gets
    `harness.tools.effects.undeclared(name)`, a guess from its name.
    """

    name: str
    description: str
    channel: Channel = "none"
    args_model: type[BaseModel]
    effects: Effects

    def __init__(self, name: str, description: str, args_model: type[BaseModel],
                 fn: Callable[..., Any] | None = None, *, channel: Channel = "none",
                 wants_context: bool = False, effects: Effects | None = None):
        self.name = name
        self.description = description
        self.args_model = args_model
        self.channel = channel
        self.effects = effects if effects is not None else undeclared(name)
        self._fn = fn
        self._wants_context = wants_context

    def schema(self) -> dict[str, Any]:
        """The OpenAI function schema of this tool. Built once and shared (the loop asks for
        it every step): treat it as read-only. Rebuilt if name, description or args change."""
        key = (self.name, self.description, self.args_model)
        cached: tuple[tuple[str, str, type[BaseModel]], dict[str, Any]] | None = getattr(
            self, "_schema_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        params = self.args_model.model_json_schema()
        params.pop("title", None)
        for prop in params.get("properties", {}).values():
            prop.pop("title", None)
        schema = {"type": "function",
                  "function": {"name": self.name, "description": self.description,
                               "parameters": params}}
        self._schema_cache = (key, schema)
        return schema

    def schema_json(self, *, compact: bool = True) -> str:
        """`schema()` as JSON with sorted keys: compact (as request digests hash it) or with
        `json.dumps`' default spacing (as token counts read it). Built once per schema, not
        once per run."""
        schema = self.schema()
        cached: tuple[dict[str, Any], dict[bool, str]] | None = getattr(
            self, "_json_cache", None)
        if cached is None or cached[0] is not schema:
            cached = (schema, {})
            self._json_cache = cached
        text = cached[1].get(compact)
        if text is None:
            text = cached[1][compact] = json.dumps(
                schema, sort_keys=True, separators=(",", ":") if compact else None,
                default=str if compact else None)
        return text

    def run(self, args: BaseModel, ctx: ToolContext) -> Any:
        if self._fn is None:
            raise ToolError(f"tool '{self.name}' has no implementation")
        kwargs = model_fields(args)
        if self._wants_context:
            kwargs["ctx"] = ctx
        return self._fn(**kwargs)

    def __call__(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Validate the model's arguments, run, and turn every failure into a tool error."""
        start = time.perf_counter()
        if call.parse_error:
            return self._result(call, start, error=f"{self.name}: {call.parse_error}; "
                                                   f"send the arguments as a JSON object")
        if nesting_depth(call.arguments, MAX_ARGUMENT_DEPTH) > MAX_ARGUMENT_DEPTH:
            return self._result(call, start, error=(
                f"{self.name}: arguments nest deeper than {MAX_ARGUMENT_DEPTH} levels (the "
                f"limit); send flatter arguments"))
        try:
            args = self.args_model.model_validate(call.arguments)
        except ValidationError as exc:
            return self._result(call, start, error=f"{self.name}: invalid arguments: "
                                                   f"{format_validation(exc)}")
        try:
            out = self.run(args, ctx)
        except ToolError as exc:
            return self._result(call, start, error=f"{self.name}: {exc}")
        except Exception as exc:  # a bug in a tool is still something the model should see
            return self._result(call, start,
                                error=f"{self.name} raised {type(exc).__name__}: {exc}")
        try:
            text = out if isinstance(out, str) else _to_text(out)
        except RecursionError:
            return self._result(call, start, error=f"{self.name} returned a value nested too "
                                                   f"deeply to show")
        return self._result(call, start, ok=True, output=text)

    def _result(self, call: ToolCall, start: float, *, ok: bool = False, output: str = "",
                error: str | None = None) -> ToolResult:
        return validated(ToolResult, call_id=call.id, tool=self.name, ok=ok,
                         output=encodable(output),
                         error=None if error is None else encodable(error),
                         channel=self.channel, duration_s=time.perf_counter() - start)


def encodable(text: str) -> str:
    """`text` with every lone surrogate (which UTF-8 cannot encode: a file name or output
    decoded with `surrogateescape`, a model's stray escape) shown as its escape, `\\udcff`,
    so that what a tool returns can be sent to a provider and written to a log."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        parts.append(f"'{loc}': {err['msg']}")
    return "; ".join(parts)


_TEXT = json.JSONEncoder(default=str)
"""`json.dumps(value, default=str)`, built once (a tool's result is encoded every call)."""


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is int:  # the encoder's general path builds an iterator per value
        return int.__repr__(value)
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return _TEXT.encode(value)
    except TypeError:
        return str(value)


@overload
def tool(fn: Callable[..., Any], *, name: str | None = None, channel: Channel = "none",
         effects: Effects | None = None) -> Tool: ...


@overload
def tool(fn: None = None, *, name: str | None = None, channel: Channel = "none",
         effects: Effects | None = None) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None,
         channel: Channel = "none",
         effects: Effects | None = None) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a `Tool` from a typed function; its docstring is the description.

    A parameter named `ctx` annotated `ToolContext` receives the run's context and is not
    shown to the model. `effects` declares what the tool does, e.g.
    `@tool(effects=Effects.writer("target"))` (see `harness.tools.effects`).
    """

    def wrap(f: Callable[..., Any]) -> Tool:
        hints = get_type_hints(f)
        desc, arg_docs = parse_docstring(f.__doc__)
        fields: dict[str, Any] = {}
        wants_context = False
        for pname, param in inspect.signature(f).parameters.items():
            if pname == "ctx" or hints.get(pname) is ToolContext:
                wants_context = True
                continue
            ann = hints.get(pname, Any)
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (ann, Field(default, description=arg_docs.get(pname)))
        model = create_model(f"{f.__name__}_args", __config__=ConfigDict(extra="forbid"), **fields)
        return Tool(name or f.__name__, desc or f.__name__, model, f,
                    channel=channel, wants_context=wants_context, effects=effects)

    return wrap(fn) if fn is not None else wrap


class Toolset:
    """Tools by name, in the order given."""

    def __init__(self, tools: Iterable[Tool] = ()):
        self._tools: dict[str, Tool] = {}
        self._names: tuple[str, ...] | None = ()
        for t in tools:
            self.add(t)

    def add(self, t: Tool) -> None:
        if not isinstance(t, Tool):
            raise TypeError(f"{t!r} is not a Tool; decorate functions with @tool")
        self._tools[t.name] = t
        self._names = None

    def copy(self) -> Toolset:
        """A toolset of the same tools, to which adding does not change this one (each run
        gets one, so a skill router's tools stay with the run that loaded them)."""
        clone = Toolset()
        clone._tools, clone._names = dict(self._tools), self._names
        return clone

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def effects(self, name: str) -> Effects | None:
        """What the tool called `name` declares it does (or its undeclared default); None
        for a tool not in the set."""
        t = self._tools.get(name)
        return t.effects if t is not None else None

    def names(self) -> list[str]:
        return list(self._tools)

    @property
    def key(self) -> tuple[str, ...]:
        """The tool names, as one tuple that stays the same object until a tool is added (a
        context constructor checks every step whether the tool set changed)."""
        if self._names is None:
            self._names = tuple(self._tools)
        return self._names

    def schemas(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self._tools.values()]

    def schemas_json(self, *, compact: bool = True) -> str:
        """`schemas()` as one JSON array (see `Tool.schema_json`), from each tool's cached JSON."""
        parts = [t.schema_json(compact=compact) for t in self._tools.values()]
        return "[" + ("," if compact else ", ").join(parts) + "]"

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def execute(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        t = self._tools.get(call.name)
        if t is None:
            return ToolResult(call_id=call.id, tool=call.name, ok=False,
                              error=f"unknown tool '{call.name}'; available: "
                                    f"{', '.join(self._tools) or 'none'}")
        return t(call, ctx)
