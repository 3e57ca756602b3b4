"""Routers, progressive disclosure, load_skill and the loop: what the model sees and why."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from harness.agent import Agent
from harness.events import ModelCalled, SkillsRouted
from harness.llm import ScriptedModel
from harness.skills import (
    EmbeddingRouter,
    HybridRouter,
    LexicalRouter,
    ModelRouter,
    SkillLibrary,
    skill_tools,
)
from harness.skills.disclosure import body_block
from harness.skills.model_router import parse_choice

SKILLS = {
    "bisect-regression": ("Find the commit that introduced a regression with git bisect. Use "
                          "when something worked in an older version and broke since.",
                          "## Mark good and bad\nRun git bisect start, then bisect run a test "
                          "script.\n## Read the result\nThe first bad commit is the culprit.\n"),
    "pandas-analysis": ("Analyse tabular data with pandas: load CSV files, clean, group and "
                        "aggregate, plot.", "## Load\nread_csv with dtypes.\n## Group\ngroupby "
                                             "and agg.\n"),
    "literature-note": ("Write a literature note on a paper: claim, method, evidence, "
                        "limitations.", "## Claim\nOne sentence.\n## Evidence\nTables and "
                                        "figures.\n"),
    "safe-shell": ("Run shell commands safely: quote paths, avoid destructive rm, dry-run "
                   "first.", "## Quoting\nAlways quote variables.\n## Destructive commands\n"
                             "Dry-run first.\n"),
}


def make_library(root: Path, skills: dict = SKILLS, long_body: int = 0) -> SkillLibrary:
    for name, (description, body) in skills.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: {json.dumps(description)}\n---\n# {name}\n{body}"
            + ("\nfiller line about nothing in particular" * long_body))
    return SkillLibrary([root])


def test_lexical_router_ranks_the_matching_skill_first(tmp_path):
    router = LexicalRouter(make_library(tmp_path))
    assert router.rank("the build broke sometime since last release; find which commit")[0][0] \
        == "bisect-regression"
    assert router.rank("group the sales CSV by region and plot it")[0][0] == "pandas-analysis"
    assert router.rank("zzz qqq") == []


def test_stemming_matches_word_forms_the_plain_baseline_misses(tmp_path):
    library = make_library(tmp_path)
    query = "analysing grouped tables"
    assert LexicalRouter(library).rank(query)[0][0] == "pandas-analysis"
    assert LexicalRouter.plain(library).rank(query) == []


def test_routing_is_deterministic_across_fresh_routers_and_ties_break_by_name(tmp_path):
    library = make_library(tmp_path)
    query = "quote the paths before running rm in the shell, then write a note"
    first = LexicalRouter(library).route_query(query)
    second = LexicalRouter(SkillLibrary([tmp_path])).route_query(query)
    assert first.candidates == second.candidates and first.section.text == second.section.text
    twins = make_library(tmp_path / "twins", {"b-twin": ("Same words here.", ""),
                                              "a-twin": ("Same words here.", "")})
    assert [n for n, _ in LexicalRouter(twins, load_confidence=2).rank("same words")] == \
        ["a-twin", "b-twin"]


def test_section_lists_names_and_one_line_descriptions_only_when_not_confident(tmp_path):
    library = make_library(tmp_path)
    router = LexicalRouter(library, load_confidence=2.0)  # never preload
    routing = router.route_query("run git bisect to find the bad commit")
    text = routing.section.text
    assert routing.loaded == [] and routing.candidates[0][0] == "bisect-regression"
    assert "- bisect-regression: Find the commit that introduced a regression with git bisect." in text
    assert "Use when something worked" not in text and "Mark good and bad" not in text
    assert routing.section.items[0] == "bisect-regression"


def test_a_confident_first_candidate_gets_its_body_loaded(tmp_path):
    router = LexicalRouter(make_library(tmp_path), load_confidence=0.3)
    routing = router.route_query("git bisect the regression")
    assert router.confidence(router.rank("git bisect the regression")) >= 0.3
    assert routing.loaded == ["bisect-regression"]
    assert "### Skill: bisect-regression" in routing.section.text
    assert "Mark good and bad" in routing.section.text
    assert "bisect-regression (body)" in routing.section.items


def word_count(text: str) -> int:
    """A counter that is not additive over joined pieces, like a real tokenizer."""
    return len(text.split())


@pytest.mark.parametrize("budget", [20, 40, 60, 90, 200, 2000])
@pytest.mark.parametrize("counter", [None, word_count])
def test_section_never_exceeds_the_token_budget(tmp_path, budget, counter):
    library = make_library(tmp_path, long_body=200)
    kw = {"count_tokens": counter} if counter else {}
    router = LexicalRouter(library, budget_tokens=budget, load_confidence=0.0, top_k=4, **kw)
    routing = router.route_query("shell commands, git bisect, pandas csv and a literature note")
    tokens = router.count_tokens(routing.section.text) if routing.section else 0
    assert tokens <= budget
    if counter is None:
        assert routing.loaded == []  # ~2,400 tokens: the long body fits none of these budgets
    if routing.section is None:
        assert routing.candidates == []
    else:
        assert [n for n, _ in routing.candidates] == routing.section.items[:len(routing.candidates)]
        assert all(f"### Skill: {n}" in routing.section.text for n in routing.loaded)


def test_budget_admits_a_body_only_when_it_fits(tmp_path):
    library = make_library(tmp_path)
    query = "git bisect the regression"
    body_tokens = LexicalRouter(library).count_tokens(body_block(library["bisect-regression"]))
    tight = LexicalRouter(library, budget_tokens=body_tokens, load_confidence=0.0)
    roomy = LexicalRouter(library, budget_tokens=body_tokens + 200, load_confidence=0.0)
    assert tight.route_query(query).loaded == []
    assert roomy.route_query(query).loaded == ["bisect-regression"]


def test_load_skill_tool_returns_the_body_and_lists_references(tmp_path):
    library = make_library(tmp_path)
    refs = tmp_path / "pandas-analysis" / "references"
    refs.mkdir()
    (refs / "pitfalls.md").write_text("SettingWithCopyWarning means a chained assignment.")
    library = SkillLibrary([tmp_path])
    load, read = skill_tools(library)
    from harness.messages import ToolCall
    from harness.tools.base import ToolContext

    ctx = ToolContext(workspace=tmp_path)
    out = load(ToolCall(id="1", name="load_skill", arguments={"name": "pandas-analysis"}), ctx)
    assert out.ok and "read_csv with dtypes" in out.output and "references/pitfalls.md" in out.output
    ref = read(ToolCall(id="2", name="read_skill_file",
                        arguments={"skill": "pandas-analysis", "path": "references/pitfalls.md"}), ctx)
    assert ref.ok and "chained assignment" in ref.output
    typo = load(ToolCall(id="3", name="load_skill", arguments={"name": "pandas-analysys"}), ctx)
    assert not typo.ok and "did you mean pandas-analysis" in typo.error
    escape = read(ToolCall(id="4", name="read_skill_file",
                           arguments={"skill": "safe-shell", "path": "../pandas-analysis/SKILL.md"}),
                  ctx)
    assert not escape.ok and "outside skill" in escape.error


def test_agent_loop_routes_loads_on_demand_and_records_it(tmp_path):
    library = make_library(tmp_path / "skills")
    (tmp_path / "skills" / "pandas-analysis" / "tools.py").write_text(
        "from harness.tools.base import tool\n\n@tool\ndef column_names(csv_text: str) -> str:\n"
        "    \"\"\"Header of a CSV.\"\"\"\n    return csv_text.splitlines()[0]\n")
    router = LexicalRouter(library, load_confidence=2.0)
    seen = []

    def policy(request):
        seen.append(request.text())
        if len(seen) == 1:
            return {"tool": "load_skill", "args": {"name": "pandas-analysis"}}
        if len(seen) == 2:
            return {"tool": "column_names", "args": {"csv_text": "region,sales\nnorth,3"}}
        return "done"

    agent = Agent(ScriptedModel(policy), router=router, tools=skill_tools(library),
                  workspace=tmp_path)
    trajectory = agent.run("summarise the sales CSV grouped by region with pandas")
    routed = trajectory.of_type(SkillsRouted)
    assert routed[0].candidates[0][0] == "pandas-analysis" and routed[0].loaded == []
    assert routed[0].router == "lexical"
    assert routed[1].loaded == ["pandas-analysis"]  # recorded once the model loaded it
    assert "- pandas-analysis: Analyse tabular data" in seen[0]
    assert "read_csv with dtypes" not in seen[0] and "read_csv with dtypes" in seen[1]
    assert "- pandas-analysis (loaded)" in seen[1]
    assert trajectory.finished.status == "answered"
    assert "column_names" not in agent.tools  # the skill's tool joined the run's toolset only
    outputs = [e for e in trajectory if getattr(e, "tool", None) == "column_names"]
    assert outputs[-1].output == "region,sales"


def test_model_router_parses_the_choice_and_caches_it(tmp_path):
    library = make_library(tmp_path)
    asked = []

    def policy(request):
        asked.append(request.text())
        return 'Sure: {"skills": ["safe-shell", "no-such-skill", "bisect-regression"]}'

    model = ScriptedModel(policy)
    router = ModelRouter(library, model, cache_path=tmp_path / "cache.json")
    assert router.rank("clean up the tmp dir") == [("safe-shell", 1.0), ("bisect-regression", 0.5)]
    assert router.rank("clean up the tmp dir", 1) == [("safe-shell", 1.0)]
    assert model.calls == 1 and "- literature-note: Write a literature note" in asked[0]
    again = ModelRouter(library, ScriptedModel([]), cache_path=tmp_path / "cache.json")
    assert again.rank("clean up the tmp dir")[0][0] == "safe-shell"  # from the file cache
    assert parse_choice("use literature-note, then safe-shell", library.names()) == \
        ["literature-note", "safe-shell"]


def test_model_router_records_its_calls_in_the_trajectory(tmp_path):
    library = make_library(tmp_path / "skills")
    router = ModelRouter(library, ScriptedModel(lambda r: '{"skills": ["literature-note"]}',
                                                name="router-model"))
    agent = Agent(ScriptedModel(["ok"]), router=router, workspace=tmp_path)
    trajectory = agent.run("note on the attention paper")
    calls = trajectory.of_type(ModelCalled)
    assert [c.purpose for c in calls] == ["skill_routing", "agent"]
    assert trajectory.of_type(SkillsRouted)[0].candidates == [("literature-note", 1.0)]


def hashing_embed(texts):
    """A small real embedding: hashed bag of lowercase words, 64 dimensions."""
    out = np.zeros((len(texts), 64))
    for i, text in enumerate(texts):
        for word in text.lower().replace(",", " ").split():
            out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1
    return out


def test_embedding_and_hybrid_routers_rank_by_their_parts(tmp_path):
    library = make_library(tmp_path)
    embedding = EmbeddingRouter(library, hashing_embed)
    assert embedding.rank("pandas csv group")[0][0] == "pandas-analysis"
    lexical = LexicalRouter(library)
    hybrid = HybridRouter(library, [(lexical, 1.0), (embedding, 1.0)])
    assert hybrid.rank("git bisect regression")[0][0] == "bisect-regression"
    assert all(0 < s <= 2 for _, s in hybrid.rank("git bisect regression"))
    with pytest.raises(ValueError):
        HybridRouter(library, [])


def test_benchmark_suite_runs_on_a_small_corpus(tmp_path):
    from harness.bench.registry import get_suite
    from harness.bench.suite import BenchOptions, DataError

    make_library(tmp_path / "corpus")
    queries = [{"query": "find which commit broke the login page", "expect": ["bisect-regression"]},
               {"query": "average revenue per region from a csv", "expect": ["pandas-analysis"]},
               {"query": "summarise this paper's claims", "expect": ["literature-note", "x"]}]
    (tmp_path / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries[:2]))
    suite = get_suite("skill-routing")
    result = suite.run(BenchOptions(data=tmp_path), lambda done, total: None)
    m = result.metrics
    assert result.cases == 2 and m["top1"] == m["by_variant"]["lexical"]["top1"]
    assert {"top1", "top3", "tokens_per_query", "baseline_top1", "baseline_top3"} <= set(m)
    assert m["by_variant"]["lexical"]["top3"] == 1.0
    (tmp_path / "bad.jsonl").write_text(json.dumps(queries[2]))
    with pytest.raises(DataError, match="bad.jsonl record 1: field 'expect': no skill named x"):
        suite.run(BenchOptions(data=tmp_path / "bad.jsonl"), lambda done, total: None)
    other = tmp_path / "other"
    make_library(other, {"only-one": ("Finds commits that broke things.", "")})
    (tmp_path / "q2.jsonl").write_text(json.dumps({"query": "which commit broke it",
                                                   "expect": ["only-one"]}))
    result = suite.run(BenchOptions(data=tmp_path / "q2.jsonl", extra={"skills": str(other)}),
                       lambda done, total: None)
    assert result.metrics["skills"] == 1 and result.metrics["top1"] == 1.0


def test_routing_a_run_provides_the_loading_tools_it_mentions(tmp_path):
    library = make_library(tmp_path / "skills")
    calls = []

    def policy(request):
        calls.append(sorted(t["function"]["name"] for t in request.tools))
        if len(calls) == 1:
            return {"tool": "read_skill_file", "args": {"skill": "safe-shell", "path": "nope.md"}}
        return "done"

    agent = Agent(ScriptedModel(policy), router=LexicalRouter(library), workspace=tmp_path)
    trajectory = agent.run("quote paths in shell commands")
    assert {"load_skill", "read_skill_file", "read_file"} <= set(calls[0])
    refused = [e for e in trajectory if getattr(e, "tool", None) == "read_skill_file"][-1]
    assert not refused.ok and "skill 'safe-shell' has no file 'nope.md'" in refused.error
