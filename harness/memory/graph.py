"""The memory as a graph: a deterministic networkx projection of the structured events.

Nodes are memory events (attributes `kind`, `live`, `label`) and the things they name
(`file:PATH`, `subject:TEXT`); edges say how they relate: `attempt-of`, `fixes`,
`fixed-by`, `superseded-by`, `retired-by`, `touches`, `about`, `related`. Recall keeps its
own compact link tables in the index for speed; this view is for analysis and integrity
questions: what hangs together, what is cut off, what a change would touch.

    g = memory_graph(memory.projection)
    g.successors("file:src/auth.py")  # nothing: file nodes only receive edges
    [n for n in g.predecessors("file:src/auth.py")]  # every event that touches the file
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.memory.events import Attempt, Fact, Fix, Fragile, Issue, Note, ProjectDecision
from harness.memory.paths import normalize_path
from harness.memory.projection import Projection

if TYPE_CHECKING:
    import networkx as nx


def memory_graph(projection: Projection) -> nx.MultiDiGraph[str]:
    """Build a `networkx.MultiDiGraph` of the projection; the same projection always gives
    the same graph (nodes and edges are added in log order)."""
    import networkx as nx

    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for eid in projection.order:
        event = projection.events[eid]
        g.add_node(eid, kind=event.kind, live=eid not in projection.retired,
                   label=_label(event))
    for eid in projection.order:
        event = projection.events[eid]
        for target, relation in _edges(event):
            if relation in ("touches", "about") and target not in g:
                g.add_node(target, kind=target.split(":", 1)[0], live=True, label=target)
            if target in g:
                g.add_edge(eid, target, relation=relation)
        for rel in event.related:
            if rel in g:
                g.add_edge(eid, rel, relation="related")
    for old, retiring in projection.retired.items():
        if old in g and retiring in g:
            g.add_edge(old, retiring, relation="retired-by")
    for old, new in projection.successor.items():
        if old in g and new in g:
            g.add_edge(old, new, relation="superseded-by")
    return g


def cut_off(graph: nx.MultiDiGraph[str]) -> list[str]:
    """Live attempts and fixes that reach no issue: work the memory cannot place."""
    out = []
    for node, data in graph.nodes(data=True):
        if data["kind"] in ("attempt", "fix") and data["live"]:
            relations = {d["relation"] for _, _, d in graph.out_edges(node, data=True)}
            if not relations & {"attempt-of", "fixes"}:
                out.append(node)
    return out


def _edges(event: Any) -> list[tuple[str, str]]:
    edges: list[tuple[str, str]] = []
    if isinstance(event, Attempt) and event.issue:
        edges.append((event.issue, "attempt-of"))
    if isinstance(event, Fix):
        edges.append((event.issue, "fixes"))
        if event.attempt:
            edges.append((event.attempt, "fixed-by"))
    if isinstance(event, Issue | Attempt | ProjectDecision | Note):
        edges += [(f"file:{normalize_path(p)}", "touches") for p in event.files]
    if isinstance(event, Fragile):
        edges.append((f"file:{normalize_path(event.path)}", "touches"))
    if isinstance(event, Fact):
        edges.append((f"subject:{event.subject.strip().lower()}", "about"))
    return edges


def _label(event: Any) -> str:
    for name in ("title", "approach", "claim", "path", "summary", "text", "reason"):
        value = getattr(event, name, "")
        if value:
            return str(value)[:80]
    return event.kind
