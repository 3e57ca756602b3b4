"""The simulated-latency model waits without blocking the loop, reproducibly; the throughput
suite measures K concurrent agent runs against the ideal and its in-run floor."""

import asyncio
import importlib.util
import time
from pathlib import Path

import pytest

from harness.agent import Agent
from harness.bench.suite import BenchOptions
from harness.llm import Model, ScriptExhausted, SimulatedLatencyModel
from harness.messages import Message, ModelRequest

spec = importlib.util.spec_from_file_location(
    "throughput_suite", Path(__file__).resolve().parents[1] / "benchmarks" / "throughput.py")
throughput = importlib.util.module_from_spec(spec)
spec.loader.exec_module(throughput)

SCRIPT = [{"tool": "read_file", "args": {"path": "a.txt"}}, "The answer."]


def request(assistant_turns: int = 0) -> ModelRequest:
    messages = [Message(role="user", content="Read a.txt, then answer.")]
    for i in range(assistant_turns):
        messages += [Message(role="assistant", content=f"turn {i}"),
                     Message(role="user", content="go on")]
    return ModelRequest(messages=messages)


def test_simulated_model_is_an_async_model_exported_with_the_others():
    import harness.llm

    model = SimulatedLatencyModel(SCRIPT)
    assert isinstance(model, Model)
    assert "SimulatedLatencyModel" in harness.llm.__all__


def test_concurrent_calls_overlap_and_the_loop_stays_free():
    model = SimulatedLatencyModel(SCRIPT, latency_s=0.2)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def main():
        tick = asyncio.create_task(ticker())
        start = time.perf_counter()
        replies = await asyncio.gather(model.acomplete(request()), model.acomplete(request()))
        elapsed = time.perf_counter() - start
        tick.cancel()
        return replies, elapsed

    replies, elapsed = asyncio.run(main())
    assert len(replies) == 2 and model.calls == 2
    assert elapsed < 1.6 * 0.2  # together ~one latency, not two in a row
    assert ticks >= 5  # the loop ran something else while both calls waited


def test_seeded_jitter_gives_the_same_latencies_within_bounds():
    def draws(seed):
        model = SimulatedLatencyModel(SCRIPT, latency_s=0.5, jitter_s=0.1, seed=seed)
        return [model.next_latency() for _ in range(50)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert all(0.4 <= t <= 0.6 for t in draws(7))
    assert len(set(draws(7))) > 40  # jittered, not constant
    assert SimulatedLatencyModel(SCRIPT, latency_s=0.01, jitter_s=0.05).next_latency() >= 0


def test_reply_follows_the_script_by_the_requests_assistant_turns():
    model = SimulatedLatencyModel(SCRIPT, latency_s=0.0, name="sim")
    first = asyncio.run(model.acomplete(request(0)))
    again = asyncio.run(model.acomplete(request(0)))  # another run at its first turn
    second = model.complete(request(1))
    assert first.tool_calls[0].name == "read_file" and again.tool_calls == first.tool_calls
    assert second.text == "The answer." and not second.tool_calls
    assert first.model == "sim" and first.usage.input_tokens > 0 and first.usage.output_tokens > 0
    with pytest.raises(ScriptExhausted, match="script has 2 replies, asked for reply 3"):
        model.complete(request(2))


def test_negative_latency_is_refused():
    with pytest.raises(ValueError, match="must be >= 0"):
        SimulatedLatencyModel(SCRIPT, latency_s=-1)


def test_an_agent_run_records_each_calls_simulated_latency(tmp_path):
    (tmp_path / "a.txt").write_text("42\n")
    model = SimulatedLatencyModel(SCRIPT, latency_s=0.02, jitter_s=0.01, seed=3)
    trajectory = Agent(model, workspace=tmp_path).run("Read a.txt, then answer.")
    assert trajectory.finished.status == "answered"
    assert trajectory.finished.answer == "The answer."
    recorded = [e.latency_s for e in trajectory if e.type == "model_called"]
    assert recorded == model.latencies and len(recorded) == 2


@pytest.fixture(scope="module")
def small_run():
    opts = BenchOptions(extra={"ks": "1,8", "latency_s": 0.05, "jitter_s": 0.01}, seed=1)
    seen = []
    return throughput.SUITE.run(opts, lambda done, total: seen.append((done, total))), seen


def test_suite_reaches_most_of_the_ideal_and_never_beats_it(small_run):
    result, progress = small_run
    assert progress == [(1, 2), (2, 2)]
    assert [row["concurrent_runs"] for row in result.rows] == [1, 8]
    for row in result.rows:
        for who in ("", "floor_"):
            assert 0.5 < row[f"{who}share_of_ideal"] <= 1.05
            assert 0.3 < row[f"{who}batch_share_of_ideal"] <= row[f"{who}share_of_ideal"] + 1e-9
            assert row[f"{who}calls_per_s"] == pytest.approx(
                row[f"{who}runs_per_s"] * throughput.STEPS)
            assert row[f"{who}peak_kib_per_run"] > 0 and row[f"{who}cpu_ms_per_run"] > 0
        assert 0.04 <= row["mean_latency_s"] <= 0.06
        assert row["ideal_runs_per_s"] == pytest.approx(
            row["concurrent_runs"] / (throughput.STEPS * row["mean_latency_s"]))
        assert row["loop_lag_ms_p50"] <= row["loop_lag_ms_p99"] <= row["loop_lag_ms_max"]
        assert row["setup_ms_per_run"] > 0
        assert row["peak_kib_per_run"] > row["floor_peak_kib_per_run"]  # a trajectory each


def test_suite_reports_every_k_and_the_largest_at_the_top_level(small_run):
    result, _ = small_run
    m = result.metrics
    assert m["by_variant"] == {"K=1": result.rows[0], "K=8": result.rows[1]}
    for key in ("concurrent_runs", "share_of_ideal", "floor_share_of_ideal", "runs_per_s", "calls_per_s",
                "loop_lag_ms_p99", "peak_kib_per_run"):
        assert m[key] == result.rows[1][key]
    assert m["steps_per_run"] == 3 and m["latency_s"] == 0.05
    assert m["target_met"] == (m["share_of_ideal"] >= 0.9)
    assert result.series["runs_per_s"]["x"] == [1, 8]
    assert set(result.series["share_of_ideal"]["y"]) == {"harness", "floor"}
    # eight runs in flight complete several times as fast as one
    assert m["by_variant"]["K=8"]["runs_per_s"] > 4 * m["by_variant"]["K=1"]["runs_per_s"]


def test_a_run_that_does_not_answer_right_is_an_error_not_a_figure(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    (workspace,) = throughput.make_workspaces(tmp_path, 1)
    model = SimulatedLatencyModel(["The sum is 6."], latency_s=0.0)
    with ThreadPoolExecutor(1) as pool, pytest.raises(RuntimeError, match="run 0 ended answered"):
        asyncio.run(throughput.harness_run(model, workspace, pool, 0))
