"""What a git command does that the policy cares about: work it throws away, history it
deletes, and configuration that makes git run a command later.

`git clean -fdx` deletes every untracked file of the folder it runs in; `git reset --hard`,
`git checkout .` and `git restore .` overwrite changes no commit holds; `git stash drop`,
`git reflog expire --expire=now` and `git gc --prune=now` delete what could have brought
work back. Whether a reset loses anything depends on the tree: one with no uncommitted
change loses nothing (the commits stay in the reflog), so `uncommitted_changes` asks git,
with every setting that could run a command turned off.

`git config core.fsmonitor CMD` (or `git -c core.pager=CMD …`, or `GIT_CONFIG_KEY_0`) makes
git run CMD on a later, innocent-looking command: those keys are listed in `RUNS_COMMANDS`.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.governance.commands._uncommitted import changes, changes_at, describe
from harness.shell.command import SimpleCommand
from harness.shell.globs import WILDCARDS, has_glob
from harness.shell.paths import PathRef, PathResolver
from harness.shell.writes import option_values

GLOBAL_VALUE_OPTIONS = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env",
                        "--exec-path", "--super-prefix", "--attr-source"}
# Keys (lower case, globs) whose value git runs as a command, or that bring in settings or
# hooks that do.
RUNS_COMMANDS = (
    "core.fsmonitor", "core.pager", "core.editor", "core.sshcommand", "core.hookspath",
    "core.askpass", "core.gitproxy", "core.alternaterefscommand", "sequence.editor", "pager.*",
    "diff.external", "diff.*.textconv", "diff.*.command", "difftool.*.cmd", "mergetool.*.cmd",
    "merge.*.driver", "filter.*.clean", "filter.*.smudge", "filter.*.process",
    "credential.helper", "credential.*.helper", "gpg.program", "gpg.*.program",
    "uploadpack.packobjectshook", "remote.*.uploadpack", "remote.*.receivepack",
    "web.browser", "browser.*.cmd", "man.*.cmd", "sendemail.smtpserver", "include.path",
    "includeif.*.path", "init.templatedir", "alias.*")
BOOLEAN = {"", "true", "false", "yes", "no", "on", "off", "1", "0"}
# Values that run nothing of note as a pager or editor (`git -c core.editor=true …`).
INERT = {"", "true", ":", "cat", "less", "less -r", "less -R", "less -FRX", "more"}
CONFIG_VALUE_OPTIONS = {"-f", "--file", "--blob", "--type", "--default", "--comment", "--value"}
CONFIG_NOT_SETTING = {"--get", "--get-all", "--get-regexp", "--get-urlmatch", "-l", "--list",
                      "--unset", "--unset-all", "--remove-section", "--rename-section", "-e",
                      "--edit", "--get-color", "--get-colorbool"}
NEW_CONFIG_VERBS = {"get", "list", "unset", "remove-section", "rename-section", "edit"}
NOW = re.compile(r"^(now|all|0)$", re.I)
BLOB = re.compile(r"^[^-:][^:]*:.|^:(\d:)?[^/]")  # REV:PATH, :PATH, :0:PATH


@dataclass
class GitCall:
    """A git invocation: its subcommand and arguments, where it acts, what it configures."""

    sub: str
    args: list[str]
    folder: str = "."
    """The folder it runs in (after `-C`), relative to the command's own."""
    elsewhere: list[str] = field(default_factory=list)
    """A repository or work tree named by `--git-dir`, `--work-tree`, `GIT_DIR`, ..."""
    config: list[tuple[str, str]] = field(default_factory=list)
    """Settings given for this run (`-c k=v`, `GIT_CONFIG_KEY_n`/`VALUE_n`)."""


def git_call(cmd: SimpleCommand) -> GitCall | None:
    """A git command taken apart (None for any other program): global options, the
    variables given to it or exported earlier on the line (`GIT_DIR`, `GIT_CONFIG_*`)."""
    if cmd.program != "git":
        return None
    args, i = cmd.args, 0
    call = GitCall("", [])
    while i < len(args) and args[i].startswith("-"):
        name, value = args[i], None
        if name in GLOBAL_VALUE_OPTIONS and i + 1 < len(args):
            value, i = args[i + 1], i + 2
        else:
            if name.startswith("--") and "=" in name:
                name, value = name.split("=", 1)
            i += 1
        if value is None:
            continue
        value = cmd.word(value)
        if name == "-C":
            call.folder = posixpath.join(call.folder, value)
        elif name == "-c":
            key, _, setting = value.partition("=")
            call.config.append((key, setting))
        elif name in ("--git-dir", "--work-tree"):
            call.elsewhere.append(value)
    if i < len(args):
        call.sub, call.args = args[i], args[i + 1:]
    env = dict(a.split("=", 1) for a in cmd.assignments)
    for name in ("GIT_DIR", "GIT_WORK_TREE"):
        exported = cmd.scope.lookup(name) if cmd.scope is not None else (False, None)
        if name in env or exported[0]:
            call.elsewhere.append(cmd.word(env[name]) if name in env else exported[1] or "$(…)")
    count = env.get("GIT_CONFIG_COUNT", "")
    for n in range(min(int(count), 64) if count.isdigit() else 0):
        call.config.append((env.get(f"GIT_CONFIG_KEY_{n}", ""),
                            env.get(f"GIT_CONFIG_VALUE_{n}", "")))
    for key, setting in re.findall(r"'([^']*)'='([^']*)'", env.get("GIT_CONFIG_PARAMETERS", "")):
        call.config.append((key, setting))
    return call


def _split(args: list[str], takes_value: set[str]) -> tuple[set[str], list[str], list[str]]:
    """(flags, positionals before `--`, positionals after it); `-fdx` gives -f -d -x."""
    flags: set[str] = set()
    before: list[str] = []
    after: list[str] | None = None
    skip = False
    for a in args:
        if skip:
            skip = False
        elif after is not None:
            after.append(a)
        elif a == "--":
            after = []
        elif a.startswith("--"):
            flags.add(a.split("=", 1)[0])
            skip = a in takes_value
        elif a.startswith("-") and len(a) > 1:
            flags.update(f"-{c}" for c in a[1:])
            skip = a in takes_value or f"-{a[-1]}" in takes_value
        else:
            before.append(a)
    return flags, before, after or []


# -- configuration that runs commands -------------------------------------------------------
def runs_commands(cmd: SimpleCommand) -> str | None:
    """Why a git command sets a key whose value git runs as a command, or None."""
    call = git_call(cmd)
    if call is None:
        return None
    settings = list(call.config)
    if call.sub == "config":
        settings += _config_set(call.args, cmd)
    for key, value in settings:
        if _runs(key, value):
            return f"git config {key} makes git run `{value}` as a command"
    return None


def _config_set(args: list[str], cmd: SimpleCommand) -> list[tuple[str, str]]:
    flags, pos, _ = _split(args, CONFIG_VALUE_OPTIONS)
    pos = [cmd.word(p) for p in pos]
    if pos[:1] == ["set"]:
        pos = pos[1:]
    elif pos[:1] and pos[0] in NEW_CONFIG_VERBS or flags & CONFIG_NOT_SETTING:
        return []
    return [(pos[0], pos[1])] if len(pos) >= 2 else []


def _runs(key: str, value: str) -> bool:
    key = key.lower()
    if not any(fnmatch.fnmatchcase(key, k) for k in RUNS_COMMANDS):
        return False
    if key.startswith("alias."):
        return value.lstrip().startswith("!")
    if key == "core.fsmonitor" or key.startswith("pager."):
        return value.strip().lower() not in BOOLEAN | INERT
    if key in ("core.pager", "core.editor", "sequence.editor"):
        return value.strip() not in INERT
    return value.strip() != ""  # an empty value turns the setting off


# -- work and history thrown away -----------------------------------------------------------
def destroys(cmd: SimpleCommand, res: PathResolver,
             later: list[SimpleCommand] | None = None) -> str | None:
    """Why a git command destroys work no commit holds, or history, or None. `later`: the
    commands that follow it on the line (a `git stash pop` there gives stashed work back)."""
    call = git_call(cmd)
    if call is None:
        return None
    sub, args = call.sub, call.args
    if sub == "stash":
        return _stash(call, cmd, res, later or [])
    if sub == "reflog" and (args[:1] == ["delete"] or args[:1] == ["expire"] and any(
            NOW.match(v) for v in option_values(args, ("--expire", "--expire-unreachable")))):
        return "git reflog deletes the entries that can bring lost commits back"
    if sub == "gc" and any(NOW.match(v) for v in option_values(args, ("--prune",))):
        return "git gc --prune=now deletes unreachable commits at once"
    if sub == "prune" and not {"-n", "--dry-run"} & _split(args, {"--expire"})[0]:
        return "git prune deletes unreachable commits"
    if sub == "update-ref" and {"-d", "--delete"} & _split(args, set())[0]:
        return "git update-ref -d deletes a ref"
    if sub == "clean":
        return _clean(call, cmd, res)
    discard = _discards(call, cmd, res)
    if discard is not None:
        return _lost_work(call, cmd, res, discard)
    return _overwrites_with_blob(call, cmd, res)


def _place(call: GitCall, cmd: SimpleCommand, res: PathResolver) -> PathRef:
    return res.resolve(call.folder, cmd.scope)


def _outside(call: GitCall, cmd: SimpleCommand, res: PathResolver) -> str | None:
    """The repository or folder git acts on, described, when it is outside the workspace
    or unknown."""
    refs = [res.resolve(word, cmd.scope) for word in [call.folder, *call.elsewhere]]
    return next((_where(r) for r in refs if not r.inside), None)


def _where(ref: PathRef) -> str:
    if ref.resolved is None:
        return f"'{ref.raw}', which cannot be resolved"
    return f"{ref.resolved}, outside the workspace"


def _clean(call: GitCall, cmd: SimpleCommand, res: PathResolver) -> str | None:
    flags, before, after = _split(call.args, {"-e", "--exclude"})
    if not {"-f", "--force"} & flags or {"-n", "--dry-run", "-i", "--interactive"} & flags:
        return None
    where = _outside(call, cmd, res)
    if where:
        return f"git clean -f deletes untracked files in {where}"
    for spec in before + after or ["."]:
        ref = _pathspec(call, cmd, res, cmd.word(spec))
        if ref.resolved is None or not ref.inside or ref.rel == ".":
            shown = ref.rel if ref.rel == "." else ref.resolved or spec
            return f"git clean -f deletes every untracked (and ignored, with -x) file in {shown}"
    if "-X" in flags:  # only ignored files
        return None
    paths = [str(_gitpath(call, cmd, res, cmd.word(s))) for s in before + after]
    place = _place(call, cmd, res)
    found = changes(place.resolved, paths) if place.resolved else None
    if found is None:
        return "git clean -f may delete untracked work (git cannot tell safely whether there is any)"
    lost = [c for c in found if c.untracked]
    if lost:
        return f"git clean -f would delete untracked work: {describe(lost, res)}"
    return None


def _pathspec(call: GitCall, cmd: SimpleCommand, res: PathResolver, spec: str,
              globs: bool = False) -> PathRef:
    """Where a pathspec points: `:/…` is the top of the repository (taken as the workspace),
    a last part of only wildcards (or, with `globs`, of any glob: git's match files at any
    depth) stands for its folder."""
    if spec.startswith(":/") or spec.startswith(":(top"):
        return res.resolve(".")
    head, _, last = spec.rstrip("/").rpartition("/")
    if WILDCARDS.fullmatch(last) or globs and has_glob(last):
        spec = head or "."
    return res.resolve(posixpath.join(call.folder, spec), cmd.scope)


@dataclass
class Discard:
    """What a command overwrites: the whole tree or these pathspecs, from the index (only
    unstaged changes are lost) or from a commit (staged ones too)."""

    whole: bool = False
    specs: list[PathRef] = field(default_factory=list)
    """Where each pathspec points (a glob's folder), to tell whether it leaves the workspace."""
    paths: list[str] = field(default_factory=list)
    """The pathspecs as git reads them, absolute, their globs kept."""
    from_index: bool = False


def _discards(call: GitCall, cmd: SimpleCommand, res: PathResolver) -> Discard | None:
    """What reset --hard, checkout and restore of paths, forced switches and `git rm -f`
    overwrite; None for anything else."""
    sub = call.sub
    if sub == "reset":
        return Discard(whole=True) if "--hard" in call.args else None
    if sub == "switch":
        flags = _split(call.args, {"-c", "-C", "--orphan"})[0]
        return Discard(whole=True) if {"-f", "--force", "--discard-changes"} & flags else None
    if sub == "checkout":
        flags, before, after = _split(call.args, {"-b", "-B", "--orphan", "--conflict"})
        if {"-b", "-B", "--orphan", "-p", "--patch"} & flags:
            return None
        if after:
            rev, specs = before[:1], after  # what stands before `--` is the commit
        else:  # without `--`, a first word that names no path is a branch or commit
            first_is_ref = bool(before) and not _names_path(
                _pathspec(call, cmd, res, cmd.word(before[0])))
            rev, specs = (before[:1], before[1:]) if first_is_ref else ([], before)
        if not specs:
            return Discard(whole=True) if {"-f", "--force"} & flags else None
        return _paths(call, cmd, res, specs, from_index=not rev)
    if sub == "restore":
        flags, before, after = _split(call.args, {"-s", "--source", "--conflict"})
        staged = bool({"-S", "--staged"} & flags)
        if staged and not {"-W", "--worktree"} & flags:
            return None
        from_index = not staged and not {"-s", "--source"} & flags
        return _paths(call, cmd, res, before + after, from_index=from_index)
    if sub == "rm":  # `git rm -rf .`: forced, it takes modified files too
        flags, before, after = _split(call.args, set())
        if not {"-f", "--force"} & flags or "--cached" in flags:
            return None
        return _paths(call, cmd, res, before + after, from_index=False)
    return None


def _paths(call: GitCall, cmd: SimpleCommand, res: PathResolver, specs: list[str],
           from_index: bool) -> Discard | None:
    if not specs:
        return None
    words = [cmd.word(s) for s in specs]
    return Discard(specs=[_pathspec(call, cmd, res, w, globs=True) for w in words],
                   paths=[str(_gitpath(call, cmd, res, w)) for w in words],
                   from_index=from_index)


def _gitpath(call: GitCall, cmd: SimpleCommand, res: PathResolver, spec: str) -> Path:
    """A pathspec as an absolute path, its globs kept for git to match."""
    if spec.startswith(":"):
        return _pathspec(call, cmd, res, spec).resolved or res.root
    place = _place(call, cmd, res).resolved or res.root
    return Path(os.path.normpath(place / spec))


def _names_path(ref: PathRef) -> bool:
    return _is_folder(ref) or ref.resolved is not None and ref.resolved.exists()


def _is_folder(ref: PathRef) -> bool:
    return ref.resolved is None or not ref.inside or ref.rel == "." or ref.resolved.is_dir()


def _lost_work(call: GitCall, cmd: SimpleCommand, res: PathResolver,
               discard: Discard) -> str | None:
    what = f"git {call.sub}"
    where = _outside(call, cmd, res) or next(
        (_where(r) for r in discard.specs if not r.inside), None)
    if where:
        return f"{what} would discard uncommitted work in {where}"
    place = _place(call, cmd, res).resolved
    found = changes(place, discard.paths, untracked=False) if place else None
    if found is None:
        return f"{what} may discard uncommitted work (git cannot tell safely whether there is any)"
    lost = [c for c in found if c.unstaged or not discard.from_index and c.staged]
    if lost:
        return f"{what} would discard uncommitted changes: {describe(lost, res)}"
    return None


def uncommitted_changes(folder: Path, paths: list[str]) -> bool | None:
    """Does the repository holding `folder` have changes to tracked files (under `paths`)
    that no commit holds? False when it is no repository; None when git cannot tell."""
    found = changes(folder, paths, untracked=False)
    return None if found is None else bool(found)


def _stash(call: GitCall, cmd: SimpleCommand, res: PathResolver,
           later: list[SimpleCommand]) -> str | None:
    """`git stash` (push, save, -u, ...) taking uncommitted work out of the tree, unless a
    later command on the line gives it back (`git stash pop`); drop and clear."""
    args = call.args
    verb = args[0] if args and not args[0].startswith("-") else "push"
    if verb in ("drop", "clear"):
        return f"git stash {verb} deletes stashed work"
    if verb not in ("push", "save") or any(_restores_stash(c) for c in later):
        return None
    flags, before, after = _split(args[1:] if args[:1] == [verb] else args,
                                  {"-m", "--message", "--pathspec-from-file"})
    specs = [] if verb == "save" or "--pathspec-from-file" in flags else before + after
    paths = [str(_gitpath(call, cmd, res, cmd.word(s))) for s in specs]
    untracked = bool({"-u", "--include-untracked", "-a", "--all"} & flags)
    place = _place(call, cmd, res).resolved
    found = changes(place, paths, untracked=untracked) if place else None
    if found is None:
        return "git stash may take uncommitted work away (git cannot tell safely whether any)"
    lost = [c for c in found if c.staged or c.unstaged and os.path.lexists(c.path)]
    if lost:
        return f"git stash would take uncommitted work out of the tree: {describe(lost, res)}"
    return None


def _restores_stash(cmd: SimpleCommand) -> bool:
    call = git_call(cmd)
    return call is not None and call.sub == "stash" and call.args[:1] in (["pop"], ["apply"])


def _overwrites_with_blob(call: GitCall, cmd: SimpleCommand, res: PathResolver) -> str | None:
    """`git show REV:PATH > PATH` (or `git cat-file -p`) writing over uncommitted work."""
    if call.sub not in ("show", "cat-file") or not any(BLOB.match(a) for a in call.args):
        return None
    targets = [res.resolve(cmd.word(t), cmd.scope) for op, t in cmd.redirects
               if op in (">", ">|", "&>")]
    paths = [r.resolved for r in targets if r.resolved is not None and r.inside]
    found = changes_at(paths)
    if found is None:
        return f"git {call.sub} > file may overwrite uncommitted work (git cannot tell safely)"
    lost = [c for c in found if (c.staged or c.unstaged) and os.path.lexists(c.path)]
    if lost:
        return f"git {call.sub} > file would overwrite uncommitted work: {describe(lost, res)}"
    return None


def rewrites_shared_history(cmd: SimpleCommand) -> bool:
    """A forced or deleting push (`git -C x push -f`, `git push origin +main`, `:main`)."""
    call = git_call(cmd)
    if call is None or call.sub != "push":
        return False
    flags, pos, _ = _split(call.args, {"-o", "--push-option", "--repo", "--receive-pack",
                                       "--exec"})
    return bool({"-f", "--force", "--mirror", "--delete", "-d"} & flags) or any(
        a.startswith(("+", ":")) for a in pos[1:])
