"""Sweeps of cells: every finished cell is journaled as it finishes; `--resume OUT` after a
kill, a Ctrl-C or a failed cell runs only the missing cells and gives the `results.json` of
an uninterrupted run; a changed configuration or data file is refused, never mixed."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.bench.cells import JOURNAL, MANIFEST, Journal
from harness.bench.runner import comparable

# Each task sleeps a little (so a sweep can be stopped midway), can be told to fail (a file
# named FAIL-<task> in $SLOW_FLAGS) and saves one real agent run.
SLOW = textwrap.dedent('''
    """slow: six tasks, each an agent run after a short wait."""
    import asyncio
    import os
    import tempfile
    from pathlib import Path

    from harness.agent import Agent
    from harness.bench.suite import Suite, SuiteResult
    from harness.bench.tasks import save_trajectory
    from harness.llm import ScriptedModel

    class Slow(Suite):
        name = "slow"
        description = "six slow tasks"

        def tasks(self, opts):
            return [f"t{i}" for i in range(6)]

        async def run_task(self, task, opts):
            flags = Path(os.environ["SLOW_FLAGS"])
            with (flags / "timeline").open("a") as fh:
                fh.write(f"start {task}\\n")
            await asyncio.sleep(float(os.environ.get("SLOW_S", "0.25")))
            with (flags / "timeline").open("a") as fh:
                fh.write(f"end {task}\\n")
            if (flags / f"FAIL-{task}").exists():
                raise RuntimeError(f"{task} was told to fail")
            with tempfile.TemporaryDirectory() as tmp:
                agent = Agent(ScriptedModel([f"answer {task} {opts.seed}"]), workspace=tmp)
                t = await agent.arun(f"say {task}", run_id=task)
            save_trajectory(opts, task, t)
            return {"task": task, "value": int(task[1:]) * 10 + opts.seed}

        def summarise(self, opts, results):
            return SuiteResult(suite=self.name, config="default", cases=len(results),
                               metrics={"total": sum(r["value"] for r in results)},
                               rows=results, seed=opts.seed)

    SUITE = Slow()
''')


@pytest.fixture
def env(tmp_path):
    suites, flags = tmp_path / "suites", tmp_path / "flags"
    suites.mkdir()
    flags.mkdir()
    (suites / "slow.py").write_text(SLOW)
    return {**os.environ, "HARNESS_BENCHMARKS": str(suites), "SLOW_FLAGS": str(flags),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def harness(env, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "harness", "bench", *args], env=env,
                          capture_output=True, text=True, timeout=300, **kwargs)


def results(out: Path, suite: str) -> dict:
    return comparable(json.loads((out / suite / "results.json").read_text()))


def cells_done(out: Path, suite: str) -> int:
    path = out / suite / JOURNAL
    return len(path.read_text().splitlines()) if path.exists() else 0


def stop_midway(env, out: Path, sig: int, *args: str, after: int = 2) -> str:
    """Start a sweep, send it `sig` once `after` cells are journaled; what it said."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "bench", *args, "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    suite = args[0]
    deadline = time.monotonic() + 120
    while cells_done(out, suite) < after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be stopped"
    proc.send_signal(sig)
    _, said = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert f"interrupted: the cells it finished are kept; `--resume {out}`" in said
    return said


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_a_stopped_sweep_resumed_equals_an_uninterrupted_one(env, tmp_path, sig):
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    assert harness(env, "slow", "--out", str(whole), "--seed", "3").returncode == 0
    stop_midway(env, stopped, sig, "slow", "--seed", "3")
    partial = cells_done(stopped, "slow")
    assert 2 <= partial < 6 and not (stopped / "slow" / "results.json").exists()
    proc = harness(env, "slow", "--resume", str(stopped), "--seed", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    assert results(stopped, "slow") == results(whole, "slow")
    assert json.loads(proc.stdout)["metrics"]["total"] == sum(i * 10 + 3 for i in range(6))
    assert cells_done(stopped, "slow") == 6  # only the missing cells ran again
    assert sorted(p.name for p in (stopped / "slow").glob("*.jsonl")) == \
        [f"t{i}.jsonl" for i in range(6)]


def test_a_failed_cell_keeps_the_others_and_resume_runs_only_it(env, tmp_path):
    out = tmp_path / "out"
    (Path(env["SLOW_FLAGS"]) / "FAIL-t2").touch()
    proc = harness(env, "slow", "--out", str(out), "--jobs", "3")
    assert proc.returncode != 0
    assert "1 of 6 cells failed" in proc.stderr and "t2 was told to fail" in proc.stderr
    assert f"--resume {out / 'slow'}" in proc.stderr
    assert cells_done(out, "slow") == 5 and not (out / "slow" / "results.json").exists()
    (Path(env["SLOW_FLAGS"]) / "FAIL-t2").unlink()
    before = (out / "slow" / JOURNAL).read_text()
    proc = harness(env, "slow", "--resume", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert (out / "slow" / JOURNAL).read_text().startswith(before)
    assert cells_done(out, "slow") == 6
    assert json.loads(proc.stdout)["metrics"]["total"] == sum(i * 10 for i in range(6))


def test_resume_refuses_changed_settings_or_data_and_keeps_the_journal(env, tmp_path):
    out = tmp_path / "out"
    data = tmp_path / "adaptation.jsonl"
    source = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "adaptation.jsonl"
    data.write_text(source.read_text().splitlines()[0] + "\n")
    assert harness(env, "adaptation", "--data", str(data), "--out", str(out)).returncode == 0
    journal = (out / "adaptation" / JOURNAL).read_text()
    for change in (["--seed", "1"], ["--ablate", "memory=none"], ["--config", "memory"]):
        proc = harness(env, "adaptation", "--data", str(data), "--resume", str(out), *change)
        assert proc.returncode == 2 and "started with other settings" in proc.stderr, change
    record = json.loads(data.read_text())
    record["task"] += " (changed)"
    data.write_text(json.dumps(record) + "\n")
    proc = harness(env, "adaptation", "--data", str(data), "--resume", str(out))
    assert proc.returncode == 2 and "data_sha256" in proc.stderr
    assert (out / "adaptation" / JOURNAL).read_text() == journal


def test_the_real_adaptation_suite_resumed_after_a_kill_gives_the_same_results(env, tmp_path):
    data = tmp_path / "adaptation.jsonl"
    source = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "adaptation.jsonl"
    data.write_text(source.read_text().splitlines()[0] + "\n")  # 4 cells, one per config
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    assert harness(env, "adaptation", "--data", str(data), "--out", str(whole)).returncode == 0
    stop_midway(env, stopped, signal.SIGKILL, "adaptation", "--data", str(data), after=2)
    assert cells_done(stopped, "adaptation") < 4
    proc = harness(env, "adaptation", "--data", str(data), "--resume", str(stopped))
    assert proc.returncode == 0, proc.stderr
    assert results(stopped, "adaptation") == results(whole, "adaptation")


def test_a_torn_last_line_is_run_again_and_a_corrupt_one_is_named(env, tmp_path):
    out = tmp_path / "out"
    assert harness(env, "slow", "--out", str(out), "--jobs", "6").returncode == 0
    path = out / "slow" / JOURNAL
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:4]) + "\n" + lines[4][:25])  # killed mid-write
    assert len(Journal(out / "slow").read()) == 4
    proc = harness(env, "slow", "--resume", str(out), "--json", "--jobs", "6")
    assert proc.returncode == 0, proc.stderr
    assert len(Journal(out / "slow").read()) == 6
    path.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    proc = harness(env, "slow", "--resume", str(out))
    assert proc.returncode == 2 and f"{path} line 2: not a finished cell" in proc.stderr


def test_without_resume_an_old_sweep_in_out_is_started_over(env, tmp_path):
    out = tmp_path / "out"
    assert harness(env, "slow", "--out", str(out), "--jobs", "6").returncode == 0
    assert harness(env, "slow", "--out", str(out), "--jobs", "6", "--seed", "2").returncode == 0
    assert json.loads((out / "slow" / MANIFEST).read_text())["seed"] == 2
    values = [json.loads(line)["result"]["value"]
              for line in (out / "slow" / JOURNAL).read_text().splitlines()]
    assert sorted(values) == [i * 10 + 2 for i in range(6)]


def test_jobs_run_cells_concurrently_as_asyncio_tasks(env, tmp_path):
    proc = harness(env, "slow", "--jobs", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    running, most = 0, 0
    for line in (Path(env["SLOW_FLAGS"]) / "timeline").read_text().splitlines():
        running += 1 if line.startswith("start") else -1
        most = max(most, running)
    assert most == 3  # never more than --jobs, and as many as that


def test_max_connections_bounds_a_sweeps_model_calls_and_a_429_pauses_them_all(tmp_path,
                                                                               monkeypatch):
    """`smoke` with a real litellm model against a provider on 127.0.0.1: five cells at once,
    never more than two calls in flight, and the provider's one 429 holds every run back for
    its Retry-After."""
    from harness.bench.runner import run_bench
    from harness.bench.suite import BenchOptions
    from tests.local_http import serving
    from tests.test_connection_pool import Provider

    provider = Provider(delay_s=0.3, script=[(0.0, 429, {"retry-after": "1"})])
    with serving(provider.handler()) as url:
        monkeypatch.setenv("OPENAI_API_BASE", f"{url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "local")
        record = run_bench("smoke", BenchOptions(model="openai/sweep-bound-test", jobs=5,
                                                 max_connections=2, out=tmp_path / "out"))
    assert provider.most_busy == 2  # bounded, and used
    assert len(provider.rejected_at) == 1 and len(provider.arrivals) == 6  # 5 runs + the 429
    # (a call another run sent before the 429 reached the client may land just after it)
    assert not [t for t in provider.arrivals
                if provider.rejected_at[0] + 0.1 < t < provider.rejected_at[0] + 0.95]
    assert sum(record.run_status[""].values()) == 5  # every run ended (its answer, "ok")
    assert len(Journal(tmp_path / "out").read()) == 5


@pytest.mark.parametrize("args, says", [
    (["--max-connections", "2"], "--max-connections bounds the calls to a real model"),
    (["--max-connections", "0", "--model", "openai/x"], "--max-connections must be at least 1"),
    (["--workers", "2"], "apply to --executor ray"),
    (["--executor", "ray", "--cell-cpus", "0"], "--cell-cpus must be above 0"),
    (["--resume", "a", "--out", "b"], "give one folder"),
    (["--set", "latency_s"], "expected KEY=VALUE"),
])
def test_sweep_options_that_cannot_work_are_refused_before_anything_runs(capsys, args, says):
    from harness.cli import main

    assert main(["bench", "smoke", *args]) == 2
    assert says in capsys.readouterr().err
