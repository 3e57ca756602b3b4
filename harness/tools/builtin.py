"""Built-in tools for coding and research agents, all confined to the workspace."""

from __future__ import annotations

import re
from collections.abc import Generator

from harness.tools.base import Tool, ToolContext, ToolError, tool
from harness.tools.effects import Effects

MAX_OUTPUT_CHARS = 20_000
SKIP_DIRS = {".git", ".harness", "__pycache__", "node_modules", ".venv", ".mypy_cache"}


def truncate(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Keep the head and tail of long output, with a note saying how much was cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 2], text[-limit // 2:]
    return f"{head}\n[... {len(text) - limit} characters truncated ...]\n{tail}"


@tool(channel="file", effects=Effects.reader("path"))
def read_file(path: str, ctx: ToolContext) -> str:
    """Read a text file in the workspace.

    Args:
        path: file path, relative to the workspace.
    """
    try:
        return truncate(ctx.files.read_text(path))
    except (FileNotFoundError, NotADirectoryError):
        raise ToolError(f"no such file: {path}") from None


@tool(effects=Effects.writer("path"))
def write_file(path: str, content: str, ctx: ToolContext) -> str:
    """Create or overwrite a file in the workspace.

    Args:
        path: file path, relative to the workspace.
        content: the full new content.
    """
    ctx.files.write_text(path, content)
    return f"wrote {len(content)} characters to {ctx.files.relative(path)}"


@tool(effects=Effects.writer("path"))
def edit_file(path: str, old: str, new: str, ctx: ToolContext) -> str:
    """Replace one exact occurrence of `old` with `new` in a file.

    Args:
        path: file path, relative to the workspace.
        old: the exact text to replace; it must occur exactly once.
        new: the replacement text.
    """
    try:
        text = ctx.files.read_text(path, errors="strict")
    except (FileNotFoundError, NotADirectoryError):
        raise ToolError(f"no such file: {path}") from None
    count = text.count(old) if old else 0
    if count == 0:
        raise ToolError(f"the old text was not found in {path}; read the file and copy it exactly")
    if count > 1:
        raise ToolError(f"the old text occurs {count} times in {path}; include more context "
                        f"so it is unique")
    ctx.files.write_text(path, text.replace(old, new, 1))
    return f"edited {ctx.files.relative(path)}"


@tool(channel="file", effects=Effects.reader("path"))
def list_dir(ctx: ToolContext, path: str = ".") -> str:
    """List the entries of a directory in the workspace (directories end with '/').

    Args:
        path: directory path, relative to the workspace.
    """
    try:
        entries = ctx.files.list_dir(path)
    except (FileNotFoundError, NotADirectoryError):
        raise ToolError(f"no such directory: {path}") from None
    lines = [e.name + "/" if e.kind == "dir" else
             f"{e.name} -> {e.target}" if e.kind == "symlink" else e.name for e in entries]
    return "\n".join(lines) or "(empty)"


@tool(channel="file", effects=Effects.reader("path"))
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
    hits: list[str] = []
    try:
        files = ctx.files.walk(path, skip=SKIP_DIRS)
        for rel, fh in files:
            try:
                for lineno, line in enumerate(fh, 1):
                    if rx.search(line):
                        hits.append(f"{rel}:{lineno}: {line.rstrip()[:200]}")
                        if len(hits) >= max_results:
                            if isinstance(files, Generator):
                                files.close()
                            return "\n".join(hits) + f"\n[stopped at {max_results} matches]"
            except (UnicodeDecodeError, OSError):
                continue
    except (FileNotFoundError, NotADirectoryError):
        raise ToolError(f"no such directory: {path}") from None
    return "\n".join(hits) or "no matches"


def make_run_shell(timeout_s: float | None = None, max_chars: int = MAX_OUTPUT_CHARS) -> Tool:
    """A `run_shell` tool with its own timeout (default: the sandbox's) and output limit."""

    @tool(name="run_shell", channel="shell", effects=Effects.shell("command"))
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
