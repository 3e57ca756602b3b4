"""How a run is confined and how it ends: the record, the CLI, interrupts, other backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import Agent, ScriptedModel
from harness.events import TaskFinished, TaskStarted, ToolFinished, Trajectory
from harness.governance.audit import audit
from harness.sandbox import Docker, Limits, NoSandbox, SandboxUnavailable
from harness.sandbox.bubblewrap import available
from harness.view import describe
from tests.processes import running

needs_bwrap = pytest.mark.skipif(
    not available(), reason="bubblewrap (bwrap) is not installed or cannot make namespaces here")


def shell(command: str) -> ScriptedModel:
    return ScriptedModel([{"tool": "run_shell", "args": {"command": command}}, "done"])


def test_an_unconfined_run_says_so_in_its_record_view_and_audit(tmp_path):
    run = Agent(shell("echo hi"), workspace=tmp_path, sandbox=NoSandbox()).run("say hi")
    started = run.of_type(TaskStarted)[0]
    assert started.sandbox.backend == "none" and not started.sandbox.confined
    style, line = describe(started)
    assert "no sandbox" in line and "red" in style
    assert audit(run).sandbox.confined is False


@needs_bwrap
def test_the_default_agent_runs_its_shell_in_bubblewrap_and_records_it(tmp_path):
    run = Agent(shell("ls -A ~"), workspace=tmp_path).run("list the home")
    started = run.of_type(TaskStarted)[0]
    assert started.sandbox.backend == "bubblewrap" and started.sandbox.confined
    assert "net" in started.sandbox.settings["namespaces"]
    seen = set(run.of_type(ToolFinished)[0].output.splitlines()[1:])
    assert seen <= {".pyenv", ".rustup", ".cargo", ".local", ".nvm", ".rbenv", ".volta",
                    ".asdf", ".nodenv", ".elan", ".ghcup", ".sdkman"}  # toolchains only
    again = Trajectory.read(_written(run, tmp_path / "run.jsonl"))
    assert again.of_type(TaskStarted)[0].sandbox == started.sandbox


def _written(run: Trajectory, path: Path) -> Path:
    run.write(path)
    return path


def test_no_sandbox_kills_the_whole_process_group_on_timeout(tmp_path):
    box = NoSandbox(Limits(timeout_s=0.5)).open(tmp_path)
    result = box.run("sleep 53.5 & sleep 53.5")
    assert result.timed_out
    time.sleep(0.2)
    assert not running("53.5")


def _start_run(tmp_path: Path, command: str, sandbox: str) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"tool": "run_shell", "args": {"command": command}}, "done"]))
    out = tmp_path / "run.jsonl"
    ws = tmp_path / "ws"
    ws.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", "wait", "--model", f"scripted:{script}",
         "--workspace", str(ws), "--out", str(out), "--quiet", "--sandbox", sandbox],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    return proc, out


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("sandbox", ["none", pytest.param("bwrap", marks=needs_bwrap)])
def test_an_interrupted_run_records_how_it_ended_and_leaves_nothing_running(
        tmp_path, signum, sandbox):
    marker = f"sleep 61.{signum}{len(sandbox)}"
    proc, out = _start_run(tmp_path, f"{marker} & {marker}", sandbox)
    deadline = time.monotonic() + 30
    while not running(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running(marker), proc.stderr.read() if proc.poll() is not None else "not started"
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == 1
    time.sleep(0.2)
    assert not running(marker)
    run = Trajectory.read(out)
    interrupted = run.of_type(ToolFinished)[-1]
    assert not interrupted.ok and "interrupted" in interrupted.error
    end = run.of_type(TaskFinished)[0]
    assert end.status == "stopped" and end.reason.startswith("interrupted")
    assert signal.Signals(signum).name in end.reason


def test_harness_run_warns_loudly_when_nothing_confines_the_tools(tmp_path):
    proc, out = _start_run(tmp_path, "echo ok", "none")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "WARNING: no sandbox" in err.decode()
    assert Trajectory.read(out).of_type(TaskStarted)[0].sandbox.backend == "none"


def test_docker_confines_by_container_flags(tmp_path):
    box = Docker("python:3.11-slim", limits=Limits(memory_mb=512, max_processes=64))
    argv = box.run_argv("docker", tmp_path, "harness-x")
    joined = " ".join(argv)
    for flag in ("--network none", "--cap-drop ALL", "--security-opt no-new-privileges",
                 "--read-only", "--memory 512m", "--pids-limit 64",
                 f"-v {tmp_path}:{tmp_path}:rw", f"-w {tmp_path}"):
        assert flag in joined
    assert argv[-3:] == ["python:3.11-slim", "sleep", "infinity"]
    assert "--network bridge" in " ".join(
        Docker(network=True).run_argv("docker", tmp_path, "x"))
    assert box.info().confined and box.info().settings["image"] == "python:3.11-slim"


def _docker_engine() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_docker_without_an_engine_is_a_clear_error_and_the_run_records_it(tmp_path):
    if _docker_engine():
        pytest.skip("a Docker engine is running here; this checks the message without one")
    with pytest.raises(SandboxUnavailable, match="docker"):
        Docker(executable="docker").open(tmp_path)
    run = Agent(shell("echo hi"), workspace=tmp_path, sandbox=Docker()).run("t")
    end = run.of_type(TaskFinished)[0]
    assert end.status == "error" and "sandbox docker cannot start" in end.reason
    assert not run.of_type(ToolFinished)  # nothing ran unconfined


def test_docker_runs_commands_in_a_container(tmp_path):
    if not _docker_engine():
        pytest.skip("no Docker engine running (docker info fails): Docker backend not exercised")
    with Docker().open(tmp_path) as box:
        result = box.run("echo hi > f && cat f && ls -A ~ | wc -l")
    assert result.exit_code == 0 and result.stdout.startswith("hi\n")


def test_a_policy_that_requires_a_sandbox_refuses_machine_tools_without_one(tmp_path):
    from harness.governance import Policy, PolicyGovernor

    (tmp_path / "a.txt").write_text("x")
    model = ScriptedModel([{"tool": "read_file", "args": {"path": "a.txt"}},
                           {"tool": "run_shell", "args": {"command": "echo hi"}}, "done"])
    governor = PolicyGovernor(Policy("workspace-write", require_sandbox=True))
    run = Agent(model, workspace=tmp_path, sandbox=NoSandbox(), governor=governor).run("t")
    refused = run.of_type(ToolFinished)
    assert [r.refused for r in refused] == [True, True]
    assert "requires a sandbox" in refused[0].error
    if available():
        model = ScriptedModel([{"tool": "run_shell", "args": {"command": "echo hi"}}, "done"])
        confined = Agent(model, workspace=tmp_path, governor=governor).run("t")
        assert confined.of_type(ToolFinished)[0].output == "exit code 0\nhi\n"


def governed(command: str, workspace: Path, sandbox=None) -> Trajectory:
    """A run of `command` under the workspace-write policy (default sandbox unless given)."""
    from harness.governance import Policy, PolicyGovernor

    box = {} if sandbox is None else {"sandbox": sandbox}
    return Agent(shell(command), workspace=workspace, governor=PolicyGovernor(Policy()),
                 **box).run("a task")


def test_the_policy_treats_a_sandboxed_tmp_as_scratch_and_the_hosts_as_outside(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    command = "tar czf /tmp/src.tgz src && tar tzf /tmp/src.tgz"
    assert governed(command, tmp_path, NoSandbox()).of_type(ToolFinished)[0].refused
    if available():
        confined = governed(command, tmp_path)
        result = confined.of_type(ToolFinished)[0]
        assert result.ok and "src/a.py" in result.output
        assert not Path("/tmp/src.tgz").exists() or Path("/tmp/src.tgz").stat().st_mtime < \
            confined.of_type(TaskStarted)[0].ts  # the sandbox's /tmp was its own


def test_a_write_known_only_at_run_time_is_asked_about_unless_the_sandbox_bounds_it(tmp_path):
    command = 'd=$(mktemp -d) && echo x > "$d/x" && cat "$d/x"'
    assert governed(command, tmp_path, NoSandbox()).of_type(ToolFinished)[0].refused
    if available():
        result = governed(command, tmp_path).of_type(ToolFinished)[0]
        assert result.output == "exit code 0\nx\n"


@needs_bwrap
def test_under_a_sandbox_the_workspaces_neighbours_in_tmp_are_still_outside(tmp_path):
    ws = tmp_path / "projects" / "app"
    ws.mkdir(parents=True)
    assert governed("cd .. && rm -rf billing", ws).of_type(ToolFinished)[0].refused


def test_the_file_tools_never_write_into_git_whatever_the_backend(tmp_path):
    (tmp_path / ".git" / "hooks").mkdir(parents=True)
    model = ScriptedModel([
        {"tool": "write_file", "args": {"path": ".git/hooks/pre-commit", "content": "evil"}},
        {"tool": "edit_file", "args": {"path": "g/config", "old": "a", "new": "b"}}, "done"])
    (tmp_path / ".git" / "config").write_text("a\n")
    (tmp_path / "g").symlink_to(".git")
    run = Agent(model, workspace=tmp_path, sandbox=NoSandbox()).run("t")
    assert [r.ok for r in run.of_type(ToolFinished)] == [False, False]
    assert not (tmp_path / ".git/hooks/pre-commit").exists()
    assert (tmp_path / ".git/config").read_text() == "a\n"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_run_interrupted_while_it_awaits_its_model_names_the_signal(tmp_path, signum):
    import socket

    server = socket.socket()  # a model endpoint that accepts and never answers
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    out = tmp_path / "run.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", "wait", "--model", "openai/any",
         "--workspace", str(tmp_path), "--out", str(out), "--quiet", "--sandbox", "none"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "OPENAI_API_KEY": "x",
             "OPENAI_API_BASE": f"http://127.0.0.1:{port}/v1"})
    server.settimeout(60)
    try:
        conn, _ = server.accept()  # the model call is in flight
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 1
        conn.close()
    finally:
        server.close()
        proc.kill()
    end = Trajectory.read(out).of_type(TaskFinished)[0]
    assert end.status == "stopped" and signal.Signals(signum).name in end.reason


def test_branch_tips_read_from_ref_files_agree_with_git(tmp_path):
    from harness.sandbox import git_guard

    git = ["git", "-c", "user.name=a", "-c", "user.email=a@b"]
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "one"], ["tag", "v1"],
                 ["tag", "-a", "v2", "-m", "annotated"], ["branch", "side"],
                 ["pack-refs", "--all"], ["commit", "-q", "--allow-empty", "-m", "two"],
                 ["branch", "loose"]):
        subprocess.run([*git, *args], cwd=tmp_path, check=True, capture_output=True)
    tips = git_guard.branch_tips(tmp_path / ".git")
    assert tips == git_guard._tips_from_git(tmp_path / ".git")
    assert {"refs/heads/side", "refs/heads/loose", "refs/tags/v1", "refs/tags/v2"} <= set(tips)
