"""The `Sandbox` protocol: where the tools that touch the machine run.

A `Sandbox` is configuration; `open(workspace)` gives a run its own `SandboxSession`,
which runs shell commands (`run`) and hands out confined file access (`files`). The
policy explains and asks; the sandbox is the guarantee, and what it guarantees is
recorded in `TaskStarted.sandbox` as a `SandboxInfo`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from harness.sandbox.files import WorkspaceFiles


class SandboxUnavailable(RuntimeError):
    """A sandbox backend cannot run here (the message names what is missing)."""


class Limits(BaseModel):
    """Resource limits on each sandboxed command."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = 120.0
    """Wall-clock seconds a command may run before it and everything it started is killed."""
    memory_mb: int | None = 4096
    """Writable memory per process (RLIMIT_DATA; a container's memory limit under Docker)."""
    max_processes: int | None = 256
    """Processes at once: a cgroup's pids.max where one can be made, else RLIMIT_NPROC."""
    max_output_chars: int = 20_000
    """Output kept per command (head and tail; the middle is cut with a note)."""


class SandboxInfo(BaseModel):
    """What confined a run's tools, as recorded in the trajectory."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    """'bubblewrap', 'docker', 'none', or a user backend's name."""
    confined: bool
    """Whether the operating system confines the tools (False only for `NoSandbox`)."""
    network: bool = False
    """Whether sandboxed commands may reach the network."""
    private_tmp: bool = False
    """Whether each command gets a /tmp of its own (then the policy treats it as scratch)."""
    settings: dict[str, Any] = Field(default_factory=dict)
    """The backend's settings: mounts, limits, environment names passed through, image."""

    def describe(self) -> str:
        """One line for people: the backend and what it allows."""
        if not self.confined:
            return "no sandbox: tools run unconfined, as this user (policy only)"
        net = "network allowed" if self.network else "no network"
        return f"{self.backend} sandbox: workspace writable, {net}"


class CommandResult(BaseModel):
    """How one sandboxed command ended."""

    exit_code: int | None
    """None when it was killed by the timeout or an interrupt."""
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    timeout_s: float | None = None
    """The limit the command ran under."""
    duration_s: float = 0.0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class SandboxSession(ABC):
    """One run's sandbox: run commands, reach files, and leave nothing behind on `close`."""

    info: SandboxInfo
    workspace: Path

    @abstractmethod
    def run(self, command: str, *, timeout_s: float | None = None,
            env: dict[str, str] | None = None) -> CommandResult:
        """Run `command` with /bin/sh in the workspace. `env` adds variables for this call."""

    @property
    def files(self) -> WorkspaceFiles:
        """Confined file access beneath the workspace (`WorkspaceFiles`)."""
        files = getattr(self, "_files", None)
        if files is None:
            from harness.sandbox.files import WorkspaceFiles

            files = self._files = WorkspaceFiles(
                self.workspace, allow_multilinked=self.info.confined,
                read_only=self.read_only_paths())
        return files

    def read_only_paths(self) -> tuple[str, ...]:
        """Paths under the workspace that the file tools may not change (relative). By
        default `.git`: no agent needs to write there with a file tool, and a hook or a
        config key planted there runs outside any sandbox the next time git runs."""
        return (".git",)

    def close(self) -> None:
        """Stop everything this session started and release what it holds."""
        files = getattr(self, "_files", None)
        if files is not None:
            files.close()

    def __enter__(self) -> SandboxSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@runtime_checkable
class Sandbox(Protocol):
    """A way to confine tools: `open(workspace)` makes one run's session."""

    name: str

    def info(self) -> SandboxInfo: ...

    def open(self, workspace: Path) -> SandboxSession: ...
