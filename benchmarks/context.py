"""context: what each history strategy keeps, what it costs, and what it loses.

Part 1, synthetic evidence tasks (`harness.probes.evidence`): the agent reads 29 notes, one
per step, then answers a question whose evidence sits in notes read 1 to 29 steps earlier.
The evidence probe answers correctly exactly when that evidence is in its input. Per
strategy: `success`, `tokens_per_solved_task` (every model token: the agent's inputs plus
summariser calls), and the context size at each step (`series.context_tokens_by_step`),
fitted as `step_tokens_slope` (tokens added per step: ~0 is flat, > 0 means the total grows
quadratically) and `cumulative_exponent` (total tokens ~ steps^k). The tasks fit the
model's window, so `compact` (the default) never compacts there; `compact@16k` and
`full@16k` run them under a budget they outgrow, to show what compaction keeps against
dropping the oldest steps.

Part 2, real trajectories (`--data`, default `trajectories/` as `harness data get
trajectories` fetches it: tau-bench JSON and SWE-agent .traj): every recorded model turn is
rebuilt through each strategy; per strategy the total and per-step input tokens against
full history and the share of tool results kept verbatim. Tokens are counted with
litellm's gpt-4o tokenizer. Without the trajectories, part 1 still runs and
`metrics.replay_skipped` says so, with the command that fetches them.

With `--model`, a real model replaces the probe (and writes the summaries).
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.agent import Agent
from harness.bench.suite import BenchOptions, MissingDataError, Suite, SuiteResult, real_model
from harness.bench.tasks import save_trajectory
from harness.context import BudgetedContext, declare_subgoal, split_steps
from harness.context.transcripts import Transcript, load_transcripts
from harness.events import ContextBuilt, Event, ModelCalled
from harness.governance.verifiers import FunctionVerifier
from harness.llm import LiteLLMModel
from harness.llm.base import SyncModel
from harness.messages import ModelRequest, ModelResponse
from harness.metrics.context import prefix_share
from harness.probes.evidence import EvidenceProbe, EvidenceTask, make_tasks
from harness.state import AgentState, Budget
from harness.tools.base import Toolset
from harness.tools.builtin import read_file

STRATEGIES = ("full", "last-n", "mask", "summarise", "compact", "subgoal")
SUMMARISING = ("summarise", "compact", "subgoal")
PRESSED = {"compact@16k": ("compact", 16_000), "full@16k": ("full", 16_000)}
"""Synthetic-only variants under a budget nearly every task outgrows in its last steps
(a task's context reaches 15.7k-19.8k tokens): what compaction keeps, against dropping
the oldest steps."""
SYNTHETIC = (*STRATEGIES, *PRESSED)
BASELINE = "full"
STEPS = 30
TARGET = {"success_gap": 0.02, "token_ratio": 0.35}
REPLAY_MODEL = "gpt-4o"
DISTANCE_BUCKETS = ((1, 5), (6, 15), (16, 29))


class ContextSuite(Suite):
    name = "context"
    description = "history strategies: evidence kept vs tokens (synthetic tasks + real trajectories)"
    configs = STRATEGIES
    default_config = "summarise"
    data_path = "trajectories"
    dataset = "trajectories"

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        config = self.config_name(opts)
        data, replay_skipped = self._trajectories(opts)
        # malformed data fails before any work
        transcripts = load_transcripts(data) if data is not None else []
        tasks = make_tasks(120 if opts.full else 45, steps=STEPS, seed=opts.seed)
        total = len(tasks) + len(transcripts)
        synthetic, rows, curves = self._synthetic(tasks, opts, lambda n: progress(n, total))
        replay, replay_curves = replay_transcripts(
            transcripts, lambda n: progress(len(tasks) + n, total), summariser=real_model(opts)) \
            if transcripts else ({}, {})
        for figures in synthetic.values():
            figures["token_ratio"] = round(
                figures["tokens_per_task"] / synthetic[BASELINE]["tokens_per_task"], 4)
        by_variant = {name: {**synthetic[name], **replay.get(name, {})} for name in SYNTHETIC}
        base = by_variant[BASELINE]
        metrics: dict[str, Any] = dict(by_variant[config])
        metrics.update({f"baseline_{k}": base[k] for k in
                        ("success", "tokens_per_solved_task", "replay_tokens_per_step")
                        if k in base})
        metrics["meets_target"] = [
            n for n, v in by_variant.items() if n != BASELINE
            and v["success"] >= base["success"] - TARGET["success_gap"]
            and v["token_ratio"] <= TARGET["token_ratio"]]
        metrics["by_variant"] = by_variant
        if replay_skipped:
            metrics["replay_skipped"] = replay_skipped
        return SuiteResult(suite=self.name, config=config, metrics=metrics,
                           cases=len(tasks) + len(transcripts), rows=rows, model=opts.model,
                           seed=opts.seed, data=str(data) if data is not None else None,
                           series={"context_tokens_by_step": curves,
                                   "replay_tokens_by_step": replay_curves})

    def _trajectories(self, opts: BenchOptions) -> tuple[Path | None, str | None]:
        """The real trajectories to replay; without them (and without --data), None and
        why the replay part is skipped, so the synthetic part still runs."""
        try:
            return self.resolve_data(opts), None
        except MissingDataError as exc:
            print(f"harness bench: context: replay part skipped: {exc}", file=sys.stderr)
            return None, f"no real trajectories found; to replay them: {exc.command}"

    def _synthetic(self, tasks: list[EvidenceTask], opts: BenchOptions, progress):
        rows: list[dict[str, Any]] = []
        per_step: dict[str, list[list[int]]] = {s: [] for s in SYNTHETIC}
        for i, task in enumerate(tasks):
            with tempfile.TemporaryDirectory() as tmp:
                ws = Path(tmp)
                for rel, text in task.files.items():
                    (ws / rel).parent.mkdir(parents=True, exist_ok=True)
                    (ws / rel).write_text(text)
                for variant in SYNTHETIC:
                    row, steps = run_task(task, variant, ws, opts)
                    rows.append(row)
                    per_step[variant].append(steps)
            progress(i + 1)
        return ({s: synthetic_figures([r for r in rows if r["strategy"] == s], per_step[s])
                 for s in SYNTHETIC},
                rows, {s: mean_curve(per_step[s]) for s in SYNTHETIC})


def run_task(task: EvidenceTask, variant: str, ws: Path, opts: BenchOptions
             ) -> tuple[dict[str, Any], list[int]]:
    """Run one task under one strategy (or pressed variant); its row and its context
    tokens per step."""
    real = real_model(opts)
    strategy, budget = PRESSED.get(variant, (variant, None))
    context = BudgetedContext(strategy, budget_tokens=budget, **(
        {"summariser": real} if real and strategy in SUMMARISING else {}))
    cites_evidence = FunctionVerifier(
        lambda answer, _result, _state: task.answer in answer.text.split(), name="evidence")
    model = RequestLog(real or EvidenceProbe())
    agent = Agent(model, context=context, workspace=ws,
                  tools=[read_file, declare_subgoal], budget=Budget(max_steps=STEPS + 5),
                  graders=[cites_evidence])
    trajectory = agent.run(task.prompt, run_id=f"{task.id}-{variant}")
    save_trajectory(opts, f"{variant}/{task.id}", trajectory)
    steps = [e.manifest.total_tokens for e in trajectory.of_type(ContextBuilt)]
    summarising = sum(e.usage.total_tokens for e in trajectory.of_type(ModelCalled)
                      if e.purpose == "summarise")
    end = trajectory.finished
    return ({"task": task.id, "kind": task.kind, "distances": task.distances,
             "strategy": variant, "success": end is not None and end.status == "success",
             "tokens": sum(steps) + summarising, "summariser_tokens": summarising,
             "steps": len(steps), "prefix_share": prefix_share(model.requests)}, steps)


class RequestLog(SyncModel):
    """The agent's model, keeping every request it is sent (to measure, after the run, how
    much of each a provider's prompt cache could serve)."""

    def __init__(self, inner: Any):
        self.inner, self.name = inner, getattr(inner, "name", "model")
        self.requests: list[ModelRequest] = []

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return self.inner.complete(request)


def synthetic_figures(rows: list[dict[str, Any]], curves: list[list[int]]) -> dict[str, Any]:
    solved = sum(r["success"] for r in rows)
    tokens = sum(r["tokens"] for r in rows)
    curve = mean_curve(curves)
    buckets = {}
    for lo, hi in DISTANCE_BUCKETS:
        inside = [r["success"] for r in rows if lo <= max(r["distances"]) <= hi]
        buckets[f"{lo}-{hi}"] = round(sum(inside) / len(inside), 4) if inside else None
    return {"success": round(solved / len(rows), 4),
            "tokens_per_solved_task": round(tokens / solved) if solved else None,
            "tokens_per_task": round(tokens / len(rows)),
            "summariser_tokens_per_task": round(sum(r["summariser_tokens"] for r in rows)
                                                / len(rows)),
            "cacheable_prefix_share": round(statistics.fmean(
                r["prefix_share"] for r in rows if r["prefix_share"] is not None), 4),
            "step_tokens_slope": round(slope(curve), 1),
            "cumulative_exponent": round(cumulative_exponent(curve), 3),
            "success_by_evidence_distance": buckets}


# -- replaying real trajectories ---------------------------------------------------------

def replay_transcripts(transcripts: list[Transcript], progress, *,
                       summariser: LiteLLMModel | None = None
                       ) -> tuple[dict[str, dict[str, Any]], dict[str, list[float]]]:
    """Rebuild every model turn of every transcript through each strategy."""
    totals: dict[str, dict[str, float]] = {s: defaultdict(float) for s in STRATEGIES}
    by_source: dict[str, dict[str, dict[str, float]]] = {s: {} for s in STRATEGIES}
    curves: dict[str, list[list[int]]] = {s: [] for s in STRATEGIES}
    constructors = {s: BudgetedContext(s, model=REPLAY_MODEL, **(
        {"summariser": summariser} if summariser and s in SUMMARISING else {}))
        for s in STRATEGIES}
    for n, t in enumerate(transcripts, 1):
        for s, ctx in constructors.items():
            source = by_source[s].setdefault(Path(t.source).parent.name, defaultdict(float))
            before = (totals[s]["input"], totals[s]["summariser"])
            curves[s].append(replay_one(t, ctx, totals[s]))
            source["input"] += totals[s]["input"] - before[0]
            source["spent"] += totals[s]["input"] + totals[s]["summariser"] - sum(before)
        progress(n)
    base = totals[BASELINE]
    figures = {}
    for s, tot in totals.items():
        spent = tot["input"] + tot["summariser"]
        figures[s] = {
            "replay_input_tokens": int(tot["input"]),
            "replay_summariser_tokens": int(tot["summariser"]),
            "replay_tokens_per_step": round(tot["input"] / max(tot["builds"], 1), 1),
            "replay_token_ratio": round(spent / base["input"], 4) if base["input"] else None,
            "replay_verbatim_share": round(tot["verbatim"] / tot["results"], 4)
            if tot["results"] else None,
            "replay_token_ratio_by_source": {
                src: round(v["spent"] / by_source[BASELINE][src]["input"], 4)
                for src, v in by_source[s].items() if by_source[BASELINE][src]["input"]}}
    return figures, {s: mean_curve(c) for s, c in curves.items()}


def replay_one(t: Transcript, context: BudgetedContext, tot: dict[str, float]) -> list[int]:
    """Build the context before each assistant turn of `t`; add up tokens and verbatim
    tool results into `tot`; return the context tokens per turn."""
    events: list[Event] = []
    context.system_prompt = t.system or context.system_prompt
    state = AgentState(run_id=f"replay-{t.id}", task=t.task, workspace=Path("."),
                       tools=Toolset(), budget=Budget(), sinks=[events.append])
    per_step = []
    for i, m in enumerate(t.history):
        if m.role != "assistant":
            continue
        state.history = t.history[:i]
        state.step = len(per_step) + 1
        built = context.build(state)
        per_step.append(built.manifest.total_tokens)
        results = sum(s.results.__len__() for s in split_steps(state.history))
        kept = sum(p.results for p in built.history.parts if p.treatment == "verbatim") \
            if built.history else results
        tot["input"] += built.manifest.total_tokens
        tot["builds"] += 1
        tot["results"] += results
        tot["verbatim"] += kept
    tot["summariser"] += sum(e.usage.total_tokens for e in events
                             if isinstance(e, ModelCalled) and e.purpose == "summarise")
    return per_step


# -- curve figures -------------------------------------------------------------------------

def mean_curve(curves: list[list[int]]) -> list[float]:
    """Mean over runs of the value at each step (over the runs that reached that step)."""
    longest = max((len(c) for c in curves), default=0)
    return [round(statistics.mean(c[k] for c in curves if len(c) > k), 1) for k in range(longest)]


def slope(curve: list[float]) -> float:
    """Least-squares tokens added per step."""
    n = len(curve)
    if n < 2:
        return 0.0
    xs = range(1, n + 1)
    mx, my = (n + 1) / 2, statistics.mean(curve)
    return sum((x - mx) * (y - my) for x, y in zip(xs, curve, strict=True)) / \
        sum((x - mx) ** 2 for x in xs)


def cumulative_exponent(curve: list[float]) -> float:
    """k in cumulative tokens ~ steps^k, fitted on log-log over the second half of the run
    (1 = linear total, as with a bounded context; 2 = quadratic, as with full history)."""
    total, cum = 0.0, []
    for v in curve:
        total += v
        cum.append(total)
    pts = [(math.log(k), math.log(c)) for k, c in enumerate(cum, 1) if c > 0][len(cum) // 2:]
    if len(pts) < 2:
        return 0.0
    mx = statistics.mean(x for x, _ in pts)
    my = statistics.mean(y for _, y in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


SUITE = ContextSuite()
