"""Tools the read-unfamiliar-codebase skill brings."""

from __future__ import annotations

import ast

from harness.tools.base import ToolContext, ToolError, tool


@tool
def outline_python(path: str, ctx: ToolContext) -> str:
    """List the classes, functions and methods of a Python file with their line numbers.

    Args:
        path: the file, relative to the workspace.
    """
    try:
        source = ctx.files.read_text(path)  # resolved beneath the workspace, never out of it
    except (FileNotFoundError, NotADirectoryError):
        raise ToolError(f"no such file: {path}") from None
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise ToolError(f"{path} line {exc.lineno}: not valid Python ({exc.msg})") from exc
    lines: list[str] = []

    def visit(node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                kind = "class" if isinstance(child, ast.ClassDef) else "def"
                doc = (ast.get_docstring(child) or "").strip().splitlines()
                hint = f"  # {doc[0][:80]}" if doc else ""
                lines.append(f"{child.lineno:>5}  {'    ' * depth}{kind} {child.name}{hint}")
                visit(child, depth + 1)

    visit(tree, 0)
    return "\n".join(lines) or f"{path}: no classes or functions"
