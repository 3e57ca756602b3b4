"""Parse a shell command line into the simple commands it would run.

Policies match commands by what they *do*, not by substrings: `a; b`, `a && b`, `a || b`,
pipelines, `$(…)`, backticks, `<(…)`, `sh -c '…'`, `eval`, wrappers such as `sudo`,
`env X=1`, `timeout 5` and `xargs`, quoting and redirections are all taken apart here with
`shlex`, recursively, so a rule sees every program that would start.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

SEPARATORS = {";", "&&", "||", "&", "(", ")", ";;", "\n"}
PIPES = {"|", "|&"}
REDIRECTS = {">", ">>", "<", ">&", "<&", "&>", "&>>", ">|", "<>", "<<<"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PLACEHOLDER = re.compile(r"__SUBST(\d+)__")
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "ash", "busybox"}

# Wrappers run the rest of the line as another command: name -> options that take a value.
WRAPPERS: dict[str, set[str]] = {
    "sudo": {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"},
    "doas": {"-u", "-C"},
    "env": {"-u", "-C", "-S"},
    "nohup": set(), "time": set(), "command": set(), "builtin": set(), "exec": {"-a"},
    "nice": {"-n"}, "ionice": {"-c", "-n"}, "stdbuf": {"-i", "-o", "-e"},
    "timeout": {"-s", "-k"}, "xargs": {"-I", "-n", "-P", "-d", "-a", "-E", "-L", "-s"},
    "watch": {"-n"}, "chroot": set(), "setsid": set(), "unbuffer": set(),
}
ELEVATING = {"sudo", "doas", "su", "pkexec", "run0"}


class ShellParseError(ValueError):
    """The command line could not be parsed (unbalanced quotes or substitutions)."""


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
    """Commands joined by `|`: each one's output feeds the next."""

    commands: list[SimpleCommand]


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


def parse(command: str, _depth: int = 0) -> ParsedCommand:
    """Parse a command line. Raises `ShellParseError` on unbalanced quoting."""
    if _depth > 8:
        raise ShellParseError("command nests substitutions more than 8 levels deep")
    flat, subs, kinds = _extract_substitutions(command)
    parsed_subs = {i: parse(s, _depth + 1) for i, s in enumerate(subs)}
    lexer = shlex.shlex(flat, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise ShellParseError(f"cannot parse shell command: {exc}") from exc
    pipelines: list[Pipeline] = []
    current: list[SimpleCommand] = []
    words: list[str] = []

    def end_command() -> None:
        nonlocal words
        if words:
            current.append(_simple(words, parsed_subs, kinds, subs, _depth))
        words = []

    def end_pipeline() -> None:
        nonlocal current
        end_command()
        if current:
            pipelines.append(Pipeline(current))
        current = []

    for tok in tokens:
        if tok in SEPARATORS or tok in ("{", "}", "!") and not words:
            end_pipeline()
        elif tok in PIPES:
            end_command()
        else:
            words.append(tok)
    end_pipeline()
    return ParsedCommand(command, pipelines)


def _simple(words: list[str], subs: dict[int, ParsedCommand], kinds: dict[int, str],
            texts: list[str], depth: int) -> SimpleCommand:
    argv: list[str] = []
    redirects: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w.isdigit() and i + 1 < len(words) and words[i + 1] in REDIRECTS:
            i += 1  # a file-descriptor number before a redirection
            continue
        if w in REDIRECTS or w == "<<":
            target = words[i + 1] if i + 1 < len(words) else ""
            redirects.append((w, target))
            i += 2
            continue
        argv.append(w)
        i += 1
    assignments: list[str] = []
    while argv and ASSIGNMENT.match(argv[0]):
        assignments.append(argv.pop(0))
    wrappers: list[str] = []
    while argv and _basename(argv[0]) in WRAPPERS:
        name = _basename(argv.pop(0))
        wrappers.append(name)
        takes_value = WRAPPERS[name]
        while argv and (argv[0].startswith("-") or (name == "env" and ASSIGNMENT.match(argv[0]))):
            opt = argv.pop(0)
            if name == "env" and ASSIGNMENT.match(opt):
                assignments.append(opt)
            elif opt in takes_value and argv:
                argv.pop(0)
        if name == "timeout" and argv and re.match(r"^\d+(\.\d+)?[smhd]?$", argv[0]):
            argv.pop(0)
        if name in ("nice",) and argv and re.match(r"^-?\d+$", argv[0]):
            argv.pop(0)
    used = {int(m) for w in argv + [t for _, t in redirects] for m in PLACEHOLDER.findall(w)}
    cmd = SimpleCommand(argv=argv, assignments=assignments, redirects=redirects,
                        wrappers=wrappers, subs={i: subs[i] for i in used if i in subs},
                        proc_subs={i for i in used if kinds.get(i) == "proc"},
                        text={i: _shown(texts[i], kinds[i]) for i in used if i < len(texts)})
    script = _inline_script(cmd)
    if script is not None:
        cmd.nested = parse(script, depth + 1)
    return cmd


def _inline_script(cmd: SimpleCommand) -> str | None:
    """The script text of `sh -c '…'`, `eval …`, `su -c '…'`, if this command runs one."""
    prog, args = cmd.program, cmd.args
    if prog == "eval" and args:
        return cmd.word(" ".join(args))
    if prog in SHELLS | {"su"}:
        for i, a in enumerate(args[:-1]):
            if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
                return cmd.word(args[i + 1])
    return None


def _shown(inner: str, kind: str) -> str:
    return {"cmd": f"$({inner})", "tick": f"`{inner}`", "proc": f"<({inner})",
            "procout": f">({inner})"}.get(kind, inner)


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _extract_substitutions(s: str) -> tuple[str, list[str], dict[int, str]]:
    """Replace `$(…)`, backticks and `<(…)`/`>(…)` with placeholders, newlines with `;`,
    and drop here-document bodies; quoting is respected (nothing inside '…' is touched)."""
    out: list[str] = []
    subs: list[str] = []
    kinds: dict[int, str] = {}
    quote: str | None = None
    i, n = 0, len(s)
    pending_heredoc: list[str] = []

    def add(inner: str, kind: str) -> None:
        kinds[len(subs)] = kind
        out.append(f"__SUBST{len(subs)}__")
        subs.append(inner)

    while i < n:
        c = s[i]
        if quote == "'":
            out.append(c)
            if c == "'":
                quote = None
            i += 1
        elif c == "\\" and i + 1 < n:
            out.append(s[i:i + 2])
            i += 2
        elif c == "$" and s.startswith("$((", i):
            end = _matching(s, i + 2, "(", ")")
            out.append("0")  # arithmetic expansion: a number
            i = end + 2 if end + 1 < n and s[end + 1] == ")" else end + 1
        elif c == "$" and s.startswith("$(", i):
            end = _matching(s, i + 1, "(", ")")
            add(s[i + 2:end], "cmd")
            i = end + 1
        elif c == "`":
            end = s.find("`", i + 1)
            while end != -1 and s[end - 1] == "\\":
                end = s.find("`", end + 1)
            if end == -1:
                raise ShellParseError("cannot parse shell command: unclosed backtick")
            add(s[i + 1:end], "tick")
            i = end + 1
        elif quote is None and c in "<>" and s.startswith("(", i + 1):
            end = _matching(s, i + 1, "(", ")")
            add(s[i + 2:end], "proc" if c == "<" else "procout")
            i = end + 1
        elif quote is None and c in "'\"":
            quote = c
            out.append(c)
            i += 1
        elif quote == '"' and c == '"':
            quote = None
            out.append(c)
            i += 1
        elif quote is None and s.startswith("<<", i) and not s.startswith("<<<", i):
            m = re.match(r"<<-?\s*(['\"]?)(\w+)\1", s[i:])
            if m:
                pending_heredoc.append(m.group(2))
                out.append("<< heredoc")
                i += m.end()
            else:
                out.append(c)
                i += 1
        elif quote is None and c == "\n":
            out.append(" ; ")
            i += 1
            while pending_heredoc:  # skip the body up to its delimiter line
                delim = pending_heredoc.pop(0)
                m = re.compile(rf"^[ \t]*{re.escape(delim)}[ \t]*$", re.M).search(s, i)
                i = m.end() if m else n
        else:
            out.append(c)
            i += 1
    if quote is not None:
        raise ShellParseError(f"cannot parse shell command: unclosed {quote} quote")
    return "".join(out), subs, kinds


def _matching(s: str, start: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one at `start`, skipping quoted text."""
    depth, i, quote = 0, start, None
    while i < len(s):
        c = s[i]
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                i += 1
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellParseError(f"cannot parse shell command: unbalanced '{open_}' at char {start}")
