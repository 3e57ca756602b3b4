"""The `harness` command: run, view, replay, bench.

Exit status: 0 the task succeeded (or answered, unchecked), 1 it failed, stopped or erred,
2 usage or input error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from harness._console import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    make_model,
    read_trajectory,
)

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main",
           "make_model", "read_trajectory"]

_read = read_trajectory  # the name `harness.governance.cli` still imports


def build_components(args: argparse.Namespace, model, workspace: Path) -> dict:
    """The harness around the model, from `harness run`'s flags."""
    from harness.context import BudgetedContext
    from harness.governance import Isolation, Policy, PolicyError, PolicyGovernor
    from harness.governance.approvers import AutoApprover, ConsoleApprover
    from harness.governance.verifiers import CommandVerifier

    components: dict = {"context": BudgetedContext(args.context)}
    if args.memory is not None:
        from harness.memory import ProjectMemory

        root = Path(args.memory) if args.memory else workspace / ".harness" / "memory"
        components["memory"] = ProjectMemory(root, workspace=workspace)
    if not args.no_skills:
        from harness.skills import LexicalRouter, SkillLibrary

        components["router"] = LexicalRouter(SkillLibrary.default(workspace))
    try:
        policy = Policy.load(args.policy) if args.policy else Policy(args.mode)
    except (PolicyError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    approver = AutoApprover(True) if args.yes else ConsoleApprover()
    isolation = Isolation(model) if args.isolate else None
    verifiers = [CommandVerifier(command, name=f"verify:{command}")
                 for command in getattr(args, "verify", None) or ()]
    components["governor"] = PolicyGovernor(policy, approver=approver, isolation=isolation,
                                            verifiers=verifiers)
    components["sandbox"] = make_sandbox(getattr(args, "sandbox", "auto"),
                                         getattr(args, "allow_network", False))
    if getattr(args, "mcp", None):  # tools of the MCP servers a config file names
        from harness.mcp.client import MCPConnectionError, tools_from_config
        from harness.tools.builtin import default_tools

        try:
            components["tools"] = [*default_tools(),
                                   *tools_from_config(args.mcp, allow=args.mcp_allow)]
        except (ValueError, MCPConnectionError) as exc:  # ConfigFileError is a ValueError
            raise UsageError(f"--mcp: {exc}") from exc
    return components


def make_sandbox(name: str, network: bool):
    """The sandbox `--sandbox NAME` asks for; `auto` is the strongest this machine runs."""
    from harness.sandbox import sandbox_named
    from harness.sandbox.bubblewrap import locate

    if name in ("bwrap", "bubblewrap") and locate()[0] is None:
        raise UsageError(f"--sandbox bwrap: {locate()[1]} (or choose --sandbox docker|none)")
    try:
        return sandbox_named(name, network=network)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def announce_sandbox(sandbox) -> None:
    """One line on stderr saying what confines the tools; a loud one when nothing does."""
    info = sandbox.info()
    if info.confined:
        print(f"harness run: {info.describe()}", file=sys.stderr)
    else:
        print("harness run: WARNING: no sandbox: tools run unconfined, as this user, under "
              "the policy alone (install bubblewrap for a sandbox; --sandbox none says so)",
              file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from harness.agent import Agent
    from harness.events import TrajectoryWriter, event_json
    from harness.state import Budget, Sink
    from harness.view import ConsoleView

    workspace = Path(args.workspace)
    if not workspace.is_dir():
        raise UsageError(f"--workspace {workspace}: not a directory")
    model = make_model(args.model)
    components = build_components(args, model, workspace)
    announce_sandbox(components["sandbox"])
    sinks: list[Sink] = [] if args.quiet else [ConsoleView()]
    writer = TrajectoryWriter(args.out) if args.out else None
    if writer:
        sinks.append(writer)
    agent = Agent(model, workspace=workspace, sinks=sinks, **components,
                  budget=Budget(max_steps=args.max_steps, max_tokens=args.max_tokens,
                                max_cost_usd=args.max_cost, max_seconds=args.max_seconds),
                  config={k: v for k, v in vars(args).items() if k not in ("func", "task")})
    import asyncio

    def stop(signum, frame) -> None:  # recorded as interrupted; nothing is left running
        agent.interrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        trajectory = agent.run(args.task)
    except asyncio.CancelledError:  # the interrupt reached the run while it awaited
        return EXIT_FAILED
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if writer:
            writer.close()
    end = trajectory.finished
    if args.json:
        print(event_json(end) if end else "{}")
    if end is not None and end.status == "error" and args.quiet:  # quiet hides no error
        print(f"harness run: error: {end.reason}", file=sys.stderr)
    if getattr(model, "credentials_error", None) is not None:
        return EXIT_USAGE  # a key to set is the user's input to fix, not the task's failure
    return EXIT_OK if end and end.status in ("success", "answered") else EXIT_FAILED


def cmd_view(args: argparse.Namespace) -> int:
    from harness.events import event_json
    from harness.view import ConsoleView

    if args.html:
        from harness.viewer.cli import write_pages

        return write_pages(args.file, args.html)
    trajectory = read_trajectory(args.file)
    if args.json:
        for event in trajectory:
            print(event_json(event))
        return EXIT_OK
    from rich.console import Console

    view = ConsoleView(Console(highlight=False))
    for event in trajectory:
        view(event)
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from harness.agent import Agent
    from harness.events import TaskStarted
    from harness.llm import ReplayModel

    original = read_trajectory(args.file)
    starts = original.of_type(TaskStarted)
    if not starts:
        raise UsageError(f"{args.file}: no task_started event to replay")
    start = starts[0]
    workspace, restored = replay_workspace(args, start)
    for problem in restored:
        print(f"harness replay: warning: {problem}", file=sys.stderr)
    model = ReplayModel(original)
    recorded = start.config
    components = {}
    if "context" in recorded and "mode" in recorded:  # recorded by `harness run`: same harness
        run_args = build_parser().parse_args(["run", start.task, "--model", "replay"])
        vars(run_args).update(recorded)
        components = build_components(run_args, model, workspace)
    agent = Agent(model, workspace=workspace, config=recorded, **components)
    replayed = agent.run(start.task, run_id=original.run_id)
    result: dict[str, Any] = {"workspace": str(workspace),
                              "restored": {"exact": not restored, "problems": restored[:20]},
                              **compare_runs(original, replayed)}
    print(json.dumps(result, indent=None if args.json else 2, default=str))
    return EXIT_OK if result["reproduced"] else EXIT_FAILED


def replay_workspace(args: argparse.Namespace, start) -> tuple[Path, list[str]]:
    """Where a replay runs, and how it differs from the starting state the run recorded:
    `--workspace DIR` or `--in-place` as they are; by default a fresh directory rebuilt from
    that state (its snapshot, else its git commit)."""
    import shutil
    import tempfile

    from harness.workspace_state import differences, restore

    recorded = Path(start.workspace)
    if args.workspace or args.in_place:
        given = Path(args.workspace) if args.workspace else recorded
        state = start.workspace_state
        return given, ([f"{given} differs from the recorded start: {d}"
                        for d in differences(state, given)] if state is not None else [])
    fresh = Path(tempfile.mkdtemp(prefix="harness-replay-")) / (recorded.name or "workspace")
    if start.workspace_state is not None:
        return fresh, restore(start.workspace_state, fresh)
    if not recorded.is_dir():
        raise UsageError(f"{args.file}: the run recorded no workspace state and its workspace "
                         f"{recorded} is gone; pass --workspace DIR")
    shutil.copytree(recorded, fresh, symlinks=True)
    return fresh, [f"the run recorded no workspace state; replaying in a copy of {recorded} "
                   f"as it is now"]


IGNORED_IN_REPLAY = frozenset({"workspace", "workspace_state"})
"""Where the replay ran differs by design; the restored state is checked on its own."""


def compare_runs(original, replayed) -> dict[str, Any]:
    """Whether two runs recorded the same events (timings aside), and if not, the first
    event that differs: its index, type, the fields that differ and both sides."""
    a, b = ([{k: v for k, v in e.items() if k not in IGNORED_IN_REPLAY} for e in t.comparable()]
            for t in (original, replayed))
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    if first is None and len(a) != len(b):
        first = min(len(a), len(b))  # one run went on where the other had ended
    out: dict[str, Any] = {"reproduced": first is None, "events": len(b), "recorded_events": len(a),
                           "first_difference": first}
    if first is not None:
        x, y = (a[first] if first < len(a) else {}), (b[first] if first < len(b) else {})
        out["event"] = x.get("type") or y.get("type")
        out["fields"] = sorted(k for k in x.keys() | y.keys() if x.get(k) != y.get(k))
        out["recorded"], out["replayed"] = x or None, y or None
    return out


def cmd_bench(args: argparse.Namespace) -> int:
    from harness.bench.cli import bench_main

    return bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=(
        "Build, study and measure the harness around LLM agents."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run an agent on a task", description=(
        "Run the reference agent on TASK in a workspace, with a live view of every step."))
    run.add_argument("task")
    run.add_argument("--model", required=True,
                     help="a litellm model string (e.g. openai/gpt-4o-mini) or scripted:FILE.json")
    run.add_argument("--workspace", default=".", help="directory the tools work in (default: .)")
    run.add_argument("--max-steps", type=int, default=30)
    run.add_argument("--max-tokens", type=int, default=None)
    run.add_argument("--max-cost", type=float, default=None, help="cost budget in USD")
    run.add_argument("--max-seconds", type=float, default=None, help="wall-clock budget")
    run.add_argument("--context", default="compact",
                     choices=["compact", "full", "last-n", "mask", "summarise", "subgoal"],
                     help="history strategy of the context constructor (default: compact)")
    run.add_argument("--memory", nargs="?", const="", default=None, metavar="DIR",
                     help="use project memory (default DIR: WORKSPACE/.harness/memory)")
    run.add_argument("--no-skills", action="store_true",
                     help="do not route skills (shipped, user and WORKSPACE/skills)")
    run.add_argument("--mode", default="workspace-write",
                     choices=["read-only", "workspace-write", "full", "plan"],
                     help="permission mode (default: workspace-write)")
    run.add_argument("--policy", help="a policy file (TOML or YAML: mode and rules); replaces --mode")
    run.add_argument("--verify", action="append", metavar="CMD",
                     help="a command (tests, a linter) run in the workspace when the agent "
                          "answers: exit 0 passes; a failure goes back to the model for a "
                          "bounded repair, and the run is `success` only when every CMD "
                          "passes (repeatable; without it a final answer is `answered`)")
    run.add_argument("--isolate", action="store_true",
                     help="untrusted tool output is read by a worker; only its typed extract "
                          "reaches the model")
    run.add_argument("--yes", action="store_true", help="approve every 'ask' decision")
    run.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "docker", "none"],
                     help="what confines the tools: bubblewrap, a Docker container, or "
                          "nothing (default: auto, the strongest available: bwrap on Linux)")
    run.add_argument("--allow-network", action="store_true",
                     help="let sandboxed commands reach the network (default: no network)")
    run.add_argument("--out", help="write the trajectory to this JSONL file")
    run.add_argument("--quiet", action="store_true", help="no live view")
    run.add_argument("--json", action="store_true", help="print the task_finished event as JSON")
    run.add_argument("--mcp", metavar="CONFIG", help="add the tools of the MCP servers in "
                     "this mcpServers JSON file (needs the mcp extra)")
    run.add_argument("--mcp-allow", action="append", metavar="NAME",
                     help="offer only this MCP tool (repeat for more)")
    run.set_defaults(func=cmd_run)

    view = sub.add_parser("view", help="show a recorded trajectory")
    view.add_argument("file")
    view.add_argument("--json", action="store_true", help="print the events as JSON lines")
    view.add_argument("--html", metavar="OUT", help="write an HTML page (FILE a folder of "
                      "runs: OUT a folder of pages with index.html)")
    view.set_defaults(func=cmd_view)

    replay = sub.add_parser("replay", help="re-run a trajectory offline and check it reproduces",
                            description=(
        "Re-run a recorded trajectory with its recorded model replies, in a fresh directory "
        "rebuilt from the starting state the run recorded (a snapshot, or its git commit), "
        "and report the first event that differs."))
    replay.add_argument("file")
    where = replay.add_mutually_exclusive_group()
    where.add_argument("--workspace", help="replay in this directory as it is")
    where.add_argument("--in-place", action="store_true",
                       help="replay in the recorded workspace as it is now")
    replay.add_argument("--json", action="store_true")
    replay.set_defaults(func=cmd_replay)

    from harness.bench.cli import add_bench_parser

    add_bench_parser(sub)
    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands():
    """Commands contributed by component packages (memory, skills, audit, metrics, data)."""
    import importlib

    for module in ("harness.memory.cli", "harness.skills.cli", "harness.governance.cli",
                   "harness.metrics.cli", "harness.data.cli", "harness.mcp.cli",
                   "harness.telemetry.cli"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        yield mod.add_parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from harness.errors import DataError

    try:
        return args.func(args)
    except (UsageError, DataError) as exc:
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:  # `harness ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":
    # Under `python -m harness.cli` this file runs as __main__; delegate to the imported module
    # so that exception classes raised by other modules are the same objects.
    from harness.cli import main as _main

    sys.exit(_main())
