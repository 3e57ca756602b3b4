"""Work no commit holds: the policy refuses actions that would destroy it, deciding by the
repository's real state, and lets through their look-alikes that lose nothing.

Each test makes a real git repository in `tmp_path`: committed files, one of them modified
(`src/modified.py`), an untracked note (`notes/todo.md`), and ignored build output
(`build/`, `__pycache__/`, `.venv/`, `*.pyc`). Deleting, restoring or stashing what holds
uncommitted work is denied (`protect.destructive`, the reason naming the files); the same
action on clean, ignored or non-repository files is not.
"""

import os
import subprocess

import pytest

from harness.governance import Policy
from harness.messages import ToolCall

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x.example",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x.example",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
COMMITTED = {"README.md": "# app\n", "src/modified.py": "a = 1\n", "src/clean.py": "b = 2\n",
             "docs/guide.md": "guide\n", ".gitignore": "build/\n__pycache__/\n.venv/\n*.pyc\n"}
IGNORED = {"build/out.o": "", "src/__pycache__/clean.cpython-312.pyc": "",
           ".venv/bin/python": "", "src/old.pyc": ""}


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True,
                   capture_output=True)


def write(root, files):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture
def repo(tmp_path):
    """A repository with a modified file, an untracked note and ignored build output."""
    root = tmp_path / "ws"
    write(root, COMMITTED)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    write(root, {"src/modified.py": "a = 1\nb = 'work in progress'\n",
                 "notes/todo.md": "- [ ] finish\n", **IGNORED})
    return root


@pytest.fixture
def clean_repo(tmp_path):
    """A repository whose tree matches its last commit (ignored output aside)."""
    root = tmp_path / "clean"
    write(root, COMMITTED)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    write(root, IGNORED)
    return root


@pytest.fixture
def folder(tmp_path):
    """The same files in a folder that is no git repository."""
    root = tmp_path / "plain"
    write(root, {**COMMITTED, "notes/todo.md": "- [ ] finish\n"})
    return root


def decide(workspace, command):
    call = ToolCall(id="c", name="run_shell", arguments={"command": command})
    return Policy("workspace-write").evaluate(call, workspace)


def assert_denied(workspace, commands, naming=None):
    for command in commands:
        d = decide(workspace, command)
        assert (d.decision, d.rule) == ("deny", "protect.destructive"), (command, d)
        if naming:
            assert naming in d.reason, (command, d.reason)


def assert_allowed(workspace, commands):
    for command in commands:
        d = decide(workspace, command)
        assert d.decision == "allow", (command, d)


# -- 1. restoring files over their uncommitted changes ------------------------------------------
def test_restoring_a_modified_file_is_denied_naming_it(repo):
    assert_denied(repo, [
        "git restore src/modified.py", "git restore -W src/modified.py",
        "git restore --source=HEAD src/modified.py", "git restore -s HEAD~0 -- src/modified.py",
        "git checkout -- src/modified.py", "git checkout HEAD -- src/modified.py",
        "git checkout HEAD src/modified.py", "git checkout src/modified.py",
        "cd src && git restore modified.py", "git checkout -- 'src/*.py'",
        "git restore --staged --worktree src/modified.py",
    ], naming="src/modified.py")


def test_writing_a_committed_version_over_a_modified_file_is_denied(repo):
    assert_denied(repo, [
        "git show HEAD:src/modified.py > src/modified.py",
        "git show HEAD:./src/modified.py >src/modified.py",
        "git cat-file -p HEAD:src/modified.py > src/modified.py",
        "git --no-pager show main~0:src/modified.py > src/modified.py",
    ], naming="src/modified.py")


def test_restores_that_lose_nothing_stay_allowed(repo):
    assert_allowed(repo, [
        "git restore src/clean.py", "git checkout -- src/clean.py",
        "git checkout HEAD -- src/clean.py", "git restore --staged src/modified.py",
        "git checkout -b x", "git checkout -q -b feature/y", "git show HEAD:README.md",
        "git show HEAD:src/modified.py", "git show HEAD:src/modified.py | head",
        "git show HEAD:src/modified.py > src/committed.py",
        "git show HEAD:src/clean.py > src/clean.py",
        "git show HEAD:src/modified.py >> notes/log.md",
    ])


def test_restoring_a_file_whose_changes_are_all_staged_loses_nothing(repo):
    git(repo, "add", "src/modified.py")
    assert_allowed(repo, ["git restore src/modified.py", "git checkout -- src/modified.py"])
    assert_denied(repo, ["git checkout HEAD -- src/modified.py",
                         "git restore --source=HEAD --staged --worktree src/modified.py"])


# -- 2. stashing work out of the tree -----------------------------------------------------------
def test_stashing_uncommitted_work_away_is_denied(repo):
    assert_denied(repo, [
        "git stash", "git stash -u", "git stash push", "git stash push -m wip",
        "git stash save wip", "git stash --include-untracked", "git stash -a",
        "git stash --all", "git stash push -- src/modified.py", "git stash -k",
        "git stash push src", "git -C src stash",
    ], naming="src/modified.py")


def test_stashing_untracked_files_is_denied_only_when_asked_to_take_them(repo):
    git(repo, "checkout", "-q", "--", "src/modified.py")
    assert_denied(repo, ["git stash -u", "git stash push --include-untracked",
                         "git stash --all"], naming="notes/todo.md")
    assert_allowed(repo, ["git stash", "git stash push -m nothing-tracked"])


def test_stash_commands_that_take_nothing_away_stay_allowed(repo):
    assert_allowed(repo, [
        "git stash list", "git stash pop", "git stash apply", "git stash show -p",
        "git stash create", "git stash push -- src/clean.py",
        "git stash && python -m pytest -q; git stash pop",
    ])


def test_stashing_a_clean_tree_is_allowed(clean_repo):
    assert_allowed(clean_repo, ["git stash", "git stash -u", "git stash --all"])


# -- 3. deleting what holds uncommitted work ----------------------------------------------------
def test_deleting_modified_or_untracked_files_is_denied_naming_them(repo):
    assert_denied(repo, ["rm -rf src", "rm -r src tests notes", "rm src/modified.py",
                         "rm -f src/*.py", "unlink src/modified.py", "cd src && rm -rf ../src",
                         "shred -u src/modified.py", "truncate -s 0 src/modified.py"],
                  naming="src/modified.py")
    assert_denied(repo, ["rm notes/todo.md", "rm -rf notes", "rm -rf notes/"],
                  naming="notes/todo.md")


def test_find_deleting_uncommitted_work_is_denied(repo):
    assert_denied(repo, ["find . -name '*.md' -delete", "find notes -type f -delete",
                         "find . -name '*.md' -exec rm {} +",
                         "find . -name '*.md' -exec rm -f {} \\;"], naming="notes/todo.md")
    assert_denied(repo, ["find src -name '*.py' -delete"], naming="src/modified.py")


def test_git_clean_of_a_folder_with_untracked_work_is_denied(repo):
    assert_denied(repo, ["git clean -fd notes", "git clean -f notes/todo.md",
                         "git clean -fdx notes/"], naming="notes/todo.md")


def test_deleting_clean_ignored_or_generated_files_stays_allowed(repo):
    assert_allowed(repo, [
        "rm -rf build __pycache__", "rm -rf .venv", "rm src/clean.py", "rm -rf build",
        "rm -rf src/__pycache__", "find . -name '*.pyc' -delete",
        "find . -name __pycache__ -type d -exec rm -rf {} +", "rm -f src/old.pyc",
        "git clean -fdx build/", "rm -f missing.txt", "rm -rf docs",
        "find docs -name '*.md' -delete", "find . -name '*.pyc' | xargs rm -f",
    ])


def test_editing_modified_files_stays_allowed(repo):
    assert_allowed(repo, [
        "sed -i 's/a/b/' src/modified.py", "echo x > src/modified.py",
        "printf 'c = 3\\n' >> src/modified.py", "cp src/clean.py src/modified.py",
        "mv src/modified.py src/renamed.py", "touch notes/todo.md",
    ])


def test_deleting_in_a_folder_that_is_no_repository_stays_allowed(folder):
    assert_allowed(folder, ["rm -rf src", "rm src/modified.py", "find . -name '*.md' -delete",
                            "rm -rf notes"])


def test_deleting_files_of_a_clean_repository_stays_allowed(clean_repo):
    assert_allowed(clean_repo, ["rm -rf src", "find . -name '*.md' -delete", "rm -r docs"])


def test_filters_the_repository_configures_are_not_run_to_find_out(repo):
    """A clean filter is a command `git status` would run: the policy turns it off."""
    (repo / ".gitattributes").write_text("*.py filter=x\n")
    git(repo, "config", "filter.x.clean", "touch pwned; cat")
    git(repo, "config", "filter.x.required", "true")
    later = (repo / "src" / "clean.py").stat().st_mtime + 60
    os.utime(repo / "src" / "clean.py", (later, later))  # status must read it to compare
    assert_denied(repo, ["rm -rf src", "git restore src/modified.py", "git stash"],
                  naming="src/modified.py")
    assert_allowed(repo, ["rm -rf build", "rm src/clean.py"])
    assert not (repo / "pwned").exists() and not (repo / "src" / "pwned").exists()


def test_a_repository_git_cannot_read_counts_as_holding_work(repo):
    """Unknown state: a destructive command counts as losing work; an edit stays allowed."""
    (repo / ".git" / "index").write_bytes(b"not an index")
    assert_denied(repo, ["rm -rf src", "git restore src/modified.py", "git stash -u"],
                  naming="cannot tell")
    assert_allowed(repo, ["echo x > src/modified.py", "git stash list"])
