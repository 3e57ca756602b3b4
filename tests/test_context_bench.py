"""The evidence probe and its tasks, the transcript readers, and the `context` suite's
replay of real trajectories, on small fixtures built here."""

import json
import subprocess
import sys

import pytest

from harness import Agent
from harness.bench.registry import get_suite
from harness.context import BudgetedContext, declare_subgoal
from harness.context.transcripts import TranscriptError, load_transcripts
from harness.probes.evidence import EvidenceProbe, answer, make_tasks
from harness.state import Budget
from harness.tools.builtin import read_file

TAU = [{"task_id": 0, "reward": 1.0, "info": {}, "trial": 0, "traj": [
    {"role": "system", "content": "# Airline policy\nBe helpful."},
    {"role": "user", "content": "Cancel reservation ABC123."},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_reservation_details",
                      "arguments": '{"reservation_id": "ABC123"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "name": "get_reservation_details",
     "content": json.dumps({"reservation_id": "ABC123", "flights": ["HAT001"] * 200})},
    {"role": "assistant", "content": "Shall I cancel it?"},
    {"role": "user", "content": "Yes."},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_2", "type": "function",
         "function": {"name": "cancel_reservation", "arguments": '{"reservation_id": "ABC123"}'}}]},
    {"role": "tool", "tool_call_id": "call_2", "name": "cancel_reservation", "content": "ok"},
    {"role": "assistant", "content": "Cancelled."}]}]

SWE = {"environment": "x", "info": {}, "trajectory": [], "history": [
    {"role": "system", "content": "SETTING: you are a programmer."},
    {"role": "user", "content": "demo", "is_demo": True},
    {"role": "user", "content": "ISSUE: the parser crashes."},
    {"role": "assistant", "content": "Look around.", "thought": "Look around.", "action": "ls -F\n"},
    {"role": "user", "content": "setup.py  src/  tests/\n" * 50},
    {"role": "assistant", "content": "Open it.", "action": "open src/parse.py"},
    {"role": "user", "content": "def parse(x):\n    return x[0]\n" * 40},
    {"role": "assistant", "content": "Done.", "action": "submit"}]}


def write_fixtures(root):
    (root / "tau").mkdir(parents=True)
    (root / "tau" / "runs.json").write_text(json.dumps(TAU))
    (root / "swe").mkdir()
    (root / "swe" / "one.traj").write_text(json.dumps(SWE))
    return root


def test_probe_answers_exactly_when_the_evidence_is_in_its_input():
    fact = "The deploy token of the falcon cluster is QX-4411."
    assert answer("What is the deploy token of the falcon cluster?", f"noise. {fact} more") == "QX-4411"
    assert answer("What is the deploy token of the falcon cluster?",
                  "A ticket asking about the deploy token of the falcon cluster was closed.") == "unknown"
    two = "What is the budget code of the team that maintains the falcon cluster?"
    owner = "The falcon cluster is maintained by team birch."
    value = "The budget code of team birch is KL-2020."
    assert answer(two, f"{owner} ... {value}") == "KL-2020"
    assert answer(two, value) == "unknown" and answer(two, owner) == "unknown"


def test_tasks_spread_evidence_over_distances_and_hold_their_facts():
    tasks = make_tasks(30, steps=30, seed=4)
    distances = {d for t in tasks for d in t.distances}
    assert len(distances) >= 25 and max(distances) == 29 and min(distances) == 1
    assert {t.kind for t in tasks} == {"single", "two-hop"}
    for t in tasks:
        evidence = "\n".join(t.files[p] for p in t.evidence)
        others = "\n".join(v for p, v in t.files.items() if p not in t.evidence)
        assert answer(t.question, evidence) == t.answer
        assert answer(t.question, others) == "unknown"
    assert make_tasks(3, seed=4)[2].files == tasks[2].files  # deterministic


@pytest.mark.parametrize("strategy,solved", [("full", True), ("last-n", False),
                                             ("summarise", True)])
def test_probe_run_succeeds_only_when_the_strategy_keeps_the_evidence(tmp_path, strategy, solved):
    task = next(t for t in make_tasks(12, steps=10, seed=1) if t.kind == "single"
                and t.distances[0] >= 5)
    for rel, text in task.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    agent = Agent(EvidenceProbe(), workspace=tmp_path, tools=[read_file, declare_subgoal],
                  context=BudgetedContext(strategy, **({"n": 2} if strategy == "last-n" else {})),
                  budget=Budget(max_steps=15))
    end = agent.run(task.prompt).finished
    assert end.steps == 10 and end.status == "answered"
    assert (end.answer == task.answer) is solved


def test_transcripts_read_both_formats(tmp_path):
    swe, tau = load_transcripts(write_fixtures(tmp_path))  # sorted by path
    assert tau.task == "Cancel reservation ABC123." and tau.system.startswith("# Airline")
    assert [m.role for m in tau.history] == ["assistant", "tool", "assistant", "user",
                                             "assistant", "tool", "assistant"]
    assert tau.history[1].channel == "api" and tau.steps == 4
    assert swe.task == "ISSUE: the parser crashes."  # the demonstration is left out
    assert [m.role for m in swe.history] == ["assistant", "tool", "assistant", "tool", "assistant"]
    assert swe.history[0].tool_calls[0].arguments == {"command": "ls -F"}
    assert swe.history[1].channel == "shell" and "setup.py" in swe.history[1].content


@pytest.mark.parametrize("content,field", [
    ({"traj": "nope"}, "[0].traj"),
    ({"traj": [{"role": "robot", "content": "x"}]}, "[0].traj[0].role"),
    ({"traj": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {}}]}]},
     "[0].traj[0].tool_calls[0].function.name"),
    ({"traj": [{"role": "assistant", "content": "no user message"}]}, "[0]"),
])
def test_malformed_transcripts_name_the_file_and_field(tmp_path, content, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([content]))
    with pytest.raises(TranscriptError) as err:
        load_transcripts(path)
    assert str(path) in str(err.value) and f"field '{field}'" in str(err.value)


def test_replay_shows_savings_and_verbatim_share_per_strategy(tmp_path):
    get_suite("context")
    bench = sys.modules["harness_benchmarks.context"]
    transcripts = load_transcripts(write_fixtures(tmp_path))
    figures, curves = bench.replay_transcripts(transcripts, lambda n: None)
    full, mask = figures["full"], figures["mask"]
    assert full["replay_token_ratio"] == 1.0 and full["replay_verbatim_share"] == 1.0
    assert mask["replay_input_tokens"] < full["replay_input_tokens"]
    assert 0 < mask["replay_verbatim_share"] < 1
    assert len(curves["full"]) == 4 and curves["full"] == sorted(curves["full"])


def test_curve_fits_tell_linear_from_quadratic_growth():
    get_suite("context")
    bench = sys.modules["harness_benchmarks.context"]
    growing = [500 + 800 * k for k in range(30)]
    flat = [3000.0] * 30
    assert bench.slope(growing) == pytest.approx(800) and bench.slope(flat) == 0
    assert bench.cumulative_exponent(growing) > 1.7 and bench.cumulative_exponent(flat) == \
        pytest.approx(1.0)


def test_bench_cli_rejects_malformed_data_with_exit_2(tmp_path):
    bad = tmp_path / "broken.traj"
    bad.write_text('{"history": [{"role": "user", "content": 5}]}')
    run = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "context", "--data",
                          str(bad), "--json"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stdout == ""
    assert "broken.traj" in run.stderr and "history[0].content" in run.stderr


def test_pressed_variants_run_under_their_budget_and_compact_keeps_the_evidence(tmp_path):
    from harness.bench.suite import BenchOptions

    get_suite("context")
    bench = sys.modules["harness_benchmarks.context"]
    task = next(t for t in make_tasks(12, steps=30, seed=3) if max(t.distances) >= 20)
    for rel, text in task.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    rows = {v: bench.run_task(task, v, tmp_path, BenchOptions()) for v in
            ("compact", "compact@16k")}
    (wide, wide_steps), (pressed, pressed_steps) = rows["compact"], rows["compact@16k"]
    assert wide["summariser_tokens"] == 0 and max(wide_steps) > 8_000  # past the trigger
    assert pressed["summariser_tokens"] > 0 and max(pressed_steps) <= 16_000
    assert pressed["success"] and pressed["tokens"] < wide["tokens"]
