"""Built-in checks on what a call sends out: secrets, the environment and files leaving the
machine (named as files, substituted into arguments, held in variables, piped in, or
written to a file the line then sends), and sends (mail, uploads, payments, messages)
judged by where they go. Part of the checks in `harness.governance.policy._protections.CHECKS`."""

from __future__ import annotations

import re
from pathlib import Path

from harness.governance.commands._git import git_call
from harness.governance.policy._facts import ActionFacts
from harness.shell.accesses import DOWNLOADERS, given_files, is_remote, shell_accesses
from harness.shell.command import ParsedCommand, SimpleCommand
from harness.shell.inline_code import code_capabilities
from harness.shell.parser import inline_code
from harness.shell.paths import PathResolver

RAW_NET = {"nc", "ncat", "netcat", "socat", "telnet", "cryptcat", "pwncat"}
MAILERS = {"mail", "mailx", "sendmail", "mutt", "msmtp", "swaks"}
REMOTE_COPY = {"scp", "sftp", "rsync", "ftp", "tftp", "lftp", "rclone", "smbclient"}
UPLOAD_FLAGS = {"-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F",
                "--form", "-T", "--upload-file", "--post-data", "--post-file", "--body-data",
                "--body-file", "--json"}
PUBLISH = {("npm", "publish"), ("yarn", "publish"), ("pnpm", "publish"), ("twine", "upload"),
           ("docker", "push"), ("gem", "push"), ("cargo", "publish"), ("git", "push"),
           ("poetry", "publish"), ("gh", "release"), ("hub", "release")}
SECRET_WORD = (r"[A-Za-z0-9_]*(TOKEN|SECRET|PASSWORD|PASSWD|PASS|KEY|CREDENTIAL|AUTH|COOKIE|"
               r"SESSION|PAT|DSN|PRIVATE)[A-Za-z0-9_]*")
SECRET_VAR = re.compile(rf"\$\{{?{SECRET_WORD}\}}?", re.I)
SECRET_NAME = re.compile(SECRET_WORD, re.I)
# Programs that can send what they are given over the network, besides downloaders.
NETWORK_CLIS = {"ssh", "gh", "hub", "glab", "aws", "gsutil", "gcloud", "az", "s3cmd", "doctl",
                "heroku"}
GIT_NETWORK = {"push", "pull", "fetch", "clone", "ls-remote", "remote", "submodule", "archive",
               "send-email", "request-pull"}
DECLARERS = {"export", "declare", "typeset", "readonly"}
OUTPUT_REDIRECTS = {">", ">>", "&>", "&>>", ">|"}


def exfiltration(facts: ActionFacts, res: PathResolver) -> str | None:
    """A secret or the environment handed to a program that can send it: in its arguments
    (a substitution, a variable holding one), its files, or its stdin."""
    raw_text = " ".join(str(v) for v in facts.call.arguments.values())
    if facts.kind in ("network", "egress") and SECRET_VAR.search(raw_text):
        return f"{facts.tool} would send a secret from the environment"
    tainted: set[Path] | None = None
    for cmd in facts.commands():
        if cmd.program in RAW_NET:
            return f"{cmd.program} opens a raw network connection"
        if not _network(cmd):
            continue
        words = " ".join(cmd.word(a) for a in cmd.args)
        if SECRET_VAR.search(words):
            return f"{cmd.program} would send a secret from the environment"
        for inner in _output_in_arguments(cmd):
            if inner.program in ("cat", "base64", "history") or dumps_environment(inner):
                return f"{cmd.program} would send the output of {_shown(inner)}"
            secret = _secret_read(inner, res)
            if secret:
                return f"{cmd.program} would send the secret {secret} (read by {_shown(inner)})"
        for feeder in _feeders(cmd):
            if dumps_environment(feeder):
                return f"{cmd.program} would send the environment (printed by {_shown(feeder)})"
            if SECRET_VAR.search(" ".join(feeder.word(a) for a in feeder.args)):
                return f"{cmd.program} would send a secret from the environment ({_shown(feeder)})"
        files = given_files(cmd)
        secret = next((f for f in files if res.is_secret(res.resolve(f, cmd.scope))), None)
        if secret:
            return f"{cmd.program} can send over the network and is given the secret {secret}"
        tainted = _tainted_files(facts, res) if tainted is None else tainted
        copied = next((f for f in files if res.resolve(f, cmd.scope).resolved in tainted), None)
        if copied:
            return f"{cmd.program} would send {copied}, written from secrets or the environment"
    return None


def dumps_environment(cmd: SimpleCommand) -> bool:
    """Does a command print the environment (`env`, `printenv`, `export -p`, `set`,
    `declare -x`) or a variable named like a secret (`printenv API_TOKEN`)?"""
    prog, pos = cmd.program, cmd.positionals()
    if (not cmd.argv and "env" in cmd.wrappers) or prog == "env":
        return True
    if prog == "printenv":
        return not pos or any(SECRET_NAME.search(p) for p in pos)
    if prog in DECLARERS:
        if any("=" in a for a in cmd.args):
            return False
        return not pos or any(SECRET_NAME.search(p) for p in pos)
    return prog == "set" and not cmd.args


def _output_in_arguments(cmd: SimpleCommand) -> list[SimpleCommand]:
    """The commands whose output a command is given in its arguments: its substitutions,
    and those whose output a variable it names holds (`K=$(< .env); curl -H "$K"`)."""
    subs: list[ParsedCommand] = list(cmd.subs.values())
    if cmd.scope is not None:
        subs += [s for a in cmd.args for s in cmd.scope.carried_by(cmd.word(a))]
        subs += [s for a in cmd.assignments for s in cmd.scope.carried_by(a)]
    return [inner for sub in subs for inner in sub.walk()]


def _shown(cmd: SimpleCommand) -> str:
    words = [*cmd.wrappers, str(cmd)] if cmd.argv else cmd.wrappers
    words += [f"{op} {cmd.word(t)}" for op, t in cmd.redirects if op == "<"]
    return "`" + " ".join(w for w in words if w) + "`"


def _secret_read(cmd: SimpleCommand, res: PathResolver) -> str | None:
    return next((a.path.show() for a in shell_accesses(cmd, res)
                 if a.mode == "read" and res.is_secret(a.path)), None)


def _feeders(cmd: SimpleCommand) -> list[SimpleCommand]:
    out, feeder = [], cmd.upstream
    while feeder is not None:
        out.append(feeder)
        feeder = feeder.upstream
    return out


def _tainted_files(facts: ActionFacts, res: PathResolver) -> set[Path]:
    """Files the line writes from the environment or a secret (`env > e.txt`,
    `cat .env | base64 > x`): sending them later sends what they hold."""
    out: set[Path] = set()
    for cmd in facts.commands():
        targets = [t for op, t in cmd.redirects if op in OUTPUT_REDIRECTS]
        targets += cmd.positionals() if cmd.program == "tee" else []
        chain = [cmd, *_feeders(cmd)]
        if targets and any(dumps_environment(c) or _secret_read(c, res) for c in chain):
            refs = [res.resolve(cmd.word(t), cmd.scope) for t in targets]
            out.update(r.resolved for r in refs if r.resolved is not None)
    return out


def sending(facts: ActionFacts, res: PathResolver | None = None) -> str | None:
    """Holds when data leaves the machine by an intended channel (whoever receives it)."""
    if facts.kind == "egress":
        return f"{facts.tool} sends data out"
    for cmd in facts.commands():
        flags = cmd.flags() | {a.split("=", 1)[0] for a in cmd.args if a.startswith("--")}
        if cmd.program in DOWNLOADERS and (UPLOAD_FLAGS & flags or _method_upload(cmd)):
            return f"{cmd.program} uploads data"
        if cmd.program in MAILERS:
            return f"{cmd.program} sends mail"
        if cmd.program in REMOTE_COPY and any(is_remote(a) for a in cmd.positionals()):
            return f"{cmd.program} copies to or from a remote host"
        git = git_call(cmd)  # its subcommand comes after `-C dir`, `-c k=v`
        key = (cmd.program, git.sub if git else (cmd.positionals() or [""])[0])
        if key in PUBLISH:
            return f"`{' '.join(key)}` publishes outside the workspace"
    return None


def egress(facts: ActionFacts, res: PathResolver) -> str | None:
    """Data leaving for a place the user neither named (in the task or the configuration)
    nor pointed to (a source the task designated): worth a human's yes."""
    sent = sending(facts)
    if sent is None:
        return None
    if not facts.destinations:
        return f"{sent} and names no destination that can be checked against the task"
    unvouched = [d for d, why in facts.vouchers.items() if why is None]
    if unvouched:
        return f"{sent} to {_places(unvouched)}, which the task neither names nor points to"
    return None


def task_destination(facts: ActionFacts, res: PathResolver) -> str | None:
    """Holds when a call sends data only to destinations the user named."""
    why = _vouchers(facts)
    if why is None or set(why.values()) != {"named"}:
        return None
    return f"{sending(facts)} to {_places(facts.destinations)}, which the user named"


def task_source(facts: ActionFacts, res: PathResolver) -> str | None:
    """Holds when a call sends data only to vouched destinations, some of them found in the
    output of a call the task designated (see `harness.governance.egress.provenance`)."""
    why = _vouchers(facts)
    found = sorted({w.removeprefix("source: ") for w in (why or {}).values()
                    if w.startswith("source: ")})
    if why is None or not found:
        return None
    return (f"{sending(facts)} to {_places(facts.destinations)}: found in the output of "
            f"{'; '.join(_short(f, 120) for f in found[:2])}, which the task points to")


def known_name(facts: ActionFacts, res: PathResolver) -> str | None:
    """Holds when a call sends only to vouched destinations, some of them channel or user
    names the tool's own system showed in earlier output (members of that system)."""
    why = _vouchers(facts)
    shown = [d for d in facts.destinations if (why or {}).get(d, "").startswith("known: ")]
    if not shown or why is None:
        return None
    where = why[shown[0]].removeprefix("known: ")
    return (f"{sending(facts)} to {_places(shown)}: a name the system showed in the output "
            f"of {_short(where, 120)}, so it stays inside that system")


def _vouchers(facts: ActionFacts) -> dict | None:
    """Each destination's voucher, or None when the call does not send or something is
    unvouched."""
    if sending(facts) is None or not facts.destinations:
        return None
    why = facts.vouchers
    return None if None in why.values() else why


def _places(dests) -> str:
    # Values are shown cut short: a reason goes back to the model, and a destination may
    # carry text the model must not read again (an injected instruction in a channel name).
    shown = ", ".join(f"{d.arg}={_short(d.value)!r}" for d in dests[:4])
    return shown + (f" and {len(dests) - 4} more" if len(dests) > 4 else "")


def _short(value: str, limit: int = 48) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _network(cmd: SimpleCommand) -> bool:
    """Can the command send data out: a network tool, a cloud CLI, or inline code that
    uses the network?"""
    code = inline_code(cmd)
    git = git_call(cmd)
    return (cmd.program in DOWNLOADERS | RAW_NET | MAILERS | REMOTE_COPY | NETWORK_CLIS
            or cmd.program in ("dig", "nslookup", "host", "ping")
            or (git is not None and git.sub in GIT_NETWORK)
            or bool(code and "use the network" in code_capabilities(code)))


def _method_upload(cmd: SimpleCommand) -> bool:
    args = cmd.args
    for i, a in enumerate(args):
        if a in ("-X", "--request", "--method") and i + 1 < len(args):
            return args[i + 1].upper() in ("POST", "PUT", "PATCH", "DELETE")
        if a.startswith(("--request=", "--method=")):
            return a.split("=", 1)[1].upper() in ("POST", "PUT", "PATCH", "DELETE")
    return False
