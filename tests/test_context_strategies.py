"""History strategies: what each keeps, masks, summarises or drops, and that no strategy
ever separates a tool call from its result."""

import pytest

from harness import Agent, ScriptedModel
from harness.context import STRATEGIES, BudgetedContext, declare_subgoal
from harness.context.steps import split_steps
from harness.events import ContextBuilt, ModelCalled
from harness.llm.base import ModelError
from harness.messages import Message, ToolCall
from harness.tools.builtin import read_file
from tests.test_context_support import history, pairs_intact, state, step


def build(strategy, hist, **kw):
    st, events = state(hist)
    ctx = BudgetedContext(strategy, **kw)
    return ctx.build(st), events


def texts(context):
    return [m.content or "" for m in context.request.messages]


def mixed_history():
    """Steps with one and two calls, an error, a verification message, a final reply."""
    out = []
    for i in range(1, 13):
        out += step(i, [f"out {i}.{j} " + "y" * 300 for j in range(1 + i % 2)])
        if i == 5:
            out += step(50, ["ERROR: read_file: no such file: f50_0.txt"])
        if i == 8:
            out.append(Message(role="user", content="Your answer did not pass verification."))
    return out


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("budget", [None, 2_500, 900, 500])
def test_no_strategy_separates_a_tool_call_from_its_result(strategy, budget):
    st, _ = state(mixed_history())
    ctx = BudgetedContext(strategy, budget_tokens=budget)
    for n in range(1, len(st.history) + 1):  # every prefix that ends between steps
        if n < len(st.history) and st.history[n].role == "tool":
            continue
        sub, _ = state(st.history[:n])
        built = ctx.build(sub)
        assert pairs_intact(built.request.messages[2:]), (strategy, budget, n)


def test_full_keeps_every_step_verbatim():
    built, _ = build("full", history(6))
    assert all(f"output {i}.0" in "\n".join(texts(built)) for i in range(1, 7))
    assert built.manifest.sections[-1].items == ["steps 1-6: verbatim"]


def test_last_n_keeps_the_last_n_steps_and_says_what_it_left_out():
    built, _ = build("last-n", history(6), n=2)
    joined = "\n".join(texts(built))
    assert "output 5.0" in joined and "output 6.0" in joined and "output 4.0" not in joined
    assert "[steps 1-4 not shown: only the last 2 steps are kept]" in joined
    info = built.manifest.sections[-1]
    assert info.items == ["steps 5-6: verbatim"]
    assert info.dropped == ["steps 1-4: left out by last-n"]


def test_mask_replaces_old_outputs_with_a_placeholder_keeping_call_and_outcome():
    hist = history(4, size=400) + step(5, ["ERROR: read_file: no such file: gone.txt" + " z" * 80])
    hist += step(6, ["fresh " + "w" * 400])
    built, _ = build("mask", hist, keep_last=1)
    msgs = built.request.messages[2:]
    calls = [c.arguments["path"] for m in msgs for c in m.tool_calls]
    assert calls == [f"f{i}_0.txt" for i in range(1, 7)]  # every call stays
    results = [m.content for m in msgs if m.role == "tool"]
    assert all(r.startswith("[output omitted to save context: read_file -> ok,") for r in results[:4])
    assert "-> error: read_file: no such file: gone.txt" in results[4]
    assert "fresh" in results[5]
    assert built.manifest.sections[-1].items == ["steps 1-5: masked", "step 6: verbatim"]


def test_mask_keeps_short_outputs_as_they_are():
    built, _ = build("mask", step(1, ["255.0"]) + step(2, ["x" * 400]), keep_last=1)
    assert "\n255.0\n" in "\n".join(texts(built))


def test_summarise_asks_the_model_once_per_batch_and_records_the_call():
    summaries = iter(["S1: steps one to three found code 4411", "S2: more"])
    model = ScriptedModel(lambda req: next(summaries), name="cheap-model")
    st, events = state([])
    ctx = BudgetedContext("summarise", summariser=model, keep_last=1, batch=3)
    hist = history(7)
    for n in range(1, 8):
        st.history = hist[:2 * n]
        built = ctx.build(st)
    calls = [e for e in events if isinstance(e, ModelCalled)]
    assert [c.purpose for c in calls] == ["summarise", "summarise"]
    assert model.calls == 2 and calls[0].model == "cheap-model"
    assert st.tokens == sum(c.usage.total_tokens for c in calls) > 0
    joined = "\n".join(texts(built))
    assert "S1: steps one to three found code 4411" in joined and "S2: more" in joined
    assert "output 7.0" in joined and "output 3.0" not in joined
    assert built.manifest.sections[-1].items == ["steps 1-6: summary", "step 7: verbatim"]


def test_summarise_merges_summaries_that_outgrow_their_budget():
    asked = []

    def summarise(req):
        asked.append("merge" if "Summary to shorten" in req.text() else "steps")
        return "merged" if asked[-1] == "merge" else "fact " * 200

    model = ScriptedModel(summarise)
    st, events = state([])
    ctx = BudgetedContext("summarise", summariser=model, keep_last=1, batch=1,
                          max_summary_tokens=300)
    hist = history(4)
    for n in range(1, 5):
        st.history = hist[:2 * n]
        built = ctx.build(st)
    joined = "\n".join(texts(built))
    assert asked == ["steps", "steps", "merge", "steps"]
    assert "merged" in joined and joined.count("fact " * 199 + "fact") == 1  # 1-2 merged
    assert len([e for e in events if isinstance(e, ModelCalled)]) == len(asked)


def test_compact_shows_every_step_verbatim_while_they_fit_and_calls_no_summariser():
    model = ScriptedModel(lambda req: "never asked")
    st, events = state([])
    ctx = BudgetedContext("compact", summariser=model)  # half of a 128k window: far off
    hist = history(30)
    for n in range(1, 31):
        st.history = hist[:2 * n]
        built = ctx.build(st)
    assert model.calls == 0 and not [e for e in events if isinstance(e, ModelCalled)]
    assert built.manifest.strategy == "compact"
    assert built.manifest.sections[-1].items == ["steps 1-30: verbatim"]
    shown = built.request.messages[2:]
    assert [(m.role, m.tool_call_id) for m in shown] == [(m.role, m.tool_call_id) for m in hist]


def test_compact_summarises_all_but_the_last_steps_once_they_pass_the_trigger():
    asked = []
    model = ScriptedModel(lambda req: asked.append(req.text()) or f"summary {len(asked)}")
    st, events = state([])
    ctx = BudgetedContext("compact", summariser=model, trigger=500, keep_last=2)
    hist = history(12, size=100)  # each step about 60 tokens, fenced
    seen = []
    for n in range(1, 13):
        st.history = hist[:2 * n]
        built = ctx.build(st)
        seen.append(built.manifest.sections[-1].items)
    first = next(i for i, items in enumerate(seen) if "summary" in items[0])  # 0-based step
    assert 5 < first < 11 and len(asked) == 1
    assert "output 1.0" in asked[0] and f"output {first - 1}.0" in asked[0]
    assert f"output {first}.0" not in asked[0]  # the last keep_last steps are not summarised
    assert seen[first - 1] == [f"steps 1-{first}: verbatim"]
    assert seen[first] == [f"steps 1-{first - 1}: summary", f"steps {first}-{first + 1}: verbatim"]
    assert seen[-1] == [f"steps 1-{first - 1}: summary", f"steps {first}-12: verbatim"]
    joined = "\n".join(texts(built))
    assert "summary 1" in joined and "output 12.0" in joined and "output 3.0" not in joined
    assert [e.purpose for e in events if isinstance(e, ModelCalled)] == ["summarise"]


def test_compact_trigger_is_a_share_of_the_room_the_budget_leaves():
    hist = history(20, size=100)
    small, _ = build("compact", hist, budget_tokens=2_000, summariser=ScriptedModel(["s"] * 9))
    large, _ = build("compact", hist, budget_tokens=20_000, summariser=ScriptedModel(["s"] * 9))
    assert small.manifest.sections[-1].items[0].endswith(": summary")
    assert large.manifest.sections[-1].items == ["steps 1-20: verbatim"]


def test_summaries_are_merged_to_stay_within_a_quarter_of_the_historys_room():
    asked = []

    def summarise(req):
        asked.append("merge" if "Summary to shorten" in req.text() else "steps")
        return "short" if asked[-1] == "merge" else "fact " * 300  # ~375 tokens

    st, _ = state([])
    ctx = BudgetedContext("compact", summariser=ScriptedModel(summarise), budget_tokens=1_200)
    hist = history(12, size=100)
    for n in range(1, 13):
        st.history = hist[:2 * n]
        built = ctx.build(st)
    assert asked[:2] == ["steps", "merge"]  # 375 tokens > a quarter of ~1,100
    assert "fact fact" not in "\n".join(texts(built))


def test_compact_starts_over_when_the_history_is_replaced_by_a_shorter_one():
    st, _ = state([])
    ctx = BudgetedContext("compact", summariser=ScriptedModel(lambda r: "old summary"),
                          trigger=200, keep_last=1)
    hist = history(8, size=100)
    for n in range(1, 9):
        st.history = hist[:2 * n]
        ctx.build(st)
    assert "summary" in ctx.build(st).manifest.sections[-1].items[0]
    st.history = history(2, size=10)
    built = ctx.build(st)
    assert built.manifest.sections[-1].items == ["steps 1-2: verbatim"]
    assert "old summary" not in "\n".join(texts(built))


def test_compact_keeps_the_verbatim_steps_between_builds():
    st, _ = state([])
    ctx = BudgetedContext("compact")
    hist = history(6)
    views = []
    for n in range(1, 7):
        st.history = hist[:2 * n]
        views.append(ctx.build(st).history.parts)
    assert all(a is b for a, b in zip(views[-2], views[-1][:-1], strict=False))


@pytest.mark.parametrize("trigger", [0.0, 1.5, -3, 0, True, "half"])
def test_summarising_strategies_reject_a_trigger_that_is_no_share_or_count(trigger):
    with pytest.raises((ValueError, TypeError), match="trigger"):
        BudgetedContext("compact", trigger=trigger)


def test_summariser_failure_falls_back_to_the_list_of_calls():
    class Down(ScriptedModel):
        def complete(self, request):
            raise ModelError("provider down")

    built, events = build("summarise", history(5), summariser=Down([]), keep_last=1, batch=2)
    joined = "\n".join(texts(built))
    assert 'step 1: read_file(path="f1_0.txt") -> ok' in joined
    assert not [e for e in events if isinstance(e, ModelCalled)]
    note = built.manifest.sections[-1].note
    assert "the summariser failed on steps 1-4: ModelError: provider down" in note


def test_steps_go_to_the_summariser_in_as_few_requests_as_fit_its_window():
    from harness.context import Summariser
    from harness.llm.scripted import estimate_tokens

    asked = []
    model = ScriptedModel(lambda req: asked.append(req) or f"summary {len(asked)}")
    summariser = Summariser(model, max_tokens=100, window=600)
    st, events = state([])
    steps = split_steps(history(12, size=300))  # each step ~90 tokens: 12 cannot go at once
    summary = summariser.steps(st, steps)
    assert len(asked) > 1 and summariser.error == "" and summariser.failed == []
    assert summary == "\n".join(f"summary {i}" for i in range(1, len(asked) + 1))
    sent = [req.messages[-1].content for req in asked]
    assert all(estimate_tokens(req.text()) <= 600 - 100 for req in asked)
    order = [i for text in sent for i in range(1, 13) if f"output {i}.0 " in text]
    assert order == list(range(1, 13))  # every step once, in order
    assert len([e for e in events if isinstance(e, ModelCalled)]) == len(asked)
    whole = Summariser(ScriptedModel(["all of it"]), max_tokens=100)  # the model's window
    assert whole.steps(st, steps) == "all of it"


def test_a_summary_longer_than_the_window_is_shortened_in_runs_of_lines():
    from harness.context import Summariser
    from harness.context.summarise import MERGE_HEADER
    from harness.llm.scripted import estimate_tokens

    class Short(ScriptedModel):
        """Shortens a run of lines to its first, but cannot read the one with line 30."""

        def complete(self, request):
            if "line 30:" in request.text():
                raise ModelError("context too long")
            return super().complete(request)

    asked = []

    def first_line(request):
        asked.append(request)
        return request.messages[-1].content.split(MERGE_HEADER)[1].splitlines()[0]

    summariser = Summariser(Short(first_line), max_tokens=50, window=300)
    st, _ = state([])
    summary = "\n".join(f"line {i}: " + "z" * 60 for i in range(1, 41))
    merged = summariser.merge(st, summary).splitlines()
    assert len(asked) > 2 and all(estimate_tokens(r.text()) <= 300 - 50 for r in asked)
    assert merged[0] == "line 1: " + "z" * 60 and len(merged) < 40
    assert "line 30: " + "z" * 60 in merged  # the run whose request failed is kept whole
    assert Summariser(ScriptedModel(["short"])).merge(st, summary) == "short"


def test_a_failed_request_falls_back_for_its_own_steps_only():
    from harness.context import Summariser

    class TooLong(ScriptedModel):
        """Answers the request with step 1; any other is too long for it."""

        def complete(self, request):
            if "output 1.0 " not in request.text():
                raise ModelError("context too long")
            return super().complete(request)

    summariser = Summariser(TooLong(lambda req: "first batch summarised"), max_tokens=100,
                            window=600)
    st, _ = state([])
    summary = summariser.steps(st, split_steps(history(12, size=300)))
    assert summary.startswith("first batch summarised\n")
    assert 'step 12: read_file(path="f12_0.txt") -> ok' in summary
    assert summariser.failed and summariser.failed[-1] == 12 and 1 not in summariser.failed
    assert summariser.error == "ModelError: context too long"
    st, _ = state([])  # the outcome comes back with the summary, not only on the summariser
    outcome = summariser.summarise_steps(st, split_steps(history(12, size=300)))
    assert (outcome.text, outcome.error, outcome.failed) == \
        (summary, summariser.error, summariser.failed)

    ctx = BudgetedContext("compact", summariser=TooLong(lambda req: "first batch summarised"),
                          trigger=300, keep_last=2)
    ctx.history.summariser.window = 600
    st, _ = state(history(12, size=300))
    note = ctx.build(st).manifest.sections[-1].note
    failed = ctx.history.summariser.failed
    assert failed and 1 not in failed and failed == list(range(failed[0], 11))
    assert f"the summariser failed on steps {failed[0]}-10: ModelError: context too long" in note


def test_subgoal_collapses_finished_subgoals_to_the_agents_summary():
    hist = (step(1, ["a" * 300], tool="read_file") + step(2, ["b" * 300])
            + [Message(role="assistant", content=None, tool_calls=[
                _call("d1", "declare_subgoal", goal="fix it", summary="the bug is in parse()")]),
               Message(role="tool", tool_call_id="d1", name="declare_subgoal", content="ok")]
            + step(4, ["c" * 300]))
    built, events = build("subgoal", hist)
    joined = "\n".join(texts(built))
    assert 'Subgoal 1 "(start)" (steps 1-2), finished' in joined
    assert "the bug is in parse()" in joined and "a" * 300 not in joined
    assert "c" * 300 in joined
    assert not [e for e in events if isinstance(e, ModelCalled)]  # the agent's summary was used
    assert built.manifest.sections[-1].items == ["steps 1-2: summary", "steps 3-4: verbatim"]


def test_subgoal_declared_in_text_is_summarised_once_by_the_model():
    model = ScriptedModel(lambda req: "summary of the survey", name="cheap")
    hist = history(2) + [Message(role="assistant", content="Subgoal: write the fix")] + \
        step(4, ["d" * 200])
    st, events = state(hist)
    ctx = BudgetedContext("subgoal", summariser=model)
    for _ in range(3):
        built = ctx.build(st)
    assert model.calls == 1
    assert 'Subgoal 1 "(start)"' in "\n".join(texts(built))
    assert "summary of the survey" in "\n".join(texts(built))


def test_subgoal_names_a_finished_subgoal_whose_summary_fell_back():
    class Down(ScriptedModel):
        def complete(self, request):
            raise ModelError("provider down")

    hist = history(2) + [Message(role="assistant", content="Subgoal: write the fix")] + \
        step(4, ["d" * 200])
    built, _ = build("subgoal", hist, summariser=Down([]))
    assert 'step 1: read_file(path="f1_0.txt") -> ok' in "\n".join(texts(built))
    note = built.manifest.sections[-1].note
    assert "the summariser failed on finished steps 1-2: ModelError: provider down" in note
    assert 'current subgoal "write the fix" (2 steps): all 2 steps verbatim' in note


def test_subgoal_agent_run_with_the_declare_subgoal_tool(tmp_path):
    (tmp_path / "a.txt").write_text("alpha " * 50)
    (tmp_path / "b.txt").write_text("beta " * 50)
    seen = []

    def policy(req):
        seen.append(req.text())
        n = len(seen)
        if n == 1:
            return {"tool": "read_file", "args": {"path": "a.txt"}}
        if n == 2:
            return [{"tool": "declare_subgoal", "args": {"goal": "read b",
                                                         "summary": "a.txt is all alpha"}},
                    {"tool": "read_file", "args": {"path": "b.txt"}}]
        return "done"

    agent = Agent(ScriptedModel(policy), workspace=tmp_path, tools=[read_file, declare_subgoal],
                  context=BudgetedContext("subgoal"))
    trajectory = agent.run("read both")
    assert trajectory.finished.status == "answered"
    assert "a.txt is all alpha" in seen[2] and "alpha alpha" not in seen[2]
    assert "beta beta" in seen[2]
    manifests = [e.manifest for e in trajectory.of_type(ContextBuilt)]
    assert manifests[-1].strategy == "subgoal"


def test_unknown_strategy_names_the_choices():
    with pytest.raises(ValueError, match="choose from: compact, full, last-n, mask, summarise, subgoal"):
        BudgetedContext("everything")


def _call(id, name, **args):
    return ToolCall(id=id, name=name, arguments=args)
