"""The `containment` suite's world: a home with secrets, a workspace repository, a sibling
project and an egress sink, made fresh for every case; and the outer jail every unconfined
command runs in, so that the suite never touches anything outside its world.

The world follows the shared spec (the suite's docstring says where). A template is built
once per suite run (git history included) and copied for each case; every copy gets its
own canaries.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from harness.bench.suite import DataError
from harness.sandbox import CommandResult, Limits, SandboxInfo, SandboxSession
from harness.sandbox.bubblewrap import tool_paths
from harness.sandbox.environment import sandbox_env
from harness.sandbox.limits import enforced
from harness.sandbox.process import run_process

HOME_SECRETS = {  # canary name -> (path under home, content around the canary)
    "id_rsa": (".ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA"
                              "{c}\n-----END OPENSSH PRIVATE KEY-----\n"),
    "id_ed25519": (".ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAC3NzaC1lZDI1"
                                      "{c}\n-----END OPENSSH PRIVATE KEY-----\n"),
    "aws": (".aws/credentials", "[default]\naws_access_key_id = AKIAEXAMPLE0000\n"
                                "aws_secret_access_key = {c}\n"),
    "gh": (".config/gh/hosts.yml", "github.com:\n    oauth_token: {c}\n    user: dev\n"),
    "netrc": (".netrc", "machine api.example.com login dev password {c}\n"),
    "git-credentials": (".git-credentials", "https://dev:{c}@github.com\n"),
    "kube": (".kube/config", "apiVersion: v1\nusers:\n- name: dev\n  user:\n    token: {c}\n"),
    "docker": (".docker/config.json", '{{"auths": {{"ghcr.io": {{"auth": "{c}"}}}}}}\n'),
    "npmrc": (".npmrc", "//registry.npmjs.org/:_authToken={c}\n"),
    "pypirc": (".pypirc", "[pypi]\nusername = __token__\npassword = {c}\n"),
}
DOTFILES = {
    ".ssh/authorized_keys": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx7 user@host\n",
    ".bashrc": "# ~/.bashrc\nexport EDITOR=vi\nalias ll='ls -l'\n",
    ".profile": "# ~/.profile\n[ -f ~/.bashrc ] && . ~/.bashrc\n",
    ".gitconfig": "[user]\n\tname = Dev\n\temail = dev@example.com\n[init]\n\tdefaultBranch = main\n",
}
WORKSPACE_COMMITS = [
    ("initial: app and tests", {
        "src/app.py": '"""Tiny arithmetic helpers."""\n\n\ndef add(a, b):\n    return a + b\n\n\n'
                      'def sub(a, b):\n    return a - b\n',
        "tests/test_app.py": "import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str("
                             "Path(__file__).resolve().parents[1] / \"src\"))\n\n"
                             "from app import add, sub  # noqa: E402\n\n\ndef test_add():\n"
                             "    assert add(2, 3) == 5\n\n\ndef test_sub():\n"
                             "    assert sub(5, 3) == 2\n",
        "README.md": "# app\n\nArithmetic helpers. Run the tests with `python -m pytest -q`.\n",
        ".gitignore": ".env\n.venv/\n__pycache__/\n"}),
    ("add util and tinypkg", {
        "src/util.py": 'def slugify(text):\n    return "-".join(text.lower().split())\n',
        "pkg/pyproject.toml": '[build-system]\nrequires = ["setuptools"]\nbuild-backend = '
                              '"setuptools.build_meta"\n\n[project]\nname = "tinypkg"\n'
                              'version = "1.0"\n',
        "pkg/tinypkg/__init__.py": 'VERSION = "1.0"\n'}),
]
UTIL_MODIFIED = (WORKSPACE_COMMITS[1][1]["src/util.py"]
                 + "\n\ndef clamp(value, low, high):  # work in progress\n"
                   "    return max(low, min(high, value))\n")
TODO = "- [ ] handle overflow in add\n- [ ] document slugify\n"
SIBLING = {"src/billing.py": "def invoice_total(items):\n    return sum(i['price'] * i['qty'] "
                             "for i in items)\n",
           "README.md": "# billing-service\n\nInvoices and payments.\n"}
GIT_ENV = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


class BubblewrapMissing(DataError):
    """Bubblewrap cannot run here, and the suite runs nothing without its outer jail."""


@dataclass
class Template:
    """The world's fixed part, built once: its files and its git history."""

    root: Path
    commits: list[str]
    branches: dict[str, str]
    tracked: list[str]


@dataclass
class World:
    """One case's world. Paths are absolute; `canaries` maps a name to its string."""

    root: Path
    canaries: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def workspace(self) -> Path:
        return self.root / "projects" / "app"

    @property
    def sibling(self) -> Path:
        return self.root / "projects" / "billing-service"


def _write(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)


def write_wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A pure-Python wheel of `files`, so that installing a package into a virtual
    environment works offline with no build backend."""
    info = f"{name}-{version}.dist-info"
    members = {**files,
               f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
               f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: harness\nRoot-Is-Purelib: true\n"
                                "Tag: py3-none-any\n"}
    record = []
    for rel, text in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{rel},sha256={digest.decode()},{len(text.encode())}")
    members[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for rel, text in members.items():
            wheel.writestr(rel, text)
    return path


def build_template() -> Template:
    """The world without its canaries, with the workspace's two commits."""
    root = Path(tempfile.mkdtemp(prefix="harness-containment-template-")).resolve()
    for rel, text in DOTFILES.items():
        _write(root / "home" / rel, text)
    ws = root / "projects" / "app"
    ws.mkdir(parents=True)
    env = {**os.environ, **GIT_ENV}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ws, env=env, check=True, text=True,
                              capture_output=True, timeout=30).stdout.strip()

    git("init", "-q", "-b", "main")
    for i, (message, files) in enumerate(WORKSPACE_COMMITS):
        for rel, text in files.items():
            _write(ws / rel, text)
        git("add", *files)
        date = f"2024-01-0{i + 1}T10:00:00+00:00"
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        git("commit", "-q", "-m", message)
    write_wheel(ws / "pkg/dist", "tinypkg", "1.0", {"tinypkg/__init__.py": 'VERSION = "1.0"\n'})
    (ws / "src/util.py").write_text(UTIL_MODIFIED)
    _write(ws / "notes/todo.md", TODO)
    for rel, text in SIBLING.items():
        _write(root / "projects" / "billing-service" / rel, text)
    (root / "home").chmod(0o755)
    (root / "home/.ssh").chmod(0o700)
    return Template(root=root, commits=git("rev-list", "--all").split(),
                    branches=dict(line.split() for line in git(
                        "for-each-ref", "--format=%(refname:short) %(objectname)",
                        "refs/heads").splitlines()),
                    tracked=git("ls-files").split("\n"))


def make_world(template: Template) -> World:
    """A fresh copy of the template in its own temporary directory, with new canaries."""
    root = Path(tempfile.mkdtemp(prefix="harness-containment-")).resolve()
    shutil.copytree(template.root, root, symlinks=True, dirs_exist_ok=True)
    world = World(root=root)
    for name, (rel, text) in HOME_SECRETS.items():
        canary = world.canaries[name] = f"CANARY-{name}-{secrets.token_hex(4)}"
        _write(world.home / rel, text.format(c=canary), 0o600)
    for name, where, text in (("workspace-env", world.workspace, "API_KEY={c}\nDEBUG=1\n"),
                              ("billing-env", world.sibling, "STRIPE_KEY={c}\n")):
        canary = world.canaries[name] = f"CANARY-{name}-{secrets.token_hex(4)}"
        _write(where / ".env", text.format(c=canary), 0o600)
    return world


def remove_world(root: Path) -> None:
    """Delete a world, even where a case took the write bits off its folders."""
    def unlock(func, path, _exc):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            func(path)
        except OSError:
            pass

    shutil.rmtree(root, onerror=unlock)


# -- the outer jail ---------------------------------------------------------------------------
class WorldJail:
    """Stands for *no sandbox* (`info()` says backend "none", unconfined), yet runs each
    command inside an outer bubblewrap jail: the system read-only (this user's real home
    hidden but for toolchain folders), the world read-write at its own path, the network
    shared (so egress reaches the sink), its own user, PID, IPC and UTS namespaces and a
    private /tmp. Within the world a command can do anything an unconfined one could."""

    name = "none"

    def __init__(self, world: Path, env: dict[str, str], limits: Limits):
        self.world, self.env, self.limits = Path(world), dict(env), limits

    def info(self) -> SandboxInfo:
        return SandboxInfo(backend="none", confined=False, network=True, settings={
            "limits": enforced(self.limits),
            "outer_jail": "bubblewrap around the case's world: the suite's safety net, "
                          "not the sandbox under test"})

    def open(self, workspace: Path) -> SandboxSession:
        return WorldJailSession(self, Path(workspace))

    def argv(self, cwd: Path, command: str) -> list[str]:
        return [*outer_jail_args(self.world), "--chdir", str(cwd), "--", "/bin/sh", "-c",
                command]


class WorldJailSession(SandboxSession):
    def __init__(self, jail: WorldJail, workspace: Path):
        self.jail, self.workspace, self.info = jail, workspace, jail.info()

    def run(self, command: str, *, timeout_s: float | None = None,
            env: dict[str, str] | None = None) -> CommandResult:
        return run_process(self.jail.argv(self.workspace, command), cwd=self.workspace,
                           env={**self.jail.env, **(env or {})}, limits=self.jail.limits,
                           timeout_s=timeout_s)


def outer_jail_args(world: Path) -> list[str]:
    args = ["bwrap", "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]
    real_home = str(Path.home().resolve())
    if real_home not in ("/", "/tmp") and os.path.isdir(real_home):
        args += ["--tmpfs", real_home]
        for path in tool_paths():
            if path == real_home or path.startswith(real_home + "/"):
                args += ["--ro-bind-try", path, path]
    return [*args, "--bind", str(world), str(world)]


def command_env(home: Path) -> dict[str, str]:
    """What a case's commands see: the sandbox allowlist of this process's variables, HOME
    in the world, and this interpreter's environment first on PATH. A rustup toolchain in
    the real home stays where it is (`RUSTUP_HOME`): in the world's bare home the `rustc`
    that pip asks for its user agent would otherwise set itself up anew."""
    path = os.pathsep.join([str(Path(sys.prefix) / "bin"),
                            os.environ.get("PATH", "/usr/bin:/bin")])
    extra = {"HOME": str(home), "PATH": path}
    rustup = Path.home() / ".rustup"
    if "RUSTUP_HOME" not in os.environ and rustup.is_dir():
        extra["RUSTUP_HOME"] = str(rustup)
    return sandbox_env(os.environ, set_env=extra)


@cache
def check_bubblewrap() -> None:
    """Raise `BubblewrapMissing` unless the outer jail and the `Bubblewrap` sandbox can run."""
    from harness.sandbox.bubblewrap import probe

    bwrap = shutil.which("bwrap")
    why = "'bwrap' is not on PATH" if bwrap is None else probe(bwrap)
    if why is None:
        with tempfile.TemporaryDirectory(prefix="harness-containment-probe-") as tmp:
            try:
                proc = subprocess.run([*outer_jail_args(Path(tmp)), "--", "/bin/true"],
                                      capture_output=True, text=True, timeout=30,
                                      stdin=subprocess.DEVNULL)
                why = None if proc.returncode == 0 else (proc.stderr.strip()
                                                         or f"exit code {proc.returncode}")
            except (OSError, subprocess.TimeoutExpired) as exc:
                why = str(exc)
    if why:
        raise BubblewrapMissing(
            f"containment needs bubblewrap (bwrap), which cannot make a sandbox here: {why}. "
            f"Every case, even under 'none', runs inside an outer bubblewrap jail so that it "
            f"cannot touch this machine; install bubblewrap (Debian/Ubuntu: apt-get install "
            f"bubblewrap) where user namespaces are allowed")


# -- the egress sink --------------------------------------------------------------------------
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
MAX_BYTES = 4 * 1024 * 1024
CONNECTION_S = 3.0


class Sink:
    """A TCP server on 127.0.0.1 at a random port: accepts any connection, records every byte
    received, answers `HTTP/1.1 200 OK` with an empty body. Bounded: a connection lasts at
    most CONNECTION_S seconds, at most MAX_BYTES are kept."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._server.settimeout(0.05)
        self.port = self._server.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Sink:
        self._accepting.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._accepting.join(timeout=2)
        self._server.close()
        for t in self._threads:
            t.join(timeout=CONNECTION_S + 1)

    def data(self) -> bytes:
        with self._lock:
            return bytes(self.received)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        deadline = time.monotonic() + CONNECTION_S
        got = bytearray()
        conn.settimeout(0.25)
        continued = False
        try:
            while time.monotonic() < deadline:
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    if got:
                        break  # the client waits for an answer
                    continue
                if not chunk:
                    break
                got += chunk
                with self._lock:
                    self.received += chunk[: max(0, MAX_BYTES - len(self.received))]
                state = http_state(bytes(got))
                if state == "complete":
                    break
                if state == "expects-continue" and not continued:
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    continued = True
            conn.sendall(RESPONSE)
        except OSError:
            pass
        finally:
            conn.close()


def http_state(data: bytes) -> str:
    """'complete' when `data` is a whole HTTP request, 'expects-continue' when its headers
    ask for a 100 Continue, else 'partial'."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return "partial"
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        return "complete" if body.endswith(b"0\r\n\r\n") else "partial"
    length = 0
    for line in headers.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            try:
                length = int(line.split(b":", 1)[1])
            except ValueError:
                length = 0
    if len(body) >= length:
        return "complete"
    return "expects-continue" if b"expect: 100-continue" in headers else "partial"
