"""What a tool call would do: the paths it reads, writes and deletes, the commands it runs,
the URLs it contacts. Policies and protections decide over these facts, not over strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from harness.governance.destinations import (
    EMAIL,
    HOST_IN_TEXT,
    RECIPIENT_ARGS,
    URL,
    Destination,
    TrustedText,
    classify,
    from_arguments,
    from_command,
)
from harness.governance.inline_code import (
    CODE_CAPABILITIES,
    code_paths,
    deleted_paths,
    written_paths,
)
from harness.governance.paths import PathRef, PathResolver
from harness.governance.provenance import Provenance
from harness.governance.scope import locate
from harness.governance.shell import (
    PLACEHOLDER,
    ParsedCommand,
    ShellParseError,
    SimpleCommand,
    inline_code,
    language,
    parse,
)
from harness.governance.writes import (
    FIND_TESTS,
    find_deletes,
    find_exec_commands,
    find_roots,
    find_selects_all,
    listed_roots,
    output_paths,
    substituted_roots,
)
from harness.governance.writes import option_value as _option_value
from harness.messages import ToolCall

__all__ = ["FIND_TESTS", "find_deletes", "find_roots", "find_selects_all"]

ToolKind = Literal["read", "write", "shell", "network", "egress", "other"]
AccessMode = Literal["read", "list", "write", "delete"]
"""`list` is a look at names and metadata (`ls`, `stat`, `test -f`), not at contents."""

DEFAULT_TOOL_KINDS: dict[str, ToolKind] = {
    "read_file": "read", "list_dir": "read", "search_files": "read", "search": "read",
    "web_search": "read", "grep": "read", "glob": "read", "view": "read", "cat": "read",
    "write_file": "write", "edit_file": "write", "create_file": "write", "delete_file": "write",
    "move_file": "write", "append_file": "write", "mkdir": "write", "apply_patch": "write",
    "run_shell": "shell", "bash": "shell", "shell": "shell", "exec": "shell",
    "run_command": "shell", "terminal": "shell", "execute_command": "shell",
    "http_get": "network", "fetch": "network", "web_fetch": "network", "browse": "network",
    "send_email": "egress", "http_post": "egress", "http_request": "egress",
    "upload_file": "egress", "send_message": "egress", "post_message": "egress",
}
PATH_ARGS = ("path", "file", "file_path", "filename", "filepath", "src", "dst", "source",
             "destination", "target", "dir", "directory", "old_path", "new_path", "paths")
COMMAND_ARGS = ("command", "cmd", "script", "commands")
# A tool whose name starts with one of these verbs sends something to someone.
EGRESS_VERBS = {"send", "post", "share", "transfer", "upload", "publish", "forward", "reply",
                "invite", "pay", "wire", "email", "mail", "message", "tweet", "broadcast",
                "notify", "dm", "sms", "remit", "donate", "refund"}
# ... and one with one of these words does not, whatever its arguments.
NOT_SENDING = {"delete", "remove", "cancel", "revoke", "read", "list", "search", "get", "find",
               "view", "show", "check", "lookup", "query", "fetch", "download"}
SENDING_PROGRAMS = {"curl", "wget", "http", "https", "scp", "sftp", "rsync", "ftp", "tftp",
                    "lftp", "rclone", "smbclient", "mail", "mailx", "sendmail", "mutt", "msmtp",
                    "swaks"}
URL_ARGS = ("url", "uri", "endpoint", "href")

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
HOME_WRITES = {("git", "config", "--global"), ("git", "config", "--system"),
               ("npm", "config", "set"), ("pip", "config", "set"), ("gh", "auth", "login")}
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


@dataclass
class ActionFacts:
    """Everything the policy knows about a tool call, derived once per call."""

    call: ToolCall
    kind: ToolKind
    accesses: list[Access] = field(default_factory=list)
    command: ParsedCommand | None = None
    urls: list[str] = field(default_factory=list)
    parse_error: str | None = None
    destinations: list[Destination] = field(default_factory=list)
    trusted: TrustedText = field(default_factory=TrustedText)
    """What the user named: the Agent's task and configured destinations (never tool output)."""
    sources: Provenance | None = None
    """The outputs of calls the task designated, which vouch for the addresses they name."""
    known_names: bool = True
    """Whether a channel or user name that earlier output showed counts as a member of the
    system the tool acts on (see `harness.governance.provenance`)."""

    @property
    def tool(self) -> str:
        return self.call.name

    @property
    def args(self) -> dict[str, Any]:
        return self.call.arguments

    def commands(self) -> list[SimpleCommand]:
        return list(self.command.walk()) if self.command else []

    def paths(self, *modes: AccessMode) -> list[PathRef]:
        return [a.path for a in self.accesses if not modes or a.mode in modes]

    @cached_property
    def vouchers(self) -> dict[Destination, str | None]:
        """Why each destination may receive data without asking — "named" (by the task or
        the configuration), "source: CALL" (in the output of a call the task designated) or
        "known: CALL" (a name the tool's system showed in that call's output) — or None.
        Worked out once per call: several rules ask, and finding a known name scans outputs."""
        return {d: self._voucher(d) for d in self.destinations}

    def _voucher(self, dest: Destination) -> str | None:
        if self.trusted.names(dest):
            return "named"
        if self.sources is None:
            return None
        label = self.sources.source_of(dest)
        if label is not None:
            return f"source: {label}"
        if self.known_names and plain_name(dest.value):
            label = self.sources.known_name(dest)
            if label is not None:
                return f"known: {label}"
        return None


def plain_name(value: str) -> bool:
    """A name a system can resolve (`general`, `Alice Smith`, `External_0`): short, a few
    words, no address or link inside it. Anything longer is text, not a name."""
    words = value.split()
    return 0 < len(words) <= 4 and len(value) <= 64 and not (
        EMAIL.search(value) or URL.search(value) or HOST_IN_TEXT.search(value))


def tool_kind(name: str, overrides: dict[str, ToolKind] | None = None) -> ToolKind:
    """A tool's kind from its name: configured, known, or read off its leading verb."""
    if overrides and name in overrides:
        return overrides[name]
    if name in DEFAULT_TOOL_KINDS:
        return DEFAULT_TOOL_KINDS[name]
    words = _words(name)
    if words and words[0] in EGRESS_VERBS:
        return "egress"
    low = name.lower()
    if re.search(r"(write|edit|delete|remove|move|rename|create|update|patch|append)", low):
        return "write"
    if re.search(r"(read|list|search|get|find|view|show|open)", low):
        return "read"
    return "other"


def analyse(call: ToolCall, resolver: PathResolver,
            kinds: dict[str, ToolKind] | None = None,
            trusted: TrustedText | None = None, *, sources: Provenance | None = None,
            known_names: bool = True) -> ActionFacts:
    """Derive the facts of a call: its kind, the paths it touches, its parsed command, the
    destinations it sends to, what the user named (`trusted`) and pointed to (`sources`)."""
    kind = tool_kind(call.name, kinds)
    if kind in ("write", "other") and not (kinds and call.name in kinds) and _sends_to(call):
        kind = "egress"  # e.g. create_event(participants=...), schedule_payment(iban=...)
    facts = ActionFacts(call=call, kind=kind, trusted=trusted or TrustedText(), sources=sources,
                        known_names=known_names)
    mode: AccessMode = "write" if kind == "write" else "read"
    if kind == "write" and re.search(r"(delete|remove)", call.name):
        mode = "delete"
    for key in PATH_ARGS:
        value = call.arguments.get(key)
        for raw in value if isinstance(value, list) else [value]:
            if isinstance(raw, str) and raw:
                facts.accesses.append(Access(resolver.resolve(raw), mode, call.name))
    for key in URL_ARGS:
        if isinstance(call.arguments.get(key), str):
            facts.urls.append(call.arguments[key])
    if kind == "shell":
        text = next((call.arguments[k] for k in COMMAND_ARGS
                     if isinstance(call.arguments.get(k), str)), None)
        if text is not None:
            try:
                facts.command = parse(text)
            except ShellParseError as exc:
                facts.parse_error = str(exc)
            else:
                locate(facts.command, resolver)
                for cmd in facts.command.walk():
                    facts.accesses += shell_accesses(cmd, resolver)
                    facts.urls += [a for a in cmd.args if "://" in a]
                    if cmd.program in SENDING_PROGRAMS:
                        facts.destinations += from_command(cmd)
    if kind == "egress":
        facts.destinations = from_arguments(call.arguments)
    return facts


def _sends_to(call: ToolCall) -> bool:
    """Does a call that is not a read or a delete name a recipient among its arguments?"""
    if NOT_SENDING & set(_words(call.name)) or any(k in call.arguments for k in PATH_ARGS):
        return False
    if any(k.lower() in RECIPIENT_ARGS and v for k, v in call.arguments.items()):
        return True
    to = call.arguments.get("to")
    return isinstance(to, str) and classify("to", to).shape != "name"


def _words(name: str) -> list[str]:
    """`sendMoney`, `send_money`, `send-money` -> ['send', 'money']."""
    return re.findall(r"[a-z]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())


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
        dest = _option_value(cmd, "-t", "--target-directory") or pos[-1]
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
        named = _option_value(cmd, *(("-O", "--output-document") if wget else ("-o", "--output")))
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
