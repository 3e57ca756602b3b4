"""Work no commit holds, found by asking the repository, and the shell deletes that would
destroy it.

"Uncommitted work" is a tracked file with changes (staged or not) or an untracked file git
does not ignore. `changes` asks `git status` for it with every setting that could run a
command turned off: no fsmonitor, no hooks, and each filter driver the configuration names
emptied (a filter is a command `git status` runs); `None` means git could not tell. Deleting
such a file (`rm`, `find … -delete`, `truncate -s 0`) loses it for good: the sandbox keeps a
command inside the workspace, and this is the damage left inside it. Ignored files (`build/`,
`.venv`) and caches git was never told about (`__pycache__`) are not work.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

from harness.safe_git import run_git
from harness.shell.command import SimpleCommand
from harness.shell.globs import expand_braces
from harness.shell.paths import PathResolver
from harness.shell.writes import find_deletes, find_roots, option_values

GIT_TIMEOUT = 10
DELETERS = {"rm", "unlink", "shred", "srm", "wipe"}
# Caches tools rebuild, not work, even where no .gitignore names them.
GENERATED = ("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", ".mypy_cache", ".ruff_cache",
             ".venv", "venv", ".tox", ".nox", "node_modules")
# A find expression that may select more than its `-name` tests say.
FIND_WIDENS = {"-o", "-or", ",", "!", "-not"}
ZERO_SIZE = re.compile(r"^(-s|--size=?)?0+[KMGTPEZY]?(i?B)?$")
SHOWN = 4


@dataclass(frozen=True)
class Change:
    """One entry of `git status`: a path (absolute) and its index and work-tree states."""

    path: Path
    index: str
    """`X` of `git status --porcelain`: what is staged (" " nothing, "?" untracked)."""
    tree: str
    """`Y`: how the work tree differs from the index ("D": the file is gone)."""

    @property
    def untracked(self) -> bool:
        return self.index == "?"

    @property
    def staged(self) -> bool:
        return self.index not in " ?"

    @property
    def unstaged(self) -> bool:
        """The work tree holds content the index does not (deleted files hold none)."""
        return self.untracked or self.tree not in " D"

    def label(self) -> str:
        return "untracked" if self.untracked else "modified" if self.unstaged else "staged"


def changes(folder: Path, paths: Iterable[Path | str] = (), *,
            untracked: bool = True) -> list[Change] | None:
    """The uncommitted changes of the repository holding `folder`, at or beneath `paths`
    (git pathspecs; none: the whole tree), untracked files included when `untracked`.
    Empty when `folder` is in no repository; None when git cannot tell."""
    if _repository(folder) is None:
        return []
    top = run_git("rev-parse", "--show-toplevel", cwd=folder, timeout=GIT_TIMEOUT)
    if top is None:
        return None
    if top.returncode != 0:
        return [] if "not a git repository" in top.stderr else None
    root = Path(top.stdout.strip())
    filters = run_git("config", "--name-only", "--get-regexp", r"^filter\.", cwd=root,
                      timeout=GIT_TIMEOUT)
    if filters is None or filters.returncode not in (0, 1):
        return None
    off: list[str] = []
    for name in filters.stdout.split():  # `filter.<driver>.<key>`, the driver may hold dots
        driver = name[len("filter."):].rpartition(".")[0]
        off += [arg for key in ("clean", "smudge", "process") for arg in
                ("-c", f"filter.{driver}.{key}=")] + ["-c", f"filter.{driver}.required=false"]
    status = run_git("status", "--porcelain=v1", "-z", "--no-renames", "--ignore-submodules=all",
                     f"--untracked-files={'all' if untracked else 'no'}", "--",
                     *map(str, paths), cwd=root, config=off, timeout=GIT_TIMEOUT)
    if status is None or status.returncode != 0:
        return None
    found = [Change(root / entry[3:], entry[0], entry[1])
             for entry in status.stdout.split("\0") if len(entry) > 3]
    return [c for c in found if not (c.untracked and _generated(c.path.relative_to(root)))]


def changes_at(paths: Iterable[Path]) -> list[Change] | None:
    """The uncommitted work at or beneath each path, in whichever repository holds it."""
    groups: dict[Path, list[Path]] = {}
    for path in paths:
        repo = _repository(path)
        if repo is not None and ".git" not in path.relative_to(repo).parts:
            groups.setdefault(repo, []).append(path)
    out: list[Change] = []
    for repo, members in groups.items():
        found = changes(repo, members)
        if found is None:
            return None
        out += found
    return out


def _repository(path: Path) -> Path | None:
    """The nearest folder at or above `path` holding a `.git` (no git run to find it)."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _generated(rel: PurePath) -> bool:
    return any(fnmatch.fnmatchcase(part, g) for part in rel.parts for g in GENERATED)


def describe(found: list[Change], res: PathResolver) -> str:
    """`src/util.py (modified), notes/todo.md (untracked) and 3 more`."""
    shown = [f"{_show(c.path, res)} ({c.label()})" for c in found[:SHOWN]]
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return ", ".join(shown) + more


def _show(path: Path, res: PathResolver) -> str:
    return path.relative_to(res.root).as_posix() if res.root in path.parents else str(path)


# -- deletes -------------------------------------------------------------------------------------
def deletes_work(cmd: SimpleCommand, res: PathResolver) -> str | None:
    """Why a command deletes (or empties) files that hold uncommitted work, or None."""
    selected = _deleted(cmd)
    if selected is None:
        return None
    words, names = selected
    refs = [r for w in words for word in expand_braces(cmd.word(w))
            for r in res.resolve_all(word, cmd.scope)]
    paths = [r.resolved for r in refs if r.resolved is not None and r.inside]
    found = changes_at(paths)
    via = cmd.program if cmd.program != "find" else "find … -delete"
    if found is None:
        shown = ", ".join(_show(p, res) for p in paths)
        return (f"{via} may destroy uncommitted work in {shown} (git cannot tell safely "
                "whether there is any)")
    lost = [c for c in found if (c.staged or c.unstaged) and os.path.lexists(c.path)
            and (names is None or _named(c.path, names, res))]
    if lost:
        return f"{via} would destroy uncommitted work: {describe(lost, res)}"
    return None


def _deleted(cmd: SimpleCommand) -> tuple[list[str], list[str] | None] | None:
    """(the words naming what a command deletes, the `-name` globs narrowing it or None)."""
    prog = cmd.program
    if prog == "find" and find_deletes(cmd):
        return find_roots(cmd), _find_names(cmd)
    if prog == "truncate":
        return _truncated(cmd.args), None
    if prog not in DELETERS:
        return None
    words = [p for p in cmd.positionals() if p != "{}"]
    if "xargs" in cmd.wrappers:
        feeder = cmd.upstream
        if feeder is None or feeder.program != "find":
            return (words, None) if words else None
        return words + find_roots(feeder), _find_names(feeder)
    return words, None


def _find_names(cmd: SimpleCommand) -> list[str] | None:
    """The globs `-name`/`-iname` tests require (a found path has a part matching one),
    or None when the expression could select more (`-o`, `!`)."""
    if FIND_WIDENS & set(cmd.args):
        return None
    names = option_values(cmd.args, ("-name",))
    names += [n.lower() for n in option_values(cmd.args, ("-iname",))]
    return [cmd.word(n) for n in names] or None


def _named(path: Path, names: list[str], res: PathResolver) -> bool:
    parts = PurePath(_show(path, res)).parts
    return any(fnmatch.fnmatchcase(part, n) or fnmatch.fnmatchcase(part.lower(), n)
               for part in parts for n in names)


def _truncated(args: list[str]) -> list[str]:
    """The files `truncate` empties (`-s 0`, `--size=0`); none for any other size."""
    files, zero, skip = [], False, None
    for a in args:
        if skip is not None:
            zero, skip = zero or (skip in ("-s", "--size") and bool(ZERO_SIZE.match(a))), None
        elif a in ("-s", "--size", "-r", "--reference"):
            skip = a
        elif a.startswith("-"):
            zero = zero or bool(ZERO_SIZE.match(a))
        else:
            files.append(a)
    return files if zero else []
