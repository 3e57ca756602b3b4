"""The reference `Agent`: the loop that composes the components around a model.

Read `step` top to bottom: it is the whole control flow of an agent. The run records
through its state (`state.emit`, `state.charge`); each run gets its own copy of the agent
whose components are their per-run objects (`Agent.for_run`).
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError

from harness.context.base import ContextConstructor, FullHistoryContext  # noqa: F401
from harness.context.budgeted import BudgetedContext
from harness.events import (
    ContextBuilt,
    GateWarned,
    PolicyDecided,
    SkillsRouted,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    ToolRequested,
    Trajectory,
    Verified,
)
from harness.fencing import unfence_arguments
from harness.governance.base import AllowAll, FinalAnswer, Governor, Verdict
from harness.llm.base import Model, ModelError, SyncModel
from harness.loop_guard import LoopGuard
from harness.memory.base import Memory, NullMemory
from harness.messages import Message, ModelRequest, ModelResponse, ToolCall, extract_json
from harness.sandbox.base import Sandbox
from harness.sandbox.choose import strongest_available
from harness.skills.base import NoSkills, SkillRouter
from harness.state import AgentState, Budget, ContextSection, Section, Sink, for_run
from harness.tools.base import Tool, ToolContext, ToolResult, Toolset
from harness.tools.builtin import default_tools
from harness.workspace_state import capture

if TYPE_CHECKING:
    from harness.governance.verifiers import Verifier


R = TypeVar("R")

DEFAULT_LOOP_GUARD = LoopGuard()
"""The loop guard every agent has unless given another (or None)."""


class Agent:
    """An agent: a model plus the harness around it.

    Every component is optional and swappable. The defaults: a `BudgetedContext` that
    summarises older steps offline, no memory, no skills, allow-all. Extend by passing a
    different component or by overriding one method (`step`, `act`, `call_model`, `finish`).

    `graders` judge the run's outcome once its final answer passes the governor's
    verification; they are never shown to the model. A run ends `success` only when some
    check (a verifier or a grader) judged its final answer and every one passed, and
    `answered` when nothing checked it.

    With `output_type` (a pydantic model), the final answer must be JSON of that type: the
    model is told the schema, an answer that does not validate goes back to it within the
    repair budget, and the trajectory's `output` is the validated value.

    `loop_guard` notes, then stops, a run that repeats a call's result or learns nothing
    new for several steps (`LoopGuard`; None turns it off).

    `tool_executor` (e.g. a bounded `ThreadPoolExecutor`) runs each tool call and each
    final-answer check off the event loop, so that many runs sharing one loop (as in
    `harness bench`) keep waiting on their models while one runs a command; without it they
    run in the loop's thread, as a run that awaits nothing else needs.
    """

    def __init__(self, model: Model, *, context: ContextConstructor | None = None,
                 memory: Memory | None = None, router: SkillRouter | None = None,
                 governor: Governor | None = None, tools: Iterable[Tool] | None = None,
                 workspace: str | Path = ".", budget: Budget | None = None,
                 max_repairs: int = 2, record_requests: bool = False,
                 sinks: Iterable[Sink] = (), config: dict[str, Any] | None = None,
                 sandbox: Sandbox | None = None, graders: Iterable[Verifier] = (),
                 record_workspace: bool = True, output_type: type[BaseModel] | None = None,
                 loop_guard: LoopGuard | None = DEFAULT_LOOP_GUARD,
                 tool_executor: Executor | None = None):
        self.model = model
        self.context = context or BudgetedContext()
        self.memory = memory or NullMemory()
        self.router = router or NoSkills()
        self.governor = governor or AllowAll()
        self.tools = Toolset(default_tools() if tools is None else tools)
        self.workspace = Path(workspace)
        self.budget = budget or Budget()
        self.max_repairs = max_repairs
        self.record_requests = record_requests
        self.sinks = list(sinks)
        self.config = config or {}
        self.sandbox = sandbox or strongest_available()
        self.graders = list(graders)
        self.record_workspace = record_workspace
        self.loop_guard = loop_guard
        self.output_type = output_type
        self.tool_executor = tool_executor
        self._interrupted: str | None = None

    # -- running ----------------------------------------------------------------------
    def run(self, task: str, *, run_id: str | None = None) -> Trajectory:
        """Run the task to completion and return its trajectory.

        Inside a running event loop (a notebook, an async app) the run gets its own loop in
        a worker thread; in async code prefer `await agent.arun(task)`. A run that can never
        suspend (a `SyncModel`, the loop's own async methods) needs no event loop at all.
        """
        if self._never_suspends():
            return _run_to_end(self.arun(task, run_id=run_id))
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(task, run_id=run_id))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="harness-run") as pool:
            return pool.submit(asyncio.run, self.arun(task, run_id=run_id)).result()

    def _never_suspends(self) -> bool:
        """Whether `arun` completes without ever awaiting anything pending: the model's
        `acomplete` is `SyncModel`'s (it only calls `complete`), tools run in place and no
        method that awaits is overridden. Then `run` drives it directly (`asyncio.run` costs ~150-200 µs a run)."""
        return (getattr(type(self.model), "acomplete", None) is SyncModel.acomplete
                and self.tool_executor is None
                and all(getattr(type(self), m) is getattr(Agent, m)
                        for m in ("arun", "step", "call_model", "act", "conclude", "off_loop")))

    async def arun(self, task: str, *, run_id: str | None = None) -> Trajectory:
        """Run the task to completion (async) and return its trajectory.

        A Ctrl-C or a cancellation stops the run: the call in progress is recorded as
        interrupted, `TaskFinished(status="stopped")` is written, then the interrupt goes on.
        """
        state = self.new_state(task, run_id)
        run = self.for_run(state)
        run.start(state)
        try:
            while not state.done:
                await run.step(state)
        except Exception as exc:  # unrecoverable: record why, keep everything recorded so far
            state.stop("error", f"unrecoverable error at step {state.step}: "
                                f"{type(exc).__name__}: {exc}")
        except (KeyboardInterrupt, asyncio.CancelledError) as exc:
            why = self._interrupted or interruption(exc)
            state.stop("stopped", f"interrupted at step {state.step} ({why})")
            run.finish(state)
            raise
        return run.finish(state)

    def interrupt(self, reason: str = "SIGINT") -> NoReturn:
        """Stop the run in progress, from a signal handler: the call in progress is killed
        and recorded, and `TaskFinished` gives `reason`, wherever the run was waiting (a
        run awaiting its model is cancelled by the event loop, which names no signal)."""
        self._interrupted = reason
        raise KeyboardInterrupt(reason)

    def new_state(self, task: str, run_id: str | None = None) -> AgentState:
        """The state of a new run, with its own toolset; nothing recorded yet."""
        self._interrupted = None
        return AgentState(run_id=run_id or uuid.uuid4().hex[:12], task=task,
                          workspace=self.workspace, tools=self.tools.copy(), budget=self.budget,
                          sinks=list(self.sinks), record_requests=self.record_requests)

    def start(self, state: AgentState) -> None:
        """Open the run's sandbox and record `TaskStarted`, with what the workspace holds
        (`record_workspace`: its manifest, a snapshot when small, its git commit)."""
        try:
            state.sandbox = self.sandbox.open(self.workspace)
            info = state.sandbox.info
        except Exception as exc:  # recorded; every tool that touches the machine refuses
            state.stop("error", f"sandbox {self.sandbox.name} cannot start: {exc}")
            info = self.sandbox.info()
        recorded = capture(self.workspace) if self.record_workspace else None
        if self.output_type is not None:
            state.put(output_section(self.output_type))
        state.emit(TaskStarted(task=state.task, model=getattr(self.model, "name", ""),
                               workspace=str(self.workspace.resolve()), config=self.config,
                               workspace_state=recorded,
                               sandbox=info, tools={t.name: t.effects for t in state.tools}))

    def for_run(self, state: AgentState) -> Agent:
        """This agent for one run: a shallow copy whose context, memory, router and governor
        are the objects each makes for the run (`for_run`), and whose tools are the run's
        own; its memory observes every event the run records. Two runs of one agent, even
        interleaved, never share state."""
        run = copy.copy(self)
        run.tools = state.tools
        run.context = for_run(self.context, state)
        run.memory = for_run(self.memory, state)
        run.router = for_run(self.router, state)
        run.governor = for_run(self.governor, state)
        run.loop_guard = for_run(self.loop_guard, state)
        if getattr(type(run.memory), "observe", None) is not NullMemory.observe:
            state.observe = run.memory.observe  # (NullMemory's observes nothing: not asked)
        return run

    # -- the loop -----------------------------------------------------------------------
    async def step(self, state: AgentState) -> None:
        """One model turn: route skills, recall memory, build context, call, act."""
        state.step += 1
        self.route_skills(state)
        state.put(self.memory.context(state))
        context = self.context.build(state)
        state.emit(ContextBuilt(manifest=context.manifest))
        reply = await self.call_model(state, context.request)
        if reply is None:
            return
        state.history.append(reply.as_message())
        if not reply.tool_calls:
            await self.conclude(state, reply.text or "")
            return
        limit = state.budget.max_calls_per_step
        for i, call in enumerate(reply.tool_calls):
            if i >= limit:
                self.skip(state, call, f"not run: one reply may make at most {limit} tool "
                                       f"calls and this was call {i + 1} of "
                                       f"{len(reply.tool_calls)}; ask again if you still "
                                       f"need it")
                continue
            result = await self.act(state, call)
            state.history.append(Message(role="tool", tool_call_id=call.id, name=call.name,
                                         content=result.content(), channel=result.channel))
            if self.loop_guard is not None:
                self.loop_guard.observe(call, result, state.tools.effects(call.name))
        self.watch_loops(state)
        self.check_budget(state)

    def skip(self, state: AgentState, call: ToolCall, why: str) -> None:
        """Answer a call without running it, recorded as a failed call."""
        result = ToolResult(call_id=call.id, tool=call.name, ok=False, error=why)
        state.emit(ToolRequested(call=call))
        state.emit(ToolFinished(call_id=call.id, tool=call.name, ok=False, error=why))
        state.history.append(Message(role="tool", tool_call_id=call.id, name=call.name,
                                     content=result.content(), channel=result.channel))

    async def act(self, state: AgentState, call: ToolCall) -> ToolResult:
        """Review, execute, screen and verify one tool call (executed and verified off
        the event loop when the agent has a `tool_executor`)."""
        state.emit(ToolRequested(call=call))
        effects = state.tools.effects(call.name)
        warnings = self.memory.check(call, effects)
        if warnings:
            state.emit(GateWarned(call_id=call.id, tool=call.name, warnings=warnings))
        # A `block` refuses under any governor unless its decision explicitly approves it.
        decision = self.governor.review(call, state, warnings).enforce_blocks(warnings)
        state.emit(PolicyDecided(call_id=call.id, tool=call.name, decision=decision.decision,
                                 rule=decision.rule, reason=decision.reason,
                                 approved=decision.approved, overrides=decision.overrides))
        if decision.allowed:
            ctx = ToolContext(workspace=self.workspace, run_id=state.run_id, step=state.step,
                              session=state.sandbox)
            run_call, unfenced = unfence_arguments(call, effects)  # fences a model copied
            try:
                result = await self.off_loop(self.tools.execute, run_call, ctx)
            except (KeyboardInterrupt, asyncio.CancelledError) as exc:
                state.emit(ToolFinished(call_id=call.id, tool=call.name, ok=False,
                                        error=f"interrupted ({interruption(exc)}); the call's "
                                              f"processes were killed"))
                raise
            result = self.governor.screen(call, result, state)
            if unfenced:
                result = result.model_copy(update={"output": f"{result.output}\n{unfenced}"})
        else:
            result = ToolResult(call_id=call.id, tool=call.name, ok=False, refused=True,
                                error=f"refused by policy ({decision.rule}): {decision.reason}")
        state.emit(ToolFinished(call_id=result.call_id, tool=result.tool, ok=result.ok,
                                output=result.output, error=result.error, refused=result.refused,
                                duration_s=result.duration_s, channel=result.channel))
        for verdict in await self.off_loop(self.governor.verify, call, result, state):
            state.emit(Verified(call_id=call.id, **verdict.model_dump()))
        return result

    async def off_loop(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(*args)`, in `tool_executor` when there is one (the run waits for it without
        blocking the event loop), else right here."""
        if self.tool_executor is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self.tool_executor, fn, *args)

    # -- pieces of the loop, each overridable -------------------------------------------
    def route_skills(self, state: AgentState) -> None:
        """Route skills; record the routing and any tools it added to the run's toolset."""
        before = state.tools.key
        routing = self.router.route(state)
        state.put(routing.section)
        added = {} if state.tools.key is before else {
            t.name: t.effects for t in state.tools if t.name not in before}
        if routing.candidates or routing.loaded or added:
            state.emit(SkillsRouted(candidates=routing.candidates, loaded=routing.loaded,
                                    router=routing.router, tools=added))

    async def call_model(self, state: AgentState, request: ModelRequest) -> ModelResponse | None:
        try:
            reply = await self.model.acomplete(request)
        except ModelError as exc:
            state.stop("error", f"model error: {exc}")
            return None
        state.charge(reply, "agent", request=request, model=getattr(self.model, "name", ""))
        return reply

    async def conclude(self, state: AgentState, answer: str) -> None:
        """Verify a final answer; accept it, or hand failures back for a bounded repair.
        An accepted answer is then graded; the checks that judged it decide its status."""
        final = FinalAnswer(text=answer)
        if self.output_type is not None and not self.take_output(state, answer):
            return
        verdicts = await self.off_loop(self.governor.verify, final, None, state)
        for verdict in verdicts:
            state.emit(Verified(**verdict.model_dump()))
        failed = [v for v in verdicts if not v.ok]
        if failed and state.repairs < self.max_repairs:
            state.repairs += 1
            feedback = "\n".join(f"- {v.verifier}: {v.detail}" for v in failed)
            state.history.append(Message(role="user", content=(
                f"Your answer did not pass verification:\n{feedback}\nFix this and answer again.")))
            self.check_budget(state)
            return
        if failed:
            state.stop("failed", f"verification failed after {state.repairs} repair attempt(s): "
                                 f"{failed[0].verifier}", answer)
            return
        graded = await self.off_loop(self.grade, final, state)
        for verdict in graded:
            state.emit(Verified(**verdict.model_dump(), grader=True))
        checks = [v.verifier for v in (*verdicts, *graded)]
        wrong = next((v for v in graded if not v.ok), None)
        if wrong is not None:
            state.stop("failed", f"final answer failed its check {wrong.verifier}: "
                                 f"{wrong.detail.splitlines()[0] if wrong.detail else 'failed'}",
                       answer)
        elif checks:
            state.stop("success", f"final answer, checked by {', '.join(checks)}", answer)
        else:
            state.stop("answered", "final answer (not checked)", answer)

    def grade(self, final: FinalAnswer, state: AgentState) -> list[Verdict]:
        """The graders' verdicts on an accepted final answer (those that judged it)."""
        return [v for v in (g.check(final, None, state) for g in self.graders) if v is not None]

    def take_output(self, state: AgentState, answer: str) -> bool:
        """Validate the answer as `output_type` into `state.output`; on failure hand the
        error back (within the repair budget) or stop `failed`. True when it validated."""
        assert self.output_type is not None
        try:
            state.output = self.output_type.model_validate_json(extract_json(answer))
            return True
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(answer)'}: {e['msg']}"
                                 for e in exc.errors()[:5])
        name = self.output_type.__name__
        if state.repairs >= self.max_repairs:
            state.stop("failed", f"the final answer is not a valid {name} after "
                                 f"{state.repairs} repair attempt(s): {problems}", answer)
            return False
        state.repairs += 1
        state.history.append(Message(role="user", content=(
            f"Your final answer must be JSON of the type {name} (the schema is in your "
            f"instructions). It is not: {problems}. Answer again with the JSON only.")))
        self.check_budget(state)
        return False

    def watch_loops(self, state: AgentState) -> None:
        """After a step's tool calls: if the run loops, note it to the model the first time
        and stop the run after (see `LoopGuard`); recorded as `LoopDetected`."""
        found = None if state.done or self.loop_guard is None else self.loop_guard.end_step()
        if found is None:
            return
        state.emit(found)
        if found.action == "noted":
            state.history.append(Message(role="user", content=found.message))
        else:
            state.stop("stopped", found.message)

    def check_budget(self, state: AgentState) -> None:
        spent = None if state.done else state.budget_spent()
        if spent is not None:
            state.stop("stopped", spent[1])

    def finish(self, state: AgentState) -> Trajectory:
        if state.sandbox is not None:
            state.sandbox.close()
        output = state.output.model_dump(mode="json") if state.output is not None else None
        state.emit(TaskFinished(status=state.status or "error", reason=state.reason,
                                answer=state.answer, output=output, steps=state.step,
                                tokens=state.tokens,
                                cost_usd=state.cost_usd))
        state.trajectory.output = state.output
        return state.trajectory


def output_section(output_type: type[BaseModel]) -> ContextSection:
    """The instruction that tells the model the form of its final answer."""
    schema = json.dumps(output_type.model_json_schema(), sort_keys=True)
    return ContextSection(name=Section.OUTPUT, priority=90, text=(
        f"When you give your final answer, answer with JSON only: one object of the type "
        f"{output_type.__name__}, matching this JSON schema:\n{schema}"))


def interruption(exc: BaseException) -> str:
    """What interrupted a run, for its record: SIGINT, SIGTERM, or a cancellation."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return str(exc) or "SIGINT"


def _run_to_end(run: Coroutine[Any, Any, Trajectory]) -> Trajectory:
    """The result of a coroutine that never suspends, without an event loop."""
    try:
        run.send(None)
    except StopIteration as done:
        trajectory: Trajectory = done.value
        return trajectory
    run.close()
    raise RuntimeError("a run expected never to suspend awaited something pending")

