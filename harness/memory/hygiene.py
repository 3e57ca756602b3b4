"""Memory hygiene: duplicates caught on write, and a report of everything that can rot.

On write, an exact duplicate (same kind, thread and normalised text) or a near
duplicate (same kind and thread, word overlap >= `NEAR_DUPLICATE`) is merged into the
item already stored rather than stored twice. The report measures what users of other
memory systems complain about: duplicates, stale items still served, contradictions
served side by side, dangling links, events without provenance, unreadable log lines.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from harness.events import LineProblem
from harness.memory.events import MemoryEvent, Note
from harness.memory.index import SearchIndex, dup_key, words
from harness.memory.projection import Projection

UNDEDUPED = frozenset({"supersede", "forget", "fix", "attempt"})
"""Kinds that record events rather than knowledge: repeating one is information."""
NEAR_DUPLICATE = 0.9
"""Jaccard overlap of word sets above which two items of one kind and thread are one."""


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def find_duplicate(index: SearchIndex, event: MemoryEvent) -> tuple[str, str] | None:
    """(existing id, "exact" | "near") when the event repeats a live item."""
    if event.kind in UNDEDUPED:
        return None
    existing = index.find_dup(dup_key(event))
    if existing:
        return existing, "exact"
    text = event.search_text()
    mine = set(words(text))
    if len(mine) < 4:
        return None
    thread = event.thread if isinstance(event, Note) else ""
    rows = index.rows(seq for seq, _ in index.lexical(text, 3, [event.kind]))
    for item_id, _, _, other_thread, _, other_text, _ in rows.values():
        if (other_thread or "") == thread and jaccard(mine, set(words(other_text))) >= NEAR_DUPLICATE:
            return item_id, "near"
    return None


class ContradictionInfo(BaseModel):
    """Live facts on one subject that disagree."""

    subject: str
    facts: list[str]


class HygieneReport(BaseModel):
    """The state of a memory's health (`harness memory doctor`)."""

    events: int
    live_items: int
    kinds: dict[str, int]
    duplicate_rate: float
    """Live items that repeat another live item, over live items."""
    stale_served_rate: float
    """Over probe queries (the text of every retired item), the share of served items
    that are superseded or forgotten. Anything above 0 means the index serves stale data."""
    stale_probes: int
    open_contradictions: list[ContradictionInfo]
    dangling_links: list[str]
    """Supersede, forget and fix events that point at an unknown event."""
    id_collisions: list[str]
    provenance_coverage: float
    orphan_attempts: list[str]
    log_problems: list[LineProblem] = Field(default_factory=list)
    log_lines: int = 0

    @property
    def healthy(self) -> bool:
        return (not self.open_contradictions and not self.dangling_links
                and not self.log_problems and not self.id_collisions
                and self.stale_served_rate == 0 and self.duplicate_rate == 0)


def report(index: SearchIndex, projection: Projection, problems: list[LineProblem],
           log_lines: int, max_probes: int = 200) -> HygieneReport:
    db = index.db
    total = index.count()
    live = db.execute("SELECT COUNT(*) FROM items WHERE live=1 AND text IS NOT NULL").fetchone()[0]
    with_prov = db.execute("SELECT COUNT(*) FROM items WHERE "
                           "json_array_length(json_extract(json, '$.provenance')) > 0").fetchone()[0]
    retired = set(projection.retired)
    probes = db.execute("SELECT text FROM items WHERE live=0 AND text IS NOT NULL "
                        "ORDER BY seq LIMIT ?", (max_probes,)).fetchall()
    served = stale = 0
    for (text,) in probes:
        hits = index.rows(seq for seq, _ in index.lexical(text, 5))
        ids = [row[0] for row in hits.values()]
        served += len(ids)
        stale += sum(i in retired for i in ids)
    # Items the index still serves although the projection retired them:
    stale += db.execute(f"SELECT COUNT(*) FROM items WHERE live=1 AND id IN "
                        f"({','.join('?' * len(retired))})", sorted(retired)).fetchone()[0] \
        if retired else 0
    return HygieneReport(
        events=total, live_items=live, kinds=index.kind_counts(),
        duplicate_rate=index.duplicate_groups() / live if live else 0.0,
        stale_served_rate=stale / served if served else float(stale > 0),
        stale_probes=len(probes),
        open_contradictions=[ContradictionInfo(subject=s, facts=ids)
                             for s, ids in projection.contradictions()],
        dangling_links=list(projection.dangling), id_collisions=list(projection.collisions),
        provenance_coverage=with_prov / total if total else 1.0,
        orphan_attempts=projection.orphan_attempts(),
        log_problems=list(problems), log_lines=log_lines)
