"""The repeater probe: a model that keeps trying the same failed fixes unless its input
tells it they failed.

It has a fixed list of candidate fixes (edits) and a test command, and reads only its input:

1. Until the tests have run in this conversation, it runs them.
2. After a passing test run, it answers.
3. After an applied fix, it runs the tests.
4. After a failing test run with a fix applied, it reverts that fix (the inverse edit).
5. Otherwise it applies the first candidate that its input does not show to have failed.

A candidate is shown to have failed when (a) this conversation applied it and the next test
run failed, (b) a call of that candidate failed or was refused (a gate said no), or (c) some line of
the input names the candidate's replacement text together with a failure word (a memory
summary, an injected warning). Nothing else — not its own earlier sessions — is
remembered, so without a harness that puts the failure in front of it, a new session
repeats every failed candidate in order. When every candidate is shown to have failed it
gives up with an answer saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel

from harness.fencing import fenced_spans
from harness.llm.base import SyncModel
from harness.llm.scripted import to_response
from harness.messages import Message, ModelRequest, ModelResponse

FAILURE_WORDS = re.compile(r"\b(fail(?:ed|s|ure)?|error|refused|broke|did not work|"
                           r"does not work|doesn't work|do not repeat|repeats?)\b", re.I)


class Candidate(BaseModel):
    """One candidate fix: replace `old` with `new` in `path` (an `edit_file` call)."""

    path: str
    old: str
    new: str

    def call(self) -> dict:
        return {"tool": "edit_file", "args": {"path": self.path, "old": self.old, "new": self.new}}

    def revert(self) -> dict:
        return {"tool": "edit_file", "args": {"path": self.path, "old": self.new, "new": self.old}}


class RepeaterModel(SyncModel):
    """Tries `candidates` in order, testing each with `test_command` (see module docstring)."""

    def __init__(self, candidates: Iterable[Candidate | dict], test_command: str, *,
                 name: str = "repeater"):
        self.candidates = [c if isinstance(c, Candidate) else Candidate.model_validate(c)
                           for c in candidates]
        self.test_command = test_command
        self.name = name
        self.calls = 0

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        return to_response(self.decide(request), model=self.name, request=request,
                           call_prefix=f"call_{self.calls}", cost_usd=0.0)

    # -- the policy, a function of the input only ------------------------------------------
    def decide(self, request: ModelRequest) -> str | dict:
        steps = _tool_steps(request.messages)
        if not any(self._is_test(call) for call, _ in steps):
            return self._test()
        call, result = steps[-1]
        if self._is_test(call):
            if _ok(result):
                return "The tests pass now."
            applied = self._applied(steps)
            if applied is not None:
                return applied.revert()
        elif self._candidate_of(call) is not None and _ok(result):
            return self._test()
        failed = self._shown_failed(request, steps)
        for candidate in self.candidates:
            if candidate.model_dump_json() not in failed:
                return candidate.call()
        return "Every fix I know has failed; I cannot fix this."

    def _test(self) -> dict:
        return {"tool": "run_shell", "args": {"command": self.test_command}}

    def _is_test(self, call: dict) -> bool:
        return call["tool"] == "run_shell" and call["args"].get("command") == self.test_command

    def _candidate_of(self, call: dict) -> Candidate | None:
        return next((c for c in self.candidates if c.call() == call), None)

    def _applied(self, steps: list[tuple[dict, str | None]]) -> Candidate | None:
        """The candidate whose edit is in effect: applied successfully and not reverted."""
        applied = None
        for call, result in steps:
            cand = self._candidate_of(call)
            if cand is not None and _ok(result):
                applied = cand
            elif applied is not None and call == applied.revert() and _ok(result):
                applied = None
        return applied

    def _shown_failed(self, request: ModelRequest, steps: list[tuple[dict, str | None]]) -> set[str]:
        failed: set[str] = set()
        pending: Candidate | None = None
        for call, result in steps:  # (a) applied, then a failing test run; (b) refused
            cand = self._candidate_of(call)
            if cand is not None:
                if result is not None and not _ok(result):  # refused, or would not apply
                    failed.add(cand.model_dump_json())
                pending = cand if _ok(result) else pending
            elif self._is_test(call) and pending is not None:
                if not _ok(result):
                    failed.add(pending.model_dump_json())
                pending = None
        lines = [ln for m in request.messages if m.content for ln in m.content.splitlines()
                 if FAILURE_WORDS.search(ln)]
        for cand in self.candidates:  # (c) a line names it and says it failed
            text = " ".join(cand.new.split())
            if text and any(text in " ".join(ln.split()) for ln in lines):
                failed.add(cand.model_dump_json())
        return failed


def _tool_steps(messages: list[Message]) -> list[tuple[dict, str | None]]:
    """Every tool call in the conversation as ({"tool", "args"}, result text or None); a
    result the context fenced as untrusted is read from inside its fence."""
    results = {m.tool_call_id: _unfenced(m.content or "") for m in messages if m.role == "tool"}
    steps = []
    for m in messages:
        for c in m.tool_calls:
            args = c.arguments if not c.parse_error else {}
            steps.append(({"tool": c.name, "args": args}, results.get(c.id)))
    return steps


def _unfenced(text: str) -> str:
    spans = fenced_spans(text)
    return spans[0].body if spans and spans[0].start == 0 else text


def _ok(result: str | None) -> bool:
    return result is not None and not result.startswith("ERROR:")
