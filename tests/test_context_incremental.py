"""Builds that reuse what the last build counted give exactly what a build from scratch gives."""

import random

import pytest

from harness.context import STRATEGIES, BudgetedContext, FullHistoryContext, Part, TokenCounter
from harness.context._tally import PartsTally
from harness.context.steps import split_steps
from harness.messages import Message
from harness.state import ContextSection
from tests.test_context_budget import random_history
from tests.test_context_support import state, step


def described_from_scratch(parts):
    """The manifest's history items, computed the plain way: merge neighbouring parts with
    the same treatment and consecutive steps."""
    groups = []
    for p in parts:
        if p.treatment == "omitted" or not p.steps:
            continue
        if groups and groups[-1][0] == p.treatment and groups[-1][2] + 1 == p.steps[0]:
            groups[-1][2] = p.steps[-1]
        else:
            groups.append([p.treatment, p.steps[0], p.steps[-1]])
    return [(t, a, b) for t, a, b in groups]


def test_a_tally_updated_to_a_new_view_equals_one_counted_from_scratch():
    rng, counter = random.Random(3), TokenCounter()
    pool = [Part([Message(role="tool", tool_call_id=f"c{i}", content="x" * rng.randrange(50),
                          channel=rng.choice(["file", "none"]))], (i,),
                 rng.choice(["verbatim", "summary", "masked", "omitted"])) for i in range(1, 40)]
    tally = PartsTally()
    parts: list[Part] = []
    for _ in range(200):
        keep = rng.randrange(len(parts) + 1)  # a shared prefix, then new or reordered parts
        parts = parts[:keep] + rng.sample(pool, rng.randrange(4))
        if rng.random() < 0.2:  # an equal part in place of the one counted: it counts the same
            parts = [Part(list(p.messages), p.steps, p.treatment) if rng.random() < 0.3 else p
                     for p in parts]
        tally.update(parts, counter)
        fresh = PartsTally.of(parts, counter)
        assert (tally.tokens, tally.fenced, tally.messages, tally.described(), tally.omitted) == \
            (fresh.tokens, fresh.fenced, fresh.messages, fresh.described(), fresh.omitted)
        assert tally.tokens == sum(counter.messages(p.messages) for p in parts)
        assert [tuple(g) for g in tally.groups] == described_from_scratch(parts)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_incremental_builds_equal_builds_from_scratch(strategy):
    rng = random.Random(strategy)
    for trial in range(4):
        budget = rng.choice([900, 2_500, 20_000])
        full_history = random_history(rng, 14)
        long_lived = BudgetedContext(strategy, budget_tokens=budget)
        section = ContextSection("skills", "skill " * rng.randrange(0, 300), priority=70,
                                 items=["s"], trusted=rng.random() < 0.5)
        for n in range(1, len(full_history) + 1):
            if full_history[n - 1].role == "tool" and n < len(full_history) \
                    and full_history[n].role == "tool":
                continue  # the loop builds only once a step's results are all in
            st, _ = state(full_history[:n], sections=[section], run_id=f"r{trial}")
            built = long_lived.build(st)
            # a fresh constructor (no caches) over the same strategy (same summaries)
            fresh = BudgetedContext(long_lived.history, budget_tokens=budget).build(st)
            assert built.manifest.model_dump() == fresh.manifest.model_dump(), (trial, n)
            assert [m.to_openai() for m in built.request.messages] == \
                [m.to_openai() for m in fresh.request.messages]
            assert built.request.digest() == fresh.request.digest()


@pytest.mark.parametrize("make", [lambda: BudgetedContext("full"), FullHistoryContext],
                         ids=["budgeted", "full-history"])
def test_remembered_fixed_parts_follow_a_changed_task_tool_set_and_sections(make):
    from harness.tools.builtin import read_file, write_file

    st, _ = state(random_history(random.Random(1), 3), tools=[read_file])
    constructor = make()
    first = constructor.build(st)
    st.tools.add(write_file)
    st.task = "A different task."
    st.put(ContextSection("memory", "Known failure: f1.", priority=60, items=["mem:1"]))
    second = constructor.build(st)
    fresh = make().build(st)
    assert second.manifest.model_dump() == fresh.manifest.model_dump() != \
        first.manifest.model_dump()
    assert second.request.digest() == fresh.request.digest() != first.request.digest()
    assert [t["function"]["name"] for t in second.request.tools] == ["read_file", "write_file"]
    assert second.request.messages[1].content == "A different task."


def subgoal_history(rng, steps):
    """A random history in which the agent now and then declares a subgoal, by the tool
    (with or without a summary of the last one) or by a line in its reply."""
    from harness.messages import ToolCall

    out = []
    for i in range(1, steps + 1):
        kind = rng.random()
        if kind < 0.15:
            summary = rng.choice(["", f"found fact {i}"])
            call = ToolCall(id=f"d{i}", name="declare_subgoal",
                            arguments={"goal": f"goal {i}", "summary": summary})
            out += [Message(role="assistant", tool_calls=[call]),
                    Message(role="tool", tool_call_id=f"d{i}", name="declare_subgoal",
                            content=f"subgoal started: goal {i}")]
        elif kind < 0.25:
            out += step(i, ["ok"], text=f"Subgoal: text goal {i}")
        else:
            out += step(i, ["output " * rng.randrange(1, 80)])
    return out


def growing(hist):
    """Each prefix of `hist` the loop would build from (a step's results all in)."""
    for n in range(1, len(hist) + 1):
        if not (hist[n - 1].role == "tool" and n < len(hist) and hist[n].role == "tool"):
            yield hist[:n]


@pytest.mark.parametrize("strategy", ["full", "mask"])
def test_long_runs_remake_only_the_last_parts_and_equal_fresh_views(strategy):
    """A strategy whose treatment of a step depends on what follows it remakes only the
    last parts of a growing run (so a build does not grow with the run), and still shows
    exactly what a fresh strategy shows."""
    ctx = BudgetedContext(strategy, budget_tokens=10**6)
    redo = ctx.history.keep_last if strategy == "mask" else 1
    last: list[Part] = []
    for hist in growing(subgoal_history(random.Random(strategy), 40)):
        st, _ = state(hist, run_id="long")
        built = ctx.build(st)
        fresh = BudgetedContext(strategy, budget_tokens=10**6).build(st)
        assert [m.to_openai() for m in built.request.messages] == \
            [m.to_openai() for m in fresh.request.messages]
        assert built.manifest.model_dump() == fresh.manifest.model_dump()
        parts = built.history.parts
        assert all(a is b for a, b in zip(last[:len(last) - redo], parts, strict=False))
        last = parts


def test_subgoals_grouped_step_by_step_equal_subgoals_grouped_at_once():
    from harness.context.subgoals import subgoals

    ctx = BudgetedContext("subgoal", budget_tokens=10**6)
    summaries: dict[str, Part] = {}
    for hist in growing(subgoal_history(random.Random(5), 60)):
        st, _ = state(hist, run_id="long")
        built = ctx.build(st)
        grouped = [g for g in ctx.history._grouping(ctx._run_memo(st)[0], st).groups if g.steps]
        expected = subgoals(split_steps(hist))
        assert [(g.goal, [s.index for s in g.steps], g.summary) for g in grouped] == \
            [(g.goal, [s.index for s in g.steps], g.summary) for g in expected]
        for p in built.history.parts:  # a finished subgoal's part is made once
            if "finished" in (p.messages[0].content or "").split("\n")[0]:
                title = p.messages[0].content.split("\n")[0]
                assert summaries.setdefault(title, p) is p
    assert len(summaries) >= 3


def test_memos_keep_only_the_most_recent_runs():
    from harness.context._memos import RecentMemos

    memos: RecentMemos[str, list] = RecentMemos(list, keep=2)
    for run in ("a", "b", "c"):
        memos.of(run).append(run)
    assert list(memos) == ["b", "c"] and memos.of("c") == ["c"]
    assert memos.of("a") == [] and list(memos) == ["c", "a"]  # made anew, "b" dropped
    with pytest.raises(KeyError):
        RecentMemos().of("x")
