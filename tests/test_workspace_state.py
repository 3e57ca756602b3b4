"""What a run records of its starting workspace, and restoring it for a replay."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.agent import Agent
from harness.events import TaskStarted, Trajectory
from harness.llm import ScriptedModel
from harness.workspace_state import capture, differences, restore

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


def test_a_small_workspace_is_snapshotted_and_restored_byte_for_byte(tmp_path):
    ws = tmp_path / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "pkg" / "a.py").write_text("x = 1\n")
    (ws / "blob.bin").write_bytes(bytes(range(256)))
    (ws / "__pycache__").mkdir()
    (ws / "__pycache__" / "a.pyc").write_bytes(b"cache")  # a cache is not the starting state
    state = capture(ws)
    assert set(state.files) == {"pkg/a.py", "blob.bin"} and state.complete
    assert state.files["pkg/a.py"].startswith("6:") and state.git is None
    out = tmp_path / "out"
    assert restore(state, out) == []
    assert (out / "blob.bin").read_bytes() == bytes(range(256))
    (out / "pkg" / "a.py").write_text("x = 2\n")
    (out / "new.txt").write_text("")
    (out / "blob.bin").unlink()
    assert differences(state, out) == ["blob.bin: missing", "new.txt: not in the recorded workspace",
                                       "pkg/a.py: content differs"]


@needs_git
def test_a_large_repository_is_restored_from_its_commit_and_names_what_was_uncommitted(tmp_path):
    repo = tmp_path / "repo"
    ws = repo / "service"
    ws.mkdir(parents=True)
    (ws / "main.py").write_text("print('v1')\n")
    (repo / "README").write_text("outside the workspace\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    (ws / "main.py").write_text("print('v2, uncommitted')\n")
    (ws / "notes.txt").write_text("untracked\n")
    state = capture(ws, snapshot_max_bytes=0)  # too big to snapshot: the commit carries it
    assert state.snapshot is None and state.git is not None and state.git.path == "service"
    assert state.git.dirty == ["main.py", "notes.txt"]
    out = tmp_path / "out"
    problems = restore(state, out)
    assert (out / "main.py").read_text() == "print('v1')\n" and not (out / "README").exists()
    assert "main.py: was uncommitted when the run began; not restored" in problems
    assert "main.py: content differs" in problems and "notes.txt: missing" in problems


def test_a_huge_workspace_keeps_a_partial_manifest_and_says_so(tmp_path):
    for i in range(30):
        (tmp_path / f"f{i:02}.txt").write_text(str(i))
    state = capture(tmp_path, max_files=10)
    assert len(state.files) == 10 and not state.complete and state.snapshot is None
    assert restore(state, tmp_path / "out")[0].startswith("nothing to restore from")


def test_a_snapshot_cannot_write_outside_the_directory_it_restores(tmp_path):
    state = capture(tmp_path)
    state.snapshot = {"../escaped.txt": "eA=="}
    with pytest.raises(ValueError, match="leaves the workspace"):
        restore(state, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


def test_a_run_records_its_absolute_workspace_and_starting_state(tmp_path, monkeypatch):
    (tmp_path / "n.txt").write_text("42")
    monkeypatch.chdir(tmp_path)
    agent = Agent(ScriptedModel([{"tool": "write_file", "args": {"path": "n.txt", "content": "7"}},
                                 "done"]), workspace=".")
    trajectory = agent.run("change n")
    start = trajectory.of_type(TaskStarted)[0]
    assert start.workspace == str(tmp_path.resolve())
    assert start.workspace_state.files == {"n.txt": "2:" + __import__("hashlib").sha256(
        b"42").hexdigest()}  # the start, not what the run left
    path = tmp_path / "run.jsonl"
    trajectory.write(path)
    assert Trajectory.read(path).of_type(TaskStarted)[0].workspace_state == start.workspace_state
    off = Agent(ScriptedModel(["done"]), workspace=".", record_workspace=False).run("x")
    assert off.of_type(TaskStarted)[0].workspace_state is None


def test_an_undecodable_file_name_is_recorded_and_restored(tmp_path):
    name = os.fsdecode(b"caf\xe9.txt")
    try:
        (tmp_path / "ws").mkdir()
        (tmp_path / "ws" / name).write_text("x")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses non-UTF-8 names")
    state = capture(tmp_path / "ws")
    assert restore(state, tmp_path / "out") == []
    assert os.listdir(os.fsencode(tmp_path / "out")) == [b"caf\xe9.txt"]
    # and the name survives the trajectory file that records it
    log = Trajectory([TaskStarted(task="t", workspace_state=state)])
    log.write(tmp_path / "run.jsonl")
    again = Trajectory.read(tmp_path / "run.jsonl").of_type(TaskStarted)[0].workspace_state
    assert again.files == state.files
