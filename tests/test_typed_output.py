"""`Agent(output_type=...)`: the final answer validated as a pydantic model."""

from __future__ import annotations

import json

from pydantic import BaseModel

from harness.agent import Agent
from harness.events import ContextBuilt, Trajectory
from harness.llm import ScriptedModel


class Verdict(BaseModel):
    bug: str
    line: int


def test_the_answer_becomes_the_typed_output_and_the_model_was_told_the_schema(tmp_path):
    model = ScriptedModel(['Here it is:\n```json\n{"bug": "subtracts", "line": 2}\n```'])
    trajectory = Agent(model, workspace=tmp_path, output_type=Verdict).run("find the bug")
    assert trajectory.output == Verdict(bug="subtracts", line=2)
    assert trajectory.finished.output == {"bug": "subtracts", "line": 2}
    manifest = trajectory.of_type(ContextBuilt)[0].manifest
    assert "output" in [s.name for s in manifest.sections]
    path = tmp_path / "run.jsonl"
    trajectory.write(path)
    assert Trajectory.read(path).output == {"bug": "subtracts", "line": 2}  # JSON, read back


def test_an_answer_that_does_not_validate_goes_back_to_the_model(tmp_path):
    replies = ['{"bug": "subtracts"}', '{"bug": "subtracts", "line": "two"}',
               '{"bug": "subtracts", "line": 2}']
    seen: list[str] = []

    def model(request):
        seen.append(request.messages[-1].content or "")
        return replies[len(seen) - 1]

    from harness import FunctionModel

    trajectory = Agent(FunctionModel(model), workspace=tmp_path, output_type=Verdict,
                       max_repairs=2).run("find the bug")
    assert trajectory.output.line == 2 and len(seen) == 3
    assert "line: Field required" in seen[1] and "line: Input should be a valid integer" in seen[2]


def test_no_valid_answer_within_the_repair_budget_fails_the_run(tmp_path):
    model = ScriptedModel(["not json"] * 3)
    trajectory = Agent(model, workspace=tmp_path, output_type=Verdict, max_repairs=1).run("x")
    end = trajectory.finished
    assert end.status == "failed" and "not a valid Verdict after 1 repair" in end.reason
    assert trajectory.output is None and json.loads(end.model_dump_json())["output"] is None
