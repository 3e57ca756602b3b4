"""`harness audit RUN.jsonl`: what was allowed, denied and asked in a run, and why."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="summarise a run's governance decisions", description=(
        "Summarise what governance allowed, denied and asked about in a recorded run, by "
        "rule id and reason, with isolated-worker returns and verifications."))
    p.add_argument("file", metavar="RUN.jsonl")
    p.add_argument("--json", action="store_true", help="print the audit as one JSON object")
    p.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    from harness.cli import _read
    from harness.governance.audit import audit

    result = audit(_read(args.file))
    if args.json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]run {result.run_id}[/bold]: {result.calls} governed call(s) · "
                  f"{result.allowed} allowed · {result.denied} denied · {result.asked} asked "
                  f"({result.approved} approved)")
    box = result.sandbox
    if box is None:
        console.print("[yellow]sandbox: not recorded[/yellow]")
    else:
        console.print(("" if box.confined else "[bold red]") + "sandbox: " + box.describe()
                      + ("" if box.confined else "[/bold red]"), highlight=False)
    table = Table(title="decisions")
    for col in ("step", "tool", "decision", "rule", "reason"):
        table.add_column(col)
    colour = {"allow": "green", "deny": "red", "ask": "yellow"}
    for e in result.entries:
        shown = e.decision + ("" if e.approved is None else
                              (" → yes" if e.approved else " → no"))
        table.add_row(str(e.step), e.tool, f"[{colour[e.decision]}]{shown}[/]", e.rule,
                      e.reason)
    console.print(table)
    if result.subagents["returned"]:
        console.print(f"isolated workers: {result.subagents['returned']} returned, "
                      f"{result.subagents['rejected']} rejected")
    if sum(result.verifications.values()):
        console.print(f"verifications: {result.verifications['passed']} passed, "
                      f"{result.verifications['failed']} failed "
                      f"({result.verification_seconds:.2f}s)")
    return 0
