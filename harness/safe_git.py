"""Running git on a user's repository without running anything that repository configures.

The policy asks git what uncommitted work a command would destroy, and the sandbox puts
back branches a command rewrote; both read repositories an agent may have written to, so
neither lets git start a hook, an fsmonitor, a pager or a credential prompt, nor reads the
user's global or system config, nor takes optional locks.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", f"core.hooksPath={os.devnull}")


def git_env() -> dict[str, str]:
    """This process's environment without any `GIT_*` variable, and git's own quiet ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_OPTIONAL_LOCKS="0",
               GIT_TERMINAL_PROMPT="0")
    return env


def run_git(*args: str, cwd: Path | None = None, git_dir: Path | None = None,
            config: Sequence[str] = (), timeout: float = 10) -> subprocess.CompletedProcess | None:
    """`git ARGS` in `cwd` (or on `git_dir`), with `config` (`-c` pairs) added; None when
    git is missing or does not answer within `timeout` seconds."""
    where = ["-C", str(cwd)] if cwd is not None else []
    where += ["--git-dir", str(git_dir)] if git_dir is not None else []
    try:
        return subprocess.run(["git", *where, *SAFE_CONFIG, *config, *args], env=git_env(),
                              text=True, capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
