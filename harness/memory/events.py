"""Typed memory events: the records of the project memory's append-only log.

Every event carries a stable `id`, a time, who wrote it (`author`, `run_id`) and its
`provenance` (the trajectory event ids or external source ids it came from). The JSON
of these models is the log's file format.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


def new_id(prefix: str = "m") -> str:
    """A fresh id: milliseconds since the epoch plus 64 random bits, so ids written by
    any number of processes never collide and sort roughly by time."""
    return f"{prefix}-{int(time.time() * 1000):011x}{os.urandom(8).hex()}"


class RecordedAction(BaseModel):
    """A tool call as memory stores it: the tool name and its arguments."""

    model_config = ConfigDict(extra="forbid")

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class MemoryEventBase(BaseModel):
    """Fields every memory event carries."""

    model_config = ConfigDict(extra="forbid")

    id: str = ""
    ts: float = Field(default_factory=time.time)
    author: str = ""
    run_id: str = ""
    provenance: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    """Ids this event is linked to (e.g. a near-duplicate it was merged with)."""

    def search_text(self) -> str:
        """The searchable text of the event."""
        return ""

    def paths(self) -> list[str]:
        """Workspace paths the event is about."""
        return []


class Issue(MemoryEventBase):
    """A problem being worked on."""

    kind: Literal["issue"] = "issue"
    title: str
    files: list[str] = Field(default_factory=list)
    check: str = ""
    """The command whose failure showed the problem (a check, never an approach)."""

    def search_text(self) -> str:
        return f"issue: {self.title} {' '.join(self.files)}"

    def paths(self) -> list[str]:
        return list(self.files)


class Attempt(MemoryEventBase):
    """One try at an issue: the approach in words, the action taken and its outcome."""

    kind: Literal["attempt"] = "attempt"
    issue: str | None = None
    approach: str = ""
    action: RecordedAction | None = None
    outcome: Literal["failed", "succeeded", "pending"] = "pending"
    error: str = ""
    files: list[str] = Field(default_factory=list)

    def search_text(self) -> str:
        return f"attempt {self.outcome}: {self.approach} {self.error} {' '.join(self.paths())}"

    def paths(self) -> list[str]:
        path = (self.action.args.get("path") if self.action else None)
        return [*self.files, *([path] if isinstance(path, str) and path not in self.files else [])]


class Fix(MemoryEventBase):
    """An issue was fixed, by an attempt."""

    kind: Literal["fix"] = "fix"
    issue: str
    attempt: str | None = None
    summary: str = ""

    def search_text(self) -> str:
        return f"fix of {self.issue}: {self.summary}"


class ProjectDecision(MemoryEventBase):
    """A project decision: what, why, the paths it binds (a path ending in '/' binds a
    directory) and the rule it implies. (Its log `kind` is "decision".)"""

    kind: Literal["decision"] = "decision"
    title: str
    why: str = ""
    files: list[str] = Field(default_factory=list)
    rule: str = ""

    def search_text(self) -> str:
        return f"decision: {self.title}. {self.rule} {self.why} {' '.join(self.files)}"

    def paths(self) -> list[str]:
        return list(self.files)


class Fact(MemoryEventBase):
    """A claim about a subject. Two live facts on one subject that disagree are an open
    contradiction until one supersedes the other."""

    kind: Literal["fact"] = "fact"
    subject: str
    claim: str

    def search_text(self) -> str:
        return f"{self.subject}: {self.claim}"


class Note(MemoryEventBase):
    """Free text. `thread` and `entities` give it structure: notes of one thread are linked
    to their neighbours in log order (a conversation session, a run), and notes sharing an
    entity (a speaker, a module) are linked to each other."""

    kind: Literal["note"] = "note"
    text: str
    thread: str = ""
    entities: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)

    def search_text(self) -> str:
        return self.text

    def paths(self) -> list[str]:
        return list(self.files)


class Fragile(MemoryEventBase):
    """A file that must not be changed casually, and why."""

    kind: Literal["fragile"] = "fragile"
    path: str
    reason: str = ""

    def search_text(self) -> str:
        return f"fragile file {self.path}: {self.reason}"

    def paths(self) -> list[str]:
        return [self.path]


class Supersede(MemoryEventBase):
    """`new` replaces `old`: the old event stays in the log but is no longer served, a
    superseded failure no longer counts, a superseded decision no longer binds."""

    kind: Literal["supersede"] = "supersede"
    old: str
    new: str = ""
    reason: str = ""


class Forget(MemoryEventBase):
    """Stop serving an event (it stays in the log)."""

    kind: Literal["forget"] = "forget"
    target: str
    reason: str = ""


MemoryEvent = Annotated[
    Issue | Attempt | Fix | ProjectDecision | Fact | Note | Fragile | Supersede | Forget,
    Field(discriminator="kind"),
]
MEMORY_EVENT_ADAPTER: TypeAdapter[MemoryEvent] = TypeAdapter(MemoryEvent)
KINDS = ("issue", "attempt", "fix", "decision", "fact", "note", "fragile", "supersede", "forget")
ID_PREFIX = {"issue": "i", "attempt": "a", "fix": "f", "decision": "d", "fact": "k", "note": "n",
             "fragile": "fr", "supersede": "s", "forget": "x"}
RETIRING = ("supersede", "forget")
"""Kinds that retire other events rather than being served themselves."""


def parse_memory_event(data: str | bytes | dict[str, Any]) -> MemoryEvent:
    """Validate one memory event from JSON text or a dict."""
    if isinstance(data, (str, bytes)):
        return MEMORY_EVENT_ADAPTER.validate_json(data)
    return MEMORY_EVENT_ADAPTER.validate_python(data)


def dump_memory_event(event: MemoryEventBase) -> str:
    """The event's log line (without newline): compact JSON."""
    return event.model_dump_json()
