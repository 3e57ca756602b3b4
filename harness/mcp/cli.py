"""`harness mcp --memory DIR [--workspace DIR] [--http PORT]`: serve project memory over MCP."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    mcp = sub.add_parser("mcp", help="serve project memory to other agents over MCP",
                         description=(
        "Serve a project memory as an MCP server: tools to record issues, attempts, fixes, "
        "decisions, facts, notes and fragile files, to recall, summarise and check an action "
        "before taking it. Over stdio by default (what coding agents launch), or streamable "
        "HTTP on 127.0.0.1 with --http. Needs the mcp extra: pip install 'harness[mcp]'."))
    mcp.add_argument("--memory", required=True, metavar="DIR",
                     help="the memory directory, e.g. .harness/memory (created if absent)")
    mcp.add_argument("--workspace", default=None, metavar="DIR",
                     help="where the memory's relative paths live (default: the folder "
                          "holding .harness/)")
    mcp.add_argument("--http", type=int, default=None, metavar="PORT",
                     help="serve streamable HTTP at http://127.0.0.1:PORT/mcp instead of stdio")
    mcp.set_defaults(func=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    from harness._console import UsageError

    root = Path(args.memory)
    if root.exists() and not root.is_dir():
        raise UsageError(f"--memory {root}: not a directory")
    if args.workspace is not None and not Path(args.workspace).is_dir():
        raise UsageError(f"--workspace {args.workspace}: not a directory")
    if args.http is not None and not 0 < args.http < 65536:
        raise UsageError(f"--http {args.http}: a port is 1 to 65535")
    try:
        from harness.mcp.server import memory_server
    except ModuleNotFoundError as exc:
        if exc.name != "mcp" and not (exc.name or "").startswith("mcp."):
            raise
        raise UsageError("the MCP SDK is not installed: pip install 'harness[mcp]'") from exc
    server = memory_server(root, workspace=args.workspace)
    if args.http is None:
        server.run()
        return 0
    print(f"serving {root} at http://127.0.0.1:{args.http}/mcp", file=sys.stderr, flush=True)
    server.run("streamable-http", host="127.0.0.1", port=args.http)
    return 0
