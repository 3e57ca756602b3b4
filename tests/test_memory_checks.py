"""What a check is: a command run after an edit whose failure follows the edit, however it
is written. The edit is the failed approach; the check never is. Re-running a check is
not an approach either; a failing command with no edit before it (an install) is one."""

from __future__ import annotations

import itertools

import pytest

from harness.events import TaskStarted, ToolFinished, ToolRequested
from harness.memory import ProjectMemory
from harness.memory.events import Attempt, Fix, Issue
from harness.memory.recorder import AttemptRecorder
from harness.messages import ToolCall

CHECKS = [
    "pytest", "python -m pytest -q tests/", "python -c 'from calc import add; assert add(2, 3) == 5'",
    "npm test", "go test ./...", "cargo test", "make test", "tox", "bundle exec rspec",
    "./gradlew test",
    # and ones that look like none of those
    "node --test", "deno test -A", "./run_tests.sh", "bash scripts/ci-check.sh", "swift test",
    "mix test", "ruby -Itest test/calc_test.rb", "zig build test", "sbt test",
    "python3 test_calc.py", "cd app && VAR=1 python -m unittest discover", "timeout 60 make check",
    "Rscript -e 'testthat::test_dir(\"tests\")'", "./bin/verify --strict",
    "python -c \"import calc; calc.add(2, 3) == 5 or exit(1)\"",
]
EDIT = {"path": "calc.py", "old": "a - b", "new": "a * b"}
GOOD = {"path": "calc.py", "old": "a * b", "new": "a + b"}
FAILURE = "Traceback (most recent call last):\nAssertionError: 6 != 5\nexit code 1"


class Run:
    """Feeds a recorder the events of a run, as the loop emits them."""

    def __init__(self, recorder: AttemptRecorder | None = None) -> None:
        self.recorder = recorder or AttemptRecorder()
        self.ids = itertools.count()
        self.recorder.observe(TaskStarted(task="make the tests pass"))

    def call(self, tool: str, ok: bool = True, output: str = "", **args) -> list:
        call = ToolCall(id=f"c{next(self.ids)}", name=tool, arguments=args)
        self.recorder.observe(ToolRequested(call=call))
        return self.recorder.observe(ToolFinished(
            call_id=call.id, tool=tool, ok=ok, output=output,
            error=None if ok else output))

    def shell(self, command: str, ok: bool) -> list:
        return self.call("run_shell", ok=ok, output="exit code 0" if ok else FAILURE,
                         command=command)


@pytest.mark.parametrize("check", CHECKS)
def test_an_edit_then_a_failing_check_is_the_failed_attempt_whatever_the_check(check):
    run = Run()
    assert run.call("edit_file", **EDIT) == []
    recorded = run.shell(check, ok=False)
    attempts = [e for e in recorded if isinstance(e, Attempt)]
    assert [(a.action.tool, a.action.args, a.outcome) for a in attempts] == \
        [("edit_file", EDIT, "failed")]
    assert "AssertionError" in attempts[0].error
    (issue,) = [e for e in recorded if isinstance(e, Issue)]
    assert check in issue.title and attempts[0].issue == issue.id
    # Running the check again without an edit is no approach: nothing is recorded.
    assert run.shell(check, ok=False) == []
    # A new edit that makes the check pass succeeds, and its fix closes the issue.
    assert run.call("edit_file", **GOOD) == []
    passed = run.shell(check, ok=True)
    assert [(e.kind, getattr(e, "outcome", "")) for e in passed] == \
        [("attempt", "succeeded"), ("fix", "")]
    assert passed[0].action.args == GOOD and isinstance(passed[1], Fix)
    assert passed[1].issue == issue.id


def test_a_failing_command_with_no_edit_before_it_is_its_own_attempt():
    run = Run()
    recorded = run.shell("pip install calc-tools==9", ok=False)
    (attempt,) = [e for e in recorded if isinstance(e, Attempt)]
    assert attempt.action.tool == "run_shell" and attempt.outcome == "failed"


def test_a_passing_command_that_is_no_check_leaves_the_edit_pending():
    run = Run()
    run.call("edit_file", **EDIT)
    assert run.shell("ls -la", ok=True) == []  # says nothing about the edit
    recorded = run.shell("./bin/verify", ok=False)
    assert [(e.action.args, e.outcome) for e in recorded if isinstance(e, Attempt)] == \
        [(EDIT, "failed")]


def test_a_check_known_by_its_form_is_no_attempt_even_before_any_edit():
    run = Run()
    recorded = run.shell("python -m pytest -x", ok=False)
    assert [e.kind for e in recorded] == ["issue"]


def test_a_check_from_an_earlier_session_is_no_approach_in_the_next(tmp_path):
    memory = ProjectMemory(tmp_path / "mem")
    first = Run(memory.recorder)
    first.call("edit_file", **EDIT)
    memory.add_many(first.shell("./bin/verify --strict", ok=False), hygiene=False)
    (issue,) = memory.projection.open_issues()
    assert issue.check == "./bin/verify --strict"
    later = ProjectMemory(tmp_path / "mem")  # a new session: its recorder starts empty
    second = Run(later.recorder)
    assert second.shell("./bin/verify   --strict", ok=False) == []  # the issue is open already
    assert [a.action.tool for a in later.projection.attempts()] == ["edit_file"]
    assert later.check({"tool": "run_shell", "args": {"command": "./bin/verify --strict"}}) == []
