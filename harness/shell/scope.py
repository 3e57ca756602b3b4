"""Where each command of a line runs: the directory `cd`, `pushd` and `popd` moved to, and
the variables assigned before it.

`cd .. && rm -rf other/src` deletes outside the workspace though no path says so, and
`D=~/.ssh; cat $D/id_rsa` reads a key. `locate` walks a parsed line in order and gives each
command the scope it runs in, as bash would: a subshell `( … )`, a `$( … )`, the commands of
a pipeline and a `sh -c` script get a copy (what they change stays inside), `eval` shares
its caller's. A directory or value known only when the line runs (`cd $(mktemp -d)`,
`read f`) is None: paths relative to it cannot be resolved.
"""

from __future__ import annotations

from pathlib import Path

from harness.shell.command import (
    ASSIGNMENT,
    PLACEHOLDER,
    ParsedCommand,
    Pipeline,
    Scope,
    SimpleCommand,
)
from harness.shell.paths import PathResolver
from harness.shell.writes import substituted_roots

DECLARERS = {"export", "declare", "typeset", "local", "readonly"}
READERS = {"read", "mapfile", "readarray"}
READ_VALUE_OPTIONS = {"-p", "-d", "-n", "-N", "-t", "-u", "-a", "-i"}


def locate(parsed: ParsedCommand, res: PathResolver, scope: Scope | None = None) -> None:
    """Give every command of a parsed line (substitutions and nested scripts included) the
    scope it runs in."""
    top = scope if scope is not None else Scope(res.root)
    scopes: dict[tuple[int, ...], Scope] = {(): top}
    for pipeline in parsed.pipelines:
        here = _enter(scopes, pipeline.group)
        for cmd in pipeline.commands:
            # a pipeline's commands run in subshells; `… | while read l; do …` reads for
            # the loop after it, so the last `read` of a pipeline counts for what follows
            alone = len(pipeline.commands) == 1 or (
                cmd is pipeline.commands[-1] and cmd.program in READERS)
            runs_in = here if alone else here.copy()
            cmd.scope = runs_in.copy()
            for sub in cmd.subs.values():
                locate(sub, res, runs_in.copy())
            if cmd.nested is not None:
                same_shell = cmd.program in ("eval", "source", ".")
                locate(cmd.nested, res, runs_in if same_shell else runs_in.copy())
            _run(cmd, runs_in, res)


def _enter(scopes: dict[tuple[int, ...], Scope], group: tuple[int, ...]) -> Scope:
    """The scope of a subshell: a copy of its parent's, made when it starts."""
    if group not in scopes:
        scopes[group] = _enter(scopes, group[:-1]).copy()
    return scopes[group]


def _run(cmd: SimpleCommand, scope: Scope, res: PathResolver) -> None:
    """Apply what a command changes for the commands after it."""
    prog, pos = cmd.program, cmd.positionals()
    if not cmd.argv:
        for text in cmd.assignments:
            _assign(scope, text, cmd, res)
    elif prog in DECLARERS:
        for text in cmd.args:
            if ASSIGNMENT.match(text):
                _assign(scope, text, cmd, res)
    elif prog in ("cd", "chdir"):
        _cd(scope, pos[0] if pos else None, cmd, res)
    elif prog == "pushd":
        if pos and pos[0][:1] in "+-" and pos[0][1:].isdigit():
            scope.cwd = None  # a rotation of a stack we do not know
        elif pos:
            scope.stack.append(scope.cwd)
            _cd(scope, pos[0], cmd, res)
        elif scope.stack:
            scope.cwd, scope.stack[-1] = scope.stack[-1], scope.cwd
    elif prog == "popd" and not pos and "-n" not in cmd.flags() and scope.stack:
        scope.oldpwd, scope.cwd = scope.cwd, scope.stack.pop()
    elif prog == "ln" and len(pos) == 2:
        _link(scope, cmd, res)
    elif prog in ("for", "select") and len(pos) >= 2 and pos[1] == "in":
        _set(scope, pos[0], pos[2:], cmd, res)
    elif prog in READERS:
        # what it reads: its `< file`, or the output of the commands piped into it
        source = ParsedCommand(str(cmd), [Pipeline(_chain(cmd))])
        skip = False
        for a in cmd.args:
            if skip or a.startswith("-"):
                skip = not skip and a in READ_VALUE_OPTIONS
                continue
            scope.variables[a] = None
            scope.carried[a] = (source,)
    elif prog == "unset":
        for name in pos:
            scope.variables.pop(name, None)
            scope.carried.pop(name, None)


def _link(scope: Scope, cmd: SimpleCommand, res: PathResolver) -> None:
    """`ln [-s] TARGET LINK`: LINK (or LINK/name, for a folder) leads to TARGET; a relative
    symbolic target starts from the link's folder."""
    target, link = (cmd.word(p) for p in cmd.positionals())
    where = res.resolve(link, scope).resolved
    if where is None:
        return
    if where.is_dir():
        where = where / Path(target).name
    base = Scope(where.parent, variables=scope.variables) if "-s" in cmd.flags() else scope
    to = res.resolve(target, base).resolved
    if to is not None:
        scope.links[where] = to


def _chain(cmd: SimpleCommand) -> list[SimpleCommand]:
    out: list[SimpleCommand] = []
    at: SimpleCommand | None = cmd
    while at is not None:
        out.insert(0, at)
        at = at.upstream
    return out


def _assign(scope: Scope, text: str, cmd: SimpleCommand, res: PathResolver) -> None:
    name, value = text.split("=", 1)
    _set(scope, name.rstrip("+"), [value], cmd, res)


def _set(scope: Scope, name: str, words: list[str], cmd: SimpleCommand,
         res: PathResolver) -> None:
    """A variable takes each of the words in turn (one for an assignment, a loop's list):
    known values are written as a brace list; a substituted lister's output is unknown
    but lies under the folders it lists."""
    values: list[str | None] = []
    listed: list[str] = []
    for word in words:
        sub = PLACEHOLDER.fullmatch(word)
        roots = substituted_roots(cmd.subs[int(sub[1])]) if sub and int(
            sub[1]) in cmd.subs else None
        refs = [res.resolve(r, scope) for r in roots or []]
        if refs and all(r.resolved is not None for r in refs):
            listed += [str(r.resolved) for r in refs]
            values.append(None)
        else:
            values.append(res.expand(cmd.word(word), scope))
    known = [v for v in values if v is not None]
    scope.variables[name] = _brace_list(known) if known and len(known) == len(values) else None
    scope.carried[name] = _carried(" ".join(words), cmd, scope)
    scope.listed[name] = tuple(listed + (known if listed else []))


def _brace_list(values: list[str]) -> str | None:
    if len(values) == 1:
        return values[0]
    if any(c in v for v in values for c in ",{}"):
        return None
    return "{" + ",".join(values) + "}"


def _carried(word: str, cmd: SimpleCommand, scope: Scope) -> tuple[ParsedCommand, ...]:
    subs = [cmd.subs[int(i)] for i in PLACEHOLDER.findall(word) if int(i) in cmd.subs]
    return tuple(subs + scope.carried_by(word))


def _cd(scope: Scope, target: str | None, cmd: SimpleCommand, res: PathResolver) -> None:
    if target == "-":
        new = scope.oldpwd
    elif target is None:
        known, home = scope.lookup("HOME")
        new = Path(home) if known and home else res.home if not known else None
    else:
        text = res.expand(cmd.word(target), scope)
        if text is None:
            new = None
        elif Path(text).is_absolute():
            new = Path(text).resolve()
        else:
            new = _cdpath(scope, text, res)
    scope.oldpwd, scope.cwd = scope.cwd, new


def _cdpath(scope: Scope, text: str, res: PathResolver) -> Path | None:
    """A relative `cd`: through `CDPATH` (the first of its folders holding the target) for
    a name that does not start with `.`, else from the current folder."""
    known, cdpath = scope.lookup("CDPATH")
    cdpath = cdpath if known else res.env.get("CDPATH")
    if known and cdpath is None:
        return None
    bases: list[Path | None] = [scope.cwd]
    if cdpath and not text.startswith("."):
        bases = [scope.cwd if not entry else _folder(entry, scope) for entry in
                 cdpath.split(":")] + [scope.cwd]
    for base in bases:
        if base is None:
            return None
        if (base / text).is_dir() or base is bases[-1]:
            return (base / text).resolve()
    return None


def _folder(entry: str, scope: Scope) -> Path | None:
    if Path(entry).is_absolute():
        return Path(entry)
    return scope.cwd / entry if scope.cwd is not None else None
