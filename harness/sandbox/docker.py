"""`Docker`: tools in a container of the user's own Docker or Podman.

One container per run (`docker run -d ... sleep infinity`), each command a `docker exec`
in it; the container is removed when the run ends, and replaced when a command times out
(killing the client does not stop the process inside). Only the workspace is mounted,
read-write, at its own path; the root filesystem is read-only, /tmp a tmpfs, no network
unless allowed, all capabilities dropped, no new privileges, memory and process limits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

from harness.sandbox.base import (
    CommandResult,
    Limits,
    SandboxInfo,
    SandboxSession,
    SandboxUnavailable,
)
from harness.sandbox.environment import sandbox_env
from harness.sandbox.process import run_process

DEFAULT_IMAGE = "python:3.11-slim"


class Docker:
    """Run tools in a container. `executable` may be "podman"; `image` any image with
    /bin/sh. The image must already be present (nothing is pulled at run time)."""

    name = "docker"

    def __init__(self, image: str = DEFAULT_IMAGE, *, network: bool = False,
                 limits: Limits | None = None, executable: str = "docker",
                 env: dict[str, str] | None = None, user: str | None = None):
        self.image = image
        self.network = network
        self.limits = limits or Limits()
        self.executable = executable
        self.env = dict(env or {})
        self.user = user

    def info(self) -> SandboxInfo:
        return SandboxInfo(backend=self.name, confined=True, network=self.network,
                           private_tmp=True, settings={
            "engine": self.executable, "image": self.image, "mounts": ["<workspace> rw"],
            "root_fs": "read-only", "tmp": "tmpfs", "capabilities": "none",
            "limits": {"timeout_s": f"{self.limits.timeout_s:g}s, container replaced",
                       "memory_mb": self.limits.memory_mb,
                       "max_processes": self.limits.max_processes}})

    def open(self, workspace: Path) -> SandboxSession:
        engine = shutil.which(self.executable)
        if engine is None:
            raise SandboxUnavailable(f"docker: '{self.executable}' is not on PATH")
        try:
            ping = subprocess.run([engine, "info", "--format", "{{.ServerVersion}}"],
                                  capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"docker: no answer from the engine ({exc})") from exc
        if ping.returncode != 0:
            raise SandboxUnavailable(f"docker: the engine is not running "
                                     f"({(ping.stderr or ping.stdout).strip()[:200]})")
        return DockerSession(self, engine, Path(workspace).resolve())

    def run_argv(self, engine: str, workspace: Path, name: str) -> list[str]:
        """The `docker run` command line that starts a run's container."""
        ws = str(workspace)
        uid = self.user or f"{os.getuid()}:{os.getgid()}"
        args = [engine, "run", "-d", "--rm", "--name", name, "--init",
                "--network", "bridge" if self.network else "none",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--read-only", "--tmpfs", "/tmp:rw,exec", "--user", uid,
                "-v", f"{ws}:{ws}:rw", "-w", ws, "-e", "HOME=/tmp"]
        if self.limits.memory_mb is not None:
            args += ["--memory", f"{self.limits.memory_mb}m"]
        if self.limits.max_processes is not None:
            args += ["--pids-limit", str(self.limits.max_processes)]
        return [*args, self.image, "sleep", "infinity"]

    def exec_argv(self, engine: str, name: str, command: str,
                  env: dict[str, str]) -> list[str]:
        args = [engine, "exec", "-i"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        return [*args, name, "/bin/sh", "-c", command]


class DockerSession(SandboxSession):
    def __init__(self, sandbox: Docker, engine: str, workspace: Path):
        self.sandbox, self.engine, self.workspace = sandbox, engine, workspace
        self.info = sandbox.info()
        self.container: str | None = None

    def _start(self) -> str:
        name = f"harness-{uuid.uuid4().hex[:12]}"
        proc = subprocess.run(self.sandbox.run_argv(self.engine, self.workspace, name),
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise SandboxUnavailable(f"docker: cannot start image {self.sandbox.image}: "
                                     f"{proc.stderr.strip()[:300]}")
        self.container = name
        return name

    def run(self, command: str, *, timeout_s: float | None = None,
            env: dict[str, str] | None = None) -> CommandResult:
        name = self.container or self._start()
        variables = sandbox_env({}, set_env={**self.sandbox.env, **(env or {})})
        variables.pop("HOME", None)
        result = run_process(self.sandbox.exec_argv(self.engine, name, command, variables),
                             cwd=self.workspace, env=dict(os.environ),
                             limits=self.sandbox.limits.model_copy(update={"memory_mb": None,
                                                                          "max_processes": None}),
                             timeout_s=timeout_s)
        if result.timed_out:
            self.close()  # the command may still run inside: the container goes with it
        return result

    def close(self) -> None:
        super().close()
        if self.container:
            subprocess.run([self.engine, "rm", "-f", self.container], capture_output=True,
                           timeout=60)
            self.container = None
