"""Tools: the `@tool` decorator, `Toolset`, declared `Effects`, and built-in workspace tools."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "Channel": "harness.tools.base",
    "Tool": "harness.tools.base",
    "ToolContext": "harness.tools.base",
    "ToolError": "harness.tools.base",
    "ToolResult": "harness.tools.base",
    "Toolset": "harness.tools.base",
    "WorkspaceEscape": "harness.tools.base",
    "tool": "harness.tools.base",
    "default_tools": "harness.tools.builtin",
    "edit_file": "harness.tools.builtin",
    "list_dir": "harness.tools.builtin",
    "make_run_shell": "harness.tools.builtin",
    "read_file": "harness.tools.builtin",
    "run_shell": "harness.tools.builtin",
    "search_files": "harness.tools.builtin",
    "truncate": "harness.tools.builtin",
    "write_file": "harness.tools.builtin",
    "Effects": "harness.tools.effects",
    "undeclared": "harness.tools.effects",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
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
    from harness.tools.effects import Effects, undeclared
