"""Parse a shell command line into the simple commands it would run.

Policies match commands by what they *do*, not by substrings: `a; b`, `a && b`, `a || b`,
pipelines, `$(…)`, backticks, `<(…)`, `sh -c '…'`, `eval`, wrappers such as `sudo`,
`env X=1`, `timeout 5` and `xargs`, quoting and redirections are all taken apart here with
`shlex`, recursively, so a rule sees every program that would start. So are scripts fed to a
shell on stdin when the line spells them out (`echo '…' | sh`, `bash <<< '…'`, here-documents)
and command lines that inline interpreter code hands to `system()`, `exec` or `subprocess`.
Escapes are decoded first (`$'\\x72m'`, `printf '\\162m' | sh`; see `escapes`); reserved
words (`then rm …`, `do rm …`) and function definitions (`f() { rm …; }`) are read past, the
body as if it ran where it is defined; a script the line writes and then runs
(`printf '…' > x.sh && sh x.sh`) is read as its commands; the output of a `( … )` or a loop
piped on feeds the next command; each pipeline records the subshells it runs in, for
`harness.shell.scope` to follow `cd`.
"""

from __future__ import annotations

import re
import shlex

from harness.shell.command import (
    ASSIGNMENT,
    PLACEHOLDER,
    ParsedCommand,
    Pipeline,
    SimpleCommand,
    printed_text,
    stdin_text,
)
from harness.shell.substitutions import ShellParseError, extract_substitutions

__all__ = ["ShellParseError", "parse"]

SEPARATORS = {";", "&&", "||", "&", "(", ")", ";;", "\n"}
PIPES = {"|", "|&"}
REDIRECTS = {">", ">>", "<", ">&", "<&", "&>", "&>>", ">|", "<>", "<<<"}
OPERATORS = SEPARATORS | PIPES | REDIRECTS | {"<<", "()"}
OPERATORS_LONGEST_FIRST = sorted(OPERATORS - {"\n"}, key=len, reverse=True)
PUNCTUATION = re.compile(r"[;&|<>()]+")
HEREDOC = re.compile(r"^__HEREDOC(\d+)__$")
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "ash", "busybox"}
# Interpreters that take a program inline: language -> the short options that carry it.
CODE_OPTIONS = {"python": "c", "perl": "eE", "ruby": "e", "node": "ep", "bun": "e", "php": "r",
                "lua": "e"}
LANGUAGE = re.compile(r"^(python|perl|ruby|node|bun|php|lua)[\d.]*$|^[gmn]?(awk)$")
# Calls by which code runs a command line (Python, Perl, Ruby, PHP, Node, awk).
EXEC_CALL = re.compile(r"\bsubprocess\b|\bos\.(system|popen|exec\w*|spawn\w*)|\bsystem\s*\(|"
                       r"\bexec(Sync|File\w*)?\s*\(|\bspawn(Sync)?\s*\(|\bchild_process\b|"
                       r"\bpopen\b|\bshell_exec\b|\bpassthru\b|\bproc_open\b|\bpty\.spawn\b|"
                       r"\bIO\.popen\b|%x\{|\bqx\s*[({/]|`", re.I)
STRING = re.compile(r"'([^'\\]*(?:\\.[^'\\]*)*)'|\"([^\"\\]*(?:\\.[^\"\\]*)*)\"")
STRING_LIST = re.compile(r"\[\s*(?:'[^']*'|\"[^\"]*\")(?:\s*,\s*(?:'[^']*'|\"[^\"]*\"))*\s*,?\s*\]")

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
# Reserved words that open or continue a compound command: what follows is a command.
LEADING_KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "!"}
CLOSING_KEYWORDS = {"fi", "done", "esac", "}"}


def parse(command: str, _depth: int = 0) -> ParsedCommand:
    """Parse a command line. Raises `ShellParseError` on unbalanced quoting."""
    if _depth > 8:
        raise ShellParseError("command nests substitutions more than 8 levels deep")
    flat, subs, kinds, heredocs = extract_substitutions(command)
    parsed_subs = {i: parse(s, _depth + 1) for i, s in enumerate(subs)}
    lexer = shlex.shlex(flat, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    lexer.commenters = ""  # comments were taken out with the substitutions
    try:
        tokens = [op for tok in lexer for op in _operators(tok)]
    except ValueError as exc:
        raise ShellParseError(f"cannot parse shell command: {exc}") from exc
    pipelines: list[Pipeline] = []
    current: list[SimpleCommand] = []
    words: list[str] = []
    group: list[int] = []
    opened = 0
    closed: SimpleCommand | None = None  # the last command of a `( … )` or `{ …; }` just closed
    piped_group: SimpleCommand | None = None  # … when its output is piped on: `(env) | curl`

    def end_command() -> None:
        nonlocal words, piped_group
        if words:
            upstream = current[-1] if current else piped_group
            current.append(_simple(words, parsed_subs, kinds, subs, heredocs, upstream, _depth))
            piped_group = None
        words = []

    def end_pipeline() -> None:
        nonlocal current
        end_command()
        if current:
            pipelines.append(Pipeline(current, tuple(group)))
        current = []

    for tok in tokens:
        if tok == "()" or tok == "{" and words[:1] == ["function"]:
            words = []  # `f() {` / `function f {`: the body is read as if it ran here
            end_pipeline()
        elif tok in SEPARATORS or tok in ("{", "}", "!") and not words:
            end_pipeline()
            if tok == "(":
                opened += 1
                group.append(opened)
            elif tok == ")" and group:
                group.pop()
            closed = pipelines[-1].commands[-1] if tok in (")", "}") and pipelines else None
            continue
        elif tok in PIPES:
            if len(words) == 1 and words[0] in CLOSING_KEYWORDS and not current and pipelines:
                words, closed = [], pipelines[-1].commands[-1]  # `done | curl …`
            piped_group = closed if not words and not current else None
            end_command()
        elif not words and tok in LEADING_KEYWORDS:
            continue  # `then rm …`, `do rm …`: the command is what follows
        else:
            words.append(tok)
        closed = None
    end_pipeline()
    _run_written_scripts(pipelines, _depth)
    return ParsedCommand(command, pipelines)


def _run_written_scripts(pipelines: list[Pipeline], depth: int) -> None:
    """`printf '…' > x.sh && sh x.sh`: a script the line writes with known text and then
    runs (by a shell, `source`, or its path) is read as the commands it holds."""
    written: dict[str, str] = {}
    for cmd in (c for p in pipelines for c in p.commands):
        script = _script_file(cmd)
        if script in written and cmd.nested is None:  # unparsable: the whole line is
            cmd.nested = parse(written[script], depth + 1)
        text = printed_text(cmd)
        for op, target in cmd.redirects:
            if op in (">", ">>", ">|") and text is not None:
                key = _file_key(cmd.word(target))
                written[key] = written.get(key, "") + text if op == ">>" else text


def _script_file(cmd: SimpleCommand) -> str | None:
    pos = cmd.positionals()
    if cmd.program in SHELLS | {"source", "."} and pos and not _inline_script(cmd):
        return _file_key(cmd.word(pos[0]))
    if cmd.argv and "/" in cmd.argv[0]:
        return _file_key(cmd.word(cmd.argv[0]))
    return None


def _file_key(word: str) -> str:
    return re.sub(r"^(\./)+", "", word)


def _operators(token: str) -> list[str]:
    """shlex runs operators together (`&&(`, `);`, `|(`): split them as bash does, longest
    first."""
    if token in OPERATORS or not PUNCTUATION.fullmatch(token):
        return [token]
    out, i = [], 0
    while i < len(token):
        op = next(o for o in OPERATORS_LONGEST_FIRST if token.startswith(o, i))
        out.append(op)
        i += len(op)
    return out


def _simple(words: list[str], subs: dict[int, ParsedCommand], kinds: dict[int, str],
            texts: list[str], heredocs: list[str], upstream: SimpleCommand | None,
            depth: int) -> SimpleCommand:
    argv: list[str] = []
    redirects: list[tuple[str, str]] = []
    if words[0] in CLOSING_KEYWORDS:
        words = words[1:]  # `done < list`: the redirections apply to the loop
    i = 0
    while i < len(words):
        w = words[i]
        if w.isdigit() and i + 1 < len(words) and words[i + 1] in REDIRECTS:
            i += 1  # a file-descriptor number before a redirection
            continue
        if w in REDIRECTS or w == "<<":
            target = words[i + 1] if i + 1 < len(words) else ""
            body = HEREDOC.match(target) if w == "<<" else None
            redirects.append((w, heredocs[int(body.group(1))] if body else target))
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
    used = {int(m) for w in argv + assignments + [t for _, t in redirects]
            for m in PLACEHOLDER.findall(w)}
    cmd = SimpleCommand(argv=argv, assignments=assignments, redirects=redirects,
                        wrappers=wrappers, subs={i: subs[i] for i in used if i in subs},
                        proc_subs={i for i in used if kinds.get(i) == "proc"},
                        text={i: _shown(texts[i], kinds[i]) for i in used if i < len(texts)},
                        upstream=upstream)
    cmd.nested = _nested(cmd, depth + 1)
    return cmd


def _nested(cmd: SimpleCommand, depth: int) -> ParsedCommand | None:
    """The commands a command runs as a script: `sh -c`, `eval`, a script on a shell's
    stdin, or the command lines in interpreter code that runs commands."""
    script = _inline_script(cmd)
    if script is not None:
        return parse(script, depth)
    lines = embedded_commands(inline_code(cmd) or "")
    parsed = []
    for line in lines:
        try:
            parsed.append(parse(line, depth))
        except ShellParseError:
            continue  # a string that is not a command line
    pipelines = [p for sub in parsed for p in sub.pipelines]
    return ParsedCommand("\n".join(lines), pipelines) if pipelines else None


def _inline_script(cmd: SimpleCommand) -> str | None:
    """The script text of `sh -c '…'`, `eval …`, `su -c '…'`, if this command runs one."""
    prog, args = cmd.program, cmd.args
    if prog == "eval" and args:
        return " ".join(map(cmd.output_word, args))
    if prog in SHELLS | {"su"}:
        for i, a in enumerate(args[:-1]):
            if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
                return cmd.output_word(args[i + 1])
    pos = cmd.positionals()
    proc = PLACEHOLDER.fullmatch(pos[0]) if pos and prog in SHELLS | {"source", "."} else None
    if proc and int(proc[1]) in cmd.proc_subs:  # `bash <(printf '…')`
        return cmd.output_of(int(proc[1]))
    if prog in SHELLS | {"source", "."} and pos[:1] == ["/dev/stdin"]:
        return stdin_text(cmd)
    if prog in SHELLS and reads_program_from_stdin(cmd):
        return stdin_text(cmd)
    return None


def reads_program_from_stdin(cmd: SimpleCommand) -> bool:
    """A shell or interpreter given no script file (or `-`, or `sh -s`) reads it on stdin."""
    pos = cmd.positionals()
    return not pos or pos[0] == "-" or (cmd.program in SHELLS and "-s" in cmd.flags())


def language(program: str) -> str | None:
    """The language an interpreter runs (`python3.12` -> `python`), or None."""
    m = LANGUAGE.match(program)
    return (m.group(1) or m.group(2)) if m else None


def inline_code(cmd: SimpleCommand) -> str | None:
    """The program text an interpreter runs from its command line (`python -c`, `perl -e`,
    `node -e`, an awk program) or from a spelled-out stdin; None if there is none."""
    lang = language(cmd.program)
    if lang == "awk":
        code = _awk_program(cmd.args)
    elif lang is not None:
        code = _code_argument(cmd.args, CODE_OPTIONS[lang])
        if code is None and reads_program_from_stdin(cmd):
            return stdin_text(cmd)
    else:
        return None
    return cmd.word(code) if code is not None else None


def string_literals(code: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in STRING.finditer(code)]


def embedded_commands(code: str) -> list[str]:
    """Command lines that code able to run commands may run: each string literal, and each
    list of string literals (`["rm", "-rf", "x"]`) as one command line."""
    if not EXEC_CALL.search(code):
        return []
    lists = [shlex.join(string_literals(m.group(0))) for m in STRING_LIST.finditer(code)]
    return lists + string_literals(STRING_LIST.sub(" ", code))


def _code_argument(args: list[str], letters: str) -> str | None:
    """The word after `-c` (`letters` name the options), a cluster ending in one
    (`perl -ne`), or `--eval`/`--print`."""
    for i, a in enumerate(args[:-1]):
        if a in ("--eval", "--print") or re.fullmatch(rf"-[A-Za-z]*[{letters}]", a):
            return args[i + 1]
    return None


def _awk_program(args: list[str]) -> str | None:
    """An awk program is its first operand, unless it comes from a file (`-f`)."""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-f" or a.startswith("--file"):
            return None
        if a in ("-F", "-v"):
            i += 2
            continue
        if not a.startswith("-"):
            return a
        i += 1
    return None


def _shown(inner: str, kind: str) -> str:
    return {"cmd": f"$({inner})", "tick": f"`{inner}`", "proc": f"<({inner})",
            "procout": f">({inner})"}.get(kind, inner)


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]
