"""The loop builds its events from its own typed values field by field (no dump-and-reparse
round trip): the events must carry exactly what the values say."""

from harness import Agent, ScriptedModel
from harness.events import EventBase, PolicyDecided, ToolFinished
from harness.governance.base import AllowAll, Decision
from harness.tools.base import ToolResult


class RecordingGovernor(AllowAll):
    """Denies `write_file`, asks (approved) for `read_file`, allows the rest, and keeps
    every decision and every result it passes on."""

    def __init__(self):
        self.decisions, self.results = [], []

    def review(self, call, state, warnings):
        if call.name == "write_file":
            d = Decision(decision="deny", rule="no-writes", reason="read-only task")
        elif call.name == "read_file":
            d = Decision(decision="ask", rule="reads", reason="asked", approved=True)
        else:
            d = Decision(decision="allow", rule="default")
        self.decisions.append(d)
        return d

    def screen(self, call, result, state):
        result = result.model_copy(update={"duration_s": 0.25})  # a screened copy is recorded
        self.results.append(result)
        return result


def own_fields(event: EventBase) -> dict:
    return event.model_dump(mode="json", exclude={"id", "run_id", "step", "ts", "type"})


def test_policy_and_tool_events_carry_every_field_of_the_decision_and_result(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    model = ScriptedModel([{"tool": "read_file", "args": {"path": "a.txt"}},
                           {"tool": "write_file", "args": {"path": "b.txt", "content": "x"}},
                           {"tool": "read_file", "args": {"path": "missing.txt"}},
                           {"tool": "nope", "args": {}}, "done"])
    governor = RecordingGovernor()
    trajectory = Agent(model, workspace=tmp_path, governor=governor).run("read a.txt")

    decided = trajectory.of_type(PolicyDecided)
    assert [own_fields(e) for e in decided] == [
        {"call_id": e.call_id, "tool": e.tool, **d.model_dump(mode="json")}
        for e, d in zip(decided, governor.decisions, strict=True)]
    finished = trajectory.of_type(ToolFinished)
    allowed = [f for f in finished if not f.refused]
    assert [own_fields(f) for f in allowed] == \
        [r.model_dump(mode="json") for r in governor.results]
    refused = [f for f in finished if f.refused]
    assert [(f.tool, f.ok, f.error) for f in refused] == \
        [("write_file", False, "refused by policy (no-writes): read-only task")]
    assert {f.channel for f in allowed} == {"file", "none"} and allowed[0].duration_s == 0.25


def test_events_built_from_results_and_decisions_name_all_their_fields():
    base = set(EventBase.model_fields) | {"type"}
    assert set(ToolFinished.model_fields) - base == set(ToolResult.model_fields)
    assert set(PolicyDecided.model_fields) - base == set(Decision.model_fields) | {"call_id",
                                                                                     "tool"}
