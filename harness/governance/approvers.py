"""Approvers answer the policy's `ask`: a person at a terminal, a function, or a fixed answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from harness.governance.base import Decision
from harness.messages import ToolCall


@runtime_checkable
class Approver(Protocol):
    """Says yes or no to a call the policy asked about."""

    name: str

    def approve(self, call: ToolCall, decision: Decision) -> bool: ...


class AutoApprover:
    """A fixed answer, for tests, benchmarks and unattended runs (default: no)."""

    def __init__(self, answer: bool = False):
        self.answer = answer
        self.name = f"auto-{'yes' if answer else 'no'}"

    def approve(self, call: ToolCall, decision: Decision) -> bool:
        return self.answer


class CallbackApprover:
    """Asks a function `(call, decision) -> bool`; an exception in it counts as no."""

    def __init__(self, fn: Callable[[ToolCall, Decision], bool], name: str = "callback"):
        self.fn = fn
        self.name = name

    def approve(self, call: ToolCall, decision: Decision) -> bool:
        try:
            return bool(self.fn(call, decision))
        except Exception:
            return False


class ConsoleApprover:
    """Asks the person at the terminal with a rich prompt; no terminal means no."""

    name = "console"

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True)

    def approve(self, call: ToolCall, decision: Decision) -> bool:
        import sys

        from rich.panel import Panel
        from rich.prompt import Confirm

        if not (sys.stdin and sys.stdin.isatty()):  # piped input is not a person's answer
            self.console.print(f"[red]refused[/red] {call.name} ({decision.rule}): no terminal "
                               f"to ask")
            return False

        args = json.dumps(call.arguments, indent=2, ensure_ascii=False)
        self.console.print(Panel(f"[bold]{call.name}[/bold]\n{args}\n\n[yellow]{decision.rule}"
                                 f"[/yellow]: {decision.reason}", title="approval needed"))
        try:
            return Confirm.ask("Allow this call?", default=False, console=self.console)
        except (EOFError, KeyboardInterrupt):
            return False
