"""`harness memory add | log | search | summary | check | doctor | rebuild`."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from pydantic import ValidationError


def add_parser(sub: argparse._SubParsersAction) -> None:
    mem = sub.add_parser("memory", help="inspect and edit project memory", description=(
        "Project memory: an append-only event log under .harness/memory and the views "
        "rebuilt from it."))
    msub = mem.add_subparsers(dest="memory_command", metavar="SUBCOMMAND")

    def command(name: str, help: str, func) -> argparse.ArgumentParser:
        p = msub.add_parser(name, help=help, description=help)
        p.add_argument("--root", default=None,
                       help="memory directory (default: WORKSPACE/.harness/memory)")
        p.add_argument("--workspace", default=".", help="workspace folder (default: .)")
        p.add_argument("--json", action="store_true", help="print JSON only")
        p.set_defaults(func=func)
        return p

    add = command("add", "add an event: KIND and its fields as key=value", cmd_add)
    add.add_argument("kind", choices=["issue", "attempt", "fix", "decision", "fact", "note",
                                      "fragile", "supersede", "forget"])
    add.add_argument("fields", nargs="*", metavar="KEY=VALUE",
                     help="fields; lists (files, provenance, entities) are comma-separated, "
                          "action is JSON")
    log = command("log", "show the events of the log", cmd_log)
    log.add_argument("--kind", action="append", help="only these kinds")
    log.add_argument("-n", "--limit", type=int, default=None, help="only the last N events")
    search = command("search", "hybrid recall over live memory", cmd_search)
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--kind", action="append", help="only these kinds")
    search.add_argument("--budget", type=int, default=None, help="token budget")
    summary = command("summary", "the summary an agent sees in its context", cmd_summary)
    summary.add_argument("--budget", type=int, default=800, help="token budget")
    check = command("check", "ask the pre-action gate about a tool call", cmd_check)
    check.add_argument("tool", help="tool name, e.g. edit_file or run_shell")
    check.add_argument("args", help="the tool's arguments as a JSON object")
    command("doctor", "hygiene report: duplicates, stale, contradictions, integrity", cmd_doctor)
    command("rebuild", "re-index the whole log and rewrite the views", cmd_rebuild)
    mem.set_defaults(func=lambda args: _help(mem))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _open(args: argparse.Namespace):
    from harness._console import UsageError
    from harness.memory.project import ProjectMemory

    workspace = Path(args.workspace)
    if not workspace.is_dir():
        raise UsageError(f"--workspace {workspace}: not a directory")
    root = Path(args.root) if args.root else workspace / ".harness" / "memory"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        memory = ProjectMemory(root, workspace=workspace.resolve(), record=False)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return memory


def _print(args: argparse.Namespace, data, text: str) -> None:
    print(json.dumps(data, sort_keys=True, ensure_ascii=False) if args.json else text)


def _fields(kind: str, pairs: list[str]) -> dict:
    from harness._console import UsageError

    out: dict = {"kind": kind}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"field {pair!r}: expected KEY=VALUE")
        if key in ("files", "provenance", "entities", "related"):
            out[key] = [v.strip() for v in value.split(",") if v.strip()]
        elif key == "action":
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise UsageError(f"field 'action': not valid JSON ({exc.msg})") from exc
        else:
            out[key] = value
    return out


def cmd_add(args: argparse.Namespace) -> int:
    from harness._console import UsageError
    from harness.memory.events import parse_memory_event

    try:
        event = parse_memory_event(_fields(args.kind, args.fields))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"][1:]) or args.kind
        raise UsageError(f"{args.kind}: field '{field}': {err['msg']}") from exc
    memory = _open(args)
    try:
        stored = memory.add(event)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    merged = stored != event.id
    _print(args, {"id": stored, "merged": merged},
           f"{stored}" + (" (merged into an existing item)" if merged else ""))
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    memory = _open(args)
    events = [e for e in memory.events() if not args.kind or e.kind in args.kind]
    if args.limit is not None:
        events = events[-args.limit:]
    retired = memory.projection.retired
    if args.json:
        from harness.events import event_json

        for e in events:
            print(event_json(e))
        return 0
    for e in events:
        mark = " (retired)" if e.id in retired else ""
        print(f"{e.id}  {e.kind:9} {e.search_text()[:110]}{mark}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    memory = _open(args)
    hits = memory.recall(args.query, k=args.k, kinds=args.kind, budget_tokens=args.budget)
    _print(args, [h.model_dump() for h in hits],
           "\n".join(f"{h.score:.4f}  {h.id}  [{h.kind}] {h.text[:120]}" for h in hits)
           or "no matches")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    memory = _open(args)
    text = memory.summary(args.budget)
    _print(args, {"summary": text}, text or "(memory is empty)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from harness._console import UsageError

    try:
        call_args = json.loads(args.args)
    except json.JSONDecodeError as exc:
        raise UsageError(f"args: not valid JSON ({exc.msg})") from exc
    if not isinstance(call_args, dict):
        raise UsageError("args: expected a JSON object")
    memory = _open(args)
    found = memory.check({"tool": args.tool, "args": call_args})
    _print(args, [w.model_dump() for w in found],
           "\n".join(f"{w.severity}: {w.message} (cites {', '.join(w.cites)})" for w in found)
           or "no warnings")
    return 1 if found else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    memory = _open(args)
    report = memory.hygiene()
    data = report.model_dump(mode="json")
    data["healthy"] = report.healthy
    lines = [f"{k}: {v}" for k, v in data.items()]
    _print(args, data, "\n".join(lines))
    return 0 if report.healthy else 1


def cmd_rebuild(args: argparse.Namespace) -> int:
    memory = _open(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = memory.rebuild()
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    data = {name: str(p) for name, p in paths.items()}
    data["events"] = memory.index.count()
    _print(args, data, "\n".join(f"{k}: {v}" for k, v in data.items()))
    return 0
