"""`harness bench`: run suites over configs and ablations, show tables, write results and a
report, print JSON."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from harness.bench.suite import BenchOptions, DataError, MissingDataError

EXIT_INTERRUPTED = 130
"""What a shell reports for a command stopped by Ctrl-C (128 + SIGINT)."""


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="run benchmark suites", description=(
        "Run benchmark suites against harness configurations. With --out, writes "
        "OUT/SUITE/results.json, one trajectory JSONL per task, and OUT/report.html. With "
        "--json, stdout holds exactly one JSON object per suite and nothing else."))
    bench.add_argument("suites", nargs="*", metavar="SUITE")
    bench.add_argument("--list", action="store_true", help="list suites and their configs")
    bench.add_argument("--all", action="store_true", help="run every suite")
    bench.add_argument("--skills", type=Path, metavar="DIR",
                       help="skill-routing: a skill corpus (folders with SKILL.md) to route over")
    bench.add_argument("--data", type=Path, help="data file or directory for the suite")
    bench.add_argument("--split", help="locomo-recall: a named split of the data (dev, all)")
    bench.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       dest="suite_options", help="a suite's own option (repeatable), e.g. "
                       "throughput's latency_s=0.2, jitter_s, ks=1,16")
    bench.add_argument("--config", help="a configuration name or a .yaml/.toml/.json file")
    bench.add_argument("--model", help="a litellm model string instead of the offline probe")
    bench.add_argument("--cache", type=Path, metavar="DIR",
                       help="with --model: keep its replies in DIR and answer a request seen "
                            "before from there (cost 0), shared by concurrent runs")
    bench.add_argument("--seed", type=int, default=0, help="base seed (recorded; repeat r "
                                                           "uses seed + r)")
    bench.add_argument("--repeat", type=int, default=1, help="run each cell N times; metrics "
                                                             "are means, with repeat_stdev")
    bench.add_argument("--jobs", type=int, default=1,
                       help="cells (a task, or a whole suite) run concurrently, as asyncio "
                            "tasks; their tools run in a bounded thread pool")
    bench.add_argument("--max-connections", type=int, metavar="N",
                       help="with --model: at most N model calls in flight, over every run; "
                            "a rate limit (429, Retry-After) slows them all")
    bench.add_argument("--resume", type=Path, metavar="OUT",
                       help="finish the sweep in OUT (as --out OUT): run only the cells it "
                            "lacks; refused if the settings or data changed")
    bench.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="run cells here (default) or as Ray tasks (pip install "
                            "'harness[ray]')")
    bench.add_argument("--address", metavar="ADDR",
                       help="with --executor ray: an existing cluster (default: start a "
                            "local one)")
    bench.add_argument("--workers", type=int, metavar="N",
                       help="with --executor ray and no --address: CPUs of the local "
                            "cluster (default: all)")
    bench.add_argument("--cell-cpus", type=float, default=1.0, metavar="F",
                       help="with --executor ray: CPUs a cell takes (default 1; 0.1 runs ten "
                            "model-bound cells a CPU)")
    bench.add_argument("--full", action="store_true", help="include the slow, large points")
    bench.add_argument("--ablate", action="append", default=[], metavar="COMPONENT=VARIANT",
                       help="vary one thing against the base config (repeatable; "
                            "KEY=V1,V2 for several values); every combination is run")
    bench.add_argument("--out", type=Path, help="write results, trajectories and report here")
    bench.add_argument("--json", action="store_true", help="print one JSON object per suite")
    bench.set_defaults(func=bench_main)


def parse_ablations(items: list[str]) -> dict[str, list[str]]:
    """`["memory=none", "gate=off,on"]` -> `{"memory": ["none"], "gate": ["off", "on"]}`."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        values = [v.strip() for v in value.split(",") if v.strip()]
        if not sep or not key.strip() or not values:
            raise DataError(f"--ablate {item!r}: expected COMPONENT=VARIANT (e.g. memory=none)")
        grid.setdefault(key.strip(), [])
        grid[key.strip()] += [v for v in values if v not in grid[key.strip()]]
    return grid


def _extra(args: argparse.Namespace) -> dict[str, Any]:
    """Suite-specific options: `--skills` (skill-routing), `--split` (locomo-recall), and
    any `--set KEY=VALUE`."""
    extra: dict[str, Any] = {"skills": str(args.skills)} if args.skills else {}
    if getattr(args, "split", None):
        extra["split"] = args.split
    for item in getattr(args, "suite_options", []):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DataError(f"--set {item!r}: expected KEY=VALUE (e.g. latency_s=0.2)")
        extra[key.strip()] = value.strip()
    return extra


def _check_cache(args: argparse.Namespace) -> None:
    """Refuse `--cache` without `--model`, and a directory that is not a cache, before any
    suite runs (`ResponseCacheError` is a `DataError` naming the directory)."""
    if not args.model:
        raise DataError(f"--cache {args.cache}: keeps a real model's replies; pass --model too")
    from harness.llm.response_cache import ResponseCache

    ResponseCache(args.cache).close()


def bench_main(args: argparse.Namespace) -> int:
    from harness.bench.registry import available, get_suite

    if args.list:
        _print_list()
        return 0
    names = list(available()) if args.all else args.suites
    if not names:
        raise DataError("name a suite (see `harness bench --list`) or pass --all")
    if args.data is not None and len(names) > 1:
        raise DataError("--data applies to one suite; name exactly one")
    if args.repeat < 1 or args.jobs < 1:
        raise DataError("--repeat and --jobs must be at least 1")
    _check_sweep(args)
    grid = parse_ablations(args.ablate)
    if args.cache is not None:
        _check_cache(args)
    for name in names:
        get_suite(name)  # fail fast on an unknown name, before any work
    from rich.console import Console

    from harness.bench.progress import sweep_display
    from harness.bench.runner import run_bench, write_results

    err = Console(stderr=True)
    executor = _executor(args)
    records, skipped, dead = [], {}, []
    fetch: dict[str, list[str]] = {}  # dataset -> the skipped suites that need it
    for name in names:
        opts = BenchOptions(data=args.data, out=args.out / name if args.out else None,
                            config=args.config, model=args.model, seed=args.seed,
                            repeat=args.repeat, jobs=args.jobs, full=args.full,
                            extra=_extra(args), cache=args.cache,
                            max_connections=args.max_connections)
        # With --json nothing but the JSON objects may reach stdout, whatever a suite prints.
        try:
            with sweep_display(err) as display, \
                    contextlib.redirect_stdout(sys.stderr if args.json else sys.stdout):
                record = run_bench(name, opts, grid, display, executor=executor,
                                   resume=args.resume is not None)
        except KeyboardInterrupt:
            kept = f": the cells it finished are kept; `--resume {args.out}` runs the " \
                   f"others" if args.out else ""
            print(f"harness bench: {name} interrupted{kept}", file=sys.stderr)
            return EXIT_INTERRUPTED
        except DataError as exc:
            if len(names) == 1:
                raise
            skipped[name] = str(exc)  # one suite's missing data or extra must not stop the rest
            if isinstance(exc, MissingDataError) and exc.dataset:
                fetch.setdefault(exc.dataset, []).append(name)
            print(f"harness bench: skipped {name}: {exc}", file=sys.stderr)
            continue
        records.append(record)
        if died := record.all_runs_died():  # figures of runs that all died measure nothing
            dead.append(name)
            print(f"harness bench: {name}: {died}", file=sys.stderr)
        if opts.out:
            write_results(record, opts.out)
        if args.json:
            sys.stdout.write(json.dumps(record.summary(), sort_keys=True, default=str) + "\n")
            sys.stdout.flush()
        else:
            _print_tables(record)
    if fetch:
        suites = [s for needing in fetch.values() for s in needing]
        print(f"harness bench: to run {', '.join(suites)} too: harness data get "
              f"{' '.join(fetch)}", file=sys.stderr)
    if args.out:
        from harness.bench.report import write_report

        path = write_report([r.model_dump(mode="json") for r in records], args.out / "report.html",
                            skipped=skipped)
        if not args.json:
            err.print(f"report: {path}")
    return 1 if skipped or dead else 0


def _check_sweep(args: argparse.Namespace) -> None:
    """`--resume OUT` is `--out OUT` keeping the cells OUT holds (none if it is new);
    check the sweep options."""
    if args.resume is not None:
        if args.out is not None and args.out != args.resume:
            raise DataError(f"--resume {args.resume} and --out {args.out}: give one folder")
        args.out = args.resume
    if args.max_connections is not None and args.max_connections < 1:
        raise DataError("--max-connections must be at least 1")
    if args.max_connections is not None and not args.model:
        raise DataError("--max-connections bounds the calls to a real model; pass --model too")
    if args.executor != "ray" and (args.address or args.workers or args.cell_cpus != 1.0):
        raise DataError("--address, --workers and --cell-cpus apply to --executor ray")
    if not 0 < args.cell_cpus <= 64:
        raise DataError("--cell-cpus must be above 0 (and at most 64)")
    if args.workers is not None and (args.workers < 1 or args.address):
        raise DataError("--workers N (at least 1) sizes a local Ray cluster; with --address "
                        "the cluster has its own")


def _executor(args: argparse.Namespace):
    if args.executor == "ray":
        from harness.bench.executors import RayExecutor, import_ray

        import_ray()  # fail fast, before any suite runs
        return RayExecutor(address=args.address, workers=args.workers,
                           cell_cpus=args.cell_cpus)
    from harness.bench.executors import LocalExecutor

    return LocalExecutor(args.jobs)


def _print_list() -> None:
    from harness.bench.config import BUILTIN_CONFIGS, VARIANTS
    from harness.bench.registry import available, get_suite

    for name in available():
        suite = get_suite(name)
        configs = list(getattr(suite, "harness_configs", None) or suite.configs)
        print(f"{name:14} {suite.description}  [configs: {', '.join(configs)}]")
    print("\nconfigs for agent suites: " + ", ".join(BUILTIN_CONFIGS) + ", or a .yaml/.toml file")
    for kind, variants in VARIANTS.items():
        print(f"  {kind:9} variants: {', '.join(variants)} (or module:Class)")


def _print_tables(record) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{record.suite} · config {record.config} · {record.cases} cases · "
                        f"{record.timings.get('elapsed_s', 0):.1f}s")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in record.metrics.items():
        if key not in ("by_variant", "ablations"):
            table.add_row(key, _fmt(value))
    console.print(table)
    variants = record.metrics.get("by_variant") or {}
    if variants:
        _print_grid(console, "by variant", {n: (v, {}) for n, v in variants.items()})
    ablations = record.metrics.get("ablations") or {}
    if ablations:
        cells: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {"base": (record.metrics, {})}
        cells.update({n: (c.get("metrics", {}), c.get("delta", {})) for n, c in ablations.items()})
        _print_grid(console, "ablations (delta vs base)", cells)


def _print_grid(console, title: str, columns: dict) -> None:
    """One row per metric, one column per variant or cell (with its delta, if any); split
    into as many tables as it takes for every metric name and value to show in full. A
    "base" column is repeated in each, so every cell sits next to what it is measured
    against."""
    from rich.table import Table

    keys = list(dict.fromkeys(k for values, _ in columns.values() for k, x in values.items()
                              if isinstance(x, int | float)))
    cells = {name: [_fmt(values.get(k)) + (f" ({delta[k]:+.3g})" if delta.get(k) else "")
                    for k in keys] for name, (values, delta) in columns.items()}

    def width(name: str) -> int:
        return max([len(name), *map(len, cells[name])]) + 3  # with padding and border

    fixed = [n for n in cells if n == "base"]
    room = console.width - max(map(len, keys), default=0) - 4 - sum(map(width, fixed))
    chunks: list[list[str]] = [[]]
    for name in (n for n in cells if n not in fixed):
        if chunks[-1] and sum(map(width, chunks[-1])) + width(name) > room:
            chunks.append([])
        chunks[-1].append(name)
    for i, names in enumerate(chunks):
        table = Table(title=title if len(chunks) == 1 else f"{title} ({i + 1}/{len(chunks)})")
        table.add_column("metric", no_wrap=True)
        for name in fixed + names:
            table.add_column(name, justify="right", no_wrap=True)
        for row, k in enumerate(keys):
            table.add_row(k, *(cells[name][row] for name in fixed + names))
        console.print(table)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return "—" if value is None else str(value)
