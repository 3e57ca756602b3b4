"""Every model call a run pays for is charged in one place (`AgentState.charge`): the
agent's own, a summariser's, a routing model's, an isolation worker's. Each is recorded as
`ModelCalled` with its purpose, its tokens and cost count toward the run's totals and
budgets, and `spend_by_purpose` splits the spend."""

from __future__ import annotations

import json

from harness import Agent, ScriptedModel
from harness.context import BudgetedContext
from harness.events import ModelCalled
from harness.governance import Isolation, PolicyGovernor
from harness.messages import ModelResponse, ToolCall, Usage
from harness.metrics import cost_usd, spend_by_purpose, total_tokens
from harness.skills import ModelRouter, SkillLibrary
from harness.state import Budget


def priced(text=None, calls=(), cost=0.25, tokens=(40, 10)):
    return ModelResponse(text=text, tool_calls=list(calls), cost_usd=cost,
                         usage=Usage(input_tokens=tokens[0], output_tokens=tokens[1]))


def library(root):
    skill = root / "notes"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: notes\ndescription: write notes about files\n"
                                    "---\n# notes\nKeep them short.")
    return SkillLibrary([root])


def agent_paying_four_ways(tmp_path, budget=None):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "a.txt").write_text("alpha " * 400)
    reads = iter(range(100))

    def agent_policy(request):
        n = next(reads)
        if n < 6:
            return priced(calls=[ToolCall(id=f"c{n}", name="read_file",
                                          arguments={"path": "a.txt"})])
        return priced(text="done")

    router = ModelRouter(library(tmp_path / "skills"),
                         ScriptedModel(lambda r: priced('{"skills": ["notes"]}', cost=1.0)))
    summariser = ScriptedModel(lambda r: priced("read a.txt several times", cost=0.5))
    worker = ScriptedModel(lambda r: priced(calls=[ToolCall(
        id="s", name="submit", arguments={"summary": "alpha text"})], cost=0.125))
    return Agent(ScriptedModel(agent_policy), workspace=tmp_path / "ws", router=router,
                 context=BudgetedContext("summarise", summariser=summariser,
                                         budget_tokens=20_000),
                 governor=PolicyGovernor(isolation=Isolation(worker)),
                 budget=budget or Budget())


def test_every_call_a_run_pays_for_is_charged_with_its_purpose(tmp_path):
    trajectory = agent_paying_four_ways(tmp_path).run("write notes about a.txt")
    finished = trajectory.finished
    assert finished.status == "answered", finished.reason
    spend = spend_by_purpose(trajectory)
    assert set(spend) == {"agent", "skill_routing", "summarise", "worker"}
    assert spend["agent"]["calls"] == 7 and spend["agent"]["cost_usd"] == 7 * 0.25
    assert spend["skill_routing"]["cost_usd"] == spend["skill_routing"]["calls"] * 1.0 > 0
    assert spend["worker"]["calls"] == 6
    # the run's totals are the sums over every recorded call, whoever made it
    assert finished.tokens == total_tokens(trajectory) == sum(
        p["tokens"] for p in spend.values())
    assert finished.cost_usd == cost_usd(trajectory) == sum(p["cost_usd"] for p in spend.values())
    assert all(e.request_digest for e in trajectory.of_type(ModelCalled)
               if e.purpose in ("agent", "summarise", "worker"))
    json.dumps(spend)  # plain data, ready for a report


def test_a_cost_budget_counts_what_the_routing_model_spent(tmp_path):
    # the routing model alone spends 1.0 a step: a 1.5 budget stops the run at step 2
    trajectory = agent_paying_four_ways(tmp_path, Budget(max_cost_usd=1.5)).run(
        "write notes about a.txt")
    finished = trajectory.finished
    assert finished.status == "stopped" and "cost budget" in finished.reason
    assert spend_by_purpose(trajectory)["skill_routing"]["cost_usd"] >= 1.0
    assert finished.steps <= 2
