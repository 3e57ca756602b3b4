"""Verifiers with bounded repairs and separate cost; budgets stop runs with the reason;
gate warnings become decisions by severity."""

import sys

from pydantic import BaseModel

from harness.agent import Agent
from harness.events import GateWarning, PolicyDecided, Verified
from harness.governance import (
    CommandVerifier,
    FunctionVerifier,
    GatePolicy,
    Policy,
    PolicyGovernor,
    SchemaVerifier,
)
from harness.llm import ScriptedModel
from harness.state import Budget, Section


class Answer(BaseModel):
    port: int


def test_schema_verifier_gives_bounded_repairs_then_accepts(tmp_path):
    model = ScriptedModel(["port is 80", '{"port": "x"}', '```json\n{"port": 80}\n```'])
    agent = Agent(model, workspace=tmp_path, max_repairs=2,
                  governor=PolicyGovernor(verifiers=[SchemaVerifier(Answer)]))
    traj = agent.run("which port?")
    verdicts = traj.of_type(Verified)
    assert [v.ok for v in verdicts] == [False, False, True]
    assert "port" in verdicts[1].detail and traj.finished.status == "success"
    assert all(v.cost.calls == 1 for v in verdicts)


def test_failing_verifier_stops_after_max_repairs(tmp_path):
    model = ScriptedModel(["a", "b", "c"])
    agent = Agent(model, workspace=tmp_path, max_repairs=1, governor=PolicyGovernor(
        verifiers=[FunctionVerifier(lambda a, r, s: (False, "never good"), name="strict")]))
    end = agent.run("t").finished
    assert end.status == "failed" and "after 1 repair attempt(s): strict" in end.reason
    assert model.calls == 2


def test_command_verifier_runs_after_edits_and_records_its_time(tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n")
    check = CommandVerifier(f"{sys.executable} -c 'import ok'", when="tool", name="import-ok")
    model = ScriptedModel([{"tool": "write_file", "args": {"path": "ok.py", "content": "x = ("}},
                           {"tool": "write_file", "args": {"path": "ok.py", "content": "x = 2"}},
                           "fixed"])
    traj = Agent(model, workspace=tmp_path, governor=PolicyGovernor(verifiers=[check])).run("t")
    verdicts = traj.of_type(Verified)
    assert [v.ok for v in verdicts] == [False, True]
    assert "SyntaxError" in verdicts[0].detail and verdicts[0].cost.seconds > 0


def test_steps_budget_stops_the_run_with_the_reason(tmp_path):
    model = ScriptedModel(lambda req: {"tool": "list_dir", "args": {}})
    end = Agent(model, workspace=tmp_path, budget=Budget(max_steps=3)).run("loop").finished
    assert end.status == "stopped" and end.reason == "max_steps reached (3)" and end.steps == 3


def test_token_and_cost_budgets_stop_the_run(tmp_path):
    model = ScriptedModel(lambda req: {"tool": "list_dir", "args": {}})
    end = Agent(model, workspace=tmp_path, budget=Budget(max_tokens=50)).run("loop" * 40).finished
    assert end.status == "stopped" and end.reason.startswith("token budget reached")
    model = ScriptedModel(lambda req: {"tool": "list_dir", "args": {}}, cost_per_call=0.4)
    end = Agent(model, workspace=tmp_path, budget=Budget(max_cost_usd=1.0)).run("x").finished
    assert end.reason.startswith("cost budget reached") and end.steps == 3


def test_time_budget_stops_and_the_governor_refuses_calls_past_it(tmp_path):
    model = ScriptedModel(lambda req: [{"tool": "list_dir", "args": {}}] * 2)
    agent = Agent(model, workspace=tmp_path, budget=Budget(max_seconds=0.0),
                  governor=PolicyGovernor())
    traj = agent.run("x")
    assert traj.finished.reason.startswith("time budget reached")
    assert {e.rule for e in traj.of_type(PolicyDecided)} == {"budget.time"}


def test_gate_warnings_become_decisions_by_severity(tmp_path):
    from harness.governance.governor import PolicyGovernor as G
    from harness.messages import ToolCall
    from harness.state import AgentState
    from harness.tools import Toolset

    state = AgentState(run_id="r", task="t", workspace=tmp_path, tools=Toolset(),
                       budget=Budget())
    call = ToolCall(id="c", name="edit_file", arguments={"path": "a.py", "old": "x", "new": "y"})
    warn = GateWarning(message="this fix failed before", severity="warn", cites=["a1"],
                       kind="repeat-failure")
    info = GateWarning(message="a.py is fragile", severity="info", cites=["n2"])
    gov = G(Policy(gate=GatePolicy(warn="deny")))
    d = gov.review(call, state, [warn, info])
    assert (d.decision, d.rule) == ("deny", "gate.repeat-failure") and "a1" in d.reason
    assert "fragile" in state.sections[Section.GATE].text
    d = G(Policy()).review(call, state, [info])
    assert d.decision == "allow"
    d = G(Policy(gate=GatePolicy(warn="ask"))).review(call, state, [warn])
    assert d.decision == "ask" and d.approved is False


def test_audit_cli_summarises_allowed_denied_asked(tmp_path, capsys):
    import json

    from harness.cli import main
    from harness.events import TrajectoryWriter
    from harness.governance import AutoApprover

    model = ScriptedModel([[{"tool": "list_dir", "args": {}},
                            {"tool": "write_file", "args": {"path": "../x", "content": "x"}},
                            {"tool": "run_shell", "args": {"command": "npm publish"}}], "done"])
    out = tmp_path / "run.jsonl"
    (tmp_path / "ws").mkdir()
    gov = PolicyGovernor(Policy(), approver=AutoApprover(False))
    with TrajectoryWriter(out) as w:
        Agent(model, workspace=tmp_path / "ws", sinks=[w], governor=gov).run("t")
    assert main(["audit", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["allowed"], data["denied"], data["asked"], data["approved"]) == (1, 1, 1, 0)
    assert data["by_rule"]["protect.write-outside"] == {"deny": 1}
    assert data["entries"][2]["arguments"] == {"command": "npm publish"}
    assert main(["audit", str(tmp_path / "missing.jsonl")]) == 2


def test_injected_gate_warnings_last_only_for_the_step_after_they_were_raised(tmp_path):
    from harness.events import ModelCalled
    from harness.memory.base import NullMemory

    class FragileFile(NullMemory):
        """Warns (severity info) before any call that touches a.py."""

        def check(self, call, effects=None):
            if call.arguments.get("path") == "a.py":
                return [GateWarning(message="a.py is fragile", severity="info", cites=["n1"])]
            return []

    (tmp_path / "a.py").write_text("x = 1\n")
    model = ScriptedModel([
        [{"tool": "read_file", "args": {"path": "a.py"}},
         {"tool": "write_file", "args": {"path": "a.py", "content": "x = 2\n"}}],
        {"tool": "list_dir", "args": {}}, {"tool": "list_dir", "args": {"path": "."}}, "done"])
    traj = Agent(model, workspace=tmp_path, memory=FragileFile(), record_requests=True,
                 governor=PolicyGovernor()).run("t")
    seen = [e.request.text().count("a.py is fragile") for e in traj.of_type(ModelCalled)]
    # both calls of step 1 warned; step 2 sees both warnings; later steps see none
    assert seen == [0, 2, 0, 0]
