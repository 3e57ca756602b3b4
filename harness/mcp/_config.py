"""Which MCP servers to reach: `MCPServer`, and `load_mcp_config` for the `mcpServers` JSON
file other MCP clients read (Claude Desktop, Cursor):

    {"mcpServers": {
        "notes":  {"command": "python", "args": ["notes_server.py"], "env": {"NOTES": "~/n"}},
        "search": {"url": "http://127.0.0.1:8000/mcp", "headers": {"Authorization": "Bearer …"}}
    }}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.config_files import ConfigFileError, field_line, read_mapping

OTHER_CLIENTS_FIELDS = frozenset({"disabled", "autoApprove", "alwaysAllow", "timeout",
                                  "description", "transportType"})
"""Fields other clients keep beside a server that say nothing about how to reach it: read
and ignored (a server marked `"disabled": true` is skipped)."""
HTTP_TYPES = frozenset({"http", "streamable-http", "streamableHttp", "streamable_http"})


class MCPServer(BaseModel):
    """One MCP server: a command started over stdio (`command`, `args`, `env`, `cwd`), or a
    streamable-HTTP endpoint (`url`, `headers`). `env` is added to a small safe set of the
    parent's variables (PATH, HOME, ...), as the SDK does; `name` labels errors and logs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "mcp"
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_transport(self) -> MCPServer:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either 'command' (a stdio server) or 'url' (streamable "
                             "HTTP), not both and not neither")
        if self.url is not None and (self.args or self.env or self.cwd):
            raise ValueError("'args', 'env' and 'cwd' are for a stdio server ('command'), "
                             "not a 'url'")
        if self.command is not None and self.headers:
            raise ValueError("'headers' are for an HTTP server ('url'), not a 'command'")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"'url' must start with http:// or https://, got {self.url!r}")
        return self

    @property
    def transport(self) -> str:
        """`stdio` or `http`."""
        return "stdio" if self.command is not None else "http"

    def describe(self) -> str:
        """The server in a few words, for errors: its name and what it runs or where it is."""
        where = " ".join([self.command or "", *self.args]) if self.command else self.url
        return f"MCP server '{self.name}' ({where})"


def load_mcp_config(path: str | Path) -> list[MCPServer]:
    """The servers of an `mcpServers` JSON file, in file order (disabled ones left out). A
    relative `cwd` is taken from the file's folder. `ConfigFileError` names the file, the
    line and the field of anything wrong."""
    path = Path(path)
    data = read_mapping(path, "an MCP config")
    servers = data.get("mcpServers")
    if not isinstance(servers, dict):
        reason = ("has no 'mcpServers' mapping" if servers is None
                  else f"'mcpServers' must map server names to settings, got "
                       f"{type(servers).__name__}")
        raise ConfigFileError(path, reason, field_line(path, ["mcpServers"]))
    return [server for name, entry in servers.items()
            if (server := _server(path, name, entry)) is not None]


def _server(path: Path, name: str, entry: Any) -> MCPServer | None:
    loc = ["mcpServers", name]
    if not isinstance(entry, dict):
        raise ConfigFileError(path, f"mcpServers.{name}: must be a mapping with 'command' or "
                                    f"'url', got {type(entry).__name__}", field_line(path, loc))
    if entry.get("disabled") is True:
        return None
    kind = entry.get("type")
    if kind is not None and kind != "stdio" and kind not in HTTP_TYPES:
        raise ConfigFileError(path, f"mcpServers.{name}.type: {kind!r} is not supported (use "
                                    f"'stdio' or 'http'; the older SSE transport is not)",
                              field_line(path, [*loc, "type"]))
    fields = {k: v for k, v in entry.items()
              if k not in OTHER_CLIENTS_FIELDS and k not in ("type", "name")}
    cwd = fields.get("cwd")
    if isinstance(cwd, str) and not Path(cwd).expanduser().is_absolute():
        fields["cwd"] = str(path.resolve().parent / cwd)
    try:
        return MCPServer(name=name, **fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        field = f"mcpServers.{name}" + (f".{where}" if where else "")
        hint = " (strings only)" if err["type"] == "string_type" else ""
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (known: command, args, env, cwd, url, headers, type)"
        raise ConfigFileError(path, f"{field}: {msg}{hint}",
                              field_line(path, [*loc, *map(str, err["loc"][:1])])) from None
