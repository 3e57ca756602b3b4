"""`Bubblewrap`: every command in a fresh bubblewrap jail (Linux).

The mount plan: system paths read-only (secrets under /etc masked), the workspace
read-write at its own path (its `.git/hooks` and `.git/config` read-only: code written
there would run outside the sandbox the next time anyone runs git), the home an empty
tmpfs but for read-only toolchain folders (interpreters, not credentials), a private
/tmp, its own /dev and /proc. Namespaces: user (no nested ones), PID, network (unless
allowed), IPC, UTS, cgroup; all capabilities dropped; a new session (no terminal
injection); `--die-with-parent`. The environment is an allowlist.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from harness.sandbox import git_guard
from harness.sandbox.base import (
    CommandResult,
    Limits,
    SandboxInfo,
    SandboxSession,
    SandboxUnavailable,
)
from harness.sandbox.environment import sandbox_env
from harness.sandbox.limits import enforced
from harness.sandbox.process import run_process

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
                "/opt", "/nix")
"""Bound read-only where they exist (a symlink stays a symlink)."""
MASKED_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
                "/etc/sudoers", "/etc/security/opasswd")
MASKED_DIRS = ("/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d", "/etc/docker")
TOOLCHAIN_HOMES = (".pyenv", ".rbenv", ".nodenv", ".nvm", ".volta", ".asdf", ".rustup",
                   ".cargo/bin", ".local/bin", ".local/share/uv/python", ".local/share/mise",
                   ".elan", ".ghcup/bin", ".sdkman/candidates")
"""Folders under the home that hold interpreters and compilers, not credentials: bound
read-only so that `python`, `node` or `cargo` found on PATH still run."""
PROTECTED = (".git/hooks", ".git/config")
"""Read-only inside a writable workspace."""


class Bubblewrap:
    """Run tools in a bubblewrap jail. See the module docstring for what it allows.

    `read_only` and `writable` add host paths; `env` sets variables and `pass_env` names
    host variables to pass through besides the allowlist (see `sandbox_env`).
    """

    name = "bubblewrap"

    def __init__(self, *, network: bool = False, limits: Limits | None = None,
                 read_only: Iterable[str | os.PathLike[str]] = (),
                 writable: Iterable[str | os.PathLike[str]] = (),
                 env: dict[str, str] | None = None, pass_env: Iterable[str] = (),
                 home: str | os.PathLike[str] | None = None, executable: str = "bwrap"):
        self.network = network
        self.limits = limits or Limits()
        self.read_only = tuple(str(Path(p).resolve()) for p in read_only)
        self.writable = tuple(str(Path(p).resolve()) for p in writable)
        self.env = dict(env or {})
        self.pass_env = tuple(pass_env)
        self.executable = executable
        self.home = str(Path(home or Path.home()).resolve())
        """The home folder hidden behind an empty tmpfs (and `$HOME` inside)."""
        self._info: SandboxInfo | None = None

    def info(self) -> SandboxInfo:
        if self._info is None:
            self._info = self._describe()
        return self._info

    def _describe(self) -> SandboxInfo:
        return SandboxInfo(backend=self.name, confined=True, network=self.network,
                           private_tmp=True, settings={
            "read_only": [*system_paths(), *tool_paths(), *self.read_only],
            "writable": ["<workspace>", *self.writable], "home": f"{self.home}: empty tmpfs",
            "tmp": "private tmpfs", "protected": list(PROTECTED),
            "masked": [p for p in (*MASKED_FILES, *MASKED_DIRS) if os.path.lexists(p)],
            "namespaces": ["user", "pid", "ipc", "uts", "cgroup",
                           *([] if self.network else ["net"])],
            "capabilities": "none", "env": sorted(self._env({}))[:64],
            "limits": enforced(self.limits)})

    def open(self, workspace: Path) -> SandboxSession:
        path, problem = locate(self.executable)
        if path is None:
            raise SandboxUnavailable(f"bubblewrap: {problem}")
        return BubblewrapSession(self, path, Path(workspace).resolve())

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        return sandbox_env(os.environ, pass_env=self.pass_env,
                           set_env={"HOME": self.home, **git_identity(), **self.env, **extra})

    def argv(self, bwrap: str, workspace: Path, command: str) -> list[str]:
        """The bwrap command line that runs `command` in `workspace`."""
        args = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns",
                "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        if self.network:
            args.append("--share-net")
        for path in system_paths():
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            else:
                args += ["--ro-bind", path, path]
        for path in MASKED_FILES:
            if os.path.isfile(path):
                args += ["--ro-bind", "/dev/null", path]
        for path in MASKED_DIRS:
            if os.path.isdir(path):
                args += ["--tmpfs", path, "--remount-ro", path]
        args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp",
                 "--tmpfs", "/run"]
        if self.network:  # /etc/resolv.conf may point into /run (systemd-resolved)
            args += ["--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve"]
        home = self.home
        if home != "/" and not any(home == s or home.startswith(s + "/") for s in system_paths()):
            args += ["--tmpfs", home]
        for path in (*tool_paths(), *self.read_only):
            args += ["--ro-bind-try", path, path]
        for path in self.writable:
            args += ["--bind-try", path, path]
        ws = str(workspace)
        args += ["--bind", ws, ws]
        git = workspace / ".git"
        if git.is_dir() and not git.is_symlink():  # a mount point cannot be renamed away
            args += ["--bind", str(git), str(git)]
        for rel in PROTECTED:
            if (workspace / rel).exists() and not (workspace / rel).is_symlink():
                args += ["--ro-bind", str(workspace / rel), str(workspace / rel)]
        args += ["--chdir", ws, "--", "/bin/sh", "-c", command]
        return args


class BubblewrapSession(SandboxSession):
    def __init__(self, sandbox: Bubblewrap, bwrap: str, workspace: Path):
        self.sandbox, self.bwrap, self.workspace = sandbox, bwrap, workspace
        self.info = sandbox.info()

    def run(self, command: str, *, timeout_s: float | None = None,
            env: dict[str, str] | None = None) -> CommandResult:
        git = self.workspace / ".git"
        before, tips = git_guard.snapshot(git), git_guard.branch_tips(git)
        try:
            result = run_process(self.sandbox.argv(self.bwrap, self.workspace, command),
                                 cwd=self.workspace, env=self.sandbox._env(env or {}),
                                 limits=self.sandbox.limits, timeout_s=timeout_s)
        finally:
            reverted = git_guard.restore(git, before)
            kept = git_guard.keep_history(git, tips)
        if reverted:
            result.stderr += (f"\nharness sandbox: reverted changes to .git "
                              f"({', '.join(reverted[:5])}): git would run code from there "
                              f"outside the sandbox\n")
        if kept:
            result.stderr += (f"\nharness sandbox: history is append-only here; put back "
                              f"{', '.join(kept[:5])} where it was (the command rewrote or "
                              f"deleted it; the working tree is as the command left it)\n")
        return result


@cache
def git_identity() -> dict[str, str]:
    """The user's git name and e-mail as environment variables: the home (and its
    .gitconfig, which may hold tokens and helpers) is hidden, but commits need an author."""
    out: dict[str, str] = {}
    for key, names in (("user.name", ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME")),
                       ("user.email", ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"))):
        try:
            value = subprocess.run(["git", "config", "--global", key], capture_output=True,
                                   text=True, timeout=10, stdin=subprocess.DEVNULL).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            value = ""
        for name in names:
            if os.environ.get(name):
                out[name] = os.environ[name]
            elif value:
                out[name] = value
    return out


@cache
def system_paths() -> tuple[str, ...]:
    return tuple(p for p in SYSTEM_PATHS if os.path.lexists(p))


@cache
def tool_paths() -> tuple[str, ...]:
    """Interpreter and toolchain folders outside the system paths, bound read-only: this
    Python's installation and virtual environment, folders on PATH outside the home, and
    the toolchain folders of `TOOLCHAIN_HOMES` under it."""
    home = Path.home().resolve()
    found: list[str] = []

    def add(path: str | Path) -> None:
        p = Path(path)
        if not p.exists():
            return
        p = p.resolve()
        text = str(p)
        if p == home or p in home.parents or text in found:
            return
        if any(text == s or text.startswith(s + "/") for s in system_paths()):
            return
        if p.is_relative_to(home) and not any(
                p.is_relative_to(home / t) for t in TOOLCHAIN_HOMES):
            return
        found.append(text)

    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        add(prefix)
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry:
            add(entry)
    for rel in TOOLCHAIN_HOMES:
        add(home / rel)
    return tuple(p for p in found  # a folder inside another bound one adds nothing
                 if not any(p.startswith(q + "/") for q in found))


@cache
def probe(bwrap: str) -> str | None:
    """Why bubblewrap cannot make a sandbox here, or None if it can (checked once)."""
    try:
        proc = subprocess.run(
            [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
             "--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
             "true"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if proc.returncode != 0:
        return proc.stderr.strip() or f"exit code {proc.returncode}"
    return None


@cache
def locate(executable: str = "bwrap") -> tuple[str | None, str]:
    """The path of a bubblewrap that can make a sandbox here, or None and why not (found
    and tried once per process)."""
    path = shutil.which(executable)
    if path is None:
        return None, (f"'{executable}' is not on PATH; install it "
                      f"(Debian/Ubuntu: apt-get install bubblewrap)")
    problem = probe(path)
    if problem:
        return None, f"'{path}' cannot make a sandbox here: {problem}"
    return path, ""


def available(executable: str = "bwrap") -> bool:
    return locate(executable)[0] is not None
