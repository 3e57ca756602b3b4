"""Hybrid recall: lexical relevance, graph links and recency, fused by reciprocal rank.

1. Lexical: BM25 (SQLite FTS5, Porter stemming, stop words dropped) gives seed items.
2. Graph: the link graph around the seeds, read from the index's link tables
   (neighbours in a thread, shared files, shared issue, shared subject). Each item's
   graph score is its own lexical score plus what its linked seeds pass along, so the
   turn that answers a question ranks well even when the question's words are in the
   turn before it. Items that carry an entity named in the query get a bonus. The graph
   is a few hundred edges held in a dict: one propagation step over it needs no graph
   library (networkx here cost more than the rest of recall together).
3. Recency: newer first.
The rankings are fused with weighted reciprocal rank fusion (RRF), then trimmed to `k`
items and to a token budget. By default the graph ranking (which already holds the
lexical scores) is fused with recency; `RecallConfig.weights` chooses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from harness.memory.index import MAX_POSTINGS, Place, SearchIndex, words

# Relation weights: how much of an item's lexical score flows to a linked item.
LINK_WEIGHTS = {"next": 0.5, "path": 0.3, "issue": 0.3, "subject": 0.3, "ent": 0.0}


@dataclass(frozen=True)
class RecallConfig:
    """Knobs of hybrid recall. `weights` weight each ranking in the fusion."""

    seeds: int = 50
    """Lexical hits that seed the graph (at least `k`)."""
    rrf_k: int = 60
    weights: tuple[tuple[str, float], ...] = (("graph", 1.0), ("recency", 0.1))
    """Rankings to fuse: "graph" (BM25 plus what linked items pass along), "lexical"
    (BM25 alone) and "recency". Measured on LoCoMo, adding the bare lexical ranking
    to the graph ranking dilutes it (the graph ranking already contains it)."""
    entity_bonus: float = 0.2
    max_key_fanout: int = 50
    """Items linked through one shared key (a file, an issue, a subject): the newest."""
    max_postings: int | None = MAX_POSTINGS
    """Bound on the postings BM25 scores for one query, so that latency stays flat as
    memory grows: the rarest query words are searched, more common ones only rescore
    what those found, the most common are left out, and a word too common to search in
    full is searched among the newest items (see `SearchIndex.plan`). Memories no larger
    than the bound are searched exactly; None always searches every word everywhere."""


@dataclass
class Hit:
    seq: int
    item_id: str
    kind: str
    text: str
    score: float
    provenance: list[str]
    channels: dict[str, int]


def links(index: SearchIndex, seeds: dict[int, float],
          cfg: RecallConfig) -> tuple[dict[tuple[int, int], float], dict[int, Place]]:
    """The link graph around the seeds: edges (a, b) with a < b to the items linked to a
    seed (neighbours in a thread; items sharing a file, an issue or a subject), weighted
    by relation (the strongest link between two items counts), and every node's place."""
    places = index.places(seeds)
    edges: dict[tuple[int, int], float] = {}

    def link(a: int, b: int, weight: float) -> None:
        edge = (a, b) if a < b else (b, a)
        if edges.get(edge, 0.0) < weight:
            edges[edge] = weight

    for seq, neighbours in index.thread_neighbours(places).items():
        for other, place in neighbours:
            places.setdefault(other, place)
            link(seq, other, LINK_WEIGHTS["next"])
    linkable = [f"{rel}:" for rel, w in LINK_WEIGHTS.items() if w > 0 and rel != "next"]
    fanout: dict[str, list[tuple[int, Place]]] = {}
    for seq, keys in index.keys_of(seeds, linkable).items():
        for key in keys:
            if key not in fanout:
                fanout[key] = index.with_key(key, cfg.max_key_fanout)
            weight = LINK_WEIGHTS[key.split(":", 1)[0]]
            for other, place in fanout[key]:
                if other != seq:
                    places.setdefault(other, place)
                    link(seq, other, weight)
    return edges, places


def graph_scores(nodes: Iterable[int], edges: dict[tuple[int, int], float],
                 seeds: dict[int, float]) -> dict[int, float]:
    """Own lexical score plus linked seeds' scores times the link weight: one step of
    propagation over the link graph."""
    out = {n: seeds.get(n, 0.0) for n in nodes}
    for (a, b), weight in edges.items():
        out[a] += weight * seeds.get(b, 0.0)
        out[b] += weight * seeds.get(a, 0.0)
    return out


def query_entities(index: SearchIndex, query: str) -> list[str]:
    """Entity keys named in the query (one or two words)."""
    toks = words(query)
    grams = toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
    return index.known_keys(f"ent:{g}" for g in grams)


def hybrid_recall(index: SearchIndex, query: str, k: int, cfg: RecallConfig,
                  kinds: list[str] | None = None, since: float | None = None) -> list[Hit]:
    """The top `k` live items for `query`, fused from lexical, graph and recency ranks."""
    lexical = index.lexical(query, max(cfg.seeds, k), kinds, since, cfg.max_postings)
    if not lexical:
        return []
    top = max(s for _, s in lexical) or 1.0
    seeds = {seq: s / top for seq, s in lexical}
    edges, places = links(index, seeds, cfg)
    allowed = {seq for seq, (kind, ts, _, _) in places.items()
               if (not kinds or kind in kinds) and (since is None or ts >= since)}
    graph = graph_scores(places, edges, seeds)
    entities = query_entities(index, query)
    if entities:
        for seq in index.holding(entities, allowed):
            graph[seq] = graph.get(seq, 0.0) * (1 + cfg.entity_bonus) + 1e-9
    rankings = {
        "lexical": [seq for seq, _ in lexical if seq in allowed],
        "graph": sorted(allowed, key=lambda s: (-graph.get(s, 0.0), -s)),
        "recency": sorted(allowed, key=lambda s: (-places[s][1], -s)),
    }
    fused: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, weight in cfg.weights:
        for rank, seq in enumerate(rankings.get(name, []), start=1):
            fused[seq] = fused.get(seq, 0.0) + weight / (cfg.rrf_k + rank)
            ranks.setdefault(seq, {})[name] = rank
    best = sorted(fused, key=lambda s: (-fused[s], -s))[:k]
    rows = index.rows(best)
    hits = []
    for seq in best:
        item_id, kind, _, _, _, text, payload = rows[seq]
        provenance = json.loads(payload).get("provenance", [])
        hits.append(Hit(seq, item_id, kind, text, fused[seq], provenance, ranks[seq]))
    return hits
