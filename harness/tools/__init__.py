"""Tools: the `@tool` decorator, `Toolset`, and built-in workspace tools."""

from harness.tools.base import (
    Channel,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    Toolset,
    WorkspaceEscape,
    tool,
)
from harness.tools.builtin import (
    default_tools,
    edit_file,
    list_dir,
    make_run_shell,
    read_file,
    run_shell,
    search_files,
    truncate,
    write_file,
)

__all__ = [
    "Channel", "Tool", "ToolContext", "ToolError", "ToolResult", "Toolset", "WorkspaceEscape",
    "default_tools", "edit_file", "list_dir", "make_run_shell", "read_file", "run_shell",
    "search_files", "tool", "truncate", "write_file",
]
