"""Built-in checks on what a call sends out: secrets and files leaving the machine, and
sends (mail, uploads, payments, messages) judged by where they go. Part of the checks
in `harness.governance.protections.CHECKS`."""

from __future__ import annotations

import re

from harness.governance.actions import DOWNLOADERS, ActionFacts, given_files, is_remote
from harness.governance.inline_code import code_capabilities
from harness.governance.paths import PathResolver
from harness.governance.shell import SimpleCommand, inline_code

RAW_NET = {"nc", "ncat", "netcat", "socat", "telnet", "cryptcat", "pwncat"}
MAILERS = {"mail", "mailx", "sendmail", "mutt", "msmtp", "swaks"}
REMOTE_COPY = {"scp", "sftp", "rsync", "ftp", "tftp", "lftp", "rclone", "smbclient"}
UPLOAD_FLAGS = {"-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F",
                "--form", "-T", "--upload-file", "--post-data", "--post-file", "--body-data",
                "--body-file", "--json"}
PUBLISH = {("npm", "publish"), ("yarn", "publish"), ("pnpm", "publish"), ("twine", "upload"),
           ("docker", "push"), ("gem", "push"), ("cargo", "publish"), ("git", "push"),
           ("poetry", "publish"), ("gh", "release"), ("hub", "release")}
SECRET_VAR = re.compile(r"\$\{?[A-Za-z0-9_]*(TOKEN|SECRET|PASSWORD|PASSWD|PASS|KEY|CREDENTIAL|"
                        r"AUTH|COOKIE|SESSION|PAT|DSN|PRIVATE)[A-Za-z0-9_]*\}?", re.I)
# Programs that can send what they are given over the network, besides downloaders.
NETWORK_CLIS = {"ssh", "gh", "hub", "glab", "aws", "gsutil", "gcloud", "az", "s3cmd", "doctl",
                "heroku"}


def exfiltration(facts: ActionFacts, res: PathResolver) -> str | None:
    raw_text = " ".join(str(v) for v in facts.call.arguments.values())
    if facts.kind in ("network", "egress") and SECRET_VAR.search(raw_text):
        return f"{facts.tool} would send a secret from the environment"
    for cmd in facts.commands():
        if cmd.program in RAW_NET:
            return f"{cmd.program} opens a raw network connection"
        if _network(cmd):
            words = " ".join(cmd.word(a) for a in cmd.args)
            if SECRET_VAR.search(words):
                return f"{cmd.program} would send a secret from the environment"
            for sub in cmd.subs.values():
                for inner in sub.walk():
                    if inner.program in ("env", "printenv", "set", "cat", "base64", "history"):
                        return f"{cmd.program} would send the output of `{inner}`"
            secret = next((f for f in given_files(cmd) if res.is_secret(res.resolve(f))), None)
            if secret:
                return f"{cmd.program} can send over the network and is given the secret {secret}"
    return None


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
        key = (cmd.program, cmd.positionals()[0] if cmd.positionals() else "")
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
    output of a call the task designated (see `harness.governance.provenance`)."""
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
    if not shown:
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
    return (cmd.program in DOWNLOADERS | RAW_NET | MAILERS | REMOTE_COPY | NETWORK_CLIS
            or cmd.program in ("dig", "nslookup", "host", "ping")
            or bool(code and "use the network" in code_capabilities(code)))


def _method_upload(cmd: SimpleCommand) -> bool:
    args = cmd.args
    for i, a in enumerate(args):
        if a in ("-X", "--request", "--method") and i + 1 < len(args):
            return args[i + 1].upper() in ("POST", "PUT", "PATCH", "DELETE")
        if a.startswith(("--request=", "--method=")):
            return a.split("=", 1)[1].upper() in ("POST", "PUT", "PATCH", "DELETE")
    return False
