"""Resource limits applied to a command's process tree before it starts.

Memory is bounded per process with RLIMIT_DATA (writable memory; address-space
reservations such as a JIT's do not count, so runtimes that reserve large ranges still
start). The process count is bounded by a cgroup's `pids.max` where this process may make
one (root, or a delegated cgroup v2 tree): RLIMIT_NPROC counts every process of the user,
and root ignores it. Which limits were enforced is part of the recorded settings.
"""

from __future__ import annotations

import os
import resource
import signal
import time
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path

from harness.sandbox.base import Limits

CGROUP_ROOT = Path("/sys/fs/cgroup")


@cache
def _pids_parent() -> Path | None:
    """A cgroup directory under which this process can make pid-limited children."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):  # cgroup v1
            candidate = CGROUP_ROOT / "pids" / path.lstrip("/")
        elif controllers == "" and (CGROUP_ROOT / "cgroup.controllers").exists():  # v2
            candidate = CGROUP_ROOT / path.lstrip("/")
            if "pids" not in _read(candidate / "cgroup.subtree_control").split():
                continue
        else:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class PidsCgroup:
    """A throwaway cgroup whose `pids.max` bounds one command's processes."""

    def __init__(self, max_processes: int):
        parent = _pids_parent()
        if parent is None:
            raise OSError("no writable pids cgroup")
        self.path = parent / f"harness-{uuid.uuid4().hex[:12]}"
        self.path.mkdir()
        try:
            (self.path / "pids.max").write_text(str(max_processes))
        except OSError:
            self.remove()
            raise
        self.procs = str(self.path / "cgroup.procs")

    def remove(self) -> None:
        """Kill whatever is still in the cgroup (a daemon that left the process group
        stays in it), then remove it."""
        for _ in range(50):
            try:
                pids = [int(p) for p in _read(self.path / "cgroup.procs").split()]
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                self.path.rmdir()
                return
            except ProcessLookupError:
                continue
            except OSError:
                time.sleep(0.01)


def pids_cgroup(limits: Limits) -> PidsCgroup | None:
    """A pid-limiting cgroup for one command, or None where none can be made."""
    if limits.max_processes is None:
        return None
    try:
        return PidsCgroup(limits.max_processes)
    except OSError:
        return None


def enforced(limits: Limits) -> dict[str, str]:
    """How each limit is enforced on this machine, for the recorded settings."""
    out = {"timeout_s": f"{limits.timeout_s:g}s, process group killed"}
    if limits.memory_mb is not None:
        out["memory_mb"] = f"{limits.memory_mb} MB per process (RLIMIT_DATA)"
    if limits.max_processes is not None:
        if _pids_parent() is not None:
            out["max_processes"] = f"{limits.max_processes} (cgroup pids.max)"
        elif os.geteuid() != 0:
            out["max_processes"] = f"{limits.max_processes} (RLIMIT_NPROC, all of this user's)"
        else:
            out["max_processes"] = "not enforced: root ignores RLIMIT_NPROC and no pids cgroup"
    return out


def preexec(limits: Limits, cgroup: PidsCgroup | None) -> Callable[[], None]:
    """The function the child runs between fork and exec: join the cgroup, set rlimits."""
    data = None if limits.memory_mb is None else limits.memory_mb * 1024 * 1024
    nproc = limits.max_processes if cgroup is None else None
    procs = cgroup.procs if cgroup is not None else None

    def apply() -> None:
        if procs is not None:
            with open(procs, "w") as fh:
                fh.write("0")
        if data is not None:
            resource.setrlimit(resource.RLIMIT_DATA, (data, data))
        if nproc is not None and os.geteuid() != 0:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply
