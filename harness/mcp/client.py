"""Tools from any MCP server become harness tools.

    from harness.mcp import MCPServer, mcp_tools

    with mcp_tools(MCPServer(command="python", args=["notes_server.py"])) as notes:
        agent = Agent(model, tools=[*default_tools(), *notes])
        agent.run("...")

Each MCP tool becomes one `Tool` whose parameters are the server's JSON schema. What the
server returns is untrusted content (channel "web": fenced in the context, checked by
isolation and governance like any outside text). Every failure — a timeout, an error the
server reports, a dropped connection, arguments that do not fit the schema — comes back to
the model as a tool error; none is raised into the run. Needs the `mcp` extra.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, create_model

from harness.mcp._config import MCPServer, load_mcp_config
from harness.mcp._session import MCPConnection, MCPConnectionError, describe
from harness.tools.base import Channel, Tool, ToolContext, ToolError
from harness.tools.effects import DESTINATION_ARGS, PATH_ARGS, URL_ARGS, Effects

if TYPE_CHECKING:
    from mcp_types import CallToolResult, ToolAnnotations
    from mcp_types import Tool as MCPToolInfo

__all__ = ["MCPConnectionError", "MCPServer", "MCPTool", "MCPTools", "effects_of",
           "load_mcp_config", "mcp_tools", "tools_from_config"]

MCP_CHANNEL: Final[Channel] = "web"
"""The channel of MCP output: content from outside the harness, like a fetched page."""


class MCPTools(list[Tool]):
    """The tools of one or more MCP servers, and the connections behind them: `close()`
    (or leaving a `with` block) ends the sessions and any server processes started."""

    def __init__(self, tools: Iterable[Tool] = (), connections: Iterable[MCPConnection] = ()):
        super().__init__(tools)
        self.connections = list(connections)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    def __enter__(self) -> MCPTools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def mcp_tools(server: MCPServer, *, allow: Iterable[str] | None = None,
              timeout_s: float = 30, trust_annotations: bool = True) -> MCPTools:
    """One harness `Tool` per tool `server` offers (only those named in `allow`, if given).

    Connects now (a stdio server is started) and raises `MCPConnectionError` if the server
    cannot be reached, or `ValueError` naming the tools in `allow` it does not offer. Each
    call waits at most `timeout_s`. Effects come from the server's tool annotations
    (`effects_of`); `trust_annotations=False` gives every tool the cautious default
    instead, since annotations are the server's own claims.
    """
    connection = MCPConnection(server, timeout_s=timeout_s)
    try:
        listed = connection.list_tools()
    except Exception as exc:
        connection.close()
        if isinstance(exc, MCPConnectionError):
            raise
        raise MCPConnectionError(f"{server.describe()}: cannot list its tools: "
                                 f"{describe(exc)}") from exc
    wanted = None if allow is None else set(allow)
    try:
        check_offered(wanted, [info.name for info in listed], server.describe())
    except ValueError:
        connection.close()
        raise
    tools = [MCPTool(info, connection, trust_annotations=trust_annotations)
             for info in listed if wanted is None or info.name in wanted]
    return MCPTools(tools, [connection])


def tools_from_config(path: str | Path, *, allow: Iterable[str] | None = None,
                      timeout_s: float = 30) -> MCPTools:
    """The tools of every server in an `mcpServers` file (`load_mcp_config`); `allow`
    names tools across all of them, and a name no server offers is a `ValueError`."""
    wanted = None if allow is None else set(allow)
    found = MCPTools()
    offered: list[str] = []
    try:
        for server in load_mcp_config(path):
            some = mcp_tools(server, timeout_s=timeout_s)
            found.connections.extend(some.connections)
            found.extend(t for t in some if wanted is None or t.name in wanted)
            offered.extend(t.name for t in some)
        check_offered(wanted, offered, f"{path}, all servers")
    except BaseException:
        found.close()
        raise
    return found


def check_offered(wanted: set[str] | None, offered: list[str], where: str) -> None:
    """Raise `ValueError` naming the tools in `wanted` that are not `offered` by `where`."""
    missing = sorted((wanted or set()) - set(offered))
    if missing:
        raise ValueError(f"{where}: no tool named {', '.join(missing)} (offered: "
                         f"{', '.join(sorted(offered)) or 'none'})")


class MCPTool(Tool):
    """An MCP server's tool as a harness `Tool`: the server's input schema is the
    parameters, arguments are checked against it before they are sent, and the result's
    content comes back as text on the untrusted `web` channel."""

    def __init__(self, info: MCPToolInfo, connection: MCPConnection, *,
                 trust_annotations: bool = True):
        self.input_schema = object_schema(info.input_schema)
        self.annotations = info.annotations
        effects = effects_of(info.annotations if trust_annotations else None,
                             self.input_schema)
        # the schema the model sees is the server's (`schema`); this model only carries the
        # arguments through `Tool.__call__`'s checks to `run`, which judges them by it
        args_model = create_model(f"{info.name}_args", __config__=ConfigDict(extra="allow"))
        super().__init__(info.name, info.description or info.title or info.name, args_model,
                         channel=MCP_CHANNEL, effects=effects)
        self.connection = connection
        self._validator = schema_validator(self.input_schema)
        hints = info.annotations
        self.resendable = bool(trust_annotations and hints and (
            hints.read_only_hint or hints.idempotent_hint))
        """Safe to send again when the connection drops during a call."""

    def schema(self) -> dict[str, Any]:
        cached: dict[str, Any] | None = getattr(self, "_mcp_schema", None)
        if cached is None or cached["function"]["name"] != self.name:
            params = {k: v for k, v in self.input_schema.items() if k != "title"}
            cached = {"type": "function", "function": {
                "name": self.name, "description": self.description, "parameters": params}}
            self._mcp_schema = cached
        return cached

    def run(self, args: BaseModel, ctx: ToolContext) -> str:
        """Check the arguments against the server's schema, call the tool, and return its
        text; every failure is a `ToolError`, which `Tool.__call__` hands to the model."""
        arguments = args.model_dump()
        problems = self.argument_problems(arguments)
        if problems:
            raise ToolError(f"invalid arguments: {problems}")
        try:
            result = self.connection.call(self.name, arguments, resend=self.resendable)
        except TimeoutError:
            raise ToolError(f"no answer from {self.connection.server.describe()} within "
                            f"{self.connection.timeout_s:g} s") from None
        except Exception as exc:  # a dropped connection or an SDK error: the model sees it
            raise ToolError(describe(exc)) from exc
        text = result_text(result)
        if result.is_error:
            raise ToolError(f"the server reported an error: {text or '(no message)'}")
        return text

    def argument_problems(self, arguments: dict[str, Any]) -> str:
        """What is wrong with `arguments` by the tool's schema, in one line ('' if nothing)."""
        if self._validator is None:
            return ""
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.path))
        return "; ".join(f"'{'.'.join(map(str, e.path)) or '(arguments)'}': {e.message}"
                         for e in errors[:5])


def effects_of(annotations: ToolAnnotations | None, schema: dict[str, Any]) -> Effects:
    """What a tool does, by its MCP annotations, with the MCP defaults for a hint left out:
    not read-only, destructive, open-world. So a tool without annotations is declared to
    write, delete and send (the cautious default; `declared` is False to say it was not the
    server's claim). `readOnlyHint` makes it a reader, `destructiveHint: false` takes away
    deleting, `openWorldHint: false` takes away sending (or, for a reader, fetching). The
    arguments named like paths, URLs and recipients are the ones the policy checks."""
    props = tuple(schema.get("properties") or {})
    paths = tuple(p for p in props if p in PATH_ARGS)
    read_only = bool(annotations and annotations.read_only_hint)
    destructive = not annotations or annotations.destructive_hint is not False
    open_world = not annotations or annotations.open_world_hint is not False
    if read_only:
        urls = tuple(p for p in props if p in URL_ARGS) if open_world else ()
        return Effects(reads=True, paths=paths, destinations=urls)
    return Effects(reads=True, writes=True, deletes=destructive, sends=open_world,
                   paths=paths,
                   destinations=tuple(p for p in props if p in DESTINATION_ARGS)
                   if open_world else (),
                   declared=annotations is not None)


def object_schema(schema: dict[str, Any] | None) -> dict[str, Any]:
    """An MCP input schema as function parameters: always an object with properties."""
    params = dict(schema or {})
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    return params


def schema_validator(schema: dict[str, Any]) -> Any:
    """A JSON-schema validator for `schema`, or None when the server's schema is itself
    invalid (the server then judges the arguments alone)."""
    from jsonschema import exceptions, validators  # type: ignore[import-untyped]

    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError:
        return None
    return cls(schema)


def result_text(result: CallToolResult) -> str:
    """A tool result's content as text: text parts as they are, other parts described,
    and the structured content as JSON when there is no text."""
    parts: list[str] = []
    for item in result.content:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(item.text)  # type: ignore[union-attr]
        elif kind in ("image", "audio"):
            data = getattr(item, "data", "") or ""
            parts.append(f"[{kind}: {getattr(item, 'mime_type', '?')}, {len(data)} base64 "
                         f"characters]")
        elif kind == "resource":
            resource = getattr(item, "resource", None)
            text = getattr(resource, "text", None)
            parts.append(text if text is not None
                         else f"[resource: {getattr(resource, 'uri', '?')}]")
        elif kind == "resource_link":
            parts.append(f"[resource link: {getattr(item, 'uri', '?')}]")
        else:
            parts.append(f"[{kind or type(item).__name__} content]")
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content, default=str)
    return "\n".join(parts)

