"""Commands whose output is a credential: CLIs that print a token, a password or a config
with its secrets left in (`gh auth token`, `kubectl config view --raw`), and logins fed a
secret file on stdin. Reading a credential through its CLI is reading the credential.
"""

from __future__ import annotations

import re

from harness.shell.accesses import read_candidates
from harness.shell.command import SimpleCommand
from harness.shell.paths import PathResolver

# program, the subcommand words in order, and the flags one of which must be given (None:
# none needed). Options may stand between the words (`kubectl --context x config view`).
PRINTERS: tuple[tuple[str, tuple[str, ...], frozenset[str] | None], ...] = (
    ("kubectl", ("config", "view"), frozenset({"--raw"})),
    ("oc", ("config", "view"), frozenset({"--raw"})),
    ("gh", ("auth", "token"), None),
    ("gh", ("auth", "status"), frozenset({"-t", "--show-token"})),
    ("glab", ("auth", "status"), frozenset({"-t", "--show-token"})),
    ("aws", ("configure", "export-credentials"), None),
    ("aws", ("ecr", "get-login-password"), None),
    ("aws", ("ecr-public", "get-login-password"), None),
    ("gcloud", ("auth", "print-access-token"), None),
    ("gcloud", ("auth", "print-identity-token"), None),
    ("gcloud", ("auth", "application-default", "print-access-token"), None),
    ("gcloud", ("config", "config-helper"), None),
    ("az", ("account", "get-access-token"), None),
    ("git", ("credential", "fill"), None),
    ("git", ("credential-store", "get"), None),
    ("git", ("credential-cache", "get"), None),
    ("heroku", ("auth:token",), None),
    ("vault", ("print", "token"), None),
    ("doctl", ("auth", "token"), None),
    ("security", ("find-generic-password",), frozenset({"-w", "-g"})),
    ("security", ("find-internet-password",), frozenset({"-w", "-g"})),
    ("security", ("dump-keychain",), None),
    ("secret-tool", ("lookup",), None),
    ("pass", ("show",), None),
    ("gopass", ("show",), None),
)
SECRET_SETTING = re.compile(r"secret|token|password|session", re.I)
LOGINS = {"docker", "podman", "nerdctl", "helm", "buildah", "skopeo", "oras", "crane"}


def prints_credentials(cmd: SimpleCommand, res: PathResolver) -> str | None:
    """Why a command's output (or input) is a credential, or None."""
    pos, flags = cmd.positionals(), cmd.flags()
    if cmd.program.startswith("docker-credential-") and pos[:1] == ["get"]:
        return f"`{cmd.program} get` prints a registry credential"
    for program, words, needs in PRINTERS:
        if cmd.program == program and _in_order(words, pos) and (
                needs is None or needs & flags):
            return f"`{cmd.program} {' '.join(words)}` prints credentials"
    if cmd.program == "aws" and _in_order(("configure", "get"), pos):
        setting = pos[pos.index("get") + 1] if pos.index("get") + 1 < len(pos) else ""
        if SECRET_SETTING.search(setting):
            return f"`aws configure get {setting}` prints a credential"
    if cmd.program in LOGINS and "login" in pos and "--password-stdin" in flags:
        secret = next((f for f in _stdin_files(cmd) if res.is_secret(res.resolve(f, cmd.scope))),
                      None)
        if secret:
            return f"{cmd.program} login is fed the secret {secret}"
    return None


def _in_order(words: tuple[str, ...], pos: list[str]) -> bool:
    """Do the words appear in this order among the positionals (the values of options
    may stand between them)?"""
    at = 0
    for w in words:
        try:
            at = pos.index(w, at) + 1
        except ValueError:
            return False
    return True


def _stdin_files(cmd: SimpleCommand) -> list[str]:
    """Files whose content reaches a command's stdin: its `< file` and what the commands
    piped into it read."""
    files = [cmd.word(t) for op, t in cmd.redirects if op == "<"]
    feeder = cmd.upstream
    while feeder is not None:
        files += [feeder.word(w) for w in read_candidates(feeder)]
        files += [feeder.word(t) for op, t in feeder.redirects if op == "<"]
        feeder = feeder.upstream
    return files
