"""What each figure a suite reports means: its unit, which direction is better, and a
one-sentence definition. One entry per metric key the suites in `benchmarks/` emit (and per
series they plot); keys built from a base key (`baseline_X`, `gain_X`, `X@1e5`, `X_n100`,
`recall@K`) are described from that base key."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

Better = Literal["higher", "lower", "neither"]
SHARE = "share"
"""The unit of a rate between 0 and 1 (printed with three decimals)."""


@dataclass(frozen=True)
class MetricInfo:
    """A metric's axis label, unit, better direction and one-sentence definition."""

    label: str
    unit: str
    better: Better
    definition: str
    xlabel: str | None = None
    """For a series: what its x axis counts."""


def _m(label: str, unit: str, better: Better, definition: str,
       xlabel: str | None = None) -> MetricInfo:
    return MetricInfo(label, unit, better, definition, xlabel)


METRICS: dict[str, MetricInfo] = {
    # trajectory quality (harness.metrics.trajectory_metrics) and smoke
    "success": _m("success", SHARE, "higher", "Share of tasks (or sessions) whose check passed "
                  "at the end of the run."),
    "steps": _m("steps", "model turns", "lower", "Mean number of model turns per task."),
    "tokens": _m("tokens per task", "tokens", "lower", "Total model tokens (input and output) per task."),
    "tokens_per_step": _m("tokens per step", "tokens", "lower",
                          "Mean model tokens (input and output) per model turn."),
    "tokens_by_step": _m("tokens per step", "tokens", "lower", "Model tokens (input and output) spent "
                         "at each model turn of a run.", xlabel="step (model turn)"),
    "tokens_per_solved_task": _m("tokens per solved task", "tokens", "lower", "All model "
                                 "tokens spent, divided by the number of tasks solved."),
    "tool_error_rate": _m("tool error rate", SHARE, "lower",
                          "Share of tool calls that ended in an error."),
    "repeated_action_rate": _m("repeated action rate", SHARE, "lower", "Share of tool calls "
                               "that repeat an earlier call with the same arguments."),
    "repeated_failed_fix_count": _m("repeated failed fixes", "count", "lower", "Fix attempts "
                                    "that repeat one that already failed, per task."),
    "recovery_rate": _m("recovery rate", SHARE, "higher", "Share of tool errors followed by a "
                        "successful call later in the run."),
    "loop_detected": _m("loop detected", SHARE, "lower",
                        "Share of runs in which a stuck loop was detected."),
    "budget_utilisation": _m("budget used", SHARE, "neither",
                             "Share of the context budget the largest context filled."),
    "verification_token_share": _m("verification token share", SHARE, "lower",
                                   "Share of tokens spent on verifying rather than acting."),
    "subagent_schema_valid_rate": _m("valid subagent returns", SHARE, "higher", "Share of "
                                     "subagent returns that validate against their schema."),
    "cost_usd": _m("cost", "USD", "lower", "Model spend per task in US dollars."),
    "model_s": _m("model time", "s", "lower", "Seconds spent waiting for the model per task."),
    "tools_s": _m("tool time", "s", "lower", "Seconds spent running tools per task."),
    "wall_s": _m("wall time", "s", "lower", "Wall-clock seconds from task start to finish."),
    # adaptation
    "steps_to_success": _m("steps to success", "model turns", "lower", "Mean model turns of "
                           "the later sessions that ended with the tests passing."),
    "gate_warnings": _m("gate warnings", "count", "neither",
                        "Warnings the memory gate raised per task, over all its sessions."),
    "steps_session1": _m("steps in session 1", "model turns", "lower",
                         "Mean model turns of each task's first session."),
    "steps_per_session": _m("turns per session", "model turns", "lower", "Mean model turns in each "
                            "session of a multi-session task.", xlabel="session"),
    # policy
    "blocked_dangerous": _m("dangerous blocked", SHARE, "higher", "Share of dangerous actions "
                            "the policy would not run unattended."),
    "blocked_benign": _m("benign blocked", SHARE, "lower", "Share of benign actions the policy "
                         "would not run unattended."),
    "dangerous": _m("dangerous cases", "count", "neither", "Number of dangerous cases in the "
                    "data."),
    "benign": _m("benign cases", "count", "neither", "Number of benign cases in the data."),
    "missed": _m("missed", "count", "lower", "Dangerous actions the policy let through."),
    "false_blocks": _m("false blocks", "count", "lower", "Benign actions the policy blocked."),
    # containment
    "damage_rate": _m("damage rate", SHARE, "lower",
                      "Share of dangerous cases that did measurable damage to the world."),
    "egress_rate": _m("egress rate", SHARE, "lower",
                      "Share of egress cases whose bytes reached the outside sink."),
    "utility": _m("utility", SHARE, "higher", "Share of routine (or attack-free) tasks that "
                  "succeeded."),
    "damaged": _m("damaged", "count", "lower", "Dangerous cases that did damage."),
    "egress_cases": _m("egress cases", "count", "neither", "Cases that try to send data out."),
    "reached_sink": _m("reached sink", "count", "lower",
                       "Egress cases whose bytes reached the sink."),
    "routine": _m("routine cases", "count", "neither", "Routine cases in the data."),
    "succeeded": _m("succeeded", "count", "higher", "Routine cases that succeeded."),
    "refused_by_policy": _m("refused by policy", "count", "neither",
                            "Cases whose tool call the policy refused."),
    # injection and agentdojo
    "attack_success_rate": _m("attack success", SHARE, "lower",
                              "Share of attacked cases whose attacker's call was executed."),
    "attack_success_rate_with_ground_truth": _m(
        "attack success (scripted)", SHARE, "lower", "Attack success over the pairs whose "
        "injection task ships ground-truth calls."),
    "canary_leak_rate": _m("canary leaks", SHARE, "lower",
                           "Share of cases whose canary reached the main model's input."),
    "benign_utility": _m("benign utility", SHARE, "higher",
                         "Share of cases whose answer holds every expected string."),
    "utility_under_attack": _m("utility under attack", SHARE, "higher",
                               "Share of attacked user tasks that still succeeded."),
    "worker_rejected": _m("worker returns rejected", "count", "neither",
                          "Isolated workers' returns that failed schema validation."),
    "pairs_without_ground_truth": _m("pairs without ground truth", "count", "neither",
                                     "Attack pairs whose injection task has no scripted calls."),
    "refused_calls": _m("refused calls", "count", "neither", "Tool calls the governor refused."),
    "pairs": _m("pairs", "count", "neither", "User-task x injection-task pairs run."),
    "user_tasks": _m("user tasks", "count", "neither", "User tasks run without an attack."),
    # context
    "tokens_per_task": _m("tokens per task", "tokens", "lower",
                          "Mean model tokens per task, solved or not."),
    "summariser_tokens_per_task": _m("summariser tokens per task", "tokens", "lower",
                                     "Mean tokens the summariser spent per task."),
    "cacheable_prefix_share": _m("cacheable prefix share", "share", "higher", "Share of each "
                                 "request's input that repeats the start of the previous "
                                 "request's: what a provider's prompt cache could serve."),
    "cached_input_share": _m("cached input share", "share", "higher", "Input tokens the "
                             "provider served from its prompt cache / input tokens."),
    "step_tokens_slope": _m("tokens added per step", "tokens/step", "lower", "Slope of the "
                            "context size over steps; above 0, total tokens grow quadratically."),
    "cumulative_exponent": _m("cumulative exponent", "exponent", "lower", "k in total tokens ~ "
                              "steps^k (1 is linear, 2 quadratic)."),
    "context_tokens_by_step": _m("context size", "tokens", "lower", "Tokens in the model's "
                                 "input at each step, per history strategy.",
                                 xlabel="step (model turn)"),
    "replay_tokens_by_step": _m("context size on replay", "tokens", "lower", "Input tokens at "
                                "each recorded turn of real trajectories rebuilt through each "
                                "strategy.", xlabel="step (recorded turn)"),
    "token_ratio": _m("token ratio", "ratio", "lower", "Tokens per task against full history "
                      "on the same synthetic tasks."),
    "meets_target": _m("meets target", "", "neither", "Strategies within 0.02 of full "
                       "history's success at no more than 0.35 of its tokens."),
    "replay_skipped": _m("replay skipped", "", "neither", "Recorded trajectories left out of "
                         "the replay, and why."),
    "success_by_evidence_distance": _m("success by evidence distance", SHARE, "higher",
                                       "Success by how many steps back the evidence was read."),
    "replay_token_ratio_by_source": _m("replay token ratio by source", "ratio", "lower",
                                       "Replay token ratio per source of trajectories."),
    "replay_input_tokens": _m("replay input tokens", "tokens", "lower",
                              "Input tokens over every rebuilt turn of the real trajectories."),
    "replay_summariser_tokens": _m("replay summariser tokens", "tokens", "lower",
                                   "Tokens the summariser spent on the real trajectories."),
    "replay_tokens_per_step": _m("replay tokens per step", "tokens", "lower",
                                 "Mean input tokens per rebuilt turn."),
    "replay_token_ratio": _m("replay token ratio", "ratio", "lower",
                             "Tokens spent against full history on the same turns."),
    "replay_verbatim_share": _m("verbatim tool results", SHARE, "higher",
                                "Share of tool results kept verbatim in the context."),
    # overhead
    "us_per_step": _m("time per step", "µs", "lower", "Wall-clock microseconds the framework "
                      "spends per tool step (fastest run).", xlabel="N (tool steps)"),
    "cpu_us_per_step": _m("CPU time per step", "µs", "lower",
                          "CPU microseconds per tool step (fastest run)."),
    "peak_kib": _m("peak memory", "KiB", "lower", "Peak traced Python memory of one run.",
                   xlabel="N (tool steps)"),
    "flatness": _m("flatness", "ratio", "lower", "Time per step at the largest N over time "
                   "per step at N = 10 (1 is flat)."),
    "ratio_vs_fastest_peer": _m("ratio vs fastest peer", "ratio", "lower", "Worst case over N "
                                "of our time per step over the fastest peer's."),
    "cpu_ratio_vs_fastest_peer": _m("CPU ratio vs fastest peer", "ratio", "lower", "The same "
                                    "ratio in CPU time."),
    "peers_measured": _m("peers measured", "", "neither", "Peer frameworks installed and run "
                         "on the same workload."),
    "peers_not_installed": _m("peers not installed", "", "neither", "Peer frameworks left "
                              "out because they are not installed."),
    "target_met": _m("target met", "yes/no", "higher", "Whether the suite's target holds "
                     "(overhead: time per step at most 1/5 of the fastest peer's and flat in "
                     "N; throughput: the largest K at 0.9 of the ideal runs per second or "
                     "more)."),
    # gate
    "precision": _m("precision", SHARE, "higher", "Share of warnings given where a warning "
                    "was expected."),
    "recall": _m("recall", SHARE, "higher", "Share of expected warnings that were given."),
    "f1": _m("F1", SHARE, "higher", "Harmonic mean of precision and recall."),
    "accuracy": _m("accuracy", SHARE, "higher", "Share of scenarios decided as expected "
                   "(warn or allow)."),
    "false_warnings_on_reads": _m("false warnings on reads", "count", "lower",
                                  "Warnings given on read-only actions."),
    "citation_accuracy": _m("citation accuracy", SHARE, "higher", "Share of warnings that "
                            "cite an id the scenario names."),
    # memory-scale
    "append_events_per_s": _m("append throughput", "events/s", "higher",
                              "Events appended per second in batches."),
    "append_single_events_per_s": _m("single append throughput", "events/s", "higher",
                                     "Events appended per second one at a time."),
    "index_events_per_s": _m("index throughput", "events/s", "higher",
                             "Events the search index catches up on per second."),
    "reopen_s": _m("reopen time", "s", "lower",
                   "Seconds to reopen the memory on its persisted index in a fresh process."),
    "recall_p50_ms": _m("recall p50", "ms", "lower", "Median recall latency over 200 queries."),
    "recall_p99_ms": _m("recall p99", "ms", "lower", "99th-percentile recall latency."),
    "recall_max_ms": _m("recall max", "ms", "lower", "Slowest recall of the 200 queries."),
    "bounded_overlap_top10": _m("bounded overlap@10", SHARE, "higher", "Share of the unbounded "
                                "recall's top 10 that the bounded recall also returns."),
    "rss_mb": _m("resident memory", "MB", "lower", "Resident memory of the recall process."),
    "rebuild_s": _m("index rebuild time", "s", "lower",
                    "Seconds to rebuild the index from the log."),
    "log_mb": _m("log size", "MB", "lower", "Size of the event log on disk."),
    "events": _m("events", "count", "neither", "Events in the memory."),
    # skill routing
    "top1": _m("top-1 hit", SHARE, "higher",
               "Share of queries whose first routed skill is an expected one."),
    "top3": _m("top-3 hit", SHARE, "higher",
               "Share of queries with an expected skill among the first three routed."),
    "tokens_per_query": _m("skill tokens per query", "tokens", "lower",
                           "Mean tokens of skill text the router puts in the context."),
    "load_rate": _m("preload rate", SHARE, "neither",
                    "Share of queries whose first skill body was preloaded."),
    "load_precision": _m("preload precision", SHARE, "higher",
                         "Share of preloaded skill bodies that were expected."),
    "ms_per_query": _m("routing time", "ms", "lower", "Milliseconds the router takes per query."),
    "no_skill_queries": _m("queries no skill answers", "count", "neither",
                           "Queries whose expected skill list is empty."),
    "no_skill_load_rate": _m("preloads with no skill due", SHARE, "lower", "Share of queries no "
                             "skill answers for which a body was preloaded anyway."),
    "tokens_all_descriptions": _m("tokens of every description", "tokens", "lower", "Tokens it "
                                  "would take to list every skill's description instead."),
    "skills": _m("skills", "count", "neither", "Skills in the corpus."),
    "skills_with_errors": _m("skills with errors", "count", "lower",
                             "Skills whose SKILL.md could not be loaded."),
    # locomo-recall
    "recall@k": _m("recall@k", SHARE, "higher", "Share of a question's evidence turns among "
                   "the top k recalled items, averaged over questions."),
    "k": _m("k", "items recalled", "neither", "How many items recall returns."),
    "conversations": _m("conversations", "count", "neither", "Conversations loaded."),
    "split": _m("split", "", "neither", "Which part of the data file was used."),
    "evidence_dropped": _m("evidence dropped", "", "neither", "Evidence references that name "
                           "no turn and were left out."),
    "by_category": _m("by category", "", "neither", "Figures per category of case."),
    "by_channel": _m("by channel", SHARE, "neither", "Shares per channel the injection came "
                     "through."),
    "by_size": _m("by size", "", "neither", "Figures per memory size."),
    "damage_by_category": _m("damage by category", "count", "lower", "Dangerous cases that "
                             "did damage, per category."),
    "skipped": _m("skipped", "", "neither", "Variants that did not run, and why."),
    # throughput (benchmarks/throughput.py): K runs at once against a simulated model
    "concurrent_runs": _m("K", "runs", "neither", "Agent runs started at once in one event "
                          "loop."),
    "runs_per_s": _m("runs per second", "runs/s", "higher", "K over the mean time from the "
                     "batch's start to a run's end (Little's law)."),
    "ideal_runs_per_s": _m("ideal runs per second", "runs/s", "neither", "K over the "
                           "model's latency times the calls of a run: every run waits on its "
                           "model and on nothing else."),
    "share_of_ideal": _m("share of ideal", SHARE, "higher", "Runs per second over the "
                         "ideal."),
    "batch_runs_per_s": _m("runs per second to the last", "runs/s", "higher", "K over the "
                           "time until the batch's last run ends."),
    "batch_share_of_ideal": _m("share of ideal to the last run", SHARE, "higher", "Runs per "
                               "second to the last run's end over the ideal."),
    "calls_per_s": _m("model calls per second", "calls/s", "higher", "Model calls over the "
                      "mean time to a run's end."),
    "batch_wall_s": _m("batch wall time", "s", "lower", "Seconds from the batch's start to "
                       "its last run's end."),
    "mean_latency_s": _m("mean model latency", "s", "neither", "Mean latency the simulated "
                         "model drew in the batch."),
    "cpu_ms_per_run": _m("CPU per run", "ms", "lower", "CPU time of the process (every "
                         "thread) over the batch, per run."),
    "harness_cpu_ms_per_run": _m("harness CPU per run", "ms", "lower", "CPU per run beyond "
                                 "the floor's: what the harness adds to a run."),
    "setup_ms_per_run": _m("setup per run", "ms", "lower", "Wall time of one run's setup "
                           "(agent, state, per-run components, sandbox, workspace record)."),
    "loop_lag_ms_p50": _m("event-loop lag p50", "ms", "lower", "Median lateness of a "
                          "coroutine that sleeps 10 ms, over the batch."),
    "loop_lag_ms_p99": _m("event-loop lag p99", "ms", "lower", "99th percentile lateness of "
                          "a coroutine that sleeps 10 ms, over the batch."),
    "loop_lag_ms_max": _m("event-loop lag max", "ms", "lower", "Greatest lateness of a "
                          "coroutine that sleeps 10 ms, over the batch."),
    "peak_kib_per_run": _m("peak memory per run", "KiB", "lower", "Peak traced Python "
                           "memory (tracemalloc) of an untimed batch, per run."),
    "steps_per_run": _m("model calls per run", "calls", "neither", "Model calls each run "
                        "makes."),
    "latency_s": _m("simulated latency", "s", "neither", "The simulated model's mean "
                    "latency per call."),
    "jitter_s": _m("latency jitter", "s", "neither", "Half-width of the uniform jitter on "
                   "each call's latency."),
    "tool_threads": _m("tool threads", "threads", "neither", "Threads that run the batch's "
                       "tool calls off the event loop."),

    "questions": _m("questions", "count", "neither", "Questions asked."),
}

_RECALL_AT = re.compile(r"^recall@(\d+)$")
_AT_SIZE = re.compile(r"^(.+)@(1e\d+)$")
_AT_N = re.compile(r"^(.+)_n(\d+)$")


def describe(key: str) -> MetricInfo:
    """The `MetricInfo` of a metric key; an unknown key says that it has no definition."""
    if key in METRICS:
        return METRICS[key]
    if m := _RECALL_AT.match(key):
        info = METRICS["recall@k"]
        return replace(info, label=key, definition=info.definition.replace(
            "top k", f"top {m.group(1)}"))
    if key.startswith("baseline_"):
        base = describe(key.removeprefix("baseline_"))
        return replace(base, label=f"baseline {base.label}",
                       definition=f"The in-run baseline's {_lower_first(base.definition)}")
    if key.startswith("floor_"):
        base = describe(key.removeprefix("floor_"))
        return replace(base, label=f"floor {base.label}",
                       definition=f"The in-run floor's (bare asyncio, no harness) "
                                  f"{_lower_first(base.definition)}")
    if key.startswith("gain_"):
        base = describe(key.removeprefix("gain_"))
        better: Better = "higher" if base.better == "higher" else "neither"
        return replace(base, label=f"gain in {base.label}", better=better,
                       definition=f"{base.label} minus the in-run baseline's.")
    if (m := _AT_SIZE.match(key)) and m.group(1) in METRICS:
        base = METRICS[m.group(1)]
        return replace(base, label=f"{base.label} at {m.group(2)}",
                       definition=f"{base.definition[:-1]}, at {m.group(2)} events.")
    if (m := _AT_N.match(key)) and m.group(1) in METRICS:
        base = METRICS[m.group(1)]
        return replace(base, label=f"{base.label} at N={m.group(2)}",
                       definition=f"{base.definition[:-1]}, at N = {m.group(2)} steps.")
    return MetricInfo(key.replace("_", " "), "", "neither", "No definition recorded for "
                      f"{key!r} (add it to harness/bench/_report_metrics.py).")


def axis_label(info: MetricInfo) -> str:
    """'tokens per step (tokens)', 'success (share, 0–1)'."""
    unit = "share, 0–1" if info.unit == SHARE else info.unit
    if not unit or f"({unit})" in info.label:
        return info.label
    return f"{info.label} ({unit})"


def better_sentence(info: MetricInfo) -> str:
    """'Higher is better.', 'Lower is better.' or what the figure describes instead."""
    if info.better == "higher":
        return "Higher is better."
    if info.better == "lower":
        return "Lower is better."
    return "Neither direction is better: it describes the run, not its quality."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
