"""The structured view of memory: a deterministic fold over the log.

Issues with their attempts and fixes, live decisions, fragile files, facts and their
contradictions, and what was retired by whom. Notes are only counted here (their text
lives in the search index). Applying the same events in the same order always yields
the same state, and `to_json()` renders it byte-for-byte reproducibly.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.memory.events import (
    Attempt,
    Fact,
    Fix,
    Forget,
    Fragile,
    Issue,
    MemoryEvent,
    ProjectDecision,
    Supersede,
)

STRUCTURED = ("issue", "attempt", "fix", "decision", "fact", "fragile", "supersede", "forget")


def claim_key(text: str) -> str:
    """A claim or subject with case, spacing and punctuation removed, for comparison."""
    return " ".join(re.findall(r"\w+", text.lower()))


@dataclass
class Projection:
    """Structured state folded from memory events in log order."""

    events: dict[str, MemoryEvent] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    by_kind: dict[str, list[str]] = field(default_factory=dict)
    retired: dict[str, str] = field(default_factory=dict)
    """Retired event id -> id of the supersede/forget event that retired it."""
    successor: dict[str, str] = field(default_factory=dict)
    """Superseded event id -> the id that replaced it (when given)."""
    kinds: Counter[str] = field(default_factory=Counter)
    with_provenance: int = 0
    collisions: list[str] = field(default_factory=list)
    """Ids that appeared more than once in the log (the first one is kept)."""
    dangling: list[str] = field(default_factory=list)
    """Ids of supersede/forget/fix events that point at an unknown event."""
    by_issue: dict[str, list[str]] = field(default_factory=dict)
    """Issue id -> ids of the attempts filed under it, in log order."""
    _live: dict[str, tuple[tuple[int, int], list[Any]]] = field(
        default_factory=dict, repr=False, compare=False)
    """kind -> (sizes it was computed at, live events): views ask for the same kinds
    many times between appends."""

    def apply(self, event: MemoryEvent) -> None:
        self.kinds[event.kind] += 1
        self.with_provenance += bool(event.provenance)
        if event.kind not in STRUCTURED:
            return
        if event.id in self.events:
            self.collisions.append(event.id)
            return
        self.events[event.id] = event
        self.order.append(event.id)
        self.by_kind.setdefault(event.kind, []).append(event.id)
        if isinstance(event, Attempt) and event.issue:
            self.by_issue.setdefault(event.issue, []).append(event.id)
        if isinstance(event, Supersede):
            self._retire(event.old, event.id)
            if event.new:
                self.successor[event.old] = event.new
        elif isinstance(event, Forget):
            self._retire(event.target, event.id)
        elif isinstance(event, Fix) and event.attempt and event.attempt not in self.events:
            self.dangling.append(event.id)

    def _retire(self, target: str, by: str) -> None:
        if target not in self.events:
            self.dangling.append(by)
        self.retired.setdefault(target, by)

    def live(self, kind: str) -> list[Any]:
        """Events of a kind that are neither superseded nor forgotten, in log order."""
        ids = self.by_kind.get(kind, ())
        sizes = (len(ids), len(self.retired))  # both only grow
        cached = self._live.get(kind)
        if cached is None or cached[0] != sizes:
            cached = sizes, [self.events[i] for i in ids if i not in self.retired]
            self._live[kind] = cached
        return list(cached[1])

    # -- views -------------------------------------------------------------------------
    def attempts(self, issue: str | None = None) -> list[Attempt]:
        if issue is None:
            return self.live("attempt")
        events = (self.events[i] for i in self.by_issue.get(issue, ()) if i not in self.retired)
        return [e for e in events if isinstance(e, Attempt)]  # by_issue holds only attempts

    def fixed(self) -> dict[str, str]:
        """Issue id -> id of the fix that closed it."""
        return {f.issue: f.id for f in self.live("fix")}

    def open_issues(self) -> list[Issue]:
        fixed = self.fixed()
        return [i for i in self.live("issue") if i.id not in fixed]

    def decisions(self) -> list[ProjectDecision]:
        return self.live("decision")

    def fragile(self) -> list[Fragile]:
        return self.live("fragile")

    def facts(self) -> list[Fact]:
        return self.live("fact")

    def contradictions(self) -> list[tuple[str, list[str]]]:
        """(subject, fact ids) for every subject whose live facts disagree."""
        by_subject: dict[str, list[Fact]] = {}
        for fact in self.facts():
            by_subject.setdefault(claim_key(fact.subject), []).append(fact)
        out = []
        for subject, facts in by_subject.items():
            if len({claim_key(f.claim) for f in facts}) > 1:
                out.append((subject, [f.id for f in facts]))
        return out

    def orphan_attempts(self) -> list[str]:
        """Attempts naming an issue that does not exist."""
        return [a.id for a in self.attempts() if a.issue and a.issue not in self.events]

    def to_json(self) -> str:
        """The state as canonical JSON (sorted keys, log order inside lists)."""
        fixed = self.fixed()
        issues = []
        for issue in self.live("issue"):
            issues.append({"id": issue.id, "title": issue.title, "files": issue.files,
                           "status": "fixed" if issue.id in fixed else "open",
                           "fix": fixed.get(issue.id),
                           "attempts": [_brief(a) for a in self.attempts(issue.id)]})
        state = {
            "counts": dict(sorted(self.kinds.items())),
            "issues": issues,
            "unfiled_attempts": [_brief(a) for a in self.attempts() if not a.issue],
            "decisions": [e.model_dump(mode="json") for e in self.decisions()],
            "fragile": [e.model_dump(mode="json") for e in self.fragile()],
            "facts": [e.model_dump(mode="json") for e in self.facts()],
            "contradictions": [{"subject": s, "facts": ids} for s, ids in self.contradictions()],
            "retired": dict(sorted(self.retired.items())),
        }
        return json.dumps(state, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _brief(a: Attempt) -> dict[str, Any]:
    return {"id": a.id, "approach": a.approach, "outcome": a.outcome, "error": a.error,
            "action": a.action.model_dump(mode="json") if a.action else None}
