"""throughput: how many agent runs one process keeps in flight against a slow model.

For each K (1, 16, 64, 256; `--full` adds 512), K runs of a short task start together as
asyncio tasks in one event loop, against a `SimulatedLatencyModel` that waits 0.5 s ± 0.1 s
(uniform, seeded) per call and replies from a three-reply script: `read_file a.txt`,
`read_file b.txt`, the answer. Each run builds its own reference `Agent`, in its own temp
workspace, and awaits `agent.arun`; every run must end `answered` with the right answer.

The agent keeps its defaults: the budgeted context, the loop guard, the built-in tool set,
the strongest sandbox the machine has (bubblewrap here; `read_file` goes through the run's
sandbox files, in-process), the workspace capture at the start (`record_workspace`), no
memory, no skills, allow-all. One setting differs, as a process serving many runs needs it:
`tool_executor`, a `ThreadPoolExecutor` (8 threads, shared by the batch), so tool calls and
final-answer checks run off the event loop. The suite measures the harness, so it is
offline only: `--model` is ignored.

Figures, per K (in `rows` and `metrics.by_variant["K=…"]`; those of the largest K, with
`target_met` (its share of ideal is at least 0.9), at the top level):
- `runs_per_s`: K / the mean time from the batch's start to a run's end: the rate at which K
  runs in flight complete (Little's law), the figure the ideal is stated in;
- `ideal_runs_per_s`: K / (steps per run × mean latency drawn in that batch), the physical
  limit: every run waits on its model and on nothing else. `share_of_ideal` = runs_per_s /
  ideal (at most 1: a run takes at least the sum of its latencies);
- `calls_per_s`: model calls / that same mean time (= runs_per_s × steps);
- `batch_runs_per_s`: K / the time until the last run ends; with jitter the slowest run's
  three draws bound it (`batch_share_of_ideal`), for the floor alike;
- `loop_lag_ms_p50/p99/max`: how late a coroutine that sleeps 10 ms wakes, over the batch;
- `cpu_ms_per_run`: CPU time of the process (every thread) over the batch / K, the event
  loop's and the lag ticker's own included (they dominate at K = 1), and
  `harness_cpu_ms_per_run`, that less the floor's: what the harness adds to a run;
- `setup_ms_per_run`: what a run's setup (Agent(...), new state, per-run components, sandbox
  open, workspace capture, `TaskStarted`) costs, timed alone, run after run: the loop does
  it for every run before any of them first awaits its model;
- `peak_kib_per_run`: the peak of traced Python memory (tracemalloc) over a separate,
  untimed batch, less what was traced before it, / K.
The floor (`floor_*`), in the same run: K bare coroutines, each awaiting the same model's
`acomplete` for the same three steps with a growing message list; no harness.
All figures are timings on a shared machine: compare the share of ideal with the floor's.
With `--out`, each timed run's trajectory is written to `OUT/throughput/kK/` after its batch.
`opts.extra` may set `ks` ("1,16"), `latency_s`, `jitter_s` and `tool_threads`.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.agent import Agent
from harness.bench.suite import BenchOptions, DataError, Progress, Suite, SuiteResult
from harness.bench.tasks import frozen_heap, save_trajectory
from harness.events import Trajectory
from harness.llm import SimulatedLatencyModel
from harness.llm.scripted import Reply
from harness.messages import Message, ModelRequest

KS = (1, 16, 64, 256)
FULL_KS = (*KS, 512)
LATENCY_S = 0.5
JITTER_S = 0.1
TOOL_THREADS = 8
TICK_S = 0.010
TASK = "a.txt and b.txt each hold a number. Read both and answer with their sum."
FILES = {"a.txt": "2\n", "b.txt": "3\n"}
ANSWER = "The sum is 5."
SCRIPT: list[Reply] = [{"tool": "read_file", "args": {"path": "a.txt"}},
          {"tool": "read_file", "args": {"path": "b.txt"}},
          ANSWER]
STEPS = len(SCRIPT)
"""Model calls per run."""


class Settings:
    """The suite's knobs, from `opts.extra` (ks, latency_s, jitter_s, tool_threads) and
    `--full`/`--seed`."""

    def __init__(self, opts: BenchOptions):
        extra = opts.extra
        try:
            ks = extra.get("ks", FULL_KS if opts.full else KS)
            if isinstance(ks, str):
                ks = [int(k) for k in ks.split(",") if k.strip()]
            self.ks: tuple[int, ...] = tuple(int(k) for k in ks)
            self.latency_s = float(extra.get("latency_s", LATENCY_S))
            self.jitter_s = float(extra.get("jitter_s", JITTER_S))
            self.tool_threads = int(extra.get("tool_threads", TOOL_THREADS))
        except (TypeError, ValueError) as exc:
            raise DataError(f"throughput: ks is a list of integers, latency_s and jitter_s "
                            f"seconds, tool_threads an integer ({exc})") from exc
        if not self.ks or min(self.ks) < 1 or self.latency_s < 0 or \
                not 0 <= self.jitter_s <= self.latency_s or self.tool_threads < 1:
            raise DataError("throughput: ks must be at least 1, 0 <= jitter_s <= latency_s, "
                            "tool_threads at least 1")
        self.seed = opts.seed

    def model(self, k: int) -> SimulatedLatencyModel:
        """The model of one batch: the same seed for the harness and the floor at K."""
        return SimulatedLatencyModel(SCRIPT, latency_s=self.latency_s, jitter_s=self.jitter_s,
                                     seed=self.seed * 100_003 + k, name="simulated")


# -- the two workloads -------------------------------------------------------------------
def make_workspaces(root: Path, k: int) -> list[Path]:
    """K workspaces under `root`, each holding the task's files."""
    spaces = []
    for i in range(k):
        ws = root / f"run-{i}"
        ws.mkdir()
        for rel, content in FILES.items():
            (ws / rel).write_text(content)
        spaces.append(ws)
    return spaces


def make_agent(model: SimulatedLatencyModel, workspace: Path,
               executor: ThreadPoolExecutor | None) -> Agent:
    """The reference agent with its defaults, tools run in `executor`."""
    return Agent(model, workspace=workspace, tool_executor=executor)


async def harness_run(model: SimulatedLatencyModel, workspace: Path,
                      executor: ThreadPoolExecutor, i: int,
                      keep: list[Trajectory] | None = None) -> None:
    """One agent run, built and run here; an error unless it answered right. Its
    trajectory goes to `keep`, if given."""
    trajectory = await make_agent(model, workspace, executor).arun(TASK, run_id=f"tp-{i}")
    end = trajectory.finished
    if end is None or end.status != "answered" or end.answer != ANSWER or end.steps != STEPS:
        raise RuntimeError(f"run {i} ended {end and end.status}: {end and end.reason}")
    if keep is not None:
        keep.append(trajectory)


async def floor_run(model: SimulatedLatencyModel, i: int) -> None:
    """The floor: the same model calls, each reply appended to a list, nothing else."""
    messages = [Message(role="user", content=TASK)]
    for _ in range(STEPS):
        reply = await model.acomplete(ModelRequest(messages=messages))
        messages.append(reply.as_message())
        for call in reply.tool_calls:
            messages.append(Message(role="tool", tool_call_id=call.id, content="2"))
    if messages[-1].content != ANSWER:
        raise RuntimeError(f"floor run {i} ended with {messages[-1].content!r}")


# -- measuring a batch -------------------------------------------------------------------
async def _ticker(stop: asyncio.Event, lags: list[float]) -> None:
    """Sleep TICK_S again and again; record how late each wake-up is (seconds)."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(TICK_S)
        lags.append(time.perf_counter() - start - TICK_S)


async def _batch(k: int, start_run: Callable[[int], Awaitable[None]]) -> dict[str, Any]:
    """Start K runs together with a lag ticker; wall time until each ends, CPU, lags."""
    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(stop, lags))
    await asyncio.sleep(0)  # the ticker is ticking before the runs start
    ends: list[float] = []

    async def timed(i: int) -> None:
        await start_run(i)
        ends.append(time.perf_counter() - t0)

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(timed(i) for i in range(k)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    stop.set()
    await ticker
    return {"ends": ends, "wall": wall, "cpu": cpu, "lags": lags}


def run_batch(settings: Settings, k: int, kind: str, *, traced: bool = False,
              keep: list[Trajectory] | None = None) -> dict[str, Any]:
    """One batch of K `kind` runs ("harness" or "floor") in a new event loop, with its
    figures; `traced`: under tracemalloc, for the peak of memory only. The harness runs'
    trajectories go to `keep`, if given."""
    model = settings.model(k)
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp, \
            ThreadPoolExecutor(settings.tool_threads, thread_name_prefix="tp-tool") as pool:
        spaces = make_workspaces(Path(tmp), k) if kind == "harness" else []

        def start_run(i: int) -> Awaitable[None]:
            return harness_run(model, spaces[i], pool, i, keep) if kind == "harness" \
                else floor_run(model, i)

        gc.collect()
        if traced:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        try:
            out = asyncio.run(_batch(k, start_run))
            if traced:
                return {"peak_kib_per_run": (tracemalloc.get_traced_memory()[1] - base)
                        / 1024 / k}
        finally:
            if traced:
                tracemalloc.stop()
    if model.calls != k * STEPS:
        raise RuntimeError(f"{kind} at K={k} made {model.calls} model calls, "
                           f"expected {k * STEPS}")
    mean_latency = statistics.fmean(model.latencies)
    mean_end = statistics.fmean(out["ends"])
    ideal = k / (STEPS * mean_latency)
    lags = sorted(out["lags"]) or [0.0]
    return {"runs_per_s": k / mean_end, "calls_per_s": model.calls / mean_end,
            "ideal_runs_per_s": ideal, "share_of_ideal": k / mean_end / ideal,
            "batch_runs_per_s": k / out["wall"], "batch_share_of_ideal": k / out["wall"] / ideal,
            "batch_wall_s": out["wall"], "mean_latency_s": mean_latency,
            "cpu_ms_per_run": out["cpu"] / k * 1e3,
            "loop_lag_ms_p50": percentile(lags, 0.50) * 1e3,
            "loop_lag_ms_p99": percentile(lags, 0.99) * 1e3, "loop_lag_ms_max": lags[-1] * 1e3}


def setup_ms_per_run(settings: Settings, k: int) -> float:
    """Mean wall time of one run's setup (Agent(...), `new_state`, `for_run`, `start`),
    done K times in a row, as the loop does it when K runs start at once."""
    model = settings.model(k)
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        spaces = make_workspaces(Path(tmp), k)
        gc.collect()
        start = time.perf_counter()
        for i, ws in enumerate(spaces):
            agent = make_agent(model, ws, None)
            state = agent.new_state(TASK, f"tp-{i}")
            agent.for_run(state).start(state)
        elapsed = time.perf_counter() - start
    return elapsed / k * 1e3


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the suite ---------------------------------------------------------------------------
HEADLINE = ("concurrent_runs", "runs_per_s", "ideal_runs_per_s", "share_of_ideal",
            "floor_share_of_ideal", "batch_share_of_ideal", "floor_batch_share_of_ideal",
            "calls_per_s", "loop_lag_ms_p99", "loop_lag_ms_max", "harness_cpu_ms_per_run", "peak_kib_per_run")
"""The figures at the largest K, at the top of the suite's metrics."""


class ThroughputSuite(Suite):
    name = "throughput"
    description = "concurrent agent runs against a simulated 0.5 s model, vs the ideal"

    def run(self, opts: BenchOptions, progress: Progress) -> SuiteResult:
        with frozen_heap():
            return self._run(opts, progress)

    def _run(self, opts: BenchOptions, progress: Progress) -> SuiteResult:
        config = self.config_name(opts)
        settings = Settings(opts)
        warm = Settings(opts)
        warm.latency_s, warm.jitter_s = 0.001, 0.0
        run_batch(warm, 2, "harness")  # imports, the sandbox probe, first-call caches
        rows, total = [], len(settings.ks)
        for n, k in enumerate(settings.ks):
            floor = run_batch(settings, k, "floor")
            trajectories: list[Trajectory] = []
            ours = run_batch(settings, k, "harness", keep=trajectories)
            for t in sorted(trajectories, key=lambda t: int(t.run_id.removeprefix("tp-"))):
                save_trajectory(opts, f"k{k}/{t.run_id}", t)  # and counted in run_status
            del trajectories
            ours["setup_ms_per_run"] = setup_ms_per_run(settings, k)
            ours.update(run_batch(settings, k, "harness", traced=True))
            floor.update(run_batch(settings, k, "floor", traced=True))
            ours["harness_cpu_ms_per_run"] = ours["cpu_ms_per_run"] - floor["cpu_ms_per_run"]
            rows.append({"concurrent_runs": k, **ours,
                         **{f"floor_{key}": v for key, v in floor.items()}})
            progress(n + 1, total)
        # The headline is the largest K; every K's figures are under `by_variant` ("K=16").
        top = max(rows, key=lambda row: row["concurrent_runs"])
        metrics: dict[str, Any] = {**{key: top[key] for key in HEADLINE},
                                   "target_met": top["share_of_ideal"] >= 0.9,
                                   "steps_per_run": STEPS, "latency_s": settings.latency_s,
                                   "jitter_s": settings.jitter_s,
                                   "tool_threads": settings.tool_threads,
                                   "by_variant": {f"K={row['concurrent_runs']}": row
                                                  for row in rows}}
        ks = list(settings.ks)
        series = {
            "share_of_ideal": {"x": ks, "xlabel": "K (concurrent runs)", "ylabel":
                               "share of ideal runs/s", "log": False,
                               "y": {"harness": [r["share_of_ideal"] for r in rows],
                                     "floor": [r["floor_share_of_ideal"] for r in rows]}},
            "runs_per_s": {"x": ks, "xlabel": "K (concurrent runs)", "ylabel": "runs/s",
                           "log": True,
                           "y": {"harness": [r["runs_per_s"] for r in rows],
                                 "floor": [r["floor_runs_per_s"] for r in rows],
                                 "ideal": [r["ideal_runs_per_s"] for r in rows]}},
            "loop_lag_ms_p99": {"x": ks, "xlabel": "K (concurrent runs)",
                                "ylabel": "event-loop lag p99 (ms)", "log": False,
                                "y": {"harness": [r["loop_lag_ms_p99"] for r in rows],
                                      "floor": [r["floor_loop_lag_ms_p99"] for r in rows]}},
        }
        return SuiteResult(suite=self.name, config=config, metrics=metrics, cases=len(rows),
                           rows=rows, series=series, model=None, seed=opts.seed)


SUITE = ThroughputSuite()
