"""overhead: the harness's own cost per step, without a model.

A zero-latency scripted model drives N tool steps (N = 10, 100, 1000; --full adds 3000) of
a trivial `add(a, b)` tool through the reference `Agent` with the built-in tool set, then
answers. Four configurations of the Agent show what its context costs:
- `harness`: the default components. Its budgeted context compacts under pressure, which
  these runs never reach: every step is shown verbatim, with a per-section manifest;
- `harness_compacting`: the same with a 2,048-token budget, so that it compacts (a
  recorded offline summariser call every few dozen steps);
- `harness_summarise`: `BudgetedContext("summarise")`, which summarises older steps in
  batches of three whatever the budget (a recorded summariser call every three steps);
- `harness_full_history`: the minimal `FullHistoryContext`, every message, as the peers.
We report microseconds per step (whole run / N; the fastest of 45 runs at N = 10, of 15
at N = 100 and of 3 at N = 1000, taken in three passes over all the frameworks, so that a
burst of load from other processes hits one pass of one framework rather than its figure;
one run at N = 3000) and the peak of traced Python memory (tracemalloc, a separate untimed
run). The same workload runs through the installed peer frameworks (the `bench-peers`
extra) in the same process, each in its best offline configuration (see
`harness.bench.peers`); peers not installed are listed in `peers_not_installed`. An
in-run `baseline_plain_loop` (a bare loop appending the same messages) is the floor.

Target: our µs/step <= 1/5 of the fastest peer's at every N, and flat in N
(`flatness` = µs/step at the largest N / at N = 10, ~1 when flat). The same ratio in CPU
time (`cpu_ratio_vs_fastest_peer`) leaves out time the process was not running. All
figures are timings: they vary between runs and machines; compare ratios. The same
workload counted in instructions, which load does not move:
`benchmarks/scripts/overhead_instructions.py`.
"""

from __future__ import annotations

import gc
import tempfile
import time
import tracemalloc
from collections.abc import Callable

from harness.agent import Agent
from harness.bench.peers import available_peers, make_driver
from harness.bench.suite import BenchOptions, Suite, SuiteResult
from harness.bench.tasks import frozen_heap
from harness.context import BudgetedContext, FullHistoryContext
from harness.llm import ScriptedModel
from harness.messages import ModelResponse, ToolCall, Usage
from harness.state import Budget
from harness.tools import default_tools, tool

SIZES = (10, 100, 1000)
FULL_SIZES = (*SIZES, 3000)
REPEATS = 5
"""Timed runs per point and pass (the fastest of all counts): 5 at N = 100, 15 at N = 10,
one at N = 1000; one run in all at larger N (`--full`)."""
PASSES = 3
"""Passes over every framework at N <= 1000, each after its own warm-up."""
MEMORY_LIMIT_S = 5.0


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: first addend.
        b: second addend.
    """
    return a + b


def harness_driver(context_factory: Callable[[], object] | None = None) -> Callable[[int], int]:
    """Our reference agent with the built-in tools + add; its default components unless a
    context constructor factory is given. The driver keeps its last run's trajectory as
    `.last` (to check what a configuration did)."""
    workspace = tempfile.mkdtemp(prefix="overhead-")  # a task's own (empty) folder, not cwd

    def run(n: int) -> int:
        calls = 0

        def policy(request) -> ModelResponse:
            nonlocal calls
            calls += 1
            usage = Usage(input_tokens=10, output_tokens=5)  # as the peers' fakes: no estimate
            if calls > n:
                return ModelResponse(text="done", usage=usage, cost_usd=0.0)
            call = ToolCall(id=f"c{calls}", name="add", arguments={"a": calls, "b": 1})
            return ModelResponse(tool_calls=[call], usage=usage, cost_usd=0.0)

        agent = Agent(ScriptedModel(policy), tools=[*default_tools(), add], workspace=workspace,
                      context=context_factory() if context_factory else None,
                      budget=Budget(max_steps=n + 5))
        trajectory = run.last = agent.run("Add numbers with the add tool, then answer.",
                                          run_id="overhead")
        return sum(1 for e in trajectory if e.type == "tool_finished")

    run.last = None
    return run


COMPACTING_BUDGET = 2_048
"""Tokens of `harness_compacting`'s budget: small enough that its runs compact."""


def agent_variants() -> dict[str, Callable[[int], int]]:
    """Drivers of the configurations of our Agent the suite measures."""
    return {"harness": harness_driver(),
            "harness_compacting": harness_driver(
                lambda: BudgetedContext(budget_tokens=COMPACTING_BUDGET)),
            "harness_summarise": harness_driver(lambda: BudgetedContext("summarise")),
            "harness_full_history": harness_driver(FullHistoryContext)}


def plain_loop_driver(n: int) -> int:
    """The floor: a bare loop that appends the same call/result messages to a list."""
    history: list[dict] = []
    for i in range(1, n + 1):
        call = {"name": "add", "args": {"a": i, "b": 1}, "id": f"c{i}"}
        history.append({"role": "assistant", "tool_calls": [call]})
        history.append({"role": "tool", "content": str(call["args"]["a"] + 1)})
    return sum(1 for m in history if m["role"] == "tool")


def time_runs(driver: Callable[[int], int], n: int, repeats: int
              ) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (of this process) of `repeats` runs of N steps; the
    suite counts the fastest: on a shared machine the minimum is the least disturbed
    estimate, for every framework alike."""
    times, cpu = [], []
    for _ in range(repeats):
        gc.collect()
        start, cpu_start = time.perf_counter(), time.process_time()
        calls = driver(n)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        if calls != n:
            raise RuntimeError(f"driver made {calls} tool calls, expected {n}")
    return times, cpu


def peak_kib(driver: Callable[[int], int], n: int) -> float:
    """Peak traced Python memory of one run of N steps, in KiB (tracemalloc; the suite
    skips it when a run takes over MEMORY_LIMIT_S, as tracing would take minutes)."""
    gc.collect()
    tracemalloc.start()
    try:
        driver(n)
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


class OverheadSuite(Suite):
    name = "overhead"
    description = "harness per-step overhead vs peer frameworks (scripted model, no LLM)"
    handles_repeat = True

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        with frozen_heap():  # for every framework alike
            return self._run(opts, progress)

    def _run(self, opts: BenchOptions, progress) -> SuiteResult:
        config = self.config_name(opts)
        sizes = FULL_SIZES if opts.full else SIZES
        installed = available_peers()
        frameworks = agent_variants()
        frameworks.update({p: make_driver(p) for p, ok in installed.items() if ok})
        frameworks["baseline_plain_loop"] = plain_loop_driver
        repeats = max(REPEATS, opts.repeat)
        repeated = [n for n in sizes if n <= 1000]
        rows, done = [], 0
        total = len(frameworks) * (len(sizes) + (PASSES - 1) * len(repeated))
        times: dict[tuple[str, int], tuple[list[float], list[float]]] = {}
        for p in range(PASSES):  # a burst of load then hits one pass of a framework
            for name, driver in frameworks.items():
                driver(10)  # warm-up: imports, caches, compiled graphs
                for n in sizes if p == 0 else repeated:
                    reps = 1 if n >= 1000 else repeats if n >= 100 else 3 * repeats
                    wall, cpu = times.setdefault((name, n), ([], []))
                    more_wall, more_cpu = time_runs(driver, n, reps)
                    wall += more_wall
                    cpu += more_cpu
                    done += 1
                    progress(done, total)
        for (name, n), (wall, cpu) in times.items():
            rows.append({"framework": name, "n": n, "us_per_step": min(wall) / n * 1e6,
                         "cpu_us_per_step": min(cpu) / n * 1e6,
                         "peak_kib": peak_kib(frameworks[name], n)
                         if max(wall) < MEMORY_LIMIT_S else None})
        by = {name: {r["n"]: r for r in rows if r["framework"] == name} for name in frameworks}
        peers = [p for p, ok in installed.items() if ok]

        def us(name: str, n: int) -> float:
            return by[name][n]["us_per_step"]

        by_variant = {}
        for name in frameworks:
            v = {f"us_per_step_n{n}": us(name, n) for n in sizes}
            v.update({f"peak_kib_n{n}": by[name][n]["peak_kib"] for n in sizes})
            v["flatness"] = us(name, sizes[-1]) / us(name, sizes[0])
            v.update({f"cpu_us_per_step_n{n}": by[name][n]["cpu_us_per_step"] for n in sizes})
            if name.startswith("harness") and peers:
                # worst case over N of ours / the fastest peer at that N
                v["ratio_vs_fastest_peer"] = max(us(name, n) / min(us(p, n) for p in peers)
                                                 for n in sizes)
                v["cpu_ratio_vs_fastest_peer"] = max(
                    by[name][n]["cpu_us_per_step"] / min(by[p][n]["cpu_us_per_step"]
                                                         for p in peers) for n in sizes)
                v["target_met"] = v["ratio_vs_fastest_peer"] <= 0.2 and v["flatness"] <= 2.0
            by_variant[name] = v
        metrics = {**by_variant["harness"], "peers_measured": peers,
                   "peers_not_installed": [p for p, ok in installed.items() if not ok],
                   "by_variant": by_variant}
        series = {
            "us_per_step": {"x": list(sizes), "xlabel": "N (tool steps)",
                            "ylabel": "µs per step", "log": True,
                            "y": {name: [by[name][n]["us_per_step"] for n in sizes]
                                  for name in frameworks}},
            "peak_kib": {"x": list(sizes), "xlabel": "N (tool steps)",
                         "ylabel": "peak traced memory (KiB)", "log": True,
                         "y": {name: [by[name][n]["peak_kib"] for n in sizes]
                               for name in frameworks}},
        }
        return SuiteResult(suite=self.name, config=config, metrics=metrics, cases=len(rows),
                           rows=rows, series=series, model=None, seed=opts.seed)


SUITE = OverheadSuite()
