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

    def __init__(self, limits: Limits | None = None, *, env: dict[str, str] | None = None):
        self.limits = limits or Limits()
        self.env = dict(env or {})

    def info(self) -> SandboxInfo:
        return SandboxInfo(backend=self.name, confined=False, network=True,
                           settings={"limits": enforced(self.limits)})

    def open(self, workspace: Path) -> SandboxSession:
        return LocalSession(Path(workspace), self.info(), self.limits, self.env)


class LocalSession(SandboxSession):
    def __init__(self, workspace: Path, info: SandboxInfo, limits: Limits,
                 env: dict[str, str]):
        self.workspace, self.info, self.limits, self.env = workspace, info, limits, env

    def run(self, command: str, *, timeout_s: float | None = None,
            env: dict[str, str] | None = None) -> CommandResult:
        return run_process(["/bin/sh", "-c", command], cwd=self.workspace,
                           env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **self.env,
                                **(env or {})},
                           limits=self.limits, timeout_s=timeout_s)
