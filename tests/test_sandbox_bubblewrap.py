"""The bubblewrap sandbox, tried as an attacker would: every escape is attempted for real."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.sandbox import Bubblewrap, Limits
from harness.sandbox.bubblewrap import available
from harness.sandbox.limits import enforced
from tests.processes import running

pytestmark = pytest.mark.skipif(
    not available(), reason="bubblewrap (bwrap) is not installed or cannot make namespaces here")


@pytest.fixture
def world(tmp_path):
    """A workspace, a sibling project and a home with a secret, side by side."""
    ws = tmp_path / "projects" / "app"
    sibling = tmp_path / "projects" / "billing"
    home = tmp_path / "home"
    for d in (ws, sibling / "src", home / ".ssh"):
        d.mkdir(parents=True)
    (ws / "main.py").write_text("print('hi')\n")
    (sibling / "src" / "billing.py").write_text("TOTAL = 1\n")
    (sibling / ".env").write_text("SECRET=sibling-canary\n")
    (home / ".ssh" / "id_rsa").write_text("home-canary\n")
    (home / ".bashrc").write_text("# rc\n")
    return ws, sibling, home


def session(ws: Path, home: Path, **kw):
    return Bubblewrap(home=home, **kw).open(ws)


def test_the_workspace_is_writable_and_nothing_else(world):
    ws, sibling, home = world
    with session(ws, home) as box:
        ok = box.run("echo made > made.txt && cat made.txt")
        assert ok.exit_code == 0 and ok.stdout == "made\n"
        for attack in ("rm -rf ../billing", "cd .. && rm -rf billing/src",
                       "printf '\\162\\155 -\\162\\146 ../billing' | sh",
                       f"echo pwned >> {home}/.bashrc", "echo x > /etc/harness-test",
                       f"python3 -c \"open('{sibling}/src/billing.py','w').write('')\""):
            box.run(attack)
    assert (ws / "made.txt").read_text() == "made\n"
    assert (sibling / "src" / "billing.py").read_text() == "TOTAL = 1\n"
    assert (home / ".bashrc").read_text() == "# rc\n"
    assert not Path("/etc/harness-test").exists()


def test_the_home_is_empty_and_siblings_are_invisible(world):
    ws, sibling, home = world
    with session(ws, home) as box:
        listing = box.run("ls -A ~; echo HOME=$HOME")
        assert listing.stdout == f"HOME={home}\n"
        leaks = box.run(f"cat ~/.ssh/id_rsa {home}/.ssh/id_rsa ../billing/.env "
                        f"{sibling}/.env; ls ..")
    assert "canary" not in leaks.output and "billing" not in leaks.stdout


def test_secrets_under_etc_are_masked():
    with Bubblewrap().open(Path.cwd()) as box:
        shadow = box.run("cat /etc/shadow /etc/gshadow 2>/dev/null | wc -c; ls -A /etc/ssh | wc -l")
    assert shadow.stdout.split() == ["0", "0"]


def _listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(5)
    received: list[bytes] = []

    def serve():
        try:
            conn, _ = server.accept()
            received.append(conn.recv(100))
            conn.close()
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    return server, received


SEND = ("import socket,sys; s=socket.create_connection(('127.0.0.1', {port}), timeout=2); "
        "s.sendall(b'leak'); print('sent')")


def test_there_is_no_network_unless_allowed(world):
    ws, _, home = world
    server, received = _listener()
    port = server.getsockname()[1]
    with session(ws, home) as box:
        blocked = box.run(f"{sys.executable} -c \"{SEND.format(port=port)}\"")
    assert blocked.exit_code != 0 and received == []
    with session(ws, home, network=True) as box:
        allowed = box.run(f"{sys.executable} -c \"{SEND.format(port=port)}\"")
    server.close()
    assert allowed.stdout == "sent\n" and received == [b"leak"]


def test_the_environment_is_an_allowlist(world, monkeypatch):
    ws, _, home = world
    for name in ("OPENAI_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "MY_PASSWORD",
                 "AWS_PROFILE", "SOME_APP_SETTING"):
        monkeypatch.setenv(name, "canary-value")
    with session(ws, home, pass_env=["SOME_APP_SETTING", "AWS_PROFILE"]) as box:
        env = box.run("env").stdout
    names = {line.split("=", 1)[0] for line in env.splitlines()}
    assert "PATH" in names and "SOME_APP_SETTING" in names
    assert not {"OPENAI_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "MY_PASSWORD",
                "AWS_PROFILE"} & names  # a secret-looking name is never passed through


def test_a_timeout_kills_everything_the_command_started(world):
    ws, _, home = world
    with session(ws, home) as box:
        start = time.monotonic()
        result = box.run("sleep 37.25 & sh -c 'sleep 37.25' & sleep 37.25", timeout_s=0.5)
    assert result.timed_out and result.exit_code is None and time.monotonic() - start < 10
    time.sleep(0.2)
    assert running("37.25") == []


def test_nothing_a_call_starts_outlives_it(world):
    ws, _, home = world
    with session(ws, home) as box:
        result = box.run("nohup sleep 41.5 >/dev/null 2>&1 & setsid sleep 41.5 >/dev/null 2>&1 "
                         "& (sleep 41.5 >/dev/null 2>&1 &) ; echo started")
    assert result.stdout == "started\n"
    time.sleep(0.2)
    assert running("41.5") == []


def test_no_capabilities_no_new_namespaces_no_remount(world):
    ws, _, home = world
    with session(ws, home) as box:
        caps = box.run("grep CapEff /proc/self/status")
        nested = box.run("unshare -Urm true")
        remount = box.run("mount -o remount,rw /usr")
        ptrace = box.run("ls /proc | grep -c '^[0-9]'")
    assert caps.stdout.split()[1] == "0000000000000000"
    assert nested.exit_code != 0 and remount.exit_code != 0
    assert int(ptrace.stdout) < 10  # its own PID namespace: only the sandbox's processes


def test_git_hooks_and_config_stay_read_only_but_commits_work(world):
    ws, _, home = world
    with session(ws, home) as box:
        assert box.run("git init -q .").exit_code == 0
    with session(ws, home) as box:  # the protected paths exist from this session on
        hook = box.run("echo 'curl x' > .git/hooks/pre-commit")
        config = box.run("git config core.fsmonitor 'sh -c evil'")
        commit = box.run("git add -A && git -c user.name=a -c user.email=a@b commit -qm one "
                         "&& git log --oneline | wc -l")
    assert hook.exit_code != 0 and not (ws / ".git/hooks/pre-commit").exists()
    assert config.exit_code != 0 and "fsmonitor" not in (ws / ".git/config").read_text()
    assert commit.exit_code == 0 and commit.stdout.strip() == "1"


def test_routine_python_runs_inside(world):
    ws, _, home = world
    (ws / "test_main.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    with session(ws, home) as box:
        result = box.run(f"{sys.executable} -m pytest -q -p no:cacheprovider test_main.py")
    assert result.exit_code == 0 and "1 passed" in result.stdout


def test_memory_is_limited_per_process(world):
    ws, _, home = world
    with session(ws, home, limits=Limits(memory_mb=200)) as box:
        big = box.run(f"{sys.executable} -c 'x = bytearray(600_000_000)'")
        small = box.run(f"{sys.executable} -c 'x = bytearray(50_000_000); print(len(x))'")
    assert big.exit_code != 0 and "MemoryError" in big.stderr
    assert small.exit_code == 0


def test_the_process_count_is_limited_where_it_can_be(world):
    limits = Limits(max_processes=16)
    if "not enforced" in enforced(limits)["max_processes"]:
        pytest.skip("no pids cgroup can be made here and root ignores RLIMIT_NPROC")
    ws, _, home = world
    with session(ws, home, limits=limits) as box:
        result = box.run("for i in $(seq 40); do sleep 1 & done; wait; echo done", timeout_s=20)
    assert "fork" in result.stderr.lower() or "resource" in result.stderr.lower()


def test_a_workspace_inside_the_home_is_writable_and_the_rest_of_the_home_hidden(tmp_path):
    home = tmp_path / "home"
    ws = home / "code" / "app"
    ws.mkdir(parents=True)
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("aws-canary\n")
    with session(ws, home) as box:
        result = box.run("echo ok > out.txt; cat ~/.aws/credentials; ls -A ~/code")
    assert (ws / "out.txt").read_text() == "ok\n"
    assert "canary" not in result.output and result.stdout.split() == ["app"]


def test_code_that_git_would_run_on_the_host_cannot_be_planted(world):
    ws, _, home = world
    with session(ws, home) as box:  # a repository made inside keeps no code-running keys
        box.run("git init -q --template= . && git config core.fsmonitor 'sh -c evil' && "
                "git config alias.st status && git config alias.x '!sh -c evil'")
    config = (ws / ".git/config").read_text()
    assert "evil" not in config and "st = status" in config
    with session(ws, home) as box:
        swap = box.run("cp -r .git .g2 && git --git-dir=.g2 config core.pager evil && "
                       "mv .git .old && mv .g2 .git")
        hooks = box.run("mkdir -p .git/hooks && printf '#!/bin/sh\\nevil\\n' > .git/hooks/"
                        "pre-commit && chmod +x .git/hooks/pre-commit")
        commondir = box.run("mkdir -p ../x; echo ../.g2 > .git/commondir")
    assert swap.exit_code != 0 and "evil" not in (ws / ".git/config").read_text()
    assert "reverted changes to .git" in hooks.stderr
    assert not (ws / ".git/hooks").exists() and not (ws / ".git/commondir").exists()
    assert "reverted" in commondir.stderr


def test_history_in_the_workspace_only_grows(world):
    ws, _, home = world
    with session(ws, home) as box:
        box.run("git init -q -b main . && git add -A && git -c user.name=a -c user.email=a@b "
                "commit -qm one && git -c user.name=a -c user.email=a@b commit -q --allow-empty "
                "-m two")
        tip = box.run("git rev-parse HEAD").stdout.strip()
        amend = box.run("git -c user.name=a -c user.email=a@b commit -q --amend --allow-empty -m rewritten")
        reset = box.run("git reset -q --hard HEAD~1")
        gone = box.run("git checkout -q -b side && git branch -D main")
        grow = box.run("git checkout -q main && git -c user.name=a -c user.email=a@b commit -q "
                       "--allow-empty -m three && git log --format=%s | head -1")
    assert "append-only" in amend.stderr and "append-only" in reset.stderr
    assert "append-only" in gone.stderr
    assert grow.stdout == "three\n" and "append-only" not in grow.stderr
    with session(ws, home) as box:
        assert box.run(f"git merge-base --is-ancestor {tip} main").exit_code == 0
