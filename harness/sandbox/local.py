"""`NoSandbox`: tools run unconfined, as this user. Explicit, and recorded as such."""

from __future__ import annotations

import os
from pathlib import Path

from harness.sandbox.base import CommandResult, Limits, SandboxInfo, SandboxSession
from harness.sandbox.limits import enforced
from harness.sandbox.process import run_process


class NoSandbox:
    """No operating-system confinement: only the policy stands between the agent and the
    machine. Commands still run in their own process group, killed on timeout or stop.
    The file tools still resolve every path beneath the workspace."""

    name = "none"

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()

    def info(self) -> SandboxInfo:
        return SandboxInfo(backend=self.name, confined=False, network=True,
                           settings={"limits": enforced(self.limits)})

    def open(self, workspace: Path) -> SandboxSession:
        return LocalSession(Path(workspace), self.info(), self.limits)


class LocalSession(SandboxSession):
    def __init__(self, workspace: Path, info: SandboxInfo, limits: Limits):
        self.workspace, self.info, self.limits = workspace, info, limits

    def run(self, command: str, *, timeout_s: float | None = None,
            env: dict[str, str] | None = None) -> CommandResult:
        return run_process(["/bin/sh", "-c", command], cwd=self.workspace,
                           env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
                           limits=self.limits, timeout_s=timeout_s)
