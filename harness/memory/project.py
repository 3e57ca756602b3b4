"""`ProjectMemory`: the default memory: an event log, its projections, recall and the gate.

    memory = ProjectMemory(root=workspace / ".harness/memory")
    agent = Agent(model, memory=memory, workspace=workspace)

Everything is rebuilt from `events.jsonl`: the search index (`index.sqlite`) catches up
incrementally, the structured projection is folded from it, and `rebuild()` writes
byte-reproducible views (`views/state.json`, `views/summary.md`). Lines of the log that
cannot be read are warned about (`MemoryLogWarning`, naming file and line) on every open
and listed by `problems` until the log no longer holds them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from harness.events import Event, GateWarning, LineProblem
from harness.llm.base import estimate_tokens
from harness.memory import gate
from harness.memory.approach import command_forms
from harness.memory.base import Recalled
from harness.memory.events import (
    ID_PREFIX,
    Attempt,
    Fact,
    Forget,
    Fragile,
    Issue,
    MemoryEvent,
    Note,
    ProjectDecision,
    RecordedAction,
    Supersede,
    new_id,
)
from harness.memory.hygiene import UNDEDUPED, HygieneReport, find_duplicate, report
from harness.memory.index import SearchIndex, dup_key
from harness.memory.log import MemoryLog, MemoryLogWarning
from harness.memory.projection import Projection, claim_key
from harness.memory.recall import RecallConfig, hybrid_recall
from harness.memory.recorder import AttemptRecorder, is_check
from harness.memory.summary import Summary, render_summary
from harness.messages import ToolCall
from harness.state import AgentState, ContextSection, Section
from harness.tools.effects import Effects

DEFAULT_ROOT = Path(".harness") / "memory"


class MemoryIdError(ValueError):
    """An event was given an id that the memory already holds."""


class ProjectMemory:
    """Event-sourced project memory with hybrid recall, hygiene and a pre-action gate.

    `root` is the memory directory (default `.harness/memory`); `workspace` is where
    relative paths live (default: the folder holding `.harness/`). With `record=True` the
    memory records attempts and outcomes from the trajectory events the loop shows it.
    Before each model call it contributes its summary (`Section.MEMORY`) and the `recall_k`
    items most relevant to the task (`Section.RECALLED`, recalled once a run). Each run
    gets its own view of the memory (`for_run`): the same store, the run's own recorder.
    """

    name = "project"

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_ROOT, *,
                 workspace: str | os.PathLike[str] | None = None,
                 recall_config: RecallConfig | None = None, budget_tokens: int = 800,
                 record: bool = True, author: str = "", recall_k: int = 5):
        self.root = Path(root)
        if workspace is None and self.root.name == "memory" and self.root.parent.name == ".harness":
            workspace = self.root.resolve().parent.parent
        self.workspace = str(workspace) if workspace is not None else None
        self.log = MemoryLog(self.root / "events.jsonl")
        self.index = SearchIndex(self.root / "index.sqlite", self.log, self.workspace)
        self.recall_config = recall_config or RecallConfig()
        self.budget_tokens = budget_tokens
        self.author = author
        self.record = record
        self.recall_k = recall_k
        self.recorder = AttemptRecorder(self._open_issue, self.is_check) if record else None
        self._projection = Projection()
        self._seq = 0
        self._generation = -1
        self._warned: set[tuple[int, str]] = set()
        self.sync()

    # -- keeping up with the log --------------------------------------------------------
    def sync(self) -> None:
        """Index what the log gained (from any process). Recall needs nothing more. Each
        unreadable line is warned about once per opened memory."""
        self.index.sync()
        for problem in self.problems:
            if (problem.line, problem.error) not in self._warned:
                self._warned.add((problem.line, problem.error))
                warnings.warn(f"skipped {problem}", MemoryLogWarning, stacklevel=3)

    @property
    def problems(self) -> list[LineProblem]:
        """The lines of the log that cannot be read (torn or corrupt), until fixed."""
        return self.index.problems()

    def refresh(self) -> Projection:
        """Sync, then fold what the index gained into the structured projection (which is
        only built when something asks for it: the gate, the summary, hygiene)."""
        self.sync()
        if self.index.generation != self._generation:
            self._projection, self._seq = Projection(), 0
            self._generation = self.index.generation
        for seq, event in self.index.structured(self._seq):
            self._projection.apply(event)
            self._seq = seq
        self._seq = max(self._seq, self.index.last_seq())
        return self._projection

    @property
    def projection(self) -> Projection:
        return self.refresh()

    def events(self) -> list[MemoryEvent]:
        """Every readable event of the log, in order."""
        return [e for _, e in self.log.read(warn=False).events]

    # -- writing ----------------------------------------------------------------------------
    def add(self, event: MemoryEvent, *, hygiene: bool = True) -> str:
        """Store an event; returns its id, or the id of the item it duplicates."""
        return self.add_many([event], hygiene=hygiene)[0]

    def add_many(self, events: Iterable[MemoryEvent], *, hygiene: bool = True) -> list[str]:
        """Store events in one locked write. With `hygiene`, duplicates of live items are
        merged (their id is returned instead) and ids already held are refused."""
        batch = list(events)
        ids: list[str] = []
        to_write: list[MemoryEvent] = []
        if hygiene:
            self.sync()
        seen_in_batch: dict[str, str] = {}
        for event in batch:
            if not event.author:
                event.author = self.author
            if hygiene:
                if event.id and self.index.payload(event.id):
                    raise MemoryIdError(f"{self.log.path}: id {event.id!r} is already in memory")
                dup = find_duplicate(self.index, event)
                key = dup_key(event) if event.kind not in UNDEDUPED else ""
                if dup is None and key in seen_in_batch:
                    dup = (seen_in_batch[key], "exact")
                if dup is not None:
                    ids.append(dup[0])
                    continue
                if not event.id:
                    event.id = new_id(ID_PREFIX[event.kind])
                if key:
                    seen_in_batch[key] = event.id
            to_write.append(event)
            ids.append("")
        written = iter(self.log.append(to_write))
        ids = [i or next(written).id for i in ids]
        if hygiene:
            self.sync()
        return ids

    def note(self, text: str, **fields: Any) -> str:
        return self.add(Note(text=text, **fields))

    def issue(self, title: str, files: Iterable[str] = (), **fields: Any) -> str:
        return self.add(Issue(title=title, files=list(files), **fields))

    def attempt(self, approach: str, *, action: RecordedAction | dict[str, Any] | None = None,
                outcome: Literal["failed", "succeeded", "pending"] = "pending",
                **fields: Any) -> str:
        act = RecordedAction.model_validate(action) if isinstance(action, dict) else action
        return self.add(Attempt(approach=approach, action=act, outcome=outcome, **fields))

    def decision(self, title: str, rule: str = "", files: Iterable[str] = (), **fields: Any) -> str:
        return self.add(ProjectDecision(title=title, rule=rule, files=list(files), **fields))

    def fragile(self, path: str, reason: str = "", **fields: Any) -> str:
        return self.add(Fragile(path=path, reason=reason, **fields))

    def fact(self, subject: str, claim: str, *, supersede: bool = False, **fields: Any) -> str:
        """Record a fact. With `supersede=True` it replaces every live fact on the subject;
        otherwise a disagreeing fact stays an open contradiction until one is superseded."""
        fact_id = self.add(Fact(subject=subject, claim=claim, **fields))
        if supersede:
            olds = [f.id for f in self.projection.facts()
                    if claim_key(f.subject) == claim_key(subject) and f.id != fact_id]
            self.add_many([Supersede(old=o, new=fact_id, reason="newer fact on the subject")
                           for o in olds])
        return fact_id

    def supersede(self, old: str, new: str = "", reason: str = "") -> str:
        return self.add(Supersede(old=old, new=new, reason=reason))

    def forget(self, target: str, reason: str = "") -> str:
        return self.add(Forget(target=target, reason=reason))

    # -- reading ----------------------------------------------------------------------------
    def recall(self, query: str, k: int = 5, *, kinds: Iterable[str] | None = None,
               since: float | None = None, budget_tokens: int | None = None) -> list[Recalled]:
        """The `k` most relevant live items, fused from lexical, graph and recency signals,
        cut to `budget_tokens` (estimated) when given."""
        self.sync()
        hits = hybrid_recall(self.index, query, k, self.recall_config,
                             list(kinds) if kinds else None, since)
        out: list[Recalled] = []
        used = 0
        for h in hits:
            cost = estimate_tokens(h.text)
            if budget_tokens is not None and used + cost > budget_tokens:
                break
            used += cost
            out.append(Recalled(id=h.item_id, text=h.text, score=round(h.score, 6), kind=h.kind,
                                provenance=list(h.provenance)))
        return out

    def check(self, call: ToolCall | RecordedAction | dict[str, Any],
              effects: Effects | None = None) -> list[GateWarning]:
        """The pre-action gate: warnings (citing memory ids) for a tool call; `effects` is
        what its tool declares it does (None: the tool is known by its name only)."""
        if isinstance(call, ToolCall):
            action = RecordedAction(tool=call.name, args=call.arguments)
        elif isinstance(call, dict):
            action = RecordedAction(tool=call.get("tool") or call.get("name", ""),
                            args=call.get("args") or call.get("arguments") or {})
        else:
            action = call
        return gate.check(self.projection, action, self.workspace, effects)

    def summary(self, budget_tokens: int | None = None) -> str:
        """Open issues and their failed attempts, failed approaches, live decisions,
        fragile files and key facts, within the budget."""
        return self._summary(budget_tokens).text

    def _summary(self, budget_tokens: int | None = None) -> Summary:
        return render_summary(self.projection, budget_tokens or self.budget_tokens, self.workspace)

    def hygiene(self) -> HygieneReport:
        proj = self.refresh()
        return report(self.index, proj, self.problems, int(self.index._meta("lines") or 0))

    def rebuild(self) -> dict[str, Path]:
        """Re-index the whole log and write the views; returns their paths."""
        self.index.rebuild()
        proj = self.refresh()
        views = self.root / "views"
        views.mkdir(parents=True, exist_ok=True)
        out = {"state": views / "state.json", "summary": views / "summary.md"}
        out["state"].write_text(proj.to_json(), encoding="utf-8")
        out["summary"].write_text(render_summary(proj, 10**9, self.workspace).text + "\n",
                                  encoding="utf-8")
        return out

    # -- the agent loop's side ------------------------------------------------------------------
    def observe(self, event: Event) -> list[str]:
        """Record what a trajectory event implies (attempts, outcomes, issues, fixes)."""
        return self.record_from(self.recorder, event)

    def record_from(self, recorder: AttemptRecorder | None, event: Event) -> list[str]:
        """Store what `recorder` makes of `event`; the ids stored."""
        recorded = recorder.observe(event) if recorder is not None else []
        return self.add_many(recorded, hygiene=False) if recorded else []

    def context(self, state: AgentState) -> list[ContextSection]:
        """The summary, and the items recalled for the task that it does not show."""
        summary = self.summary_section()
        recalled = self.recalled(state.task, exclude=summary.items if summary else ())
        return [s for s in (summary, recalled) if s is not None]

    def summary_section(self) -> ContextSection | None:
        summary = self._summary()
        return ContextSection(name=Section.MEMORY, text=summary.text, priority=70,
                              items=summary.items) if summary.text else None

    def recalled(self, query: str, exclude: Iterable[str] = ()) -> ContextSection | None:
        """The `recall_k` items most relevant to `query`, as a section (None if none)."""
        shown = set(exclude)
        items = [r for r in self.recall(query, self.recall_k) if r.id not in shown] \
            if self.recall_k and query.strip() else []
        if not items:
            return None
        return ContextSection(name=Section.RECALLED, priority=65, items=[r.id for r in items],
                              text="Recalled from project memory:\n" + "\n".join(
                                  f"- [{r.id}] {' '.join(r.text.split())}" for r in items))

    def for_run(self, state: AgentState) -> ProjectMemoryRun:
        return ProjectMemoryRun(self, state)

    def close(self) -> None:
        self.index.close()

    def is_check(self, command: str) -> bool:
        """Whether a command is a check: known by its form, or one whose failure opened
        an issue in memory (so re-running it in a later session is no approach)."""
        if is_check(command):
            return True
        forms = command_forms(command, self.workspace)
        return any(forms & command_forms(i.check, self.workspace)
                   for i in self.projection.live("issue") if i.check)

    def _open_issue(self, title: str) -> str | None:
        key = claim_key(title)
        for issue in self.projection.open_issues():
            if claim_key(issue.title) == key:
                return issue.id
        return None


class ProjectMemoryRun:
    """Project memory as one run sees it: the shared store (every read and write goes to
    it), the run's own recorder of attempts and outcomes, and the items recalled for the
    run's task (recalled once, at its first context)."""

    def __init__(self, memory: ProjectMemory, state: AgentState):
        self.memory = memory
        self.recorder = AttemptRecorder(memory._open_issue, memory.is_check) \
            if memory.record else None
        self._recalled: ContextSection | None | bool = False  # False: not recalled yet

    def __getattr__(self, name: str) -> Any:
        return getattr(self.memory, name)

    def observe(self, event: Event) -> list[str]:
        """Record what a trajectory event implies (attempts, outcomes, issues, fixes)."""
        return self.memory.record_from(self.recorder, event)

    def context(self, state: AgentState) -> list[ContextSection]:
        summary = self.memory.summary_section()
        if self._recalled is False:
            self._recalled = self.memory.recalled(state.task,
                                                  exclude=summary.items if summary else ())
        return [s for s in (summary, self._recalled) if isinstance(s, ContextSection)]

