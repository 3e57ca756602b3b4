"""`harness bench`: results files, trajectories, ablation grids, repeats, reproducibility and
the report, on a small suite defined in the test (found through $HARNESS_BENCHMARKS)."""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from harness.bench.cli import parse_ablations
from harness.bench.report import render
from harness.bench.runner import comparable
from harness.bench.suite import DataError
from harness.bench.tasks import map_tasks
from harness.cli import main

DEMO = textwrap.dedent('''
    """demo: read a number from a file in a few small workspaces."""
    import tempfile
    from pathlib import Path

    from harness.bench.config import HarnessConfig, build_agent, resolve_config
    from harness.bench.suite import Suite, SuiteResult
    from harness.bench.tasks import map_tasks, save_trajectory
    from harness.governance.verifiers import FunctionVerifier
    from harness.llm import ScriptedModel
    from harness.metrics import aggregate, tokens_by_step, trajectory_metrics

    class Demo(Suite):
        name = "demo"
        description = "read a number"
        harness_configs = {"default": HarnessConfig(context="full"),
                           "tight": HarnessConfig(name="tight", context="full",
                                                  budget={"max_steps": 2})}
        configs = tuple(harness_configs)
        ablatable = ("context", "memory", "skills", "governor", "budget")

        def run(self, opts, progress):
            config = resolve_config(opts, self.harness_configs)
            series = {}

            def one(i):
                with tempfile.TemporaryDirectory() as tmp:
                    ws = Path(tmp)
                    (ws / "n.txt").write_text(str(i * 7))
                    script = [{"tool": "list_dir", "args": {}},
                              {"tool": "read_file", "args": {"path": "n.txt"}},
                              f"the number is {i * 7}"]
                    agent = build_agent(config, ScriptedModel(script), workspace=ws)
                    agent.graders = [FunctionVerifier(
                        lambda answer, *_: str(i * 7) in answer.text, name="number")]
                    t = agent.run("What number is in n.txt?", run_id=f"demo-{i}")
                save_trajectory(opts, f"task-{i}", t)
                series[f"task-{i}"] = tokens_by_step(t)
                return {"task": f"task-{i}", **trajectory_metrics(t)}

            rows = map_tasks(one, range(4), jobs=opts.jobs, progress=progress)
            return SuiteResult(suite=self.name, config=config.name, metrics=aggregate(rows),
                               cases=len(rows), rows=rows, seed=opts.seed,
                               series={"tokens_by_step": dict(sorted(series.items()))})

    SUITE = Demo()
''')


@pytest.fixture
def demo_env(tmp_path, monkeypatch):
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "demo.py").write_text(DEMO)
    monkeypatch.setenv("HARNESS_BENCHMARKS", str(suites))
    return tmp_path


def bench(*args):
    return main(["bench", "demo", *args])


def load(out):
    return json.loads((out / "demo" / "results.json").read_text())


def test_a_run_writes_results_trajectories_and_a_report(demo_env, capsys):
    out = demo_env / "out"
    assert bench("--out", str(out), "--seed", "7") == 0
    results = load(out)
    assert results["suite"] == "demo" and results["config"] == "default"
    assert results["seed"] == 7 and results["cases"] == 4
    assert results["metrics"]["success"] == 1.0 and results["metrics"]["steps"] == 3
    assert set(results["versions"]) >= {"python", "harness", "pydantic"}
    assert results["composition"]["context"]["variant"] == "full"
    assert [r["task"] for r in results["rows"]] == [f"task-{i}" for i in range(4)]
    assert sorted(p.name for p in (out / "demo").glob("*.jsonl")) == [
        f"task-{i}.jsonl" for i in range(4)]
    report = (out / "report.html").read_text()
    assert "<h2 id='demo'>demo</h2>" in report and "data:image/png;base64," in report
    assert "http://" not in report and "https://" not in report  # opens offline


def test_json_prints_one_object_per_suite_and_nothing_else(demo_env):
    env = {**os.environ, "HARNESS_BENCHMARKS": str(demo_env / "suites")}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "demo", "--json",
                           "--ablate", "budget.max_steps=2"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["suite"] == "demo" and obj["metrics"]["success"] == 1.0


def test_ablation_cells_are_reported_against_the_base(demo_env, capsys):
    out = demo_env / "out"
    assert bench("--ablate", "budget.max_steps=2,1", "--out", str(out)) == 0
    ablations = load(out)["metrics"]["ablations"]
    assert set(ablations) == {"budget.max_steps=2", "budget.max_steps=1"}
    assert ablations["budget.max_steps=2"]["metrics"]["success"] == 0.0
    assert ablations["budget.max_steps=2"]["delta"]["success"] == -1.0
    assert ablations["budget.max_steps=1"]["delta"]["steps"] == -2.0
    assert (out / "demo" / "ablations" / "budget.max_steps=1" / "task-0.jsonl").exists()
    assert "ablations against the base config" in (out / "report.html").read_text()


def test_unknown_ablation_key_is_a_usage_error(demo_env, capsys):
    assert bench("--ablate", "colour=red") == 2
    assert "colour" in capsys.readouterr().err
    with pytest.raises(DataError, match="expected COMPONENT=VARIANT"):
        parse_ablations(["memory"])


def test_named_and_file_configs(demo_env, capsys):
    out = demo_env / "out"
    assert bench("--config", "tight", "--out", str(out)) == 0
    assert load(out)["metrics"]["success"] == 0.0
    cfg = demo_env / "mine.toml"
    cfg.write_text('extends = "tight"\n[budget]\nmax_steps = 9\n')
    assert bench("--config", str(cfg), "--out", str(out)) == 0
    results = load(out)
    assert results["config"] == "mine" and results["metrics"]["success"] == 1.0
    assert bench("--config", "nope") == 2
    assert "no config named 'nope'" in capsys.readouterr().err


def test_repeat_reports_means_and_spread(demo_env, capsys):
    out = demo_env / "out"
    assert bench("--repeat", "2", "--seed", "3", "--out", str(out)) == 0
    results = load(out)
    assert results["repeat"] == 2 and results["metrics"]["repeat_stdev"]["success"] == 0.0
    assert [r["repeat"] for r in results["rows"]] == [1] * 4 + [2] * 4
    assert (out / "demo" / "repeat-2" / "task-3.jsonl").exists()


def test_offline_runs_reproduce_exactly_except_timings(demo_env, capsys):
    a, b = demo_env / "a", demo_env / "b"
    assert bench("--out", str(a), "--ablate", "budget.max_steps=2") == 0
    assert bench("--out", str(b), "--ablate", "budget.max_steps=2", "--jobs", "3") == 0
    first, second = load(a), load(b)
    assert first["timings"] != second["timings"] or True  # timings may differ...
    assert comparable(first) == comparable(second)        # ...nothing else may
    assert "timings" not in comparable(first) and "wall_s" not in comparable(first)["rows"][0]


def test_map_tasks_keeps_input_order_and_reports_progress():
    seen = []
    lock = threading.Lock()

    def slow_first(i):
        time.sleep(0.05 if i == 0 else 0)
        return i * i

    def progress(done, total):
        with lock:
            seen.append((done, total))

    assert map_tasks(slow_first, range(5), jobs=3, progress=progress) == [0, 1, 4, 9, 16]
    assert seen[0] == (0, 5) and sorted(seen)[-1] == (5, 5) and len(seen) == 6


def test_report_draws_series_recall_curves_and_success_vs_cost():
    record = {"suite": "s", "config": "c", "cases": 2, "seed": 0, "versions": {},
              "metrics": {"success": 0.5, "tokens_per_step": 10.0, "recall@1": 0.2,
                          "recall@5": 0.6, "by_variant": {
                              "a": {"success": 1.0, "tokens_per_step": 30.0, "recall@1": 0.4,
                                    "recall@5": 0.9}}},
              "series": {"tokens_per_step": {"full": [1, 2, 3], "last-n": [1, 1, 1]}},
              "rows": [{"task": "<b>x</b>", "success": True}]}
    page = render([record])
    assert page.count("data:image/png;base64,") == 3
    assert "s: recall@k" in page and "s: success vs tokens_per_step" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_a_suite_without_its_data_is_skipped_and_the_others_still_run(demo_env, capsys):
    (demo_env / "suites" / "needs_data.py").write_text(textwrap.dedent('''
        from harness.bench.suite import Suite

        class NeedsData(Suite):
            name = "needs-data"
            data_path = "nowhere/none.jsonl"

            def run(self, opts, progress):
                self.resolve_data(opts)

        SUITE = NeedsData()
    '''))
    out = demo_env / "out"
    assert main(["bench", "demo", "needs-data", "--out", str(out)]) == 1
    assert "skipped needs-data: suite 'needs-data': no data found" in capsys.readouterr().err
    assert load(out)["metrics"]["success"] == 1.0
    assert "skipped: <b>needs-data</b>" in (out / "report.html").read_text()
    assert main(["bench", "needs-data"]) == 2  # alone, it is a usage error


def test_a_wide_variant_grid_is_split_so_every_name_and_value_shows_in_full():
    import io

    from rich.console import Console

    from harness.bench.cli import _print_grid

    variants = {f"variant_with_a_long_name_{i}": {"us_per_step_n1000": 1234.5678 * i,
                                                  "ratio_vs_fastest_peer": 0.1 * i}
                for i in range(1, 6)}
    out = io.StringIO()
    _print_grid(Console(file=out, width=72), "by variant",
                {n: (v, {}) for n, v in variants.items()})
    text = out.getvalue()
    assert "by variant (1/" in text and "…" not in text
    assert all(len(line) <= 72 for line in text.splitlines())
    for name, values in variants.items():
        assert name in text and all(f"{v:.4g}" in text for v in values.values())
    assert text.count("us_per_step_n1000") == text.count("by variant (")


def test_a_split_ablation_grid_repeats_the_base_next_to_every_cell():
    import io

    from rich.console import Console

    from harness.bench.cli import _print_grid

    base = {"steps_to_success": 4, "tokens_per_solved_task": 3536}
    cells = {"base": (base, {})}
    cells.update({f"memory=none+context=variant{i}": ({"steps_to_success": 10 + i,
                                                       "tokens_per_solved_task": 4945},
                                                      {"steps_to_success": 6 + i})
                  for i in range(4)})
    out = io.StringIO()
    _print_grid(Console(file=out, width=80), "ablations", cells)
    tables = out.getvalue().split("ablations (")[1:]
    assert len(tables) >= 2 and all("base" in t and "3536" in t for t in tables)
    assert all(f"variant{i}" in out.getvalue() for i in range(4))
    _print_grid(Console(file=io.StringIO(), width=80), "empty", {"base": ({}, {})})
