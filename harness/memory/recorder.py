"""Memory that fills itself: attempts and outcomes read off a run's trajectory events.

- A command run after file edits (or writes) whose failure follows them is the check,
  whatever it looks like (`pytest`, `python -c 'assert ...'`, `./gradlew test`,
  `./bin/verify`): the edits are the failed attempts, never the check, and its failure
  opens an issue if none is open. The run remembers the command as a check.
- Edits followed by a passing check (one known by its form, or one that already served
  as a check in the run) are a succeeded attempt, and the open issue gets a fix citing
  it (the passing run closes it). Any other passing command says nothing of the edits.
- Re-running a check is not an approach, so a failing check alone records no attempt.
- A failing shell command with no edit before it that is not a check (an install, a
  migration) is itself a failed attempt.
- Undoing an edit (old and new swapped) is not an approach: it cancels a pending edit, and
  undoing one that already failed records nothing.
Every recorded event cites the trajectory events it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from harness.events import Event, TaskStarted, ToolFinished, ToolRequested
from harness.memory.approach import FILE_WRITERS, SHELL_TOOLS, command_forms, undoes
from harness.memory.events import (
    ID_PREFIX,
    Attempt,
    Fix,
    Issue,
    MemoryEvent,
    RecordedAction,
    new_id,
)
from harness.messages import ToolCall

CHECK_COMMAND = re.compile(
    r"(?:^|[\s;&|(/])(?:pytest|py\.test|unittest|nose2|tox|nox|jest|vitest|mocha|rspec|phpunit"
    r"|ctest|go\s+test|cargo\s+test|(?:npm|yarn|pnpm)\s+(?:run\s+)?test|make\s+(?:test|check)"
    r"|gradle\w*\s+test|mvn\w*\s+test|dotnet\s+test|bun\s+test|deno\s+test|node\s+--test"
    r"|swift\s+test|mix\s+test|sbt\s+test|lein\s+test|(?:cabal|stack)\s+test"
    r"|zig\s+build\s+test)\b")
_EXCEPTION = re.compile(r"\b\w*(?:Error|Exception|Failure)\b:")
_SIGNAL = re.compile(r"(Error|Exception|FAIL|Traceback|assert|error:|expected|panic)", re.I)


def is_check(command: str) -> bool:
    """Whether a shell command runs tests by its form alone (a check, not an approach).
    The recorder also takes any command whose failure follows an edit as a check."""
    return bool(CHECK_COMMAND.search(command))


def error_signature(text: str) -> str:
    """The most telling line of a failure's output: the last one naming an exception,
    else the last one with an error word, else the last line."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not re.fullmatch(r"exit code \d+", ln)]
    named = [ln for ln in lines if _EXCEPTION.search(ln)]
    telling = [ln for ln in lines if _SIGNAL.search(ln)]
    pick = (named or telling or lines or [""])[-1]
    return pick[:200]


def describe(action: RecordedAction) -> str:
    """A short approach label for an action."""
    args = action.args
    if action.tool == "edit_file":
        old, new = " ".join(str(args.get("old", "")).split()), " ".join(str(args.get("new", "")).split())
        return f"edit {args.get('path', '')}: replace `{old[:80]}` with `{new[:80]}`"
    if action.tool == "write_file":
        return f"write {args.get('path', '')}"
    if action.tool in SHELL_TOOLS:
        return f"run `{args.get('command', '')}`"
    return f"{action.tool} {args}"


OpenIssue = Callable[[str], str | None]
"""Looks up a live open issue by title and returns its id, so that later sessions add
their attempts to the issue an earlier one opened."""


class AttemptRecorder:
    """Reads trajectory events and returns the memory events they imply."""

    def __init__(self, open_issue: OpenIssue | None = None,
                 check: Callable[[str], bool] = is_check):
        """`check` tells a check by its command line (add what memory knows served as one
        in earlier runs: `Issue.check`)."""
        self.open_issue = open_issue or (lambda title: None)
        self.check = check
        self.calls: dict[str, tuple[ToolCall, str]] = {}
        self.pending: list[tuple[RecordedAction, list[str]]] = []
        self.failed: list[RecordedAction] = []
        self.issue: str | None = None
        self.run_id = ""
        self.checks: list[set[tuple]] = []
        """The forms of the commands that served as checks in this run."""

    def observe(self, event: Event) -> list[MemoryEvent]:
        if isinstance(event, TaskStarted):
            self.calls.clear()
            self.pending.clear()
            self.failed.clear()
            self.checks.clear()
            self.issue, self.run_id = None, event.run_id
        elif isinstance(event, ToolRequested):
            self.calls[event.call.id] = (event.call, event.id)
        elif isinstance(event, ToolFinished) and not event.refused:
            requested = self.calls.pop(event.call_id, None)
            if requested is not None:
                call, requested_id = requested
                return self._finished(call, event, [requested_id, event.id])
        return []

    def _finished(self, call: ToolCall, done: ToolFinished, provenance: list[str]) -> list[MemoryEvent]:
        action = RecordedAction(tool=call.name, args=call.arguments)
        if call.name in FILE_WRITERS:
            if done.ok:
                self._changed(action, provenance)
            return []
        if call.name not in SHELL_TOOLS:
            return []
        command = str(call.arguments.get("command", ""))
        signature = error_signature(done.error or done.output)
        if not done.ok and self.pending:  # the command checks the edits before it
            self._served_as_check(command)
            files = [str(a.args.get("path", "")) for a, _ in self.pending]
            out: list[MemoryEvent] = self._ensure_issue(command, signature, files, provenance)
            out += [self._attempt(a, "failed", signature, prov + provenance)
                    for a, prov in self.pending]
            self.failed += [a for a, _ in self.pending]
            self.pending.clear()
            return out
        if not self._is_check(command):
            if done.ok:
                return []
            out = self._ensure_issue(command, signature, [], provenance)
            out.append(self._attempt(action, "failed", signature, provenance))
            return out
        if not done.ok:
            return self._ensure_issue(command, signature, [], provenance)
        out = [self._attempt(a, "succeeded", "", prov + provenance) for a, prov in self.pending]
        self.pending.clear()
        if out and self.issue:
            out.append(Fix(id=new_id(ID_PREFIX["fix"]), issue=self.issue, attempt=out[-1].id,
                           summary=f"`{command}` passes", run_id=self.run_id,
                           author="recorder", provenance=provenance))
            self.issue = None
        return out

    def _is_check(self, command: str) -> bool:
        """Known as a check by its form, or by having served as one in this run."""
        if self.check(command):
            return True
        forms = command_forms(command)
        return any(forms & seen for seen in self.checks)

    def _served_as_check(self, command: str) -> None:
        self.checks.append(command_forms(command))

    def _changed(self, action: RecordedAction, provenance: list[str]) -> None:
        undone = next((n for n, (a, _) in enumerate(self.pending) if undoes(a, action)), None)
        if undone is not None:
            del self.pending[undone]
        elif not any(undoes(a, action) for a in self.failed):
            self.pending.append((action, provenance))

    def _ensure_issue(self, command: str, signature: str, files: list[str],
                      provenance: list[str]) -> list[MemoryEvent]:
        if self.issue:
            return []
        title = f"`{command}` fails: {signature}" if signature else f"`{command}` fails"
        existing = self.open_issue(title)
        if existing:
            self.issue = existing
            return []
        issue = Issue(id=new_id(ID_PREFIX["issue"]), title=title, files=[f for f in files if f],
                      check=command if self._is_check(command) else "", run_id=self.run_id,
                      author="recorder", provenance=provenance)
        self.issue = issue.id
        return [issue]

    def _attempt(self, action: RecordedAction, outcome: str, error: str,
                 provenance: list[str]) -> Attempt:
        path = action.args.get("path")
        return Attempt(id=new_id(ID_PREFIX["attempt"]), issue=self.issue, approach=describe(action),
                       action=action, outcome=outcome, error=error,  # type: ignore[arg-type]
                       files=[path] if isinstance(path, str) else [], run_id=self.run_id,
                       author="recorder", provenance=provenance)
