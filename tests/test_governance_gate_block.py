"""A `block` from the memory gate refuses the call under any governor unless the governor's
decision explicitly approves it; the refusal is recorded citing the warning's event ids."""

from __future__ import annotations

import pytest

from harness.agent import Agent
from harness.events import GateWarning, PolicyDecided, ToolFinished
from harness.governance import AllowAll, AutoApprover, Decision, PolicyGovernor
from harness.governance.policy.policy import GatePolicy, Policy
from harness.llm import ScriptedModel
from harness.memory import ProjectMemory
from harness.messages import ToolCall
from harness.state import AgentState
from harness.tools.effects import Effects

WRITE = {"tool": "write_file", "args": {"path": "db/0001.sql", "content": "DROP TABLE users;"}}


class StrictMemory(ProjectMemory):
    """Project memory whose warnings about fragile files block instead of warn."""

    def check(self, call, effects: Effects | None = None) -> list[GateWarning]:
        return [w.model_copy(update={"severity": "block"}) if w.kind == "fragile" else w
                for w in super().check(call, effects)]


class Overrider(AllowAll):
    """Allows everything and explicitly lets through the blocks citing `ids`."""

    def __init__(self, ids: tuple[str, ...]):
        self.ids = ids

    def review(self, call: ToolCall, state: AgentState, warnings: list[GateWarning]) -> Decision:
        return Decision(decision="allow", rule="override", overrides=self.ids)


def run(tmp_path, make_governor):
    """Run a write of a fragile file under the governor `make_governor(fragile id)`."""
    ws = tmp_path / "ws"
    (ws / "db").mkdir(parents=True, exist_ok=True)
    (ws / "db" / "0001.sql").write_text("CREATE TABLE users (id int);")
    memory = StrictMemory(ws / ".harness" / "memory", record=False)
    fragile = memory.fragile("db/0001.sql", "applied in production")
    trajectory = Agent(ScriptedModel([WRITE, "done"]), memory=memory,
                       governor=make_governor(fragile), workspace=ws).run("tidy the migration")
    (decided,) = trajectory.of_type(PolicyDecided)
    (finished,) = trajectory.of_type(ToolFinished)
    return decided, finished, fragile, (ws / "db" / "0001.sql").read_text()


@pytest.mark.parametrize("governor", [
    AllowAll(),  # ignores warnings altogether
    PolicyGovernor(Policy("full", gate=GatePolicy(block="inject"))),  # only shows them
    PolicyGovernor(Policy("full", gate=GatePolicy(block="ask")), approver=AutoApprover(False)),
    PolicyGovernor(Policy("full")),  # the default: deny
    Overrider(("fr-someone-else",)),  # approves a different block
], ids=["allow-all", "inject", "ask-no", "deny", "other-override"])
def test_a_block_refuses_unless_the_governor_explicitly_approves_it(tmp_path, governor):
    decided, finished, fragile, content = run(tmp_path, lambda _: governor)
    assert decided.decision == "deny" and decided.rule.startswith("gate.")
    assert fragile in decided.reason
    assert finished.refused and not finished.ok and fragile in (finished.error or "")
    assert content == "CREATE TABLE users (id int);"


@pytest.mark.parametrize("make", [
    lambda fragile: PolicyGovernor(Policy("full", gate=GatePolicy(block="ask")),
                                   approver=AutoApprover(True)),
    lambda fragile: Overrider((fragile,)),
], ids=["approver-yes", "explicit-override"])
def test_an_explicitly_approved_block_runs(tmp_path, make):
    decided, finished, fragile, content = run(tmp_path, make)
    assert decided.decision in ("allow", "ask") and finished.ok and not finished.refused
    assert content == "DROP TABLE users;"


def test_warnings_that_do_not_block_are_left_to_the_governor():
    warn = GateWarning(message="repeats a failure", severity="warn", cites=["at-1"])
    block = GateWarning(message="breaks a rule", severity="block", cites=["de-1", "is-2"])
    allow = Decision(decision="allow", rule="allow-all")
    assert allow.enforce_blocks([warn]) is allow
    refused = allow.enforce_blocks([warn, block])
    assert refused.decision == "deny" and "de-1, is-2" in refused.reason
    partly = Decision(decision="allow", overrides=("de-1",))  # must name every id cited
    assert partly.enforce_blocks([block]).decision == "deny"
    full = Decision(decision="allow", overrides=("de-1", "is-2"))
    assert full.enforce_blocks([block]) is full
    denied = Decision(decision="deny", overrides=("de-1", "is-2"))
    assert not denied.approves(block)
    uncited = GateWarning(message="no evidence", severity="block")
    assert full.enforce_blocks([uncited]).decision == "deny"
