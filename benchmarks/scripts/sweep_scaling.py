"""How a sweep scales: one suite run on the local executor and on a local Ray cluster of 1 and
2 workers, with each run's wall time and whether its results equal the local run's; then
the driver's cost per cell, from a sweep of trivial cells (each saves one small trajectory).

    python benchmarks/scripts/sweep_scaling.py [--suite adaptation] [--cells 1000] [--json]

The figures in the README's "Evaluation at scale" come from this command.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TRIVIAL = textwrap.dedent('''
    """trivial: N cells that each save one small agent run (for the driver's cost a cell)."""
    import os
    import tempfile

    from harness.agent import Agent
    from harness.bench.suite import Suite, SuiteResult
    from harness.bench.tasks import save_trajectory
    from harness.llm import ScriptedModel

    class Trivial(Suite):
        name = "trivial"
        description = "trivial cells"

        def tasks(self, opts):
            return [f"c{i}" for i in range(int(os.environ["TRIVIAL_CELLS"]))]

        async def run_task(self, task, opts):
            with tempfile.TemporaryDirectory() as tmp:
                agent = Agent(ScriptedModel([f"done {task}"]), workspace=tmp,
                              record_workspace=False)
                save_trajectory(opts, task, await agent.arun(task, run_id=task))
            return {"task": task}

        def summarise(self, opts, results):
            return SuiteResult(suite=self.name, config="default", cases=len(results),
                               metrics={"cells": len(results)})

    SUITE = Trivial()
''')


def sweep(suite: str, out: Path, executor, jobs: int = 1) -> tuple[dict, float, float]:
    """Run one sweep; its comparable results, wall seconds and driver CPU seconds."""
    from harness.bench.runner import comparable, run_bench
    from harness.bench.suite import BenchOptions

    cpu, start = time.process_time(), time.perf_counter()
    record = run_bench(suite, BenchOptions(out=out, jobs=jobs), executor=executor)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return comparable(record.model_dump(mode="json")), wall, used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="adaptation")
    parser.add_argument("--cells", type=int, default=1000, help="trivial cells for the "
                                                                 "driver's cost")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import ray

    from harness.bench.executors import LocalExecutor, RayExecutor

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "suites").mkdir()
        (root / "suites" / "trivial.py").write_text(TRIVIAL)
        os.environ["HARNESS_BENCHMARKS"] = str(root / "suites")
        os.environ["TRIVIAL_CELLS"] = str(args.cells)
        base, wall, _ = sweep(args.suite, root / "local1", LocalExecutor(1))
        rows.append({"executor": "local", "workers": 1, "wall_s": wall, "same": True})
        for jobs in (2,):
            got, wall, _ = sweep(args.suite, root / f"local{jobs}", LocalExecutor(jobs), jobs)
            rows.append({"executor": "local", "workers": jobs, "wall_s": wall,
                         "same": got == base})
        driver = []
        for workers in (1, 2):
            executor = RayExecutor(workers=workers)
            start = time.perf_counter()
            executor.connect()
            started = time.perf_counter() - start
            got, wall, _ = sweep(args.suite, root / f"ray{workers}", executor)
            rows.append({"executor": "ray", "workers": workers, "wall_s": wall,
                         "cluster_start_s": started, "same": got == base})
            _, wall, cpu = sweep("trivial", root / f"trivial-ray{workers}", executor)
            driver.append({"executor": "ray", "workers": workers, "cells": args.cells,
                           "cells_per_s": args.cells / wall,
                           "driver_cpu_ms_per_cell": 1000 * cpu / args.cells})
            ray.shutdown()
        _, wall, cpu = sweep("trivial", root / "trivial-local", LocalExecutor(1))
        driver.append({"executor": "local", "workers": 1, "cells": args.cells,
                       "cells_per_s": args.cells / wall,
                       "driver_cpu_ms_per_cell": 1000 * cpu / args.cells})
        journal = root / "trivial-local" / "sweep.journal"
        per_cell = journal.stat().st_size / args.cells
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"suite": args.suite, "runs": rows, "driver": driver,
              "journal_bytes_per_cell": round(per_cell), "driver_peak_rss_mib": round(peak)}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for r in rows:
            start = f" (+{r['cluster_start_s']:.1f} s to start the cluster)" \
                if "cluster_start_s" in r else ""
            print(f"{args.suite:12} {r['executor']:5} x{r['workers']}  {r['wall_s']:7.1f} s"
                  f"{start}  results {'equal the local run' if r['same'] else 'DIFFER'}")
        for d in driver:
            print(f"trivial x{d['cells']} {d['executor']:5} x{d['workers']}  "
                  f"{d['cells_per_s']:7.1f} cells/s  driver {d['driver_cpu_ms_per_cell']:.2f} "
                  f"ms CPU a cell")
        print(f"journal {per_cell:.0f} bytes a cell; driver peak RSS {peak:.0f} MiB")
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
