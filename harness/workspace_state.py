"""What a workspace held when a run began, and how to put it back for a replay.

`capture` records a manifest (each file's size and sha256), the files themselves when the
workspace is small, and the commit of the git repository around it; `restore` rebuilds that
state in an empty directory (from the snapshot, else from the commit) and says which files
it could not make equal to the manifest.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import tarfile
from pathlib import Path

from harness.events import GitState, WorkspaceState
from harness.safe_git import SAFE_CONFIG, git_env, run_git

SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__",
                          ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox"})
"""Folders left out of the manifest: version control, environments and caches a run
rebuilds; none of them is what a task starts from."""
MAX_FILES = 5000
SNAPSHOT_MAX_BYTES = 512 * 1024
SNAPSHOT_MAX_FILES = 1000


def capture(root: str | os.PathLike[str], *, max_files: int = MAX_FILES,
            snapshot_max_bytes: int = SNAPSHOT_MAX_BYTES) -> WorkspaceState:
    """The state of the workspace at `root`: its manifest, a snapshot when it holds at most
    `snapshot_max_bytes` (and `SNAPSHOT_MAX_FILES` files), and its git commit if any."""
    root = Path(root)
    files: dict[str, str] = {}
    contents: dict[str, bytes] | None = {}
    total, complete = 0, True
    for rel, path in _walk(root):
        if len(files) >= max_files:
            complete, contents = False, None
            break
        try:
            data = path.read_bytes()
        except OSError:
            continue  # unreadable (permissions, vanished): not part of what can be restored
        files[rel] = f"{len(data)}:{hashlib.sha256(data).hexdigest()}"
        total += len(data)
        if contents is not None:
            if total > snapshot_max_bytes or len(contents) >= SNAPSHOT_MAX_FILES:
                contents = None
            else:
                contents[rel] = data
    snapshot = None if contents is None else {
        rel: base64.b64encode(data).decode("ascii") for rel, data in contents.items()}
    return WorkspaceState(files=files, complete=complete, snapshot=snapshot, git=_git(root))


def restore(state: WorkspaceState, into: str | os.PathLike[str]) -> list[str]:
    """Rebuild `state` in the directory `into` (empty or new): from the snapshot, else from
    the git commit (then the paths that were dirty cannot be restored). Returns what still
    differs from the manifest, one line per path; empty when the restore is exact."""
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    if state.snapshot is not None:
        for rel, encoded in state.snapshot.items():
            _write(into, rel, base64.b64decode(encoded))
    elif state.git is not None:
        problems += _from_commit(state.git, into)
    else:
        return ["nothing to restore from: the run recorded neither a snapshot nor a git commit"]
    return problems + differences(state, into)


def differences(state: WorkspaceState, root: str | os.PathLike[str]) -> list[str]:
    """The paths where the workspace at `root` differs from `state`'s manifest."""
    now = capture(root, max_files=MAX_FILES if state.complete else len(state.files),
                  snapshot_max_bytes=0).files
    out = [f"{rel}: missing" for rel in state.files if rel not in now]
    out += [f"{rel}: content differs" for rel, sig in state.files.items()
            if rel in now and now[rel] != sig]
    if state.complete:
        out += [f"{rel}: not in the recorded workspace" for rel in now if rel not in state.files]
    return sorted(out)


def _walk(root: Path):
    """(relative path, path) of every regular file under root, in a stable order."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue  # a link may lead out of the workspace; its target is not ours
            if entry.is_dir():
                if entry.name not in SKIPPED_DIRS:
                    stack.append(Path(entry.path))
            elif entry.is_file():
                yield Path(entry.path).relative_to(root).as_posix(), Path(entry.path)


def _git(root: Path) -> GitState | None:
    """The repository around `root`, its HEAD commit and what differs from it; None when
    `root` is in no repository (found by looking for `.git`, so a plain folder costs no git)."""
    if not _in_repository(os.path.abspath(root)):
        return None
    where = root.resolve()
    top = run_git("rev-parse", "--show-toplevel", "HEAD", cwd=root)
    if top is None or top.returncode != 0 or len(top.stdout.split()) < 2:
        return None  # not a repository after all, or one without a commit yet
    repo, commit = top.stdout.split()[:2]
    prefix = where.relative_to(Path(repo).resolve()).as_posix()
    status = run_git("status", "--porcelain", "-z", "--untracked-files=all", "--", ".", cwd=root)
    dirty: set[str] = set()
    if status is not None and status.returncode == 0:
        entries = iter(status.stdout.split("\0"))
        for entry in entries:  # "XY path", a rename or copy followed by its source path
            if len(entry) > 3:
                path = entry[3:]  # relative to the repository's root
                dirty.add(path if prefix == "." else path.removeprefix(prefix + "/"))
                if entry[0] in "RC":
                    next(entries, None)
    return GitState(root=repo, commit=commit, path=prefix, dirty=sorted(dirty))


def _in_repository(folder: str) -> bool:
    """Whether `folder` or a folder above it holds `.git` (string paths: this runs at every
    run's start, and `Path.resolve` with its parents costs several times as much)."""
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def _from_commit(git: GitState, into: Path) -> list[str]:
    """Extract the workspace's folder at `git.commit` into `into`."""
    tree = git.commit if git.path == "." else f"{git.commit}:{git.path}"
    try:
        archive = subprocess.run(["git", "-C", git.root, *SAFE_CONFIG, "archive", "--format=tar",
                                  tree], env=git_env(), capture_output=True, timeout=120,
                                 stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"cannot read commit {git.commit} from {git.root}: {exc}"]
    if archive.returncode != 0:
        why = archive.stderr.decode(errors="replace").strip()
        return [f"cannot read commit {git.commit} from {git.root}: {why}"]
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return [f"{path}: was uncommitted when the run began; not restored" for path in git.dirty]


def _write(root: Path, rel: str, data: bytes) -> None:
    target = root / rel
    if not target.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"snapshot path {rel!r} leaves the workspace")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
