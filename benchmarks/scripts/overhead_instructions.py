"""The `overhead` suite's workload counted in instructions instead of timed.

On a shared machine the suite's timings move by tens of percent from one run to the next,
with the load of other processes; the number of instructions a step executes does not.
For each configuration of our Agent and each installed peer, this runs the workload at N
steps under `valgrind --tool=callgrind` twice, after the same warm-up: with R runs and with
none. Instructions per step are the difference over R x N, and each of ours is reported as
a ratio to the fastest peer's. Instructions are not time (cache misses and allocation
differ), but on one interpreter the ratios they give track the quiet-machine timings.

Needs valgrind on PATH; takes a few minutes (code runs ~50x slower under callgrind).

    python benchmarks/scripts/overhead_instructions.py [--n 100] [--runs 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from harness.bench.peers import available_peers, make_driver
from harness.bench.registry import get_suite

COLLECTED = re.compile(r"Collected : (\d+)")


def driver_factories() -> dict[str, Callable[[], Callable[[int], int]]]:
    """Our configurations (as the overhead suite runs them), then the installed peers; a
    peer's framework is imported only when its driver is made."""
    overhead = sys.modules[type(get_suite("overhead")).__module__]  # loaded by the registry
    found = {name: (lambda d=d: d) for name, d in overhead.agent_variants().items()}
    found.update({p: (lambda p=p: make_driver(p)) for p in installed_peers()})
    return found


def installed_peers() -> list[str]:
    return [p for p, ok in available_peers().items() if ok]


def child(name: str, n: int, runs: int) -> None:
    """Run `name`'s workload: a warm-up, then `runs` runs of `n` steps."""
    driver = driver_factories()[name]()
    driver(10)
    for _ in range(runs):
        if driver(n) != n:
            raise SystemExit(f"{name}: driver did not make {n} tool calls")


def instructions(name: str, n: int, runs: int) -> int:
    """Instructions callgrind counts for one child process."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--child", name, str(n), str(runs)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONHASHSEED": "0", "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    found = COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"{name}: callgrind run failed (exit {proc.returncode}):\n"
                         f"{proc.stderr[-2000:]}")
    return int(found.group(1))


def per_step(name: str, n: int, runs: int) -> float:
    with ThreadPoolExecutor(2) as pool:
        with_runs, without = pool.map(lambda r: instructions(name, n, r), (runs, 0))
    return (with_runs - without) / (runs * n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="tool steps per run (default 100)")
    parser.add_argument("--runs", type=int, default=2, help="counted runs (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, n, runs = args.child
        return child(name, int(n), int(runs))
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on PATH: install it (e.g. apt-get install valgrind)")
    names = list(driver_factories())
    with ThreadPoolExecutor(max(1, (os.cpu_count() or 2) // 2)) as pool:
        counts = dict(zip(names, pool.map(lambda m: per_step(m, args.n, args.runs), names),
                          strict=True))
    peers = installed_peers()
    fastest = min((counts[p] for p in peers), default=None)
    result = {"n": args.n, "runs": args.runs,
              "instructions_per_step": {m: round(c) for m, c in counts.items()},
              "ratio_vs_fastest_peer": {m: round(c / fastest, 3) for m, c in counts.items()
                                        if m not in peers} if fastest else {}}
    if args.json:
        print(json.dumps(result))
        return
    for m, c in counts.items():
        ratio = result["ratio_vs_fastest_peer"].get(m)
        print(f"{m:24s} {c:>12,.0f} instructions/step" + (f"   {ratio:.3f} of the fastest peer"
                                                           if ratio is not None else ""))


if __name__ == "__main__":
    main()
