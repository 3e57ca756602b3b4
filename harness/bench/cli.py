"""`harness bench`: run suites, show a table, write results, print JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from harness.bench.suite import BenchOptions, DataError


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="run benchmark suites", description=(
        "Run benchmark suites against harness configurations. With --json, stdout holds "
        "exactly one JSON object per suite and nothing else."))
    bench.add_argument("suites", nargs="*", metavar="SUITE")
    bench.add_argument("--list", action="store_true", help="list suites and their configs")
    bench.add_argument("--all", action="store_true", help="run every suite")
    bench.add_argument("--data", type=Path, help="data file or directory for the suite")
    bench.add_argument("--config", help="configuration name")
    bench.add_argument("--model", help="a litellm model string instead of the offline probe")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--repeat", type=int, default=1)
    bench.add_argument("--jobs", type=int, default=1)
    bench.add_argument("--full", action="store_true", help="include the slow, large points")
    bench.add_argument("--ablate", action="append", default=[], metavar="COMPONENT=VARIANT")
    bench.add_argument("--out", type=Path, help="write results.json (and trajectories) here")
    bench.add_argument("--json", action="store_true", help="print one JSON object per suite")
    bench.set_defaults(func=bench_main)


def bench_main(args: argparse.Namespace) -> int:
    from harness.bench.registry import available, get_suite
    from harness.bench.runner import run_suite, write_results

    if args.list:
        for name in available():
            suite = get_suite(name)
            print(f"{name:18} {suite.description}  [configs: {', '.join(suite.configs)}]")
        return 0
    names = list(available()) if args.all else args.suites
    if not names:
        raise DataError("name a suite (see `harness bench --list`) or pass --all")
    ablate = {}
    for item in args.ablate:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise DataError(f"--ablate {item!r}: expected COMPONENT=VARIANT")
        ablate[key] = value
    if args.data is not None and len(names) > 1:
        raise DataError("--data applies to one suite; name exactly one")
    for name in names:
        get_suite(name)  # fail fast on an unknown name, before any work
    from rich.console import Console

    err = Console(stderr=True)
    for name in names:
        opts = BenchOptions(data=args.data, out=args.out / name if args.out else None,
                            config=args.config, model=args.model, seed=args.seed,
                            repeat=args.repeat, jobs=args.jobs, full=args.full, ablate=ablate)
        start = time.perf_counter()
        result = _run_with_progress(name, opts, err)
        elapsed = time.perf_counter() - start
        if opts.out:
            write_results(result, opts.out, elapsed)
        if args.json:
            sys.stdout.write(json.dumps(result.summary(), sort_keys=True, default=str) + "\n")
            sys.stdout.flush()
        else:
            _print_table(result, elapsed)
    return 0


def _run_with_progress(name, opts, console):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from harness.bench.runner import run_suite

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(name, total=None)
        return run_suite(name, opts, lambda done, total: progress.update(
            task, completed=done, total=total))


def _print_table(result, elapsed: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result.suite} · config {result.config} · {result.cases} cases · "
                        f"{elapsed:.1f}s")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.metrics.items():
        if key == "by_variant":
            continue
        table.add_row(key, _fmt(value))
    Console().print(table)
    variants = result.metrics.get("by_variant")
    if variants:
        keys = sorted({k for v in variants.values() for k, x in v.items()
                       if isinstance(x, int | float)})
        vt = Table(title="by variant")
        vt.add_column("variant")
        for k in keys:
            vt.add_column(k, justify="right")
        for vname, vals in variants.items():
            vt.add_row(vname, *(_fmt(vals.get(k)) for k in keys))
        Console().print(vt)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return "—" if value is None else str(value)
