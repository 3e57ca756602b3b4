"""`--executor ray`: cells as Ray tasks on a local cluster started on 127.0.0.1, with the
same `results.json` and trajectories as the local executor; a worker that dies has its
cell retried; a cell that raises is reported, not retried."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.bench.executors import LocalExecutor, RayExecutor
from harness.bench.runner import SweepFailed, comparable, run_bench
from harness.bench.suite import BenchOptions

ray = pytest.importorskip("ray", reason="needs Ray (pip install 'harness[ray]')")

REPO = Path(__file__).resolve().parents[1]

# t1's worker dies the first time it runs it; t2 raises when told to (a file named RAISE).
FRAGILE = textwrap.dedent('''
    """fragile: three tasks; a worker dies once, a task may raise."""
    import os
    from pathlib import Path

    from harness.bench.suite import Suite, SuiteResult

    class Fragile(Suite):
        name = "fragile"
        description = "a worker dies once"

        def tasks(self, opts):
            return ["t0", "t1", "t2"]

        async def run_task(self, task, opts):
            flags = Path(os.environ["FRAGILE_FLAGS"])
            with (flags / f"attempts-{task}").open("a") as fh:
                fh.write(f"{os.getpid()}\\n")
            if task == "t1" and not (flags / "died").exists():
                (flags / "died").touch()
                os._exit(1)  # the worker process dies mid-cell
            if task == "t2" and (flags / "RAISE").exists():
                raise ValueError("t2 was told to raise")
            (opts.out / f"{task}.txt").write_text(f"written by {task}")
            return {"task": task, "pid": os.getpid()}

        def summarise(self, opts, results):
            return SuiteResult(suite=self.name, config="default", cases=len(results),
                               metrics={"tasks": len(results)},
                               rows=[{"task": r["task"]} for r in results])

    SUITE = Fragile()
''')


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local Ray cluster of 2 CPUs on 127.0.0.1, started by the first sweep (which passes
    the environment set here on to its workers), shut down after this module."""
    root = tmp_path_factory.mktemp("ray")
    (root / "suites").mkdir()
    (root / "suites" / "fragile.py").write_text(FRAGILE)
    (root / "flags").mkdir()
    saved = {k: os.environ.get(k) for k in ("HARNESS_BENCHMARKS", "FRAGILE_FLAGS")}
    os.environ["HARNESS_BENCHMARKS"] = str(root / "suites")
    os.environ["FRAGILE_FLAGS"] = str(root / "flags")
    yield RayExecutor(workers=2), root / "flags"
    ray.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def files(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*.jsonl"))
            if not p.name.startswith("sweep")}


def trajectory_ends(out: Path) -> dict[str, str]:
    """Each trajectory's final status and answer (the runs themselves, not their paths)."""
    ends = {}
    for rel, text in files(out).items():
        last = json.loads(text.splitlines()[-1])
        ends[rel] = (last["status"], last.get("answer"))
    return ends


def two_tasks(tmp_path: Path) -> Path:
    data = tmp_path / "adaptation.jsonl"
    source = REPO / "benchmarks" / "data" / "adaptation.jsonl"
    data.write_text("\n".join(source.read_text().splitlines()[:2]) + "\n")
    return data


@pytest.mark.parametrize("suite", ["smoke", "adaptation"])
def test_ray_gives_the_results_and_trajectories_of_the_local_executor(cluster, tmp_path, suite):
    executor, _ = cluster
    data = two_tasks(tmp_path) if suite == "adaptation" else None
    here = run_bench(suite, BenchOptions(out=tmp_path / "local", data=data, jobs=2),
                     executor=LocalExecutor(2))
    there = run_bench(suite, BenchOptions(out=tmp_path / "ray", data=data), executor=executor)
    assert comparable(there.model_dump(mode="json")) == comparable(here.model_dump(mode="json"))
    assert there.run_status == here.run_status and sum(
        n for ends in there.run_status.values() for n in ends.values()) >= 5
    assert trajectory_ends(tmp_path / "ray") == trajectory_ends(tmp_path / "local")


def test_a_dead_worker_has_its_cell_retried(cluster, tmp_path):
    executor, flags = cluster
    record = run_bench("fragile", BenchOptions(out=tmp_path / "out"), executor=executor)
    assert (flags / "died").exists()  # a worker did die in t1
    assert len((flags / "attempts-t1").read_text().split()) == 2
    assert record.metrics["tasks"] == 3
    assert (tmp_path / "out" / "t1.txt").read_text() == "written by t1"  # gathered to OUT


def test_a_cell_that_raises_fails_the_sweep_without_retries_and_resume_finishes(cluster,
                                                                              tmp_path):
    executor, flags = cluster
    (flags / "RAISE").touch()
    (flags / "attempts-t2").unlink(missing_ok=True)
    with pytest.raises(SweepFailed, match="1 of 3 cells failed.*t2 was told to raise"):
        run_bench("fragile", BenchOptions(out=tmp_path / "out"), executor=executor)
    assert len((flags / "attempts-t2").read_text().split()) == 1
    (flags / "RAISE").unlink()
    record = run_bench("fragile", BenchOptions(out=tmp_path / "out"), executor=executor,
                       resume=True)
    assert record.metrics["tasks"] == 3
    assert len((flags / "attempts-t2").read_text().split()) == 2  # only t2 ran again


def test_the_cli_runs_a_suite_on_a_local_cluster_it_starts(tmp_path):
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "RAY_AUTH_MODE": "disabled"}
    proc = subprocess.run([sys.executable, "-m", "harness", "bench", "smoke", "--executor",
                           "ray", "--workers", "1", "--json"], env=env, capture_output=True,
                          text=True, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["metrics"] == {"steps": 3, "success": 1.0}
