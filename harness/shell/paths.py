"""Resolve the paths a call touches, the way the OS would, and say where they land.

`~`, `$VAR` and `${VAR}` are expanded from the policy's environment, `..` and symlinks are
resolved, and the result is classified: inside the workspace or not, a credential or not.
A path that depends on something unknown (an unset variable, a command substitution) is
kept with `resolved=None`, so policies can treat it as "could be anywhere"; when it starts
from a known folder (`~/.ssh/$f`), its `pattern` says where it can land. A `Scope` (see
`harness.shell.scope`) gives the folder a command runs in and the variables the line
set before it. Globs count as what they could match: `~/.ss?/id_*` is a credential.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import posixpath
import pwd
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path, PurePosixPath

from harness.shell.command import Scope
from harness.shell.globs import escape, expand_braces, glob_match, has_glob, intersects

VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
UNKNOWN = re.compile(r"__SUBST\d+__|\$\(|`|\$\{?[A-Za-z_]")
# Parts of a word only known at run time: substitutions and the variables left unexpanded.
RUN_TIME = re.compile(r"__SUBST\d+__|\$\([^)]*\)|`[^`]*`|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
GLOB_LIMIT = 256
LITERAL_START = re.compile(r"[^*?\[]{2}")  # a name glob that starts with two letters
DEFAULT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-=])([^}$`]*)\}")

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
    pattern: str | None = None
    """When `resolved` is None but the path starts from a known folder: an absolute glob of
    where it can land, its run-time parts written `**`."""

    @property
    def known(self) -> bool:
        return self.resolved is not None

    def show(self) -> str:
        return self.rel if self.rel is not None else str(self.resolved or self.raw)


PRIVATE_TMP = ("/tmp", "/var/tmp")
"""Scratch for a command run in a sandbox that gives it its own /tmp."""


class PathResolver:
    """Resolves paths against a workspace, a home directory and an environment."""

    def __init__(self, workspace: str | os.PathLike[str], *, env: dict[str, str] | None = None,
                 home: str | os.PathLike[str] | None = None,
                 scratch: tuple[str, ...] = SINKS, sandboxed: bool = False):
        self.root = Path(workspace).resolve()
        self.env = dict(os.environ if env is None else env)
        if home is not None:
            self.env["HOME"] = str(home)
        self.home = Path(self.env.get("HOME") or Path.home()).resolve()
        self.sandboxed = sandboxed
        """Commands run in a sandbox whose only writable places are the workspace and a
        /tmp of its own: /tmp is scratch, and a write whose target cannot be known can land
        nowhere else."""
        self.scratch = tuple(Path(s) for s in (*scratch, *(PRIVATE_TMP if sandboxed else ())))

    def expand(self, raw: str, scope: Scope | None = None) -> str | None:
        """`~` and variables expanded (the line's own assignments first), or None if the
        value cannot be known."""
        text = self._expand(raw, scope, None)
        if text is None or UNKNOWN.search(text):
            return None
        return text

    def _expand(self, raw: str, scope: Scope | None, unknown: str | None) -> str | None:
        """Expansion with each part known only at run time replaced by `unknown` (or, when
        that is None, the whole word unknown)."""
        text = raw
        if text == "~" or text.startswith("~/"):
            text = str(self.home) + text[1:]
        elif text.startswith("~"):  # ~user: that user's home, if this machine has them
            name, slash, rest = text[1:].partition("/")
            home = _user_home(name)
            if home is None:
                return None if unknown is None else f"/{unknown}/{rest}"
            text = home + slash + rest

        def default(m: re.Match[str]) -> str:  # ${VAR:-default}, ${VAR-default}, ${VAR:=…}
            known, value = scope.lookup(m[1]) if scope is not None else (False, None)
            value = value if known else self.env.get(m[1])
            if value is None or (value == "" and m[2].startswith(":")):
                value = m[3]
                return str(self.home) + value[1:] if value.split("/")[0] == "~" else value
            return value

        text = DEFAULT.sub(default, text)

        def sub(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            known, value = scope.lookup(name) if scope is not None else (False, None)
            if not known:
                value = self.env.get(name)
            return "\x00" if value is None else value

        text = VAR.sub(sub, text)
        if unknown is not None:
            return RUN_TIME.sub(unknown, text.replace("\x00", unknown))
        return None if "\x00" in text else text

    def resolve(self, raw: str, scope: Scope | None = None) -> PathRef:
        """Where a path lands, relative paths starting from the scope's folder (by default
        the workspace)."""
        base = self.root if scope is None else scope.cwd
        text = self.expand(raw.strip(), scope)
        if text is None or text == "":
            return PathRef(raw, None, None, pattern=self._pattern(raw.strip(), base, scope))
        p = Path(text)
        if not p.is_absolute():
            if base is None:
                return PathRef(raw, None, None)
            p = base / p
        try:
            resolved = p.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            return PathRef(raw, None, None)
        for link, target in (scope.links.items() if scope is not None else ()):
            if resolved == link or link in resolved.parents:  # a link the line made
                resolved = target / resolved.relative_to(link)
                break
        inside = resolved == self.root or self.root in resolved.parents
        rel = resolved.relative_to(self.root).as_posix() if inside else None
        return PathRef(raw, resolved, inside, "." if rel == "" else rel)

    def resolve_all(self, raw: str, scope: Scope | None = None) -> list[PathRef]:
        """Every path a word stands for once braces are expanded (`~/.{ssh,aws}`), also the
        braces a variable's value brings (a loop's list of values)."""
        out = []
        for word in expand_braces(raw):
            value = self.expand(word, scope) if "$" in word else None
            words = expand_braces(value) if value and "{" in value else [word]
            lead = VAR.match(word)
            roots = scope.listed.get(lead[1] or lead[2]) if lead and scope is not None else None
            if roots and lead:  # `cat $f`, f one of the paths `find ~/.ssh` printed: a root or below
                rest = word[lead.end():]
                words = [w for r in roots for w in (f"{r}{rest}", f"{r}/$(…){rest}")]
            out += [self.resolve(w, scope) for w in words]
        return out

    def _pattern(self, raw: str, base: Path | None, scope: Scope | None) -> str | None:
        """Where a path with run-time parts can land, as an absolute glob (`…/.ssh/**`);
        None when its first part is itself unknown (it may start anywhere)."""
        text = self._expand(raw, scope, "\x01")
        if not text or text.startswith("\x01"):
            return None  # it may start anywhere
        if not text.startswith("/"):
            if base is None:
                return None
            text = f"{escape(base.as_posix())}/{text}"
        return posixpath.normpath(text).replace("\x01", "**")

    def within(self, ref: PathRef) -> bool:
        """Does a path known only as a pattern (`ws/src/$f`) lie inside the workspace?"""
        pattern = ref.pattern or ""
        root = escape(self.root.as_posix()) + "/"
        rest = pattern[len(root):] if pattern.startswith(root) else ""
        return bool(rest) and ".." not in rest.split("/")

    def is_scratch(self, ref: PathRef) -> bool:
        """A declared scratch area (by default only sinks such as /dev/null): outside the
        workspace but harmless to write. Temp dirs are not scratch by default: a workspace
        may itself live in /tmp, and its neighbours there are someone else's files."""
        if ref.resolved is None or ref.inside or ref.resolved == self.home or self.home in ref.resolved.parents:
            return False
        if self.sandboxed and self.root.parent in (ref.resolved, *ref.resolved.parents):
            return False  # the workspace's neighbours: outside it, whatever the sandbox hides
        return any(ref.resolved == s or s in ref.resolved.parents for s in self.scratch)

    def is_credential(self, ref: PathRef, *, reading: bool = True, whole: bool = False) -> bool:
        """A credential file outside the workspace (inside it, the user's project owns it),
        or a folder holding some. For a read, a glob or a path with run-time parts counts
        when it could match one; for a read of whole folders (`tar cz ~`), the home too."""
        if ref.inside:
            return False
        text = ref.resolved.as_posix() if ref.resolved is not None else ref.pattern
        if text is None or is_public(text.rsplit("/", 1)[-1]):
            return False
        if has_glob(text):
            return reading and self._could_be_credential(text)
        p = Path(text)
        if p == self.home or _is_under(p, self.home):
            rel = p.relative_to(self.home).as_posix()
            if any(glob_match(g, rel) for g in HOME_CREDENTIALS):
                return True
            if (rel != "." or reading and whole) and any(
                    g.startswith(f"{rel}/") or rel == "." for g in HOME_CREDENTIALS):
                return True  # a folder holding credentials (grep -r, tar, cp -r)
        if any(glob_match(g, p.as_posix()) for g in SYSTEM_CREDENTIALS):
            return True
        return is_secret_name(p.name)

    def _could_be_credential(self, pattern: str) -> bool:
        root = escape(self.root.as_posix())
        if glob_match(root + "/**", pattern):  # a literal folder inside the workspace
            return False
        home = escape(self.home.as_posix())
        for g in HOME_CREDENTIALS:
            parts = g.split("/")
            folders = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
            if any(intersects(pattern, f"{home}/{f}") for f in folders):
                return True
        if any(intersects(pattern, g) for g in SYSTEM_CREDENTIALS):
            return True
        name = pattern.rsplit("/", 1)[-1]
        if LITERAL_START.match(name) and any(intersects(name, g) for g in SECRET_NAMES
                                             if LITERAL_START.match(g)):
            return True  # `id_*`, `cred*`: named like a secret, wherever it is
        if "**" in pattern:
            return False
        # named like a secret: what the shell would expand the glob to, on this machine
        found = islice(glob.iglob(pattern, include_hidden=True), GLOB_LIMIT)
        return any(self.is_credential(self.resolve(f)) for f in found if not has_glob(f))

    def is_secret(self, ref: PathRef) -> bool:
        """What must not leave the machine: a credential, or a file named like a secret
        (`.env`, `*.pem`) even inside the workspace."""
        return self.is_credential(ref) or bool(ref.inside and ref.resolved is not None
                                                and is_secret_name(ref.resolved.name))

    def matches(self, pattern: str, ref: PathRef) -> bool:
        """Does a rule's path glob match? Relative globs match workspace-relative paths;
        `~/` and absolute globs match the resolved path. `**` crosses directories."""
        if ref.resolved is None:
            return pattern in ("*", "**")
        if pattern.startswith("~"):
            pattern = str(self.home) + pattern[1:]
        if pattern.startswith("/"):
            return glob_match(pattern, ref.resolved.as_posix())
        return ref.rel is not None and glob_match(pattern, ref.rel)


def _user_home(name: str) -> str | None:
    try:
        return pwd.getpwnam(name).pw_dir if re.fullmatch(r"[a-z_][\w.-]*", name) else None
    except KeyError:
        return None


def is_secret_name(name: str) -> bool:
    return not is_public(name) and any(fnmatch.fnmatchcase(name, g) for g in SECRET_NAMES)


def is_public(name: str) -> bool:
    """A file meant to be shared wherever it lies: a public key, an example or template."""
    return any(fnmatch.fnmatchcase(name, g) for g in NOT_SECRET)


def _is_under(p: Path, root: Path) -> bool:
    return root in p.parents


def posix(path: str) -> str:
    return PurePosixPath(path).as_posix()
