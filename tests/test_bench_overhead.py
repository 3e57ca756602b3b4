"""The overhead suite's drivers run the same workload: exactly N tool steps, then an answer."""

import importlib.util
from pathlib import Path

import pytest

from harness.bench.peers import available_peers, make_driver

spec = importlib.util.spec_from_file_location(
    "overhead_suite", Path(__file__).resolve().parents[1] / "benchmarks" / "overhead.py")
overhead = importlib.util.module_from_spec(spec)
spec.loader.exec_module(overhead)


@pytest.mark.parametrize("driver", [*overhead.agent_variants().values(), overhead.plain_loop_driver],
                         ids=[*overhead.agent_variants(), "plain-loop"])
def test_our_drivers_make_exactly_n_tool_calls(driver):
    assert driver(3) == 3 and driver(12) == 12


def test_each_agent_configuration_does_what_its_name_says():
    variants = overhead.agent_variants()

    def summaries(name, n):
        variants[name](n)
        return sum(1 for e in variants[name].last
                   if e.type == "model_called" and e.purpose == "summarise")

    assert summaries("harness", 300) == 0  # the default only compacts under pressure
    assert summaries("harness_full_history", 300) == 0
    assert 2 <= summaries("harness_compacting", 300) <= 12
    assert summaries("harness_summarise", 30) == 9  # a batch of three as steps leave


def test_timed_runs_and_traced_memory_are_measured_per_run():
    wall, cpu = overhead.time_runs(overhead.harness_driver(), 5, repeats=2)
    assert len(wall) == len(cpu) == 2 and all(t > 0 for t in wall + cpu)
    small, large = (overhead.peak_kib(overhead.harness_driver(), n) for n in (5, 200))
    assert 0 < small < large  # the trajectory grows with the run


def test_a_driver_that_makes_the_wrong_number_of_calls_is_an_error():
    with pytest.raises(RuntimeError, match="made 3 tool calls, expected 4"):
        overhead.time_runs(lambda n: 3, 4, repeats=1)


@pytest.mark.parametrize("peer", sorted(available_peers()))
def test_installed_peers_run_the_same_workload(peer):
    if not available_peers()[peer]:
        pytest.skip(f"{peer} is not installed (pip install 'harness[bench-peers]')")
    assert make_driver(peer)(4) == 4


def test_incremental_request_digests_equal_the_full_digest():
    from harness.messages import Message, ModelRequest, RequestDigests, ToolCall

    digests = RequestDigests()
    tools = [{"type": "function", "function": {"name": "add", "parameters": {}}}]
    history = []
    for i in range(4):
        history += [Message(role="assistant", tool_calls=[ToolCall(id=f"c{i}", name="add",
                                                                   arguments={"a": i})]),
                    Message(role="tool", content=str(i), tool_call_id=f"c{i}", name="add")]
        request = ModelRequest(messages=[Message(role="system", content="s"), *history],
                               tools=tools)
        assert digests.digest(request) == request.digest()
    compacted = ModelRequest(messages=[Message(role="system", content="s"), history[-1]])
    assert digests.digest(compacted) == compacted.digest()  # not an extension: rehashed
    replaced = [Message(role="system", content="s"), Message(role="tool", content="other",
                                                             tool_call_id="c3", name="add")]
    request = ModelRequest(messages=replaced)  # same length, one message replaced
    assert digests.digest(request) == request.digest()


def test_scripted_token_estimate_counts_only_new_messages_but_equals_the_full_text():
    from harness.llm.scripted import RequestTextLength, ScriptedModel, estimate_tokens
    from harness.messages import Message, ModelRequest, ToolCall

    measure, model = RequestTextLength(), ScriptedModel(lambda request: "ok")
    history = []
    for i in range(6):
        history += [Message(role="assistant", content="thinking" if i % 2 else None,
                            tool_calls=[ToolCall(id=f"c{i}", name="add", arguments={"a": i})]),
                    Message(role="tool", content="é" * i, tool_call_id=f"c{i}", name="add")]
        system = Message(role="system", content=f"rules, version {i % 3}")  # sometimes changes
        request = ModelRequest(messages=[system, Message(role="user", content="task"), *history])
        assert measure(request) == len(request.text())
        usage = model.complete(request).usage
        assert usage.input_tokens == estimate_tokens(request.text())
    shorter = ModelRequest(messages=[history[0], Message(role="user", content="replaced")])
    assert measure(shorter) == len(shorter.text())  # replaced and dropped messages
    assert measure(ModelRequest(messages=[])) == 0


def test_batch_summaries_make_one_summary_part_that_changes_only_with_a_new_batch():
    from harness.context.steps import split_steps
    from harness.context.summarise import SummariseHistory
    from harness.context.tokens import TokenCounter
    from harness.messages import Message, ToolCall
    from harness.state import AgentState, Budget
    from harness.tools.base import Toolset

    state = AgentState(run_id="r", task="add numbers", workspace=Path("."), tools=Toolset(),
                       budget=Budget())
    strategy, counter, history, views = SummariseHistory(batch=2), TokenCounter(), [], []
    for i in range(8):
        history += [Message(role="assistant", tool_calls=[ToolCall(id=f"c{i}", name="add",
                                                                   arguments={"a": i})]),
                    Message(role="tool", content=f"sum is {i + 1}", tool_call_id=f"c{i}",
                            name="add")]
        views.append(strategy.view(split_steps(history), state, counter))
    summaries = [p for p in views[-1].parts if p.treatment == "summary"]
    assert [list(p.steps) for p in summaries] == [[1, 2, 3, 4, 5, 6]]
    text = summaries[0].messages[0].content
    assert text.count("<untrusted ") == 1  # one header and one fence for every batch
    assert text.index("steps 1-2") < text.index("steps 3-4") < text.index("steps 5-6")
    assert views[5].parts[0] is views[4].parts[0]  # reused until the next batch
    assert views[6].parts[0] is not views[5].parts[0]
    merging = SummariseHistory(batch=2, max_summary_tokens=1)  # merges after every batch
    for i in range(1, 9):
        view = merging.view(split_steps(history[:2 * i]), state, counter)
    assert [(list(p.steps), p.treatment) for p in view.parts] == \
        [([1, 2, 3, 4, 5, 6], "summary"), ([7], "verbatim"), ([8], "verbatim")]


def _instructions_script():
    spec = importlib.util.spec_from_file_location(
        "overhead_instructions",
        Path(__file__).resolve().parents[1] / "benchmarks" / "scripts" / "overhead_instructions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_instruction_count_children_run_the_suites_workload():
    script = _instructions_script()
    factories = script.driver_factories()
    assert set(overhead.agent_variants()) <= set(factories)
    for name in overhead.agent_variants():
        script.child(name, 5, 1)  # raises unless exactly 5 tool calls were made


def test_instruction_count_needs_valgrind_and_says_so(monkeypatch):
    script = _instructions_script()
    monkeypatch.setattr(script.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="valgrind is not on PATH"):
        script.main([])
