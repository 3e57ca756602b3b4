"""`BudgetedContext`: each step's model input from named sections within a token budget.

Sections, highest priority first: the system prompt, the task and the tool schemas (always
in); the sections components contributed this step (`state.sections`: skills, memory
summary, recalled memories, gate warnings, ...), each up to its share of the budget; and
the history, as a history strategy shows it, in whatever room is left. The budget defaults
to the model's context window (litellm's model info) minus a reply reserve.

Every build returns a manifest that accounts for every token: per section its tokens,
what went in (memory ids, skill names, which steps and how), and what was dropped or cut
and why.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

from harness._fast import validated
from harness.context._tally import PartsTally
from harness.context.base import DEFAULT_SYSTEM_PROMPT, Context
from harness.context.history import HistoryStrategy, HistoryView, Part
from harness.context.steps import Step, extend_steps, steps_label
from harness.context.strategies import history_strategy
from harness.context.tokens import (
    DEFAULT_REPLY_RESERVE,
    MESSAGE_OVERHEAD,
    TokenCounter,
    context_window,
)
from harness.context.tokens import (
    tokenizer as make_tokenizer,
)
from harness.events import ContextManifest, SectionInfo, TaskStarted
from harness.fencing import fence, is_untrusted
from harness.messages import Message, ModelRequest
from harness.state import AgentState, ContextSection, PerRun, Section, for_run

SECTION_SHARES: dict[str, float] = {Section.GATE: 0.05, Section.SKILLS: 0.15,
                                     Section.MEMORY: 0.10, Section.RECALLED: 0.10}
"""Default share of the budget per component section; other names get `DEFAULT_SHARE`."""
DEFAULT_SHARE = 0.10
HISTORY_PRIORITY = 40
SYSTEM_NOTE = "system prompt and separators"
MIN_SECTION_TOKENS = 32
"""A section cut to less than this is dropped instead: a stub would only mislead."""


@dataclass
class _RunMemo:
    """What a build remembers about its run: the history seen so far, as steps, and the
    tally of the parts last shown."""

    seen: int = 0
    last: Message | None = None
    steps: list[Step] = field(default_factory=list)
    tally: PartsTally = field(default_factory=PartsTally)


@dataclass
class _Remembered:
    """What builds remember by what it depends on (model, task, tools, settings), for the
    next build with the same: the fixed parts and the tool schemas with their tokens."""

    fixed: _Fixed | None = None
    tools: tuple[tuple[Any, ...], list[dict[str, Any]], int] | None = None
    counter: TokenCounter | None = None


@dataclass
class _Fixed:
    """The parts of a build that do not depend on the history (see `_fixed_parts`). The
    section infos are shared by the manifests of the builds that use them."""

    key: tuple[Any, ...]
    counter: TokenCounter
    budget: int
    schemas: list[dict[str, Any]]
    tool_tokens: int
    task: Message
    task_tokens: int
    tokens: int
    """Of the system prompt, task and tool schemas: what is always in."""
    system: Message
    system_tokens: int
    system_info: SectionInfo
    task_info: SectionInfo
    tools_info: SectionInfo


class ContextOverflow(ValueError):
    """The parts that must always be in (system prompt, task, tool schemas) exceed the budget."""


class BudgetedContext(PerRun):
    """Builds the model input from prioritised, budgeted sections and a history strategy.

    `history` is a strategy or its name ("compact", "full", "last-n", "mask", "summarise",
    "subgoal"); `history_options` go to its constructor (e.g. `n=8` for last-n,
    `summariser=` a `Model` for compact and summarise). The default, "compact", shows every
    step verbatim until they fill half the history's room, then summarises all but the last
    few. The strategy is told the tokens the budget leaves for the history (`room`).
    `budget_tokens` fixes the budget; otherwise it is the context window of `model` (or of
    the run's model) minus `reply_reserve`. `shares` overrides the share of the budget a
    component section may take; `history_min_share` is kept free for the history.
    `tokenizer` counts tokens instead of litellm's counter or the estimate: a
    `TokenCounter` (a `ServerTokenizer` asking the model's own server, an `HFTokenizer`),
    or its spec as a configuration writes it (`server:URL`, `hf:NAME_OR_PATH`).
    Each run gets its own copy (`for_run`), with its own copy of the strategy.
    """

    def __init__(self, history: str | HistoryStrategy = "compact", *,
                 system_prompt: str = DEFAULT_SYSTEM_PROMPT, budget_tokens: int | None = None,
                 reply_reserve: int = DEFAULT_REPLY_RESERVE, model: str | None = None,
                 shares: dict[str, float] | None = None, history_min_share: float = 0.25,
                 tokenizer: TokenCounter | str | None = None, **history_options: Any):
        self.history = history_strategy(history, **history_options)
        self.system_prompt = system_prompt
        self.budget_tokens = budget_tokens
        self.reply_reserve = reply_reserve
        self.model = model
        self.shares = {**SECTION_SHARES, **(shares or {})}
        self.history_min_share = history_min_share
        self.tokenizer = make_tokenizer(tokenizer)
        self._fenced: dict[tuple[Any, ...], Message] = {}
        self._messages: dict[tuple[str, str], Message] = {}
        self._shared = _Remembered()  # by content, not by run: shared by the per-run copies
        self._run = _RunMemo()

    def start_run(self, state: AgentState) -> None:
        self.history = for_run(self.history, state)
        self._run = _RunMemo()

    @property
    def name(self) -> str:
        return self.history.name

    # -- budget and counting ---------------------------------------------------------
    def counter(self, state: AgentState) -> TokenCounter:
        if self.tokenizer is not None:
            return self.tokenizer
        model = self.model if self.model is not None else _run_model(state)
        shared = self._shared
        if shared.counter is None or shared.counter.model != model:
            shared.counter = TokenCounter(model)
        return shared.counter

    def budget(self, state: AgentState) -> int:
        if self.budget_tokens is not None:
            return self.budget_tokens
        model = self.model if self.model is not None else _run_model(state)
        return max(0, context_window(model) - self.reply_reserve)

    # -- the build -------------------------------------------------------------------
    def build(self, state: AgentState) -> Context:
        f = self._fixed_parts(state)
        counter, budget = f.counter, f.budget
        steps, tally = self._run_memo(state)
        view = self.history.view(steps, state, counter, room=budget - f.tokens)
        tally.update(view.parts, counter)
        reserve = min(tally.tokens, int(self.history_min_share * budget))
        texts, section_infos = self._place_sections(state, counter, budget,
                                                    budget - f.tokens - reserve) \
            if state.sections else ([], [])
        if texts:
            system = self._message("system", "\n\n".join([self.system_prompt, *texts]))
            system_tokens = counter.message(system)
            system_info = SectionInfo(name=Section.SYSTEM, priority=100, note=SYSTEM_NOTE,
                                      tokens=system_tokens - sum(i.tokens for i in section_infos))
        else:
            system, system_tokens, system_info = f.system, f.system_tokens, f.system_info
        room = budget - system_tokens - f.task_tokens - f.tool_tokens
        shown, over_budget = fit_parts(tally, room, counter)
        history = view if shown is tally else HistoryView(list(shown.parts), view.note)

        infos = [system_info, *section_infos, f.task_info, f.tools_info,
                 self._history_info(shown, view.note, over_budget, counter)]
        request = ModelRequest.of([system, f.task, *shown.messages], f.schemas)
        # = the sum over `infos`: the sections placed in the system message are counted in it
        total = system_tokens + f.task_tokens + f.tool_tokens + shown.tokens
        manifest = validated(ContextManifest, sections=infos, total_tokens=total,
                             budget_tokens=budget, strategy=self.history.name)
        return Context(request=request, manifest=manifest, history=history)

    def _place_sections(self, state: AgentState, counter: TokenCounter, budget: int,
                        room: int) -> tuple[list[str], list[SectionInfo]]:
        """Component sections by priority, each within its share and the room left."""
        texts: list[str] = []
        infos: list[SectionInfo] = []
        for s in sorted(state.sections.values(), key=lambda s: (-s.priority, s.name)):
            if not s.text:
                continue
            text = _render(s)
            cap = min(int(self.shares.get(s.name, DEFAULT_SHARE) * budget), room)
            tokens = counter.count(text)
            note = "untrusted: fenced" if not s.trusted else ""
            if tokens + 2 > cap:  # 2: the separator between sections
                if cap - 2 < MIN_SECTION_TOKENS:
                    infos.append(SectionInfo(name=s.name, tokens=0, priority=s.priority,
                                             dropped=list(s.items) or [s.name],
                                             note=f"left out: needs {tokens} tokens, "
                                                  f"{max(cap, 0)} available"))
                    continue
                text = counter.fit(text, cap - 2)
                note = "; ".join(filter(None, [note, f"cut from {tokens} tokens to its "
                                                      f"share of the budget"]))
                tokens = counter.count(text)
            texts.append(text)
            room -= tokens + 2
            infos.append(SectionInfo(name=s.name, tokens=tokens, priority=s.priority,
                                     items=list(s.items), note=note))
        return texts, infos

    def _history_info(self, shown: PartsTally, note: str, over_budget: list[int],
                      counter: TokenCounter) -> SectionInfo:
        dropped = [f"{steps_label(p.steps)}: left out by {self.history.name}"
                   for p in shown.omitted]
        if over_budget:
            dropped.append(f"{steps_label(over_budget)}: over the token budget")
        note = f"{self.history.name}: {note}; {shown.fenced} untrusted results fenced; " \
               f"tokens by {counter.method}"
        return validated(SectionInfo, name=Section.HISTORY, tokens=shown.tokens,
                         priority=HISTORY_PRIORITY, items=shown.described(), dropped=dropped,
                         note=note)

    # -- caches ----------------------------------------------------------------------
    def _fixed_parts(self, state: AgentState) -> _Fixed:
        """The parts of the input that do not depend on the history, remembered while the
        model, task, tools and settings stay the same (in a run: every step)."""
        model = self.model if self.model is not None else _run_model(state)
        key = (model, state.tools.key, state.task,
               self.system_prompt, self.budget_tokens, self.reply_reserve)
        if self._shared.fixed is not None and self._shared.fixed.key == key:
            return self._shared.fixed
        counter, budget = self.counter(state), self.budget(state)
        schemas, tool_tokens = self._schemas(state, counter)
        task = self._message("user", state.task)
        task_tokens = counter.message(task)
        tokens = MESSAGE_OVERHEAD + counter.count(self.system_prompt) + task_tokens + tool_tokens
        if tokens > budget:
            raise ContextOverflow(
                f"the system prompt, task and tool schemas take {tokens} tokens, over the "
                f"budget of {budget}; raise budget_tokens or shorten them")
        system = self._message("system", self.system_prompt)
        system_tokens = counter.message(system)
        self._shared.fixed = _Fixed(
            key, counter, budget, schemas, tool_tokens, task, task_tokens, tokens, system,
            system_tokens,
            SectionInfo(name=Section.SYSTEM, priority=100, note=SYSTEM_NOTE, tokens=system_tokens),
            SectionInfo(name=Section.TASK, tokens=task_tokens, priority=95),
            SectionInfo(name="tools", tokens=tool_tokens, priority=90, items=list(key[1]),
                        note="tool schemas"))
        return self._shared.fixed

    def _message(self, role: Literal["system", "user"], content: str) -> Message:
        """The system or task message, the same object while its text is unchanged (so its
        token count and digest are remembered, and a request is seen to extend the last)."""
        m = self._messages.get((role, content))
        if m is None:
            if len(self._messages) >= 64:
                self._messages.clear()
            m = self._messages[role, content] = Message(role=role, content=content)
        return m

    def _run_memo(self, state: AgentState) -> tuple[list[Step], PartsTally]:
        """The run's history as fenced steps, extended with only the messages added since
        the last build (the loop only appends; any other change starts over), and the
        tally of the parts the last build showed."""
        h = state.history
        memo = self._run
        if memo.seen > len(h) or (memo.seen and h[memo.seen - 1] is not memo.last):
            memo = self._run = _RunMemo()
        if memo.seen < len(h):
            extend_steps(memo.steps, [self._fence(m) for m in h[memo.seen:]])
            memo.seen, memo.last = len(h), h[-1]
        return memo.steps, memo.tally

    def _fence(self, m: Message) -> Message:
        """Tool results from untrusted channels, fenced with their provenance (cached)."""
        if m.role != "tool" or not is_untrusted(m.channel):
            return m
        key = (m.tool_call_id, m.name, m.channel, m.content)
        fenced = self._fenced.get(key)
        if fenced is None:
            if len(self._fenced) > 20_000:
                self._fenced.clear()
            fenced = m.model_copy(update={"content": fence(
                m.content or "", m.channel or "", tool=m.name, ref=m.tool_call_id)})
            self._fenced[key] = fenced
        return fenced

    def _schemas(self, state: AgentState, counter: TokenCounter
                 ) -> tuple[list[dict[str, Any]], int]:
        key = (state.tools.key, counter.method)
        if self._shared.tools is None or self._shared.tools[0] != key:
            schemas = state.tools.schemas()
            tokens = counter.count(state.tools.schemas_json(compact=False)) if schemas else 0
            self._shared.tools = (key, schemas, tokens)
        return self._shared.tools[1], self._shared.tools[2]


def fit_parts(tally: PartsTally, room: int, counter: TokenCounter
              ) -> tuple[PartsTally, list[int]]:
    """Keep the newest of the tallied parts that fit in `room` tokens, dropping whole parts
    oldest first; if the newest alone is too big, cut its tool outputs (never the calls).
    Returns the tally of the kept parts (`tally` itself when all fit) and the steps
    dropped for the budget."""
    parts, tokens = tally.parts, tally.tokens
    if tokens <= room:
        return tally, []
    # the first part from which the rest fits, but never past the newest
    start = min(bisect_left(tally.marks, tokens - room, key=attrgetter("tokens")), len(parts) - 1)
    kept = parts[start:]
    dropped = [i for p in parts[:start] for i in p.steps]
    if kept and tokens - tally.tokens_before(start) > room:
        cut = _cut_outputs(kept[-1], room, counter)
        if cut is None:
            dropped += kept[-1].steps
            kept = []
        else:
            kept = [cut]
    return PartsTally.of(kept, counter), dropped


def _cut_outputs(part: Part, room: int, counter: TokenCounter) -> Part | None:
    """The part with its tool outputs (and, if need be, its text) cut to fit `room`."""
    fixed = sum(counter.message(m) - counter.count(m.content) for m in part.messages)
    cuttable = [m for m in part.messages if m.role == "tool" and m.content] \
        or [m for m in part.messages if m.content]
    if fixed > room or not cuttable:
        return None
    share = (room - fixed - sum(counter.count(m.content) for m in part.messages
                                if m.content and not any(m is c for c in cuttable))) // len(cuttable)
    if share < 0:
        return None
    messages = [m.model_copy(update={"content": counter.fit(m.content or "", share)})
                if any(m is c for c in cuttable) else m for m in part.messages]
    if counter.messages(messages) > room:
        return None
    return Part(messages, part.steps, "truncated")


def _render(section: ContextSection) -> str:
    if section.trusted:
        return section.text
    return fence(section.text, f"section:{section.name}", items=",".join(section.items))


def _run_model(state: AgentState) -> str:
    events = state.trajectory.events
    return events[0].model if events and isinstance(events[0], TaskStarted) else ""
