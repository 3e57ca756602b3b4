"""A parsed command line: pipelines of simple commands, the scope each runs in, and the
text a command prints when the line spells it out.

`harness.shell.parser.parse` builds these; `harness.shell.scope.locate` fills in each
command's `Scope`; the path resolver, the accesses and the policy read them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.shell.escapes import decode_escapes, printf_output

PLACEHOLDER = re.compile(r"__SUBST(\d+)__")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
NAME = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
ELEVATING = {"sudo", "doas", "su", "pkexec", "run0"}


@dataclass
class SimpleCommand:
    """One program invocation, after wrappers and assignments are peeled off.

    `argv[0]` is the program; `wrappers` lists what was peeled (`sudo`, `env`, ...);
    `subs` maps a placeholder index in a word to the parsed command it substitutes.
    """

    argv: list[str]
    assignments: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)
    wrappers: list[str] = field(default_factory=list)
    subs: dict[int, ParsedCommand] = field(default_factory=dict)
    proc_subs: set[int] = field(default_factory=set)
    """Indexes of `subs` that are process substitutions (`<(…)`), i.e. files to read."""
    nested: ParsedCommand | None = None
    """The script run by `sh -c '…'`, `eval '…'` or `su -c '…'`."""
    text: dict[int, str] = field(default_factory=dict)
    """Original text of each substitution, to show words as written."""
    upstream: SimpleCommand | None = field(default=None, repr=False, compare=False)
    """The command before this one in a pipeline: what it prints is this one's stdin."""
    scope: Scope | None = field(default=None, repr=False, compare=False)
    """Where it runs: the directory and variables earlier commands of the line set up
    (filled in by `harness.shell.scope.locate`; None means the workspace, as is)."""

    @property
    def program(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    @property
    def elevated(self) -> bool:
        return any(w in ELEVATING for w in self.wrappers) or self.program in ELEVATING

    def word(self, w: str) -> str:
        """A word with its substitution placeholders shown as written."""
        return PLACEHOLDER.sub(lambda m: self.text.get(int(m.group(1)), m.group(0)), w)

    def output_word(self, w: str) -> str:
        """A word with each substitution replaced by what it prints when the line spells
        that out (`$(printf '\\x72m')` -> `rm`), else shown as written."""

        def known(m: re.Match[str]) -> str:
            text = self.output_of(int(m.group(1)))
            return text.rstrip("\n") if text is not None else self.word(m.group(0))

        return PLACEHOLDER.sub(known, w)

    def output_of(self, index: int) -> str | None:
        """What substitution `index` prints, when the line spells it out (`echo`, `printf`)."""
        sub = self.subs.get(index)
        last = sub.pipelines[-1].commands[-1] if sub and len(sub.pipelines) == 1 else None
        return printed_text(last) if last is not None else None

    def has_substitution(self, w: str) -> bool:
        return bool(PLACEHOLDER.search(w))

    def flags(self) -> set[str]:
        """Flags as a set: `-rf` gives `-r` and `-f`; `--force=x` gives `--force`."""
        out: set[str] = set()
        for a in self.args:
            if a == "--":
                break
            if a.startswith("--"):
                out.add(a.split("=", 1)[0])
            elif a.startswith("-") and len(a) > 1 and not a[1].isdigit():
                out.update(f"-{c}" for c in a[1:])
        return out

    def positionals(self) -> list[str]:
        out, after_dashdash = [], False
        for a in self.args:
            if a == "--" and not after_dashdash:
                after_dashdash = True
            elif after_dashdash or not a.startswith("-") or a == "-":
                out.append(a)
        return out

    def __str__(self) -> str:
        return " ".join(shlex.quote(self.word(w)) for w in self.argv)


@dataclass
class Pipeline:
    """Commands joined by `|`: each one's output feeds the next. `group` lists the
    subshells `( … )` it runs in, outermost first (each numbered once per line)."""

    commands: list[SimpleCommand]
    group: tuple[int, ...] = ()


@dataclass
class ParsedCommand:
    """A command line as pipelines, in order, with nested scripts reachable via `walk()`."""

    source: str
    pipelines: list[Pipeline]

    def walk(self) -> Iterator[SimpleCommand]:
        """Every simple command, including those in substitutions and `sh -c` scripts."""
        for pipeline in self.pipelines:
            for cmd in pipeline.commands:
                yield cmd
                for sub in cmd.subs.values():
                    yield from sub.walk()
                if cmd.nested is not None:
                    yield from cmd.nested.walk()

    def walk_pipelines(self) -> Iterator[Pipeline]:
        for pipeline in self.pipelines:
            yield pipeline
            for cmd in pipeline.commands:
                for sub in cmd.subs.values():
                    yield from sub.walk_pipelines()
                if cmd.nested is not None:
                    yield from cmd.nested.walk_pipelines()


@dataclass
class Scope:
    """The working directory and the variables a command runs with."""

    cwd: Path | None
    """Where relative paths start; None when it is only known at run time."""
    oldpwd: Path | None = None
    stack: list[Path | None] = field(default_factory=list)
    """`pushd`'s directory stack."""
    variables: dict[str, str | None] = field(default_factory=dict)
    """Values assigned on the line, expanded; None when only known at run time."""
    carried: dict[str, tuple[ParsedCommand, ...]] = field(default_factory=dict)
    """For each variable, the substitutions whose output its value holds."""
    links: dict[Path, Path] = field(default_factory=dict)
    """Links the line made (`ln -s ~/.bashrc rc`): where each leads, for the commands after
    it (the file system cannot show them yet)."""
    listed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """For a variable holding what a lister printed (`F=$(find ~/.ssh)`, `for f in $(ls
    x)`), the folders the paths lie under (absolute)."""

    def copy(self) -> Scope:
        return Scope(self.cwd, self.oldpwd, list(self.stack), dict(self.variables),
                     dict(self.carried), dict(self.links), dict(self.listed))

    def lookup(self, name: str) -> tuple[bool, str | None]:
        """(whether the line sets the variable, its value or None when unknown)."""
        if name in ("PWD", "OLDPWD"):
            where = self.cwd if name == "PWD" else self.oldpwd
            return True, str(where) if where is not None else None
        if name in self.variables:
            return True, self.variables[name]
        return False, None

    def carried_by(self, word: str) -> list[ParsedCommand]:
        """The substitutions whose output reaches a word through the variables it names."""
        return [sub for name in NAME.findall(word) for sub in self.carried.get(name, ())]


def stdin_text(cmd: SimpleCommand) -> str | None:
    """What a command reads on stdin when the line spells it out: a here-string or
    here-document, or what an `echo`, `printf` or `cat <<…` before it in a pipeline prints."""
    for op, target in reversed(cmd.redirects):
        if op in ("<<", "<<<"):
            return cmd.output_word(target)
        if op == "<":
            return None
    return printed_text(cmd.upstream) if cmd.upstream is not None else None


def printed_text(cmd: SimpleCommand) -> str | None:
    """The text `echo`, `printf` or `cat` (of its stdin) prints, when it is known."""
    words = [cmd.word(a) for a in cmd.args]
    if cmd.program == "echo":
        raw = False
        while words and re.fullmatch(r"-[neE]+", words[0]):
            raw = raw or "E" in words[0]
            words.pop(0)
        text = " ".join(words)
        return text if raw else decode_escapes(text, echo=True)
    if cmd.program == "printf" and words:
        if words[0] == "--":
            words.pop(0)
        if words[:1] == ["-v"]:
            return None  # printf -v NAME assigns instead of printing
        return printf_output(words[0], words[1:]) if words else None
    if cmd.program == "cat" and not cmd.positionals():
        return stdin_text(cmd)
    return None
