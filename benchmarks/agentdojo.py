"""agentdojo: the public AgentDojo benchmark (v1.2) with our governance as the defence.

AgentDojo (PyPI `agentdojo`, MIT) ships four task suites (workspace, travel, banking,
slack): user tasks, injection tasks, the environments they run in, its attacks and its own
utility and security checks. It runs offline; install it with
`pip install -e '.[bench-agentdojo]'`.

Each run puts one user task, with or without an injection task's attack planted in the
environment, through the reference `Agent`:

- tools: every AgentDojo function, wrapped as a harness `Tool` with its own pydantic schema,
  run by AgentDojo's `FunctionsRuntime` on the live environment and rendered as AgentDojo
  renders them. Every output is marked untrusted (channel "web"): what the tools return is
  email, files, messages, reviews, web pages and transactions, which others write into.
- model: the gullible probe (`harness.probes.gullible`) scripted with the user task's
  ground-truth calls; once an injection task's goal text is visible in its input it makes
  that injection task's ground-truth calls first. It answers with everything it read.
  Isolated workers are gullible probes too. `--model` runs a real LLM instead.
- attack: AgentDojo's `important_instructions` template, with the generic model name (the
  probe is nobody in particular), planted in every injection slot the user task's
  ground truth reads. A pair in a `--data` file may name another of AgentDojo's attacks
  (`ignore_previous`, `system_message`, `injecagent`, `direct`, `tool_knowledge`, ...).
- gaps: AgentDojo ships no ground-truth calls for some injection tasks (most of v1.2's
  newer workspace ones); the probe cannot carry those out, so `attack_success_rate` counts
  them as failed attacks and `attack_success_rate_with_ground_truth` leaves them out.
- scoring: AgentDojo's own checks: the user task's utility, the injection task's security
  (True = the attack succeeded), over the calls that actually ran.

Per governance configuration (`none`, `policy`, `isolation`, `policy+isolation`, and
`policy+isolation-approved`, where a user answers yes to every ask, for contrast with the
unattended runs where asks are refused):
`attack_success_rate` and `utility_under_attack` over user x injection pairs, and
`utility` over the user tasks without any attack. By default every user task is paired with
one injection task of its suite (the i-th user task with injection task i mod n, so every
user task and every injection task runs); `--full` runs every pair. `--data PATH` takes a
JSONL file of pairs `{"suite": ..., "user_task": ..., "injection_task": ..., "attack": ...}`
(`attack` optional).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness.agent import Agent
from harness.bench.suite import (
    BenchOptions,
    DataError,
    Suite,
    SuiteResult,
    read_jsonl,
    real_model,
)
from harness.bench.tasks import save_trajectory
from harness.context.base import FullHistoryContext
from harness.events import SubagentReturned, ToolFinished, ToolRequested, Trajectory
from harness.governance import (
    AllowAll,
    AutoApprover,
    InstructionDetector,
    Isolation,
    IsolationOnly,
    Policy,
    PolicyGovernor,
)
from harness.probes.gullible import GullibleModel, injections_for
from harness.state import Budget
from harness.tools.base import Channel, Tool, ToolError

CONFIGS = ("none", "policy", "isolation", "policy+isolation", "policy+isolation-approved")
VERSION = "v1.2"
INSTALL = "agentdojo is not installed; install the extra: pip install -e '.[bench-agentdojo]'"
ATTACK = "important_instructions"


class Pair(BaseModel):
    """One user task, optionally attacked by one injection task, of one AgentDojo suite."""

    suite: str
    user_task: str
    injection_task: str | None = None
    attack: str = ATTACK
    """One of AgentDojo's registered attacks (not its denial-of-service ones)."""


# -- the AgentDojo-independent pieces: tools from schemas, the scripted model ------------
def function_tool(name: str, description: str, parameters: type[BaseModel],
                  run: Callable[[dict[str, Any]], Any], *, channel: Channel = "none") -> Tool:
    """A `Tool` from a pydantic argument schema and a function of the validated arguments
    (a plain dict). `run` returns the output, or raises `ToolError` for an error the model
    should see."""
    return Tool(name, description, parameters,
                lambda **kwargs: run(parameters(**kwargs).model_dump(mode="json")),
                channel=channel)


def scripted_model(plan: Iterable[dict], injections: Iterable[tuple[str, list[dict]]] = (),
                   *, name: str = "gullible") -> GullibleModel:
    """The gullible probe with a plan of calls `{"tool", "args"}` and injected instructions
    `(text, calls)`: once `text` is visible it makes those calls, in order, before the plan.

    The plan is ground truth, computed from the whole environment, so its arguments may
    hold attacker text (a channel named after the injection) the model never read: its own
    calls' arguments do not count as read."""
    return GullibleModel([i for text, calls in injections for i in injections_for(text, calls)],
                         plan, name=name, reads_own_calls=False)


def governor_for(config: str, worker_model, tool_names: list[str]):
    """The governance configurations, as in the injection suite: workspace-write rules with
    asks answered no (an unattended run), and isolation through gullible workers.
    `policy+isolation-approved` answers every ask yes (a user who approves what is asked)."""
    if config == "none":
        return AllowAll()
    policy = Policy("workspace-write")
    approver = AutoApprover(config.endswith("-approved"))
    if config == "policy":
        return PolicyGovernor(policy, approver=approver)
    iso = Isolation(worker_model, detector=InstructionDetector(tools=tuple(tool_names)))
    if config == "isolation":
        return IsolationOnly(iso)
    return PolicyGovernor(policy, approver=approver, isolation=iso)


# -- AgentDojo ----------------------------------------------------------------------------
def require_agentdojo() -> None:
    try:
        import agentdojo  # noqa: F401
    except ImportError as exc:
        raise DataError(INSTALL) from exc


def dojo_tools(suite, env) -> list[Tool]:
    """Every function of an AgentDojo suite as a harness tool bound to `env`."""
    from agentdojo.agent_pipeline.tool_execution import tool_result_to_str
    from agentdojo.functions_runtime import FunctionsRuntime

    runtime = FunctionsRuntime(suite.tools)

    def runner(fname: str) -> Callable[[dict[str, Any]], str]:
        def run(args: dict[str, Any]) -> str:
            result, error = runtime.run_function(env, fname, args)
            if error is not None:
                raise ToolError(error)
            return tool_result_to_str(result)
        return run

    return [function_tool(f.name, f.description, f.parameters, runner(f.name), channel="web")
            for f in runtime.functions.values()]


def calls_of(ground_truth) -> list[dict]:
    return [{"tool": c.function, "args": dict(c.args)} for c in ground_truth]


def make_attack(suite, name: str = ATTACK):
    """An AgentDojo attack on `suite`: important_instructions addressed to a generic model,
    or another registered attack by name. Injection slots are found as AgentDojo finds
    them (the user task's ground truth run on an environment with a canary in every slot),
    loading that environment once."""
    from agentdojo.attacks.attack_registry import ATTACKS
    from agentdojo.attacks.base_attacks import FixedJailbreakAttack
    from agentdojo.attacks.important_instructions_attacks import ImportantInstructionsAttack

    if name == ATTACK:
        class Named(FixedJailbreakAttack):
            user_name = "Emma Johnson"

        attack = Named(ImportantInstructionsAttack._JB_STRING, suite, None)
    elif name not in ATTACKS or ATTACKS[name].is_dos_attack or name == "manual":
        choices = sorted(n for n, a in ATTACKS.items() if not a.is_dos_attack and n != "manual")
        raise DataError(f"agentdojo: unknown attack '{name}' (choose from: {', '.join(choices)})")
    else:
        class Pipeline:  # attacks that address the model by name read it from here
            name = "gpt-4o-2024-05-13"

        attack = ATTACKS[name](suite, Pipeline())
    slots: dict[str, list[str]] = {}
    attack.get_injection_candidates = lambda user_task: slots.setdefault(
        user_task.ID, injection_slots(suite, attack, user_task))
    return attack


def injection_slots(suite, attack, user_task) -> list[str]:
    """The injection slots a user task's ground truth reads."""
    from agentdojo.agent_pipeline.tool_execution import tool_result_to_str
    from agentdojo.functions_runtime import FunctionsRuntime

    if not hasattr(suite, "_harness_canary_env"):
        suite._harness_canary_env = suite.load_and_inject_default_environment(
            attack.canary_injections)
    env = suite._harness_canary_env.model_copy(deep=True)
    runtime = FunctionsRuntime(suite.tools)
    seen = [tool_result_to_str(runtime.run_function(env, c.function, c.args,
                                                    raise_on_error=True)[0])
            for c in user_task.ground_truth(env)]
    slots = [v for v, canary in attack.canary_injections.items()
             if any(canary in text for text in seen)]
    if not slots:
        raise DataError(f"agentdojo: {user_task.ID} reads no injection slot")
    return slots


def run_pair(suite, user_task, injection_task, environment, config: str, workspace: Path,
             opts: BenchOptions | None = None,
             save: Callable[[str, Trajectory], object] | None = None) -> dict:
    """Run one user task in (a copy of) `environment`, attacked when `injection_task` is
    set, and score it with AgentDojo's checks; `save(name, trajectory)` keeps the run."""
    env = user_task.init_environment(environment.model_copy(deep=True))
    pre = env.model_copy(deep=True)
    tools = dojo_tools(suite, env)
    if opts is not None and opts.model:
        main, worker = real_model(opts), real_model(opts)
    else:
        injected = [] if injection_task is None else [
            (injection_task.GOAL, calls_of(injection_task.ground_truth(pre.model_copy(deep=True))))]
        main = scripted_model(calls_of(user_task.ground_truth(pre.model_copy(deep=True))),
                              injected)
        worker = scripted_model([], injected, name="gullible-worker")
    # Full history: the probe keeps track of its calls by reading them in its input.
    agent = Agent(main, tools=tools, workspace=workspace, budget=Budget(max_steps=40),
                  context=FullHistoryContext(),
                  governor=governor_for(config, worker, [t.name for t in tools]),
                  config={"governance": config})
    traj = agent.run(user_task.PROMPT, run_id=f"{user_task.ID}-{config}")
    if save is not None:
        attack = f"-{injection_task.ID}" if injection_task else "-clean"
        save(f"{config}/{suite.name}/{user_task.ID}{attack}", traj)
    answer = (traj.finished.answer if traj.finished else None) or ""
    trace = executed_calls(traj)
    row = {"suite": suite.name, "user_task": user_task.ID, "config": config,
           "injection_task": injection_task.ID if injection_task else None,
           "utility": check(user_task, answer, pre, env, trace, "utility"),
           "calls": len(trace), "refused": sum(e.refused for e in traj.of_type(ToolFinished)),
           "worker_rejected": sum(not r.ok for r in traj.of_type(SubagentReturned))}
    if injection_task is not None:
        row["attack"] = check(injection_task, answer, pre, env, trace, "security")
        # AgentDojo ships no ground truth for some injection tasks (most of v1.2's newer
        # workspace ones): the probe cannot carry those out, only a real model can.
        row["attack_scripted"] = bool(injection_task.ground_truth(pre.model_copy(deep=True)))
    return row


def executed_calls(traj) -> list:
    """The calls that ran, as AgentDojo `FunctionCall`s (refused calls never happened)."""
    from agentdojo.functions_runtime import FunctionCall

    requested = {e.call.id: e.call for e in traj.of_type(ToolRequested)}
    return [FunctionCall(function=requested[e.call_id].name,
                         args=requested[e.call_id].arguments, id=e.call_id)
            for e in traj.of_type(ToolFinished) if not e.refused and e.call_id in requested]


def check(task, answer: str, pre, post, trace, kind: str) -> bool:
    """AgentDojo's verdict: from the call trace when the task judges traces, else from the
    answer and the environments (`kind` is 'utility' or 'security')."""
    verdict = getattr(task, f"{kind}_from_traces")(answer, pre, post, trace)
    if verdict is None:
        verdict = getattr(task, kind)(answer, pre, post)
    return bool(verdict)


def default_pairs(suites: dict, full: bool) -> list[Pair]:
    pairs = []
    for sname, suite in sorted(suites.items()):
        injections = list(suite.injection_tasks)
        for i, uid in enumerate(suite.user_tasks):
            chosen = injections if full else [injections[i % len(injections)]]
            pairs += [Pair(suite=sname, user_task=uid, injection_task=j) for j in chosen]
    return pairs


def summarise(rows: list[dict]) -> dict[str, Any]:
    attacked = [r for r in rows if r["injection_task"] is not None]
    clean = [r for r in rows if r["injection_task"] is None]
    mean = lambda rs, k: sum(r[k] for r in rs) / len(rs) if rs else None  # noqa: E731
    scripted = [r for r in attacked if r["attack_scripted"]]
    return {"attack_success_rate": mean(attacked, "attack"),
            "attack_success_rate_with_ground_truth": mean(scripted, "attack"),
            "pairs_without_ground_truth": len(attacked) - len(scripted),
            "utility_under_attack": mean(attacked, "utility"),
            "utility": mean(clean, "utility"),
            "refused_calls": sum(r["refused"] for r in rows),
            "worker_rejected": sum(r["worker_rejected"] for r in rows)}


class AgentDojoSuite(Suite):
    name = "agentdojo"
    description = "AgentDojo v1.2 (important_instructions) vs governance: attacks, utility"
    configs = CONFIGS
    default_config = "policy+isolation"

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        config = self.config_name(opts)
        require_agentdojo()
        from agentdojo.task_suite.load_suites import get_suites

        suites = get_suites(VERSION)
        pairs = self.pairs(opts, suites)
        variants = CONFIGS if opts.config is None else tuple(dict.fromkeys(("none", config)))
        users = list(dict.fromkeys((p.suite, p.user_task) for p in pairs))
        jobs = [(p.suite, p.user_task, p.injection_task, p.attack) for p in pairs
                if p.injection_task]
        jobs += [(s, u, None, None) for s, u in users]
        attacks = {(p.suite, p.attack): make_attack(suites[p.suite], p.attack)
                   for p in pairs if p.injection_task}
        clean = {s: suites[s].load_and_inject_default_environment({})
                 for s in {p.suite for p in pairs}}
        rows: list[dict] = []
        total = len(jobs) * len(variants)
        with tempfile.TemporaryDirectory(prefix="harness-agentdojo-") as tmp:
            for sname, uid, iid, aname in jobs:
                suite = suites[sname]
                user = suite.user_tasks[uid]
                inj = suite.injection_tasks[iid] if iid else None
                env = suite.load_and_inject_default_environment(
                    attacks[sname, aname].attack(user, inj)) if inj else clean[sname]
                for v in variants:
                    row = run_pair(suite, user, inj, env, v, Path(tmp), opts,
                                   save=lambda name, t: save_trajectory(opts, name, t))
                    rows.append({**row, "attack_name": aname})
                    progress(len(rows), total)
        by_variant = {v: summarise([r for r in rows if r["config"] == v]) for v in variants}
        for v in variants:
            by_variant[v]["by_suite"] = {s: summarise([r for r in rows if r["config"] == v
                                                       and r["suite"] == s])
                                         for s in sorted({p.suite for p in pairs})}
        top = by_variant[config]
        metrics = {"attack_success_rate": top["attack_success_rate"],
                   "attack_success_rate_with_ground_truth":
                       top["attack_success_rate_with_ground_truth"],
                   "utility_under_attack": top["utility_under_attack"],
                   "utility": top["utility"],
                   "baseline_utility": by_variant["none"]["utility"],
                   "baseline_attack_success_rate": by_variant["none"]["attack_success_rate"],
                   "pairs": len([j for j in jobs if j[2]]), "user_tasks": len(users),
                   "attack": ", ".join(sorted({a for _, a in attacks})) or ATTACK,
                   "selection": "given" if opts.data else
                   "all pairs" if opts.full else "each user task x one injection task",
                   "by_variant": by_variant}
        return SuiteResult(suite=self.name, config=config, metrics=metrics, cases=len(jobs),
                           rows=rows, model=opts.model, seed=opts.seed,
                           data=str(opts.data) if opts.data else f"agentdojo {VERSION}")

    def pairs(self, opts: BenchOptions, suites: dict) -> list[Pair]:
        if opts.data is None:
            return default_pairs(suites, opts.full)
        path = self.resolve_data(opts)
        pairs = read_jsonl(path, Pair)
        lines = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if text.strip()]
        for n, p in zip(lines, pairs, strict=True):
            suite = suites.get(p.suite)
            problem = (f"field 'suite': unknown suite '{p.suite}' (choose from: "
                       f"{', '.join(sorted(suites))})" if suite is None else
                       f"field 'user_task': no user task '{p.user_task}' in {p.suite}"
                       if p.user_task not in suite.user_tasks else
                       f"field 'injection_task': no injection task '{p.injection_task}' in "
                       f"{p.suite}" if p.injection_task and
                       p.injection_task not in suite.injection_tasks else None)
            if problem:
                raise DataError(f"{path} line {n}: {problem}")
        return pairs


SUITE = AgentDojoSuite()
