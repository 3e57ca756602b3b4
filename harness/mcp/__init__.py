"""MCP both ways: tools from any MCP server become harness tools (`mcp_tools`), and project
memory is served to other agents (`harness mcp --memory DIR`, `harness.mcp.server`).
Needs the `mcp` extra: `pip install -e '.[mcp]'`."""

from harness._lazy import lazy_exports

__all__ = ["MCPServer", "mcp_tools", "load_mcp_config", "memory_server"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "MCPServer": "harness.mcp.client",
    "mcp_tools": "harness.mcp.client",
    "load_mcp_config": "harness.mcp.client",
    "memory_server": "harness.mcp.server",
})
