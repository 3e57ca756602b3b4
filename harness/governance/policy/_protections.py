"""Built-in checks over a call's facts: each returns a reason when it holds, else None.

Rules name these checks (`check = "download-exec"`); the built-in protections are rules
over them that every mode but `full` puts after the user's own rules. The checks on what
a call sends out live in `sending`; what inline interpreter code can do, in `inline_code`;
git commands that throw work away or set keys that run commands, in `git_commands`; deletes
of files holding uncommitted work, in `uncommitted`; CLIs that print credentials, in
`credential_commands`. Paths resolve in the folder and with the variables each command runs
with (`scope`): `cd .. && rm -rf x` deletes `../x`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from pathlib import Path

from harness.governance.commands._credentials import prints_credentials
from harness.governance.commands._git import destroys as git_destroys
from harness.governance.commands._git import rewrites_shared_history
from harness.governance.commands._git import runs_commands as git_runs_commands
from harness.governance.commands._uncommitted import deletes_work
from harness.governance.policy._facts import ActionFacts
from harness.governance.policy._sending import (
    egress,
    exfiltration,
    known_name,
    sending,
    task_destination,
    task_source,
)
from harness.shell.accesses import DOWNLOADERS, INTERPRETERS, download_files, package_manager
from harness.shell.command import SimpleCommand, stdin_text
from harness.shell.globs import expand_braces, glob_folder
from harness.shell.inline_code import code_capabilities_unknown, deleted_paths
from harness.shell.parser import SHELLS, inline_code, language, reads_program_from_stdin
from harness.shell.paths import PathResolver
from harness.shell.writes import (
    archives_read,
    bind_sources,
    container_privilege,
    extract_dir,
    find_deletes,
    find_roots,
    find_selects_all,
)

Check = Callable[[ActionFacts, PathResolver], str | None]

DECODERS = {("base64", "-d"), ("base64", "--decode"), ("base64", "-D"), ("xxd", "-r"),
            ("openssl", "-d"), ("uudecode", ""), ("rev", ""), ("gunzip", ""), ("zcat", "")}
DEVICE = re.compile(r"^/dev/(sd|hd|nvme|xvd|vd|disk|mmcblk|md|dm-|loop|mapper/)")
FORK_BOMB = re.compile(r"(\S+)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&[^}]*\}")
SQL_DESTRUCTIVE = re.compile(r"\b(DROP\s+(TABLE|DATABASE|SCHEMA)|TRUNCATE\s+|DELETE\s+FROM\s+\w+"
                             r"\s*;?\s*$|FLUSHALL|FLUSHDB|dropDatabase)", re.I)
# Infrastructure, cloud and database CLIs -> their verbs that delete (globs), matched
# wherever they stand among the arguments (`kubectl -n prod delete …`).
DESTRUCTIVE_VERBS: dict[str, tuple[str, ...]] = {
    "kubectl": ("delete",), "oc": ("delete",), "helm": ("uninstall", "delete"),
    "terraform": ("destroy", "-destroy"), "pulumi": ("destroy",), "eksctl": ("delete",),
    "aws": ("rm", "rb", "delete-*", "terminate-*"), "gcloud": ("delete",),
    "gsutil": ("rm", "rb"), "az": ("delete",), "doctl": ("delete",), "gh": ("delete",),
    "heroku": ("*:destroy", "pg:reset"), "fly": ("destroy",), "flyctl": ("destroy",),
    "docker": ("prune",), "redis-cli": ("flushall", "flushdb"), "mysqladmin": ("drop",),
}
DATABASE_DROPPERS = {"dropdb", "dropuser"}
DATABASE_CLIENTS = {"psql", "mysql", "mariadb", "sqlite3", "mongo", "mongosh", "redis-cli",
                    "clickhouse-client", "cqlsh", "sqlcmd", "duckdb"}
RECURSIVE = {"-r", "-R", "--recursive"}
VCS_HISTORY = {".git", ".git/objects", ".git/refs", ".hg", ".svn"}
"""Folders whose deletion loses a repository's history."""
# Programs that read whole folders (archivers, copiers, recursive searches): given the home,
# they read the credentials in it.
WHOLE_FOLDER_READERS = {"tar", "bsdtar", "gtar", "zip", "7z", "7za", "rsync", "rclone", "cp",
                        "scp", "grep", "egrep", "fgrep", "rg", "ag", "ack", "find", "cpio",
                        "restic", "borg", "duplicity", "gsutil", "aws", "az", "gcloud", "ln"}
DISK_TOOLS = {"mkfs", "wipefs", "fdisk", "sfdisk", "parted", "mkswap", "gdisk", "sgdisk",
              "blkdiscard", "hdparm"}
POWER = {"shutdown", "reboot", "halt", "poweroff"}
SOURCE_OPTIONS = {"--index-url", "--extra-index-url", "--trusted-host", "--registry",
                  "--find-links", "--index", "--default-index", "--git", "--source"}
PIP_SOURCE_FLAGS = {"-i", "-f"}  # pip's short --index-url and --find-links
GLOBAL_FLAGS = {"-g", "--global", "--user", "--system"}
REMOTE_SOURCE = re.compile(r"^(git\+|git://|git@|ssh://|https?://|github:|gitlab:|bitbucket:)")


def write_outside(facts: ActionFacts, res: PathResolver) -> str | None:
    for a in facts.accesses:
        if a.mode in ("write", "delete") and a.path.inside is False and not res.is_scratch(a.path):
            return f"{a.via} would {a.mode} {a.path.resolved}, outside the workspace"
    return None


def unknown_write(facts: ActionFacts, res: PathResolver) -> str | None:
    if res.sandboxed:  # the kernel bounds where it can write; nothing to ask about
        return None
    for a in facts.accesses:
        if a.mode in ("write", "delete") and not a.path.known and not res.within(a.path):
            return f"{a.via} would {a.mode} '{a.path.raw}', which cannot be resolved"
    return None


def credential_read(facts: ActionFacts, res: PathResolver) -> str | None:
    """A credential read, written or deleted (a listing of names is not a read; a glob
    counts when it could read one), or a command that prints credentials."""
    for a in facts.accesses:
        if a.mode != "list" and res.is_credential(a.path, reading=a.mode == "read",
                                                  whole=a.via in WHOLE_FOLDER_READERS):
            return f"{a.via} would access credentials at {a.path.resolved or a.path.pattern}"
    for cmd in facts.commands():
        found = prints_credentials(cmd, res)
        if found:
            return found
    return None


def git_internals(facts: ActionFacts, res: PathResolver) -> str | None:
    """A change to what git executes or trusts later: its hooks, its config file, or a
    setting whose value git runs as a command (`core.fsmonitor`, `alias.x=!…`)."""
    for a in facts.accesses:
        rel = a.path.rel or ""
        if a.mode in ("write", "delete") and (rel.startswith(".git/hooks")
                                              or rel == ".git/config"):
            return f"{a.via} would change {rel}, which git executes or trusts later"
    for cmd in facts.commands():
        found = git_runs_commands(cmd)
        if found:
            return found
    return None


def destructive(facts: ActionFacts, res: PathResolver) -> str | None:
    raw = facts.call.arguments.get("command")
    if isinstance(raw, str) and FORK_BOMB.search(raw):
        return "a fork bomb"
    commands = facts.commands()
    for i, cmd in enumerate(commands):
        prog = cmd.program
        if prog.split(".")[0] in DISK_TOOLS:
            return f"{prog} rewrites disks or partitions"
        if prog in POWER or (prog == "init" and cmd.args[:1] in (["0"], ["6"])):
            return f"{prog} stops the machine"
        if prog == "kill" and "-1" in cmd.args:
            return "kill -1 signals every process"
        targets = [t for op, t in cmd.redirects if op.startswith(">")]
        targets += [a[3:] for a in cmd.args if prog == "dd" and a.startswith("of=")]
        targets += cmd.positionals() if prog in ("shred", "wipe") else []
        if any(DEVICE.match(cmd.word(t)) for t in targets):
            return f"{prog} writes to a raw device"
        reason = (_recursive_delete(cmd, res) or git_destroys(cmd, res, commands[i + 1:])
                  or deletes_work(cmd, res))
        if reason:
            return reason
    return None


def _recursive_delete(cmd: SimpleCommand, res: PathResolver) -> str | None:
    """`rm -r` (or a `find` deleting all it finds) of the workspace itself, of something
    outside it, of a path that cannot be resolved, or of paths read from stdin."""
    if cmd.program == "find" and find_deletes(cmd) and find_selects_all(cmd):
        return _deletes_too_much("find", find_roots(cmd), cmd, res)
    if cmd.program not in ("rm", "rmdir") or not RECURSIVE & cmd.flags():
        return None
    targets = [p for p in cmd.positionals() if p != "{}"]
    if "xargs" in cmd.wrappers:
        producer = cmd.upstream
        if producer is None or producer.program != "find":
            shown = f" (from `{producer}`)" if producer is not None else ""
            return f"rm -r on paths read from stdin{shown}, which cannot be known"
        targets += find_roots(producer) if find_selects_all(producer) else []
    return _deletes_too_much("rm -r", targets, cmd, res)


def _deletes_too_much(via: str, words: list[str], cmd: SimpleCommand,
                      res: PathResolver) -> str | None:
    refs = [(w, r) for raw in words for w in expand_braces(cmd.word(raw))
            for r in res.resolve_all(glob_folder(w), cmd.scope)]
    for word, ref in refs:
        if ref.resolved is None and res.within(ref):  # `rm -rf $d/build`, d listed
            if res.resolve(glob_folder(ref.pattern or "")).rel == ".":
                return f"{via} would delete everything in the workspace ({word})"
            continue
        if ref.resolved is None:
            return f"{via} on '{word}', which cannot be resolved"
        if ref.rel == ".":
            return f"{via} would delete everything in the workspace ({word})"
        if ref.rel in VCS_HISTORY:
            return f"{via} would delete the repository's history ({ref.rel})"
        if not ref.inside and not res.is_scratch(ref):
            return f"{via} would delete {ref.resolved}"
    return None


def infra_destructive(facts: ActionFacts, res: PathResolver) -> str | None:
    for cmd in facts.commands():
        verbs = DESTRUCTIVE_VERBS.get(cmd.program, ())
        verb = next((a for a in map(str.lower, cmd.args)
                     if any(fnmatch.fnmatchcase(a, v) for v in verbs)), None)
        if verb is not None:
            return f"`{cmd.program} {verb}` irreversibly deletes infrastructure or data"
        if cmd.program in DATABASE_DROPPERS:
            return f"{cmd.program} drops a database or role"
        if cmd.program in DATABASE_CLIENTS:
            text = " ".join([*map(cmd.word, cmd.args), stdin_text(cmd) or ""])
            if SQL_DESTRUCTIVE.search(text.strip()):
                return f"{cmd.program} would run a destructive statement"
        if rewrites_shared_history(cmd):
            return "a forced or deleting git push rewrites shared history"
    return None


def download_exec(facts: ActionFacts, res: PathResolver) -> str | None:
    if facts.command is None:
        return None
    for pipeline in facts.command.walk_pipelines():
        cmds = pipeline.commands
        for i, cmd in enumerate(cmds):
            feeds_shell = any(_interpreter(c) for c in cmds[i + 1:])
            if feeds_shell and _downloads(cmd):
                return f"pipes a download ({cmd.program}) into an interpreter"
            if feeds_shell and _decodes(cmd):
                return f"pipes decoded data ({cmd}) into an interpreter"
    for cmd in facts.commands():
        if _interpreter(cmd):
            for sub in cmd.subs.values():
                if any(_downloads(c) for c in sub.walk()):
                    return f"{cmd.program} runs the output of a download"
    downloaded: set[Path] = set()
    unpacked: set[Path] = set()  # folders a downloaded archive was extracted into
    for cmd in facts.commands():
        folder = extract_dir(cmd)
        fed = _fed_by_download(cmd)
        if fed:
            downloaded.update(_resolved(res, cmd, download_files(cmd)))
        if folder and (fed or _resolved(res, cmd, map(cmd.word, archives_read(cmd)))
                       & downloaded):
            unpacked.update(_resolved(res, cmd, [cmd.word(folder)]))
        elif not fed and (downloaded or unpacked) and _executes(cmd, downloaded, unpacked, res):
            return f"runs a file it just downloaded ({cmd})"
    return None


def _resolved(res: PathResolver, cmd: SimpleCommand, words) -> set[Path]:
    refs = [res.resolve(w, cmd.scope) for w in words]
    return {r.resolved for r in refs if r.resolved is not None}


def _fed_by_download(cmd: SimpleCommand) -> bool:
    """Is this a download, or does a download feed it through a pipe?"""
    at: SimpleCommand | None = cmd
    while at is not None:
        if _downloads(at):
            return True
        at = at.upstream
    return False


def _executes(cmd: SimpleCommand, files: set[Path], folders: set[Path],
              res: PathResolver) -> bool:
    """Does a command run one of `files`, or a file under one of `folders`, as its program
    (named by a path, not looked up on PATH) or as an interpreter's script?"""
    script = _interpreter(cmd) and not inline_code(cmd) and not {"-c", "-m"} & cmd.flags()
    program = cmd.argv[:1] if "/" in (cmd.argv or [""])[0] else []
    for w in cmd.argv[:1] + (cmd.positionals()[:1] if _interpreter(cmd) else []):
        if res.resolve(cmd.word(w), cmd.scope).resolved in files:
            return True
    for w in program + (cmd.positionals()[:1] if script else []):
        ref = res.resolve(cmd.word(w), cmd.scope)
        if ref.resolved is not None and any(f in ref.resolved.parents for f in folders):
            return True
    return False


def untrusted_install(facts: ActionFacts, res: PathResolver) -> str | None:
    """A package install from a non-default source (an index, a repository, a URL) or one
    that changes the machine rather than the project (global or per-user)."""
    for cmd in filter(None, map(package_manager, facts.commands())):
        flags = cmd.flags() | {a.split("=", 1)[0] for a in cmd.args if a.startswith("--")}
        pip_like = cmd.program.startswith(("pip", "uv"))
        if SOURCE_OPTIONS & flags or (pip_like and PIP_SOURCE_FLAGS & flags):
            found = sorted(SOURCE_OPTIONS & flags or PIP_SOURCE_FLAGS & flags)
            return f"{cmd.program} installs from a non-default index or repository ({found[0]})"
        if GLOBAL_FLAGS & flags or cmd.positionals()[:1] == ["global"]:
            return f"{cmd.program} installs globally, changing the machine"
        url = next((a for a in cmd.args if REMOTE_SOURCE.match(a.split("=", 1)[-1])), None)
        if url is not None:
            return f"{cmd.program} installs straight from {cmd.word(url)}"
    return None


def dynamic_program(facts: ActionFacts, res: PathResolver) -> str | None:
    """A program whose name is computed when the command runs (`$x …`, `$(…) …`)."""
    for cmd in facts.commands():
        name = cmd.argv[0] if cmd.argv else ""
        if "$" in name or cmd.has_substitution(name) or "{}" in name:  # `xargs -I{} sh -c '{}'`
            return f"the program `{cmd.word(name)}` is only known when the command runs"
    return None


def risky_code(facts: ActionFacts, res: PathResolver) -> str | None:
    """Interpreter code that cannot be checked statically: code that can delete, run
    commands or reach the network, or a script piped in from a command's output."""
    for cmd in facts.commands():
        code = inline_code(cmd)
        found = code_capabilities_unknown(code) if code else {}
        root = next((p for p in deleted_paths(code or "") or []
                     if res.resolve(p, cmd.scope).rel == "."), None)
        if root is not None:
            return f"{cmd.program} runs inline code that deletes the workspace ({root!r})"
        if found:
            what = ", ".join(f"{cap} ({call})" for cap, call in found.items())
            return f"{cmd.program} runs inline code that can {what}"
        if code is None and _runs_piped_script(cmd):
            return f"{cmd.program} runs a script piped from `{cmd.upstream}`, which is unknown"
    return None


def _runs_piped_script(cmd: SimpleCommand) -> bool:
    interpreter = cmd.program in SHELLS or language(cmd.program) not in (None, "awk")
    return (interpreter and cmd.upstream is not None and reads_program_from_stdin(cmd)
            and stdin_text(cmd) is None)


def privilege(facts: ActionFacts, res: PathResolver) -> str | None:
    for cmd in facts.commands():
        if cmd.elevated:
            return f"`{cmd}` runs with elevated privileges"
    return None


def container_escape(facts: ActionFacts, res: PathResolver) -> str | None:
    """A container given the machine: privileged, sharing the host's processes, or with a
    folder from outside the workspace mounted (`/`, the docker socket, a home folder)."""
    for cmd in facts.commands():
        granted = container_privilege(cmd)
        if granted:
            return f"{cmd.program} {granted}"
        for word in bind_sources(cmd):
            ref = res.resolve(word, cmd.scope)
            if not ref.inside:
                return f"{cmd.program} mounts {ref.resolved or word} from the host into a container"
    return None


def unparsable(facts: ActionFacts, res: PathResolver) -> str | None:
    return facts.parse_error


READ_ONLY_PROGRAMS = {
    "ls", "cat", "head", "tail", "less", "more", "grep", "egrep", "fgrep", "rg", "ag", "wc",
    "sort", "uniq", "cut", "diff", "cmp", "comm", "pwd", "echo", "printf", "which", "type",
    "file", "stat", "du", "df", "tree", "date", "whoami", "uname", "id", "jq", "yq", "nl",
    "tr", "basename", "dirname", "realpath", "readlink", "test", "[", "true", "false",
    "sha256sum", "sha1sum", "md5sum", "column", "fold", "fmt", "paste", "expand", "od",
    "hexdump", "strings", "find", "locate", "awk", "sed", "env", "printenv", "hostname",
    "ps", "uptime", "free", "git", "python", "python3", "node", "pytest", "sleep", "seq",
}
GIT_READ = {"status", "log", "diff", "show", "branch", "rev-parse", "ls-files", "blame",
            "grep", "describe", "shortlog", "tag", "remote", "config", "cat-file", "ls-tree"}


def readonly_command(facts: ActionFacts, res: PathResolver) -> str | None:
    """Holds when every command only reads (used by the read-only and plan modes)."""
    if facts.command is None or facts.parse_error:
        return None
    for cmd in facts.commands():
        if cmd.program not in READ_ONLY_PROGRAMS:
            return None
        if cmd.program == "git" and (not cmd.args or cmd.args[0] not in GIT_READ
                                     or "--global" in cmd.args):
            return None
        if cmd.program in ("python", "python3", "node", "pytest") and not (
                {"--version", "-V", "--help", "-h"} & set(cmd.args)):
            return None
        if cmd.program in ("sed", "awk") and (any(a.startswith("-i") for a in cmd.args)
                                              or "system(" in " ".join(cmd.args)):
            return None
        if cmd.program == "find" and {"-delete", "-exec", "-execdir", "-fprint", "-ok"} & set(
                cmd.args):
            return None
    if any(a.mode in ("write", "delete") and not res.is_scratch(a.path)
           for a in facts.accesses):
        return None
    return "every command only reads"


def writes_inside(facts: ActionFacts, res: PathResolver) -> str | None:
    """Holds when every path the call writes is inside the workspace (or scratch)."""
    for a in facts.accesses:
        if a.mode in ("write", "delete") and not (a.path.inside or res.is_scratch(a.path)):
            return None
    return "writes stay inside the workspace"


CHECKS: dict[str, Check] = {
    "write-outside": write_outside, "unknown-write": unknown_write,
    "credential-read": credential_read, "git-internals": git_internals,
    "destructive": destructive, "infra-destructive": infra_destructive,
    "download-exec": download_exec, "exfiltration": exfiltration, "egress": egress,
    "sending": sending, "task-destination": task_destination, "task-source": task_source,
    "known-name": known_name,
    "untrusted-install": untrusted_install, "privilege": privilege,
    "container-escape": container_escape, "unparsable": unparsable,
    "dynamic-program": dynamic_program, "inline-code": risky_code,
    "readonly-command": readonly_command, "writes-inside": writes_inside,
}


def _downloads(cmd: SimpleCommand) -> bool:
    return cmd.program in DOWNLOADERS or (cmd.program in ("python", "python3") and any(
        "urllib" in a or "requests" in a for a in cmd.args))


def _decodes(cmd: SimpleCommand) -> bool:
    flags = cmd.flags() | set(cmd.args)
    return any(cmd.program == p and (not f or f in flags) for p, f in DECODERS)


def _interpreter(cmd: SimpleCommand) -> bool:
    prog = cmd.program
    if prog == "xargs" or "xargs" in cmd.wrappers:
        return prog in INTERPRETERS
    return prog in INTERPRETERS or bool(re.match(r"^(python|ruby|perl|php|node)[\d.]*$", prog))
