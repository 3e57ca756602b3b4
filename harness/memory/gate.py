"""The pre-action gate: does this action repeat a known failure or break a known rule?

Deterministic and explainable: every warning cites the memory event ids that justify it
and says why. It warns when a file-changing or shell action repeats a failed approach
(up to formatting, renaming, argument order and path spelling), when it changes a
fragile file (or one under a fragile directory; by a file tool or a command such as
`sed -i`, `rm` or a redirect), or when it introduces what a live
decision forbids in a file the decision binds. It stays silent for reads, for a different approach on the same file, for files
with similar names, for undoing a failed edit (restoring what it replaced), and for
approaches that later succeeded or whose failure was superseded.
"""

from __future__ import annotations

import fnmatch

from harness.events import GateWarning
from harness.memory.approach import (
    Declared,
    command_of,
    command_words,
    path_of,
    role,
    same_approach,
    script_command,
    undoes,
)
from harness.memory.events import Attempt, RecordedAction
from harness.memory.paths import binds, normalize_path
from harness.memory.projection import Projection
from harness.memory.rules import added_text, violations
from harness.shell.accesses import changed_paths
from harness.shell.paths import PathResolver
from harness.tools.effects import Effects


def check(memory: Projection, action: RecordedAction, workspace: str | None = None,
          effects: Effects | None = None) -> list[GateWarning]:
    """Warnings for `action` given what `memory` knows; empty when it is fine. `effects`:
    what the action's tool declares it does (None: known by its name only)."""
    declared = {action.tool: effects} if effects is not None else None
    kind = role(action.tool, declared)
    if kind == "other":
        return []
    warnings = repeated_failures(memory, action, workspace, declared)
    if kind == "write":
        path = normalize_path(path_of(action, declared), workspace)
        warnings += fragile_writes(memory, path, workspace)
        warnings += broken_decisions(memory, action, path, workspace)
    else:  # a command that rewrites, moves or deletes a fragile file changes it too
        command = command_of(action, declared)
        for written in dict.fromkeys(shell_changes(command, workspace)):
            path = normalize_path(written, workspace)
            for hit in _glob_hits(memory, path, workspace) if any(c in path for c in "*?[") \
                    else [path]:
                warnings += fragile_writes(memory, hit, workspace)
    return warnings


def target(action: RecordedAction, workspace: str | None = None,
           declared: Declared | None = None) -> str:
    """What an action acts on, coarsely: a file's name or a command's program. Two actions
    can only be one approach when their targets agree, so this narrows comparisons."""
    if role(action.tool, declared) == "shell":
        first = next(iter(command_words(command_of(action, declared))), [])
        words = script_command([w for w in first if "=" not in w])
        return "$" + (words[0].rsplit("/", 1)[-1] if words else "")
    return normalize_path(path_of(action, declared), workspace).rsplit("/", 1)[-1]


def still_failed(memory: Projection, action: RecordedAction, workspace: str | None = None,
                 declared: Declared | None = None) -> list[Attempt]:
    """Live failed attempts on the action's target whose approach did not succeed later."""
    key = target(action, workspace, declared)
    return _unredeemed([a for a in memory.attempts() if a.action is not None
                        and target(a.action, workspace, declared) == key],
                       workspace, declared)


def still_failed_all(memory: Projection, workspace: str | None = None) -> list[Attempt]:
    """Every live failed attempt whose approach did not succeed later, in log order."""
    by_target: dict[str, list[Attempt]] = {}
    for a in memory.attempts():
        if a.action is not None:
            by_target.setdefault(target(a.action, workspace), []).append(a)
    out = [a for attempts in by_target.values() for a in _unredeemed(attempts, workspace)]
    order = {i: n for n, i in enumerate(memory.order)}
    return sorted(out, key=lambda a: order[a.id])


def _unredeemed(attempts: list[Attempt], workspace: str | None,
                declared: Declared | None = None) -> list[Attempt]:
    """The failed approaches among `attempts` (one target, log order): failures that no
    later attempt of the same approach redeemed. Undoing an earlier failed edit is not an
    approach, so a failed undo is no failure of its own."""
    out: list[Attempt] = []
    for i, failed in enumerate(attempts):
        assert failed.action is not None
        if failed.outcome != "failed" or any(
                f.outcome == "failed" and f.action is not None
                and undoes(f.action, failed.action, workspace, declared) for f in attempts[:i]):
            continue
        if not any(a.outcome == "succeeded" and a.action is not None
                   and same_approach(failed.action, a.action, workspace, declared).same
                   for a in attempts[i + 1:]):
            out.append(failed)
    return out


def repeated_failures(memory: Projection, action: RecordedAction, workspace: str | None = None,
                      declared: Declared | None = None) -> list[GateWarning]:
    out = []
    for failed in still_failed(memory, action, workspace, declared):
        assert failed.action is not None
        match = same_approach(failed.action, action, workspace, declared)
        if not match.same:
            continue
        what = f" ({failed.approach})" if failed.approach else ""
        error = failed.error.strip().splitlines()[0][:200] if failed.error.strip() else ""
        because = f"; it failed with: {error}" if error else ""
        cites = [failed.id, *([failed.issue] if failed.issue else [])]
        out.append(GateWarning(
            kind="repeat-failure", severity="warn", cites=cites,
            message=f"repeats failed attempt {failed.id}{what}: {match.why}{because}"))
    return out


def shell_changes(command: str, workspace: str | None = None) -> list[str]:
    """The paths a shell command writes or deletes, as written (`harness.shell`)."""
    return changed_paths(command, PathResolver(workspace or "."))


def _glob_hits(memory: Projection, pattern: str, workspace: str | None) -> list[str]:
    """The fragile paths a shell glob (`gen/*.pb.go`) covers."""
    marks = (normalize_path(m.path, workspace) for m in memory.fragile())
    return [m for m in marks if fnmatch.fnmatchcase(m, pattern)]


def fragile_writes(memory: Projection, path: str, workspace: str | None = None) -> list[GateWarning]:
    """Warnings for changing a file marked fragile, or a file under a directory so marked
    (a mark ending in `/` covers everything under it, as a decision's scope does)."""
    out = []
    for mark in memory.fragile():
        marked = normalize_path(mark.path, workspace)
        if binds(marked, path):
            what = f"{path} (under {marked})" if marked.endswith("/") else path
            out.append(GateWarning(
                kind="fragile", severity="warn", cites=[mark.id],
                message=f"{what} is marked fragile ({mark.id}): {mark.reason}".rstrip(": ")))
    return out


def broken_decisions(memory: Projection, action: RecordedAction, path: str,
                     workspace: str | None = None) -> list[GateWarning]:
    out = []
    old, new = added_text(action.tool, action.args)
    for decision in memory.decisions():
        scopes = [normalize_path(f, workspace) for f in decision.files]
        if not any(binds(scope, path) for scope in scopes) or not decision.rule:
            continue
        found = violations(decision.rule, path, old, new)
        if found:
            out.append(GateWarning(
                kind="decision", severity="warn", cites=[decision.id],
                message=(f"breaks decision {decision.id} ({decision.title}): adds "
                         f"{', '.join(found)}; the rule says: {decision.rule}")))
    return out
