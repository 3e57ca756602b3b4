"""adaptation: does the harness stop an agent from repeating a fix that already failed?

Each task is a small real project (generated in a temp dir) with a failing test, solved
over several sessions; before each session the project is reset to its buggy state, and
the sessions share only what the harness remembers. Offline, the model is the repeater
probe (`harness.probes.repeater`): it tries its candidate fixes in a fixed order and
repeats a failed one unless its input shows that failure (a memory summary, a gate's
refusal or warning). With `--model` a real LLM gets the same tasks.

Every named configuration runs in each run (`metrics.by_variant`); the chosen one (default
`memory+gate`) is also at the top level:
- `memory+gate`: project memory (records attempts, summary in context) and the policy
  governor, which refuses a call the memory gate warns about;
- `memory`: project memory, allow-all governor (only the summary carries the failure);
- `gate`: project memory with nothing in context (no summary, no recalled items), policy
  governor;
- `baseline_no_memory`: no memory.

Figures: `repeated_failed_fix_count` (fix attempts repeating one that already failed,
over all of a task's sessions; mean per task), `steps_to_success` (mean model turns of the
later sessions that succeeded), `tokens_per_solved_task` (all tokens / sessions solved),
`success` (share of sessions whose tests pass at the end), `gate_warnings` (per task).
Data: `benchmarks/data/adaptation.jsonl` or `--data FILE` of the same format (`Task`).
"""

from __future__ import annotations

import asyncio
import functools
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from harness.bench.config import HarnessConfig, build_agent, build_component, resolve_config
from harness.bench.config import ablate as ablate_config
from harness.bench.executors import tool_pool
from harness.bench.suite import BenchOptions, Suite, SuiteResult, read_jsonl, real_model
from harness.bench.tasks import map_tasks, save_trajectory
from harness.events import GateWarned, Trajectory, Verified
from harness.governance.verifiers import FunctionVerifier
from harness.metrics import repeated_failed_fix_count, steps, total_tokens
from harness.probes.repeater import Candidate, RepeaterModel

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "adaptation.jsonl"
TEST_TIMEOUT_S = 60


class Task(BaseModel):
    """A multi-session bug-fixing task: project files, the test command (`{python}` is this
    interpreter, named `python` on PATH), the candidate fixes the probe tries in order, and the number of sessions."""

    id: str
    task: str
    test: str
    files: dict[str, str]
    candidates: list[Candidate] = Field(min_length=1)
    sessions: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _candidates_apply(self) -> Task:
        for i, c in enumerate(self.candidates):
            if c.path not in self.files:
                raise ValueError(f"candidates.{i}.path '{c.path}' is not one of the files")
            if self.files[c.path].count(c.old) != 1:
                raise ValueError(f"candidates.{i}.old must occur exactly once in {c.path}")
        return self

    def command(self) -> str:
        return self.test.replace("{python}", "python")


def python_on_path() -> None:
    """Put this interpreter's folder first on PATH, so that the tasks' `python` is it. The
    command names `python`, not the interpreter's path: where a clone's environment lives
    would otherwise change what the model reads and writes, and every token figure."""
    folder = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != folder:
        os.environ["PATH"] = os.pathsep.join([folder, os.environ.get("PATH", "")])


def _config(**fields) -> HarnessConfig:
    # Full history, so that only what crosses sessions differs (ablate context to compare).
    return HarnessConfig(context="full", budget={"max_steps": 30}, **fields)


CONFIGS = {
    "memory+gate": _config(name="memory+gate", memory="project", governor="policy"),
    "memory": _config(name="memory", memory="project", governor="none"),
    "gate": _config(name="gate", memory={"variant": "project",
                                         "params": {"budget_tokens": 0, "recall_k": 0}},
                    governor="policy"),
    "baseline_no_memory": _config(name="baseline_no_memory", memory="none", governor="policy"),
}


class AdaptationSuite(Suite):
    name = "adaptation"
    description = "multi-session bug fixing: repeated failed fixes with memory on and off"
    harness_configs = CONFIGS
    configs = tuple(CONFIGS)
    default_config = "memory+gate"
    ablatable = ("context", "memory", "skills", "governor", "budget", "budget_tokens")

    def config_name(self, opts: BenchOptions) -> str:
        return resolve_config(opts, CONFIGS, self.default_config).name

    def resolve_data(self, opts: BenchOptions) -> Path:
        return super().resolve_data(opts) if opts.data is not None else DEFAULT_DATA

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        names = self.tasks(opts)
        results = map_tasks(lambda name: asyncio.run(self.run_task(name, opts)), names,
                            jobs=opts.jobs, progress=progress)
        return self.summarise(opts, results)

    def tasks(self, opts: BenchOptions) -> list[str]:
        """`VARIANT/TASK` for every configuration and task."""
        tasks = _load(self.resolve_data(opts))
        return [f"{variant}/{task.id}" for variant in self._variants(opts) for task in tasks]

    async def run_task(self, name: str, opts: BenchOptions) -> dict:
        variant, _, task_id = name.partition("/")
        task = next(t for t in _load(self.resolve_data(opts)) if t.id == task_id)
        python_on_path()
        return await self._run_task(self._variants(opts)[variant], variant, task, opts)

    def summarise(self, opts: BenchOptions, results: list[dict]) -> SuiteResult:
        path = self.resolve_data(opts)
        tasks = _load(path)
        chosen = resolve_config(opts, CONFIGS, self.default_config)
        by_variant, rows = {}, []
        variants = list(self._variants(opts))
        for name in variants:
            mine = [r for r in results if r["row"]["variant"] == name]
            by_variant[name] = _figures(mine)
            rows += [r["row"] for r in mine]
        sessions = max(t.sessions for t in tasks)
        series = {"steps_per_session": {
            "x": list(range(1, sessions + 1)), "xlabel": "session", "ylabel": "model turns",
            "y": {name: [_mean([r["steps"][s] for r in results
                                if r["row"]["variant"] == name and len(r["steps"]) > s])
                         for s in range(sessions)]
                  for name in variants}}}
        return SuiteResult(suite=self.name, config=chosen.name,
                           metrics={**by_variant[chosen.name], "by_variant": by_variant},
                           cases=len(tasks), rows=rows, series=series, model=opts.model,
                           seed=opts.seed, data=str(path))

    def _variants(self, opts: BenchOptions) -> dict[str, HarnessConfig]:
        """Every named configuration, ablated as asked, and the chosen one."""
        chosen = resolve_config(opts, CONFIGS, self.default_config)
        variants = {name: self._ablated(cfg, opts) for name, cfg in CONFIGS.items()}
        variants[chosen.name] = chosen
        return variants

    @staticmethod
    def _ablated(config: HarnessConfig, opts: BenchOptions) -> HarnessConfig:
        for key, value in opts.ablate.items():
            config = ablate_config(config, key, value)
        return config

    async def _run_task(self, config: HarnessConfig, variant: str, task: Task,
                        opts: BenchOptions) -> dict:
        runs: list[Trajectory] = []
        passed: list[bool] = []
        with tempfile.TemporaryDirectory(prefix=f"adaptation-{task.id}-") as tmp:
            ws, memory_root = Path(tmp) / "project", Path(tmp) / "memory"
            for s in range(task.sessions):
                _write_project(ws, task)
                model = real_model(opts) or RepeaterModel(task.candidates, task.command())
                memory = build_component("memory", config.memory, root=memory_root,
                                         workspace=ws)
                agent = build_agent(config, model, workspace=ws, memory=memory)
                agent.graders = [FunctionVerifier(lambda *_: _tests_pass(ws, task), name="tests")]
                agent.tool_executor = tool_pool()
                trajectory = await agent.arun(task.task, run_id=f"{task.id}-s{s + 1}")
                getattr(memory, "close", lambda: None)()
                runs.append(trajectory)
                graded = [e.ok for e in trajectory.of_type(Verified) if e.grader]
                # a session that stopped without answering is scored on the project it left
                passed.append(graded[-1] if graded else _tests_pass(ws, task))
                save_trajectory(opts, f"{variant}/{task.id}-session{s + 1}", trajectory)
        row = {"variant": variant, "task": task.id, "sessions_passed": sum(passed),
               "repeated_failed_fix_count": repeated_failed_fix_count(runs),
               "steps": [steps(t) for t in runs], "tokens": sum(total_tokens(t) for t in runs),
               "gate_warnings": sum(len(t.of_type(GateWarned)) for t in runs)}
        return {"row": row, "passed": passed, "steps": row["steps"],
                "tokens": [total_tokens(t) for t in runs]}


def _figures(results: list[dict]) -> dict:
    passed = [p for r in results for p in r["passed"]]
    later = [st for r in results for st, ok in zip(r["steps"][1:], r["passed"][1:], strict=True)
             if ok]
    solved = sum(passed)
    return {
        "repeated_failed_fix_count": _mean([r["row"]["repeated_failed_fix_count"]
                                            for r in results]),
        "steps_to_success": _mean(later),
        "tokens_per_solved_task": (sum(t for r in results for t in r["tokens"]) / solved
                                   if solved else None),
        "success": _mean(passed),
        "gate_warnings": _mean([r["row"]["gate_warnings"] for r in results]),
        "steps_session1": _mean([r["steps"][0] for r in results]),
    }


@functools.cache
def _tasks_in(path: Path, mtime_ns: int, size: int) -> list[Task]:
    return read_jsonl(path, Task)


def _load(path: Path) -> list[Task]:
    """The tasks in `path`, read once while the file is unchanged."""
    stat = path.stat()
    return _tasks_in(path, stat.st_mtime_ns, stat.st_size)


def _mean(values: list) -> float | None:
    return statistics.fmean(values) if values else None


def _write_project(ws: Path, task: Task) -> None:
    for rel, content in task.files.items():
        target = ws / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def _tests_pass(ws: Path, task: Task) -> bool:
    """The scorer: the task's tests pass in the project as the session left it."""
    try:
        proc = subprocess.run(task.command(), shell=True, cwd=ws, capture_output=True,
                              timeout=TEST_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


SUITE = AdaptationSuite()
