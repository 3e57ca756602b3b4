"""Trajectory quality: did the run succeed, how long did it take, and how did it behave.

Every function is pure: it reads events and returns a number (None when undefined).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TypeVar

from harness.events import ModelCalled, Trajectory
from harness.metrics.calls import CallRecord, tool_calls


def success(trajectory: Trajectory) -> bool:
    """True when the run's last `TaskFinished` has status "success": a verifier or grader
    checked its final answer and it passed. An unchecked answer (`answered`) is not success."""
    end = trajectory.finished
    return end is not None and end.status == "success"


def outcome(trajectory: Trajectory) -> str:
    """How the run ended (`TaskFinished.status`: success, answered, failed, stopped, error),
    or "unfinished" when it never recorded an end."""
    end = trajectory.finished
    return end.status if end is not None else "unfinished"


def steps(trajectory: Trajectory) -> int:
    """Model turns: `TaskFinished.steps`, or the number of agent `ModelCalled` events when the
    run never finished."""
    end = trajectory.finished
    if end is not None:
        return end.steps
    return sum(1 for e in trajectory.of_type(ModelCalled) if e.purpose == "agent")


def tool_error_rate(trajectory: Trajectory) -> float:
    """Failed tool calls / executed tool calls. Refused calls are governance, not tool
    errors, and are left out of both counts; 0.0 when no call was executed."""
    executed = [c for c in tool_calls(trajectory) if c.ok is not None and not c.refused]
    return sum(c.failed for c in executed) / len(executed) if executed else 0.0


def repeated_action_rate(trajectory: Trajectory,
                         read_only: Collection[str] | None = None) -> float:
    """Repeated calls / all tool calls. A call is repeated when an earlier call had the same
    tool and arguments and no *change* happened in between, a change being a successful call
    of a different action with a tool that is not read-only (as its tool declares, or named
    in `read_only`). 0.0 when there were no calls."""
    calls = tool_calls(trajectory)
    seen: set[str] = set()  # actions seen since the last change
    repeats = 0
    for c in calls:
        sig = c.signature
        if sig in seen:
            repeats += 1
        elif c.ok and not _is(c, read_only, "read_only"):
            seen.clear()
        seen.add(sig)
    return repeats / len(calls) if calls else 0.0


def failed_fixes(trajectories: Trajectory | Sequence[Trajectory],
                 fix_tools: Collection[str] | None = None,
                 check_tools: Collection[str] | None = None) -> list[CallRecord]:
    """Fix attempts that failed, in order over the given runs (sessions, oldest first).

    A fix attempt is a call of a tool that writes the files its arguments name (as the tool
    declares, or named in `fix_tools`) that the governor did not refuse. It failed when the
    call itself failed, or when the first check after it (a call of a tool that runs a
    command, or named in `check_tools`, before any other fix attempt, in the same run)
    failed. A fix never checked
    is not counted as failed."""
    runs = [trajectories] if isinstance(trajectories, Trajectory) else list(trajectories)
    failed: list[CallRecord] = []
    for run in runs:
        pending: CallRecord | None = None
        for c in tool_calls(run):
            if c.refused:
                continue
            if _is(c, fix_tools, "fix"):
                if c.failed:
                    failed.append(c)
                    pending = None
                else:
                    pending = c
            elif _is(c, check_tools, "check") and pending is not None and c.ok is not None:
                if c.failed:
                    failed.append(pending)
                pending = None
    return failed


def repeated_failed_fix_count(trajectories: Trajectory | Sequence[Trajectory],
                              fix_tools: Collection[str] | None = None,
                              check_tools: Collection[str] | None = None) -> int:
    """Fix attempts (see `failed_fixes`; executed, not refused) whose tool and
    arguments equal those of a fix that had already failed (see `failed_fixes`) earlier in
    the same run or in an earlier run of the sequence: the repeats a harness should prevent
    (a repeat the governor refused was prevented). Pass a task's sessions oldest first."""
    runs = [trajectories] if isinstance(trajectories, Trajectory) else list(trajectories)
    failed_at: dict[str, tuple[int, int]] = {}  # signature -> (run, call index) of first failure
    for r, run in enumerate(runs):
        ids = [c.call_id for c in tool_calls(run)]
        for f in failed_fixes(run, fix_tools, check_tools):
            failed_at.setdefault(f.signature, (r, ids.index(f.call_id)))
    count = 0
    for r, run in enumerate(runs):
        for i, c in enumerate(tool_calls(run)):
            first = failed_at.get(c.signature)
            if _is(c, fix_tools, "fix") and not c.refused and first is not None \
                    and (r, i) > first:
                count += 1
    return count


def recovery_rate(trajectory: Trajectory) -> float | None:
    """Recovered errors / failed tool calls. An error is recovered when a later call of the
    same tool succeeds, or the run ends in success. Refusals count as errors here: an agent
    should recover from them too. None when no call failed."""
    calls = tool_calls(trajectory)
    errors = [i for i, c in enumerate(calls) if c.failed]
    if not errors:
        return None
    won = success(trajectory)
    recovered = sum(won or any(later.ok and later.tool == calls[i].tool
                               for later in calls[i + 1:]) for i in errors)
    return recovered / len(errors)


def stuck_patterns(trajectory: Trajectory, repeats: int = 3) -> list[str]:
    """The stuck patterns present, each at most once, in this order:

    - "action_observation": the same action (tool and arguments) with the same successful
      output `repeats` times in consecutive tool calls;
    - "action_error": the same action failing with the same error `repeats` times in
      consecutive tool calls;
    - "monologue": `repeats` consecutive model replies with identical text and no tool call.
    """
    found: list[str] = []
    outcomes = [(c.signature, c.ok, c.output if c.ok else c.error)
                for c in tool_calls(trajectory) if c.ok is not None]
    runs = _runs(outcomes)
    if any(n >= repeats and key[1] for key, n in runs):
        found.append("action_observation")
    if any(n >= repeats and not key[1] for key, n in runs):
        found.append("action_error")
    replies = [(e.response.text or "").strip() if not e.response.tool_calls else None
               for e in trajectory.of_type(ModelCalled) if e.purpose == "agent"]
    if any(key is not None and n >= repeats for key, n in _runs(replies)):
        found.append("monologue")
    return found


def loop_detected(trajectory: Trajectory, repeats: int = 3) -> bool:
    """True when any of `stuck_patterns` is present."""
    return bool(stuck_patterns(trajectory, repeats))


_T = TypeVar("_T")


def _runs(items: Iterable[_T]) -> list[tuple[_T, int]]:
    """Run-length encoding: [(item, consecutive count), ...]."""
    out: list[tuple[_T, int]] = []
    for item in items:
        if out and out[-1][0] == item:
            out[-1] = (item, out[-1][1] + 1)
        else:
            out.append((item, 1))
    return out


def _is(call: CallRecord, names: Collection[str] | None, role: str) -> bool:
    """Whether the call's tool plays `role` ("read_only", "fix", "check"): by the names
    given, else as its tool declares (by its name, in a log that records no effects)."""
    return call.tool in names if names is not None else bool(getattr(call, role))
