"""The networkx view of memory: relations, retirement, files however written, determinism."""

import networkx as nx

from harness.memory import ProjectMemory
from harness.memory.events import Fix
from harness.memory.graph import cut_off, memory_graph


def build(tmp_path):
    m = ProjectMemory(tmp_path / ".harness" / "memory", workspace=tmp_path)
    issue = m.issue("Login fails behind the proxy", files=["./src/auth.py"])
    bad = m.attempt("Trust X-Forwarded-For", issue=issue, outcome="failed",
                    files=["src/auth.py"], error="spoofable")
    good = m.attempt("Use the proxy's signed header", issue=issue, outcome="succeeded",
                     files=["src/auth.py"])
    fix = m.add(Fix(issue=issue, attempt=good))
    stray = m.attempt("Restart the worker", outcome="failed")
    return m, issue, bad, good, fix, stray


def test_graph_links_attempts_fixes_and_files(tmp_path):
    m, issue, bad, good, fix, _ = build(tmp_path)
    g = memory_graph(m.projection)
    assert isinstance(g, nx.MultiDiGraph)
    rel = {(u, v, d["relation"]) for u, v, d in g.edges(data=True)}
    assert {(bad, issue, "attempt-of"), (good, issue, "attempt-of"), (fix, issue, "fixes"),
            (fix, good, "fixed-by")} <= rel
    touching = sorted(u for u, _, d in g.in_edges("file:src/auth.py", data=True)
                      if d["relation"] == "touches")
    assert touching == sorted([issue, bad, good])  # './src/auth.py' is 'src/auth.py'


def test_supersession_retires_a_node_and_is_an_edge(tmp_path):
    m, issue, bad, good, *_ = build(tmp_path)
    sup = m.supersede(bad, good, reason="approach rejected in review")
    g = memory_graph(m.projection)
    assert g.nodes[bad]["live"] is False and g.nodes[good]["live"] is True
    rel = {(u, v, d["relation"]) for u, v, d in g.edges(data=True)}
    assert (bad, sup, "retired-by") in rel and (bad, good, "superseded-by") in rel


def test_cut_off_finds_live_attempts_with_no_issue(tmp_path):
    m, *_, stray = build(tmp_path)
    assert cut_off(memory_graph(m.projection)) == [stray]


def test_the_same_log_gives_the_same_graph(tmp_path):
    m, *_ = build(tmp_path)
    a = memory_graph(m.projection)
    b = memory_graph(ProjectMemory(tmp_path / ".harness" / "memory", workspace=tmp_path).projection)
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(data=True)) == list(b.edges(data=True))
