"""What a shell command does to files: the paths it reads, lists, writes and deletes, the
files it passes on or saves a download in, and the package manager it runs. Facts about a
parsed line (`harness.shell.parser`), located (`harness.shell.scope`) and resolved
(`harness.shell.paths`), for the policy to judge and the memory gate to compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from harness.shell.command import PLACEHOLDER, SimpleCommand
from harness.shell.inline_code import (
    CODE_CAPABILITIES,
    code_paths,
    deleted_paths,
    written_paths,
)
from harness.shell.parser import ShellParseError, inline_code, language, parse
from harness.shell.paths import PathRef, PathResolver
from harness.shell.scope import locate
from harness.shell.writes import (
    find_deletes,
    find_exec_commands,
    find_roots,
    listed_roots,
    option_value,
    output_paths,
    substituted_roots,
)

AccessMode = Literal["read", "list", "write", "delete"]
"""`list` is a look at names and metadata (`ls`, `stat`, `test -f`), not at contents."""

# Shell programs by what they do to their file arguments.
DELETERS = {"rm", "rmdir", "unlink", "shred", "srm", "wipe"}
WRITE_ALL = {"touch", "mkdir", "tee", "truncate", "mkfifo", "mknod", "fallocate"}
WRITE_AFTER_FIRST = {"chmod", "chown", "chgrp", "setfacl", "chattr"}
LISTERS = {"ls", "dir", "vdir", "cd", "pushd", "chdir", "stat", "du", "tree", "test", "[", "[[",
           "realpath", "readlink", "dirname", "basename", "lsattr", "exa", "eza", "namei",
           "getfacl", "for", "select"}
COPIERS = {"cp", "mv", "install", "ln", "rsync"}
EDITORS_IN_PLACE = {"sed", "perl", "ruby"}
DOWNLOADERS = {"curl", "wget", "fetch", "aria2c", "http", "https", "iwr", "lwp-download"}
INTERPRETERS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "ash", "busybox", "python",
                "python2", "python3", "perl", "ruby", "node", "php", "source", ".", "eval",
                "pwsh", "powershell", "osascript", "lua", "tclsh"}
STDIN_PATHS = PathRef("<paths read from stdin>", None, None)
INSTALLERS = {"pip", "pip3", "uv", "uvx", "npm", "npx", "yarn", "pnpm", "bun", "bunx", "gem",
              "poetry", "pipx", "cargo", "pdm", "composer"}
# Options whose value a program writes to, or authenticates with, rather than sends.
NOT_SENT = frozenset({"-o", "--output", "-O", "--output-document", "-i", "--identity", "-E",
                      "--cert", "--key", "--cacert", "--capath"})


@dataclass
class Access:
    """One path a call would touch, and how."""

    path: PathRef
    mode: AccessMode
    via: str


def changed_paths(command: str, resolver: PathResolver) -> list[str]:
    """The paths a shell command writes or deletes, as written (for checks that compare
    paths themselves, as the memory gate does); none when the command cannot be parsed."""
    try:
        parsed = parse(command)
    except ShellParseError:
        return []
    locate(parsed, resolver)
    return [a.path.raw for cmd in parsed.walk() for a in shell_accesses(cmd, resolver)
            if a.mode in ("write", "delete") and a.path is not STDIN_PATHS]


def shell_accesses(cmd: SimpleCommand, resolver: PathResolver) -> list[Access]:
    """The paths one simple command reads, writes or deletes."""
    out: list[Access] = []
    prog, pos = cmd.program, cmd.positionals()

    def add(raw: str, mode: AccessMode) -> None:
        if not raw or "://" in raw or raw == "-":
            return
        sub = PLACEHOLDER.fullmatch(raw)
        roots = substituted_roots(cmd.subs[int(sub[1])]) if sub and int(
            sub[1]) in cmd.subs else None
        for word in roots if roots is not None else [cmd.output_word(raw)]:
            out.extend(Access(ref, mode, prog or "redirect")
                       for ref in resolver.resolve_all(word, cmd.scope))

    for op, target in cmd.redirects:
        if op in (">", ">>", "&>", "&>>", ">|", "<>"):
            add(target, "write")
        elif op in ("<", "<>"):
            add(target, "read")
    written: set[str] = set()
    if prog in DELETERS:
        written.update(pos)
        for p in pos:
            add(p, "delete")
        if "xargs" in cmd.wrappers:
            piped = piped_paths(cmd)
            if piped is None:
                out.append(Access(STDIN_PATHS, "delete", prog))
            for p in piped or []:
                add(p, "delete")
    elif prog in WRITE_ALL:
        written.update(pos)
        for p in pos:
            add(p, "write")
    elif prog in WRITE_AFTER_FIRST and pos:
        # the mode comes first (`chmod +x f`), unless written as an option (`chattr -i f`)
        dashed_mode = any(re.fullmatch(r"-[A-Za-z]+", a) for a in cmd.args)
        files = pos if dashed_mode and prog in ("chmod", "chattr") else pos[1:]
        written.update(files)
        for p in files:
            add(p, "write")
    elif prog in COPIERS and pos:
        dest = option_value(cmd, "-t", "--target-directory") or pos[-1]
        written.add(dest)
        add(dest, "write")
        if prog == "mv":
            for p in pos[:-1]:
                add(p, "delete")
                written.add(p)
    elif prog in EDITORS_IN_PLACE and any(f.startswith("-i") for f in cmd.args):
        scripts = {a for i, a in enumerate(cmd.args[1:])
                   if cmd.args[i] in ("-e", "--expression", "-f", "--file")}
        files = [p for p in pos if p not in scripts] if scripts else pos[1:]
        written.update(files)
        for p in files:
            add(p, "write")
    elif prog == "dd":
        for a in cmd.args:
            if a.startswith("of="):
                add(a[3:], "write")
            elif a.startswith("if="):
                add(a[3:], "read")
    elif prog == "find" and find_deletes(cmd):
        for p in find_roots(cmd):
            add(p, "delete")
            written.add(p)
    elif prog == "git" and cmd.args[:1] == ["config"] and "--global" in cmd.args:
        add("~/.gitconfig", "write")
    elif prog == "crontab" and not {"-l"} & cmd.flags():
        add("/var/spool/cron/crontabs", "write")
    elif prog in ("systemctl", "service", "launchctl", "update-rc.d", "chkconfig") and pos:
        if pos[0] not in ("status", "list-units", "show", "is-active", "cat", "list"):
            add("/etc/systemd/system", "write")
    elif prog in ("useradd", "userdel", "usermod", "passwd", "chpasswd", "visudo", "mount",
                  "umount", "modprobe", "insmod", "sysctl", "iptables", "ufw", "setenforce"):
        add("/etc", "write")
    for raw in output_paths(package_manager(cmd) or cmd):
        written.add(raw)
        add(raw, "write")
    if prog == "find":
        for sub in find_exec_commands(cmd):
            out += shell_accesses(sub, resolver)
    looks: AccessMode = "list" if prog in LISTERS else "read"
    for raw in read_candidates(cmd):
        if raw not in written:
            add(raw, looks)
    if "xargs" in cmd.wrappers and prog not in DELETERS:
        for raw in piped_paths(cmd) or []:  # `find ~/.ssh | xargs cat`
            add(raw, looks)
    code = inline_code(cmd)
    if code:
        mode: AccessMode = "delete" if CODE_CAPABILITIES["delete files"].search(code) else "read"
        for raw in code_paths(code):
            add(raw, mode)
        for raw in written_paths(code):
            add(raw, "write")
        for raw in deleted_paths(code) or []:
            add(raw, "delete")
    return out


def given_files(cmd: SimpleCommand) -> list[str]:
    """Files whose content a command may pass on to whatever it talks to: its arguments
    (not the destination of a copy from a remote host, nor options naming an output or a
    key to log in with), its `< file`, what the commands piped into it read, and the paths
    its inline code names."""
    words = read_candidates(cmd, NOT_SENT)
    pos = cmd.positionals()
    if pos and not is_remote(pos[-1]) and any(is_remote(p) for p in pos):
        words = [w for w in words if w != pos[-1]]
    words = [cmd.word(w) for w in words + _stdin_files(cmd) if not is_remote(w)]
    feeder = cmd.upstream
    while feeder is not None:
        words += [feeder.word(w) for w in read_candidates(feeder) + _stdin_files(feeder)]
        feeder = feeder.upstream
    return words + code_paths(inline_code(cmd) or "")


def download_files(cmd: SimpleCommand) -> list[str]:
    """Files a command would save a download in: its stdout redirects, `tee` files, and a
    downloader's `-o` (wget: `-O`) value or else the URL's file name (`curl -O`, `wget`)."""
    files = [t for op, t in cmd.redirects if op in (">", ">>", ">|", "&>", "&>>")]
    files += cmd.positionals() if cmd.program == "tee" else []
    if cmd.program in DOWNLOADERS:
        wget = cmd.program == "wget"
        named = option_value(cmd, *(("-O", "--output-document") if wget else ("-o", "--output")))
        if named:
            files.append(named)
        elif wget or "-O" in cmd.flags() or "--remote-name" in cmd.args:
            files += [_url_file_name(u) for u in cmd.positionals() if "://" in u]
    return [cmd.word(f) for f in files]


def package_manager(cmd: SimpleCommand) -> SimpleCommand | None:
    """The package manager a command runs: itself, or the module of `python -m pip …`."""
    if cmd.program in INSTALLERS:
        return cmd
    args = cmd.args
    if language(cmd.program) == "python" and "-m" in args[:-1]:
        module = args[args.index("-m") + 1:]
        if module[0] in INSTALLERS:
            return SimpleCommand(argv=module, text=cmd.text, scope=cmd.scope)
    return None


def is_remote(arg: str) -> bool:
    """A URL or a `host:path` remote copy spec."""
    return bool(re.match(r"^([\w.-]+@)?[\w.-]+:(?!//)", arg)) or "://" in arg


def read_candidates(cmd: SimpleCommand, skip: frozenset[str] = frozenset()) -> list[str]:
    """Arguments that may name files the command reads (liberal: used to spot secrets),
    leaving out the values of the options in `skip`."""
    out: list[str] = []
    after_skipped = False
    for a in cmd.args:
        if after_skipped or a in skip:
            after_skipped = a in skip
            continue
        if "://" in a or a.split("=", 1)[0] in skip:
            continue
        if a.startswith("@"):
            out.append(a[1:])
        elif a.startswith("-") and "=" in a:
            out.append(a.split("=", 1)[1])
        elif "=" in a and a.split("=", 1)[0] in ("if", "file", "src"):
            out.append(a.split("=", 1)[1])
        elif "=@" in a:
            out.append(a.split("=@", 1)[1])
        elif not a.startswith("-"):
            out.append(a)
    return out


def piped_paths(cmd: SimpleCommand) -> list[str] | None:
    """The folders holding the paths an `xargs`-run command reads on stdin: the roots of
    the lister before it (`find`, `git ls-files`, `grep -l`, ...); None when they cannot
    be known."""
    return listed_roots(cmd.upstream) if cmd.upstream is not None else None


def _stdin_files(cmd: SimpleCommand) -> list[str]:
    return [t for op, t in cmd.redirects if op == "<"]


def _url_file_name(url: str) -> str:
    return re.split(r"[?#]", url)[0].rstrip("/").rsplit("/", 1)[-1]
