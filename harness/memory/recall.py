"""Hybrid recall: lexical relevance, graph links and recency, fused by reciprocal rank.

1. Lexical: BM25 (SQLite FTS5, Porter stemming, stop words dropped) gives seed items.
2. Graph: a networkx graph over the seeds and the items linked to them (neighbours in a
   thread, shared files, shared issue, shared entities, supersession). Each item's graph
   score is its own lexical score plus what its linked items pass along, so the turn
   that answers a question ranks well even when the question's words are in the turn
   before it. Items that carry an entity named in the query get a bonus.
3. Recency: newer first.
The rankings are fused with weighted reciprocal rank fusion (RRF), then trimmed to `k`
items and to a token budget. By default the graph ranking (which already holds the
lexical scores) is fused with recency; `RecallConfig.weights` chooses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import networkx as nx

from harness.memory.index import SearchIndex, words

# Relation weights: how much of an item's lexical score flows to a linked item.
LINK_WEIGHTS = {"next": 0.5, "path": 0.3, "issue": 0.3, "subject": 0.3, "ent": 0.0}


@dataclass(frozen=True)
class RecallConfig:
    """Knobs of hybrid recall. `weights` weight each ranking in the fusion."""

    seeds: int = 100
    """Lexical hits that seed the graph."""
    rrf_k: int = 60
    weights: tuple[tuple[str, float], ...] = (("graph", 1.0), ("recency", 0.1))
    """Rankings to fuse: "graph" (BM25 plus what linked items pass along), "lexical"
    (BM25 alone) and "recency". Measured on LoCoMo, adding the bare lexical ranking
    to the graph ranking dilutes it (the graph ranking already contains it)."""
    entity_bonus: float = 0.2
    max_key_fanout: int = 50
    max_df: float = 0.01
    prune_floor: int = 1000
    """Query words found in more than `max_df` of the items and in more than
    `prune_floor` items are left out of BM25 (small memories never prune)."""


@dataclass
class Hit:
    seq: int
    item_id: str
    kind: str
    text: str
    score: float
    provenance: list[str]
    channels: dict[str, int]


def build_graph(index: SearchIndex, seeds: dict[int, float], cfg: RecallConfig) -> nx.Graph:
    """The link graph around the seed items."""
    g = nx.Graph()
    g.add_nodes_from(seeds)
    g.add_edges_from(index.thread_links(seeds), rel="next")
    fanout: dict[str, list[int]] = {}
    for seq, keys in index.keys_of(seeds).items():
        for key in keys:
            if LINK_WEIGHTS.get(key.split(":", 1)[0], 0.0) <= 0:
                continue
            if key not in fanout:
                fanout[key] = index.with_key(key, cfg.max_key_fanout)
            g.add_edges_from(((seq, o) for o in fanout[key] if o != seq),
                             rel=key.split(":", 1)[0])
    return g


def graph_scores(g: nx.Graph, seeds: dict[int, float]) -> dict[int, float]:
    """Own lexical score plus linked seeds' scores times the link weight."""
    out = dict.fromkeys(g.nodes, 0.0)
    out.update(seeds)
    for a, b, rel in g.edges(data="rel"):
        w = LINK_WEIGHTS.get(rel, 0.0)
        out[a] += w * seeds.get(b, 0.0)
        out[b] += w * seeds.get(a, 0.0)
    return out


def query_entities(index: SearchIndex, query: str) -> list[str]:
    """Entity keys named in the query (one or two words)."""
    toks = words(query)
    grams = toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
    return [f"ent:{g}" for g in dict.fromkeys(grams) if index.has_key(f"ent:{g}")]


def hybrid_recall(index: SearchIndex, query: str, k: int, cfg: RecallConfig,
                  kinds: list[str] | None = None, since: float | None = None) -> list[Hit]:
    """The top `k` live items for `query`, fused from lexical, graph and recency ranks."""
    lexical = index.lexical(query, cfg.seeds, kinds, since, cfg.max_df,
                            cfg.prune_floor)
    if not lexical:
        return []
    top = max(s for _, s in lexical) or 1.0
    seeds = {seq: s / top for seq, s in lexical}
    g = build_graph(index, seeds, cfg)
    meta = index.meta_rows(g.nodes)
    allowed = {seq for seq, (kind, ts) in meta.items()
               if (not kinds or kind in kinds) and (since is None or ts >= since)}
    graph = graph_scores(g, seeds)
    entities = set(query_entities(index, query))
    if entities:
        keyed = index.keys_of(allowed)
        for seq in allowed:
            if entities & set(keyed.get(seq, ())):
                graph[seq] = graph.get(seq, 0.0) * (1 + cfg.entity_bonus) + 1e-9
    rankings = {
        "lexical": [seq for seq, _ in lexical if seq in allowed],
        "graph": sorted(allowed, key=lambda s: (-graph.get(s, 0.0), -s)),
        "recency": sorted(allowed, key=lambda s: (-meta[s][1], -s)),
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
