"""Run one command as its own process group, and kill the whole group when it ends badly.

A timeout, a Ctrl-C or a SIGTERM kills every process the command started (its process
group; under bubblewrap also its PID namespace), so nothing outlives the call.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from contextlib import suppress

from harness.sandbox.base import CommandResult, Limits
from harness.sandbox.limits import pids_cgroup, preexec


def truncate(text: str, limit: int) -> str:
    """Keep the head and tail of long output, with a note saying how much was cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 2], text[-limit // 2:]
    return f"{head}\n[... {len(text) - limit} characters truncated ...]\n{tail}"


def run_process(argv: Sequence[str], *, cwd: str | os.PathLike[str] | None,
                env: dict[str, str], limits: Limits,
                timeout_s: float | None = None) -> CommandResult:
    """Run `argv` with no stdin, its output captured, under `limits`."""
    timeout = limits.timeout_s if timeout_s is None else timeout_s
    cgroup = pids_cgroup(limits)
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, preexec_fn=preexec(limits, cgroup))
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out, err = proc.communicate()
            timed_out = True
        except BaseException:  # Ctrl-C, SIGTERM turned into an exception: leave nothing
            kill_group(proc)
            proc.wait()
            raise
        finally:
            kill_group(proc)  # what the command left running in the background
    finally:
        if cgroup is not None:
            cgroup.remove()
    keep = limits.max_output_chars
    return CommandResult(exit_code=None if timed_out else proc.returncode,
                         stdout=truncate(_text(out), keep), stderr=truncate(_text(err), keep),
                         timed_out=timed_out, timeout_s=timeout, duration_s=time.perf_counter() - start)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group `proc` leads (it was started in a new session)."""
    with suppress(ProcessLookupError, PermissionError):  # the group has already ended
        os.killpg(proc.pid, signal.SIGKILL)


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")
