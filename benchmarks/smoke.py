"""smoke: a handful of small tasks through the reference agent with scripted models.

Each task builds a tiny project in a temp directory, runs the agent, and checks the
outcome on disk and in the answer (a grader: its verdict is recorded in the trajectory and
decides the run's status, and the model never sees it). Reports `success` (share of tasks
whose check passed) and `steps` (mean model turns).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.agent import Agent
from harness.bench.executors import tool_pool
from harness.bench.suite import BenchOptions, Suite, SuiteResult, real_model
from harness.bench.tasks import save_trajectory
from harness.governance.verifiers import FunctionVerifier
from harness.llm import ScriptedModel
from harness.state import Budget


@dataclass
class SmokeTask:
    name: str
    prompt: str
    files: dict[str, str]
    script: list
    check: Callable[[Path, str | None], bool]


TEST_CMD = "python -m unittest -q test_calc"

TASKS = [
    SmokeTask(
        "fix-bug", "test_calc fails; fix calc.py so the test passes.",
        {"calc.py": "def add(a, b):\n    return a - b\n",
         "test_calc.py": "import unittest\nfrom calc import add\n\n"
                         "class T(unittest.TestCase):\n    def test_add(self):\n"
                         "        self.assertEqual(add(2, 3), 5)\n"},
        [{"tool": "run_shell", "args": {"command": TEST_CMD}},
         {"tool": "read_file", "args": {"path": "calc.py"}},
         {"tool": "edit_file", "args": {"path": "calc.py", "old": "a - b", "new": "a + b"}},
         {"tool": "run_shell", "args": {"command": TEST_CMD}},
         "Fixed: add() subtracted; it now adds and the test passes."],
        lambda ws, answer: "a + b" in (ws / "calc.py").read_text()),
    SmokeTask(
        "answer-from-file", "What port does the service listen on? See config.ini.",
        {"config.ini": "[server]\nhost = 0.0.0.0\nport = 8421\n"},
        [{"tool": "read_file", "args": {"path": "config.ini"}}, "The service listens on port 8421."],
        lambda ws, answer: "8421" in (answer or "")),
    SmokeTask(
        "recover-from-bad-call", "Create notes/todo.txt containing 'ship it'.",
        {},
        [{"tool": "write_file", "args": {"file": "notes/todo.txt"}},
         {"tool": "write_file", "args": {"path": "notes/todo.txt", "content": "ship it"}},
         "Created notes/todo.txt."],
        lambda ws, answer: (ws / "notes/todo.txt").read_text() == "ship it"),
    SmokeTask(
        "search-and-edit", "Rename the constant TIMEOUT to TIMEOUT_S wherever it is defined.",
        {"pkg/settings.py": "TIMEOUT = 30\nRETRIES = 3\n", "pkg/other.py": "X = 1\n"},
        [{"tool": "search_files", "args": {"pattern": r"^TIMEOUT\b"}},
         {"tool": "edit_file", "args": {"path": "pkg/settings.py", "old": "TIMEOUT = 30",
                                        "new": "TIMEOUT_S = 30"}},
         "Renamed TIMEOUT to TIMEOUT_S in pkg/settings.py."],
        lambda ws, answer: "TIMEOUT_S = 30" in (ws / "pkg/settings.py").read_text()),
    SmokeTask(
        "escape-refused", "Show me the contents of ../secret.txt.",
        {},
        [{"tool": "read_file", "args": {"path": "../secret.txt"}},
         "I cannot read files outside the workspace."],
        lambda ws, answer: "outside" in (answer or "")),
]


def grader(task: SmokeTask, ws: Path) -> FunctionVerifier:
    """The task's check of its workspace and final answer, as a grader."""
    return FunctionVerifier(lambda answer, _result, _state: task.check(ws, answer.text),
                            name=f"check:{task.name}")


class SmokeSuite(Suite):
    name = "smoke"
    description = "small tasks through the reference agent (scripted model)"

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        results = []
        for i, task in enumerate(TASKS):
            results.append(asyncio.run(self.run_task(task.name, opts)))
            progress(i + 1, len(TASKS))
        return self.summarise(opts, results)

    def tasks(self, opts: BenchOptions) -> list[str]:
        self.config_name(opts)
        return [task.name for task in TASKS]

    async def run_task(self, name: str, opts: BenchOptions) -> dict:
        task = next(t for t in TASKS if t.name == name)
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp)
            for rel, content in task.files.items():
                (ws / rel).parent.mkdir(parents=True, exist_ok=True)
                (ws / rel).write_text(content)
            model = real_model(opts) or ScriptedModel(task.script)
            agent = Agent(model, workspace=ws, budget=Budget(max_steps=10),
                          graders=[grader(task, ws)], tool_executor=tool_pool())
            trajectory = await agent.arun(task.prompt, run_id=f"smoke-{task.name}")
            save_trajectory(opts, task.name, trajectory)
        end = trajectory.finished
        return {"task": task.name, "success": end is not None and end.status == "success",
                "steps": end.steps if end else 0, "status": end.status if end else "error"}

    def summarise(self, opts: BenchOptions, results: list[dict]) -> SuiteResult:
        metrics = {"success": sum(r["success"] for r in results) / len(results),
                   "steps": statistics.mean(r["steps"] for r in results)}
        return SuiteResult(suite=self.name, config=self.config_name(opts), metrics=metrics,
                           cases=len(results), rows=results, model=opts.model, seed=opts.seed)


SUITE = SmokeSuite()
