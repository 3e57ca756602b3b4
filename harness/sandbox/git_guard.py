"""What git runs later, on the host, cannot be planted from inside the sandbox.

Hooks, `core.fsmonitor`, `core.pager`, aliases and filters in a repository's config, or a
`commondir` pointing at another config, run with the user's full rights the next time
anyone runs git in the workspace. Bubblewrap binds `.git/hooks` and `.git/config`
read-only (and `.git` itself as a mount point, so it cannot be swapped for another
folder); this module is the second layer: the control files are snapshotted before each
command and anything the command changed among them is put back when it has ended (every
process of the jail is dead by then, so nothing can race the restore).
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import suppress
from pathlib import Path

from harness.safe_git import run_git

CONTROL_FILES = {"config", "commondir", "config.worktree", "gitdir"}
CONTROL_DIRS = {"hooks"}
SKIPPED = {"objects", "refs", "logs", "lfs", "rr-cache", "info"}

Snapshot = dict[str, tuple[str, bytes | str]]


def snapshot(git_dir: Path) -> Snapshot:
    """The control files under `git_dir` (its own, and those of submodules and worktrees)."""
    found: Snapshot = {}
    if not git_dir.is_dir() or git_dir.is_symlink():
        return found
    for dirpath, dirnames, filenames in os.walk(git_dir):
        rel_dir = os.path.relpath(dirpath, git_dir)
        inside_control = any(part in CONTROL_DIRS for part in Path(rel_dir).parts)
        dirnames[:] = [d for d in dirnames if d not in SKIPPED or inside_control]
        for name in (*filenames, *(d for d in dirnames if os.path.islink(os.path.join(dirpath, d)))):
            if not (inside_control or name in CONTROL_FILES):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            try:
                if os.path.islink(path):
                    found[rel] = ("link", os.readlink(path))
                else:
                    found[rel] = ("file", Path(path).read_bytes())
            except OSError:
                continue
        for d in dirnames:
            if d in CONTROL_DIRS or inside_control:
                rel = os.path.normpath(os.path.join(rel_dir, d))
                found.setdefault(rel + "/", ("dir", b""))
    return found


def restore(git_dir: Path, before: Snapshot) -> list[str]:
    """Put the control files back as `before` had them; the paths that were changed. A
    repository the command made (`git init`) is kept, without what would run code."""
    after = snapshot(git_dir)
    if after == before:
        return []
    if not before:
        return sanitise(git_dir, after)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for rel in changed:  # remove what is new or different, deepest first
        if rel in after:
            _remove(git_dir / rel.rstrip("/"))
    for rel in sorted(changed, key=len):
        if rel in before:
            kind, value = before[rel]
            path = git_dir / rel.rstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "dir":
                path.mkdir(exist_ok=True)
            elif kind == "link":
                os.symlink(value, path)
            else:
                path.write_bytes(value)  # type: ignore[arg-type]
    return [r.rstrip("/") for r in changed]


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


CODE_KEYS = re.compile(
    r"^(core\.(fsmonitor|pager|editor|sshcommand|hookspath|askpass|gitproxy|alternaterefscommand)"
    r"|sequence\.editor|diff\.external|gpg\.program|gpg\.\w+\.program|credential\..*"
    r"|include\..*|includeif\..*|(filter|diff|merge)\..*\.(clean|smudge|process|textconv|"
    r"command|driver)|uploadpack\.packobjectshook|protocol\..*allow|pager\..*|web\.browser"
    r"|browser\..*\.cmd|mergetool\..*|difftool\..*|sendemail\..*)$", re.IGNORECASE)


def sanitise(git_dir: Path, made: Snapshot) -> list[str]:
    """A new repository without hooks (but git's samples), `commondir`, or config keys that
    run commands: the paths that were removed or rewritten."""
    removed = []
    for rel, (kind, value) in sorted(made.items(), reverse=True):
        name = rel.rstrip("/")
        path = git_dir / name
        if kind != "dir" and Path(name).parts[-2:-1] == ("hooks",) and \
                not name.endswith(".sample"):
            _remove(path)
            removed.append(name)
        elif Path(name).name in ("commondir", "gitdir") and kind != "dir":
            _remove(path)
            removed.append(name)
        elif Path(name).name in ("config", "config.worktree") and kind == "file":
            kept = safe_config(value.decode("utf-8", "replace"))  # type: ignore[union-attr]
            if kept != value.decode("utf-8", "replace"):  # type: ignore[union-attr]
                path.write_text(kept)
                removed.append(name)
    return removed


def safe_config(text: str) -> str:
    """A git config without the entries that make git run a command."""
    out, section = [], ""
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        header = re.match(r"\[\s*([\w.-]+)(?:\s+\"(.*)\")?\s*\]", stripped)
        if header:
            section = header.group(1) + (f".{header.group(2)}" if header.group(2) else "")
            out.append(line)
            continue
        key, _, value = stripped.partition("=")
        name = f"{section}.{key.strip()}"
        if CODE_KEYS.match(name) or (section.lower() == "alias" and value.strip()
                                     .strip('"').startswith("!")):
            continue
        out.append(line)
    return "".join(out)


def branch_tips(git_dir: Path) -> dict[str, str]:
    """Each branch and tag, and the object it points at (empty when there is no repo).
    Read from the ref files (this runs around every command), through git only for a
    repository that keeps its refs in a reftable."""
    if not git_dir.is_dir() or git_dir.is_symlink():
        return {}
    if (git_dir / "reftable").is_dir():
        return _tips_from_git(git_dir)
    tips: dict[str, str] = {}
    with suppress(OSError):
        for line in (git_dir / "packed-refs").read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name.startswith(("refs/heads/", "refs/tags/")):
                tips[name] = sha
    for top in ("refs/heads", "refs/tags"):
        for dirpath, _, filenames in os.walk(git_dir / top):
            for name in filenames:
                path = Path(dirpath, name)
                with suppress(OSError, UnicodeDecodeError):
                    value = path.read_text().strip()
                    if not value.startswith("ref:"):  # a loose ref overrides a packed one
                        tips[path.relative_to(git_dir).as_posix()] = value
    return tips


def _tips_from_git(git_dir: Path) -> dict[str, str]:
    out = run_git("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads",
                  "refs/tags", git_dir=git_dir)
    if out is None:
        return {}
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


def keep_history(git_dir: Path, before: dict[str, str]) -> list[str]:
    """Put back every branch or tag that a command deleted or moved to a commit that does
    not contain its old one (an amend, a reset, a rebase, a filter-branch): history in the
    workspace only grows from inside the sandbox. The refs that were put back."""
    if not before:
        return []
    after = branch_tips(git_dir)
    restored = []
    for ref, old in before.items():
        new = after.get(ref)
        if new == old or (new is not None and _succeeds(
                "merge-base", "--is-ancestor", old, new, git_dir=git_dir)):
            continue
        if _succeeds("update-ref", ref, old, git_dir=git_dir):
            restored.append(ref.removeprefix("refs/heads/"))
    return restored


def _succeeds(*args: str, git_dir: Path) -> bool:
    done = run_git(*args, git_dir=git_dir, timeout=30)
    return done is not None and done.returncode == 0
