"""Resolve the paths a call touches, the way the OS would, and say where they land.

`~`, `$VAR` and `${VAR}` are expanded from the policy's environment, `..` and symlinks are
resolved, and the result is classified: inside the workspace or not, a credential or not.
A path that depends on something unknown (an unset variable, a command substitution) is
kept with `resolved=None`, so policies can treat it as "could be anywhere".
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
UNKNOWN = re.compile(r"__SUBST\d+__|\$\(|`|\$\{?[A-Za-z_]")

# Credential files under the user's home (globs relative to home).
HOME_CREDENTIALS = (
    ".ssh/*", ".ssh", ".aws/*", ".aws", ".azure/*", ".config/gcloud/*", ".kube/config",
    ".kube/*", ".docker/config.json", ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc",
    ".git-credentials", ".config/gh/hosts.yml", ".config/git/credentials", ".gnupg/*",
    ".password-store/*", ".vault-token", ".terraform.d/credentials.tfrc.json",
    ".config/hub", ".cargo/credentials*", ".gem/credentials", ".local/share/keyrings/*",
    ".mozilla/*", ".config/google-chrome/*", ".bash_history", ".zsh_history",
)
SYSTEM_CREDENTIALS = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d/*",
                      "/etc/ssh/ssh_host_*", "/root/*", "/var/run/secrets/*",
                      "/run/secrets/*", "/proc/*/environ")
# File names that hold secrets wherever they are (outside the workspace).
SECRET_NAMES = ("id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.pem", "*.key", "*.p12",
                "*.pfx", ".env", ".env.*", "credentials", "credentials.json", ".htpasswd",
                "*.keystore", "*.jks", "service-account*.json", "secrets.*", "*.tfstate")
# Outside the workspace yet harmless to write: output sinks, never directories of files.
SINKS = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")
NOT_SECRET = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults",
              "*.pub", "*.example", "*.sample", "*.template")


@dataclass(frozen=True)
class PathRef:
    """A path as written and where it resolves; `resolved` is None when it is unknowable."""

    raw: str
    resolved: Path | None
    inside: bool | None
    rel: str | None = None
    """Workspace-relative POSIX path when inside."""

    @property
    def known(self) -> bool:
        return self.resolved is not None

    def show(self) -> str:
        return self.rel if self.rel is not None else str(self.resolved or self.raw)


class PathResolver:
    """Resolves paths against a workspace, a home directory and an environment."""

    def __init__(self, workspace: str | os.PathLike[str], *, env: dict[str, str] | None = None,
                 home: str | os.PathLike[str] | None = None,
                 scratch: tuple[str, ...] = SINKS):
        self.root = Path(workspace).resolve()
        self.env = dict(os.environ if env is None else env)
        if home is not None:
            self.env["HOME"] = str(home)
        self.home = Path(self.env.get("HOME") or Path.home()).resolve()
        self.scratch = tuple(Path(s) for s in scratch)

    def expand(self, raw: str) -> str | None:
        """`~` and variables expanded, or None if the value cannot be known."""
        text = raw
        if text == "~" or text.startswith("~/"):
            text = str(self.home) + text[1:]
        elif text.startswith("~"):
            return None  # ~otheruser: someone else's home, not ours to guess

        def sub(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            value = self.env.get(name)
            return "\x00" if value is None else value

        text = VAR.sub(sub, text)
        if "\x00" in text or UNKNOWN.search(text):
            return None
        return text

    def resolve(self, raw: str) -> PathRef:
        text = self.expand(raw.strip())
        if text is None or text == "":
            return PathRef(raw, None, None)
        p = Path(text)
        p = p if p.is_absolute() else self.root / p
        try:
            resolved = p.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            return PathRef(raw, None, None)
        inside = resolved == self.root or self.root in resolved.parents
        rel = resolved.relative_to(self.root).as_posix() if inside else None
        return PathRef(raw, resolved, inside, "." if rel == "" else rel)

    def is_scratch(self, ref: PathRef) -> bool:
        """A declared scratch area (by default only sinks such as /dev/null): outside the
        workspace but harmless to write. Temp dirs are not scratch by default: a workspace
        may itself live in /tmp, and its neighbours there are someone else's files."""
        if ref.resolved is None or ref.inside or ref.resolved == self.home or self.home in ref.resolved.parents:
            return False
        return any(ref.resolved == s or s in ref.resolved.parents for s in self.scratch)

    def is_credential(self, ref: PathRef) -> bool:
        """A credential file outside the workspace (inside it, the user's project owns it)."""
        if ref.resolved is None or ref.inside or is_public(ref.resolved.name):
            return False
        p = ref.resolved
        if p == self.home or _is_under(p, self.home):
            rel = p.relative_to(self.home).as_posix()
            if any(_glob(g, rel) for g in HOME_CREDENTIALS):
                return True
            if rel != "." and any(g.startswith(rel + "/") for g in HOME_CREDENTIALS):
                return True  # a folder holding credentials (grep -r, tar, cp -r)
        if any(_glob(g, p.as_posix()) for g in SYSTEM_CREDENTIALS):
            return True
        return is_secret_name(p.name)

    def is_secret(self, ref: PathRef) -> bool:
        """What must not leave the machine: a credential, or a file named like a secret
        (`.env`, `*.pem`) even inside the workspace."""
        return self.is_credential(ref) or bool(ref.inside and is_secret_name(ref.resolved.name))

    def matches(self, pattern: str, ref: PathRef) -> bool:
        """Does a rule's path glob match? Relative globs match workspace-relative paths;
        `~/` and absolute globs match the resolved path. `**` crosses directories."""
        if ref.resolved is None:
            return pattern in ("*", "**")
        if pattern.startswith("~"):
            pattern = str(self.home) + pattern[1:]
        if pattern.startswith("/"):
            return _glob(pattern, ref.resolved.as_posix())
        return ref.rel is not None and _glob(pattern, ref.rel)


def is_secret_name(name: str) -> bool:
    return not is_public(name) and any(fnmatch.fnmatchcase(name, g) for g in SECRET_NAMES)


def is_public(name: str) -> bool:
    """A file meant to be shared wherever it lies: a public key, an example or template."""
    return any(fnmatch.fnmatchcase(name, g) for g in NOT_SECRET)


def _is_under(p: Path, root: Path) -> bool:
    return root in p.parents


def _glob(pattern: str, path: str) -> bool:
    """Glob with `**` (any depth, including none), `*` and `?` (within one component).
    A pattern ending in `/` or `/**` matches the directory and everything under it."""
    if pattern.endswith("/"):
        pattern += "**"
    return _glob_re(pattern).fullmatch(path) is not None


@lru_cache(maxsize=512)
def _glob_re(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append(r"(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append(r"(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(r".*")
            i += 2
        elif c == "*":
            out.append(r"[^/]*")
            i += 1
        elif c == "?":
            out.append(r"[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))


def posix(path: str) -> str:
    return PurePosixPath(path).as_posix()
