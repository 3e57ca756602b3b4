"""`harness metrics RUN.jsonl|DIR ...`: the harness metrics of recorded runs, and their mean.

Every label-free metric of `trajectory_metrics` for each run (a directory is searched for
`*.jsonl` trajectories, as `harness bench --out` writes them), then `aggregate` over them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

SHOWN = {"outcome": "end", "steps": "steps", "tokens_per_step": "tok/step",
         "tool_error_rate": "errors", "repeated_action_rate": "repeats",
         "recovery_rate": "recov.", "loop_detected": "loop", "cached_input_share": "cached",
         "cost_usd": "USD"}
"""The table's columns and their headers (every metric is in `--json`)."""

LEGEND = {
    "end": ("higher `ok` is better", "success (a verifier or grader checked the final answer "
            "and it passed), answered (a final answer no one checked: see `harness run "
            "--verify`), failed, stopped or error; the mean row gives the share of success"),
    "steps": ("lower", "model turns"),
    "tok/step": ("lower", "model tokens (in + out) per turn"),
    "errors": ("lower", "failed tool calls / executed tool calls"),
    "repeats": ("lower", "calls repeating an earlier one with nothing changed between / calls"),
    "recov.": ("higher", "failed calls later recovered / failed calls"),
    "loop": ("lower", "the same action or cycle repeated 3 times"),
    "cached": ("higher", "input tokens served from the provider's prompt cache / input tokens"),
    "USD": ("lower", "model cost (litellm's price map: cached reads at the cached rate)"),
}
"""Each column's direction (which way is better) and definition, printed under the table."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics", help="harness metrics of recorded runs", description=(
        "Compute the harness metrics (trajectory quality, context efficiency, verification "
        "cost, sub-agent fidelity, cost and latency) of recorded runs, and their mean. A "
        "directory stands for every *.jsonl trajectory under it."))
    p.add_argument("paths", nargs="+", metavar="RUN.jsonl|DIR")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: {runs: [{file, metrics}], aggregate}")
    p.set_defaults(func=cmd_metrics)


def trajectory_files(paths: list[str]) -> list[Path]:
    """The trajectory files named, directories expanded (sorted, each file once)."""
    from harness._console import UsageError

    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob("*.jsonl"))
            if not found:
                raise UsageError(f"{path}: no *.jsonl trajectories under it")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return list(dict.fromkeys(files))


def cmd_metrics(args: argparse.Namespace) -> int:
    from harness._console import read_trajectory
    from harness.metrics import aggregate, cost_per_solved_task, trajectory_metrics

    files = trajectory_files(args.paths)
    trajectories = [read_trajectory(f) for f in files]
    runs: list[dict[str, Any]] = [{"file": str(f), "metrics": trajectory_metrics(t)}
                                  for f, t in zip(files, trajectories, strict=True)]
    mean: dict[str, Any] = aggregate(r["metrics"] for r in runs)
    mean["cost_per_solved_task"] = cost_per_solved_task(trajectories)
    if args.json:
        sys.stdout.write(json.dumps({"runs": runs, "aggregate": mean}) + "\n")
        return 0
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(runs)} run(s)", box=box.SIMPLE_HEAD, title_justify="left",
                  pad_edge=False, collapse_padding=True)
    names = run_names([Path(r["file"]) for r in runs])
    table.add_column("run", overflow="fold", min_width=min(max(map(len, names)), 24))
    for header in SHOWN.values():
        table.add_column(header, justify="right", no_wrap=True)
    for i, (name, r) in enumerate(zip(names, runs, strict=True)):
        table.add_row(name, *(_cell(r["metrics"].get(k)) for k in SHOWN),
                      end_section=i == len(runs) - 1)
    if len(runs) > 1:
        table.add_row("[bold]mean[/bold]", *(
            f"{mean['success']:.2g} ok" if k == "outcome" else _cell(mean.get(k)) for k in SHOWN))
    console = Console()
    console.print(table)
    per_solved = mean["cost_per_solved_task"]
    console.print(f"  cost per solved task: {'–' if per_solved is None else f'${per_solved:.4g}'}"
                  f" (runs that ended `success`)", highlight=False, markup=False)
    for header, (better, meaning) in LEGEND.items():
        direction = f" ({better} is better)" if better in ("higher", "lower") else (
            f" ({better})" if better else "")
        console.print(f"  {header}{direction}: {meaning}", highlight=False, markup=False)
    return 0


def run_names(files: list[Path]) -> list[str]:
    """Each file's path below their common folder, without `.jsonl` (`none/t1`)."""
    root = Path(os.path.commonpath([f.parent.resolve() for f in files]))
    return [str(f.resolve().relative_to(root).with_suffix("")) for f in files]


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
