"""Built-in tools for coding and research agents, all confined to the workspace."""

from __future__ import annotations

import os
import re

from harness.tools.base import Tool, ToolContext, ToolError, tool

MAX_OUTPUT_CHARS = 20_000
SKIP_DIRS = {".git", ".harness", "__pycache__", "node_modules", ".venv", ".mypy_cache"}


def truncate(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Keep the head and tail of long output, with a note saying how much was cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 2], text[-limit // 2:]
    return f"{head}\n[... {len(text) - limit} characters truncated ...]\n{tail}"


@tool(channel="file")
def read_file(path: str, ctx: ToolContext) -> str:
    """Read a text file in the workspace.

    Args:
        path: file path, relative to the workspace.
    """
    p = ctx.resolve(path)
    if not p.is_file():
        raise ToolError(f"no such file: {path}")
    return truncate(p.read_text(encoding="utf-8", errors="replace"))


@tool
def write_file(path: str, content: str, ctx: ToolContext) -> str:
    """Create or overwrite a file in the workspace.

    Args:
        path: file path, relative to the workspace.
        content: the full new content.
    """
    p = ctx.resolve(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(content, encoding="utf-8")
    return f"wrote {len(content)} characters to {ctx.relative(p)}"


@tool
def edit_file(path: str, old: str, new: str, ctx: ToolContext) -> str:
    """Replace one exact occurrence of `old` with `new` in a file.

    Args:
        path: file path, relative to the workspace.
        old: the exact text to replace; it must occur exactly once.
        new: the replacement text.
    """
    p = ctx.resolve(path)
    if not p.is_file():
        raise ToolError(f"no such file: {path}")
    text = p.read_text(encoding="utf-8")
    count = text.count(old) if old else 0
    if count == 0:
        raise ToolError(f"the old text was not found in {path}; read the file and copy it exactly")
    if count > 1:
        raise ToolError(f"the old text occurs {count} times in {path}; include more context "
                        f"so it is unique")
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return f"edited {ctx.relative(p)}"


@tool(channel="file")
def list_dir(ctx: ToolContext, path: str = ".") -> str:
    """List the entries of a directory in the workspace (directories end with '/').

    Args:
        path: directory path, relative to the workspace.
    """
    p = ctx.resolve(path)
    if not p.is_dir():
        raise ToolError(f"no such directory: {path}")
    entries = sorted(p.iterdir(), key=lambda e: (not e.is_dir(), e.name))
    return "\n".join(e.name + ("/" if e.is_dir() else "") for e in entries) or "(empty)"


@tool(channel="file")
def search_files(pattern: str, ctx: ToolContext, path: str = ".", max_results: int = 100) -> str:
    """Search file contents in the workspace with a regular expression.

    Args:
        pattern: a Python regular expression.
        path: directory to search, relative to the workspace.
        max_results: stop after this many matching lines.
    """
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ToolError(f"invalid regular expression: {exc}") from exc
    root = ctx.resolve(path)
    hits: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            fp = os.path.join(dirpath, name)
            try:
                with open(fp, encoding="utf-8") as fh:
                    for lineno, line in enumerate(fh, 1):
                        if rx.search(line):
                            hits.append(f"{os.path.relpath(fp, ctx.workspace)}:{lineno}: "
                                        f"{line.rstrip()[:200]}")
                            if len(hits) >= max_results:
                                return "\n".join(hits) + f"\n[stopped at {max_results} matches]"
            except (UnicodeDecodeError, OSError):
                continue
    return "\n".join(hits) or "no matches"


def make_run_shell(timeout_s: float | None = None, max_chars: int = MAX_OUTPUT_CHARS) -> Tool:
    """A `run_shell` tool with its own timeout (default: the sandbox's) and output limit."""

    @tool(name="run_shell", channel="shell")
    def run_shell(command: str, ctx: ToolContext) -> str:
        """Run a shell command in the workspace and return its exit code and output.

        Args:
            command: the command line, run with /bin/sh.
        """
        if "\x00" in command:
            raise ToolError("the command contains a NUL byte")
        result = ctx.sandbox.run(command, timeout_s=timeout_s, env=ctx.env or None)
        output = truncate(result.output, max_chars)
        if result.timed_out:
            raise ToolError(f"command timed out after {result.timeout_s:g}s and was killed "
                            f"with everything it started: {command}\n{output}")
        if result.exit_code != 0:
            raise ToolError(f"exit code {result.exit_code}\n{output}")
        return f"exit code 0\n{output}"

    return run_shell


run_shell = make_run_shell()


def default_tools() -> list[Tool]:
    """The built-in tool set: files, search and shell."""
    return [read_file, write_file, edit_file, list_dir, search_files, run_shell]
