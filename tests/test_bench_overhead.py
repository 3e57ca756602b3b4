"""The overhead suite's drivers run the same workload: exactly N tool steps, then an answer."""

import importlib.util
from pathlib import Path

import pytest

from harness.bench.peers import available_peers, make_driver

spec = importlib.util.spec_from_file_location(
    "overhead_suite", Path(__file__).resolve().parents[1] / "benchmarks" / "overhead.py")
overhead = importlib.util.module_from_spec(spec)
spec.loader.exec_module(overhead)


@pytest.mark.parametrize("driver", [overhead.harness_driver(), overhead.plain_loop_driver],
                         ids=["harness", "plain-loop"])
def test_our_drivers_make_exactly_n_tool_calls(driver):
    assert driver(3) == 3 and driver(12) == 12


def test_measure_reports_time_per_step_and_traced_memory():
    figures = overhead.measure(overhead.harness_driver(), 5, repeats=2)
    assert figures["us_per_step"] > 0 and figures["peak_kib"] > 0


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
