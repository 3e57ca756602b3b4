"""One run as an HTML page: task and outcome, totals, then every step."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from harness.events import (
    ContextBuilt,
    ContextManifest,
    Event,
    GateWarned,
    MemoryRecorded,
    ModelCalled,
    SkillsRouted,
    SubagentReturned,
    SubagentStarted,
    ToolRequested,
    Trajectory,
    Verified,
)
from harness.messages import ModelRequest
from harness.viewer.diffs import Diff, FileTracker
from harness.viewer.page import (
    SECTION_COLOURS,
    badge,
    document,
    esc,
    folded,
    millis,
    money,
    status_badge,
)
from harness.viewer.steps import CallView, RunView, StepView, group


def render_run(trajectory: Trajectory, *, title: str | None = None,
               index_href: str | None = None) -> str:
    """The whole page for one recorded run (self-contained HTML). Lines of the file that
    could not be read (`trajectory.problems`) are named at the top; `index_href` links
    back to an index page."""
    run = group(trajectory)
    name = title or f"run {trajectory.run_id or '(no id)'}"
    colours = _section_colours(run)
    tracker = FileTracker(run.start)
    parts = [_header(run, name, index_href), _problems(trajectory)]
    parts += [_step(step, colours, tracker) for step in run.steps]
    if not run.steps:
        parts.append('<p class="muted">This run recorded no steps.</p>')
    return document(name, "".join(parts))


def _header(run: RunView, name: str, index_href: str | None) -> str:
    start, end = run.start, run.finish
    back = f'<a href="{esc(index_href)}">← all runs</a> · ' if index_href else ""
    tools = ('<span class="tools"><button onclick="fold(true)">expand all</button>'
             '<button onclick="fold(false)">collapse all</button></span>')
    meta = []
    if start is not None:
        when = datetime.fromtimestamp(start.ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        meta += [f"model <b>{esc(start.model or '?')}</b>", esc(when)]
        if start.workspace:
            meta.append(f"workspace <code>{esc(start.workspace)}</code>")
        if start.sandbox is not None:
            meta.append(esc(start.sandbox.describe()))
    task = esc(start.task) if start else '<span class="muted">(no task_started event)</span>'
    outcome = status_badge(end.status if end else None)
    reason = esc(end.reason) if end else "the record ends before the run finished"
    answer = (f'<div class="row"><span class="label">answer</span>{folded(end.answer)}</div>'
              if end and end.answer else "")
    return (f'<div class="card">{tools}<div class="small muted">{back}harness trajectory</div>'
            f"<h1>{esc(name)}</h1><div class=\"small muted\">{' · '.join(meta)}</div>"
            f'<div class="task">{task}</div>'
            f'<div class="row">{outcome} <span id="reason">{reason}</span></div>{answer}'
            f"{_totals(run)}{_strip(run)}</div>")


def _totals(run: RunView) -> str:
    calls = [c for s in run.steps for c in s.calls.values()]
    refused = sum(1 for c in calls if c.finished is not None and c.finished.refused)
    errors = sum(1 for c in calls if c.finished is not None and not c.finished.ok
                 and not c.finished.refused)
    warned = sum(len(w.warnings) for c in calls for w in c.gate)
    verdicts = [e for s in run.steps for e in s.events if isinstance(e, Verified)]
    passed = sum(1 for v in verdicts if v.ok)
    usage_in = sum(c.usage.input_tokens for s in run.steps for c in s.model_calls)
    usage_out = sum(c.usage.output_tokens for s in run.steps for c in s.model_calls)
    figures = [("steps", f"{run.model_steps}"), ("tokens", f"{run.tokens:,}"),
               ("in / out", f"{usage_in:,} / {usage_out:,}"), ("cost", money(run.cost_usd)),
               ("model time", millis(run.latency_s)), ("tool calls", f"{len(calls)}"),
               ("tool errors", f"{errors}"), ("refused", f"{refused}"),
               ("gate warnings", f"{warned}"),
               ("checks passed", f"{passed} / {len(verdicts)}")]
    cells = "".join(f"<div><b>{esc(v)}</b><span>{esc(k)}</span></div>" for k, v in figures)
    return f'<div class="totals">{cells}</div>'


def _strip(run: RunView) -> str:
    chips = []
    for step in run.steps:
        kind = _step_kind(step)
        chips.append(f'<a class="s-{kind}" href="#step-{step.number}">{step.number}</a>')
    return f'<div class="strip">{"".join(chips)}</div>' if chips else ""


def _step_kind(step: StepView) -> str:
    bad = any(c.finished is not None and not c.finished.ok for c in step.calls.values())
    bad = bad or any(isinstance(e, Verified) and not e.ok for e in step.events)
    warned = any(c.gate or (c.decision and c.decision.decision != "allow")
                 for c in step.calls.values())
    return "bad" if bad else "warn" if warned else "ok"


def _step_label(step: StepView) -> str:
    kind = _step_kind(step)
    if kind == "bad":
        refused = any(c.finished is not None and c.finished.refused for c in step.calls.values())
        return "refused" if refused else "failed"
    return {"warn": "warned"}.get(kind, kind)


def _problems(trajectory: Trajectory) -> str:
    if not trajectory.problems:
        return ""
    items = "".join(f"<li>{esc(p)}</li>" for p in trajectory.problems)
    return (f'<div class="card note n-bad" id="problems"><b>{len(trajectory.problems)} '
            f"line(s) could not be read and were skipped:</b><ul>{items}</ul></div>")


def _step(step: StepView, colours: dict[str, str], tracker: FileTracker) -> str:
    figures = (f"{step.tokens:,} tokens · {money(step.cost_usd)} · {millis(step.latency_s)}"
               if step.model_calls else "")
    title = f"Step {step.number}" if step.number else "Before the first step"
    rows = [_event(e, step, colours, tracker) for e in step.events]
    return (f'<details class="step" id="step-{step.number}" open><summary><h2>{title}</h2>'
            f'{badge(_step_label(step), _step_kind(step))}<span class="figures">{figures}'
            f'</span></summary><div class="step-body">{"".join(r for r in rows if r)}'
            "</div></details>")


def _event(event: Event, step: StepView, colours: dict[str, str],
           tracker: FileTracker) -> str:
    """One event's HTML; events paired with a tool call are shown inside its card."""
    if isinstance(event, ContextBuilt):
        return _manifest(event.manifest, colours)
    if isinstance(event, ModelCalled):
        return _model_call(event)
    if isinstance(event, ToolRequested):
        return _call(step.calls[event.call.id], tracker)
    if getattr(event, "call_id", None) in step.calls:
        return ""
    if isinstance(event, Verified):
        return _verdict(event)
    if isinstance(event, GateWarned):
        return _gate(event)
    if isinstance(event, SkillsRouted):
        ranked = ", ".join(f"{n} {s:.2f}" for n, s in event.candidates[:8]) or "none"
        loaded = ", ".join(event.loaded) or "none"
        return (f'<div class="row note n-info"><span class="label">skills</span>loaded '
                f"<b>{esc(loaded)}</b> <span class=\"muted\">· candidates {esc(ranked)} · "
                f"router {esc(event.router)}</span></div>")
    if isinstance(event, MemoryRecorded):
        return (f'<div class="row note n-info"><span class="label">memory</span>recorded '
                f"{len(event.memory_ids)} {esc(event.kind or 'item')}(s): "
                f"{esc(event.summary)} <span class=\"muted small\">"
                f"{esc(', '.join(event.memory_ids))}</span></div>")
    if isinstance(event, SubagentStarted):
        return (f'<div class="row note n-info"><span class="label">subagent</span>'
                f"{esc(event.child_run_id)} started{folded(event.task)}</div>")
    if isinstance(event, SubagentReturned):
        value = event.error if not event.ok else json.dumps(event.value, indent=1, default=str)
        return (f'<div class="row note n-{"ok" if event.ok else "bad"}"><span class="label">'
                f"subagent</span>{esc(event.child_run_id)} returned"
                f"{folded(value or '')}</div>")
    return f'<div class="row muted small">{esc(event.type)}</div>'


def _manifest(manifest: ContextManifest, colours: dict[str, str]) -> str:
    # Scaled to the context itself: against a large budget the small sections would vanish.
    scale = max(sum(s.tokens for s in manifest.sections), 1)
    spans, legend = [], []
    for section in manifest.sections:
        colour = colours.get(section.name, "#999")
        tip = f"{section.name}: {section.tokens} tokens"
        if section.items:
            tip += f" · {len(section.items)} item(s): {', '.join(section.items[:12])}"
        if section.dropped:
            tip += f" · dropped {len(section.dropped)}: {', '.join(section.dropped[:12])}"
        if section.note:
            tip += f" · {section.note}"
        width = 100 * section.tokens / scale
        spans.append(f'<span style="width:{width:.2f}%;background:{colour}" '
                     f'title="{esc(tip)}"></span>')
        dropped = f" (−{len(section.dropped)} dropped)" if section.dropped else ""
        legend.append(f'<span title="{esc(tip)}"><i style="background:{colour}"></i>'
                      f"{esc(section.name)} {section.tokens:,}{esc(dropped)}</span>")
    budget = (f" ({100 * manifest.total_tokens / manifest.budget_tokens:.1f}% of a "
              f"{manifest.budget_tokens:,}-token budget)" if manifest.budget_tokens else "")
    strategy = f" · {esc(manifest.strategy)}" if manifest.strategy else ""
    return (f'<div class="row manifest"><span class="label">context</span>'
            f"{manifest.total_tokens:,} tokens{budget}{strategy}"
            f'<div class="bar">{"".join(spans)}</div>'
            f'<div class="legend">{"".join(legend)}</div></div>')


def _model_call(event: ModelCalled) -> str:
    usage = event.usage
    purpose = "" if event.purpose == "agent" else f" · {esc(event.purpose)}"
    text = folded(event.response.text) if event.response.text else ""
    asked = ", ".join(c.name for c in event.response.tool_calls)
    asked_html = f' · asks for <code>{esc(asked)}</code>' if asked else ""
    return (f'<div class="row model"><span class="label">model</span>'
            f"<b>{esc(event.model)}</b>{purpose} · {usage.input_tokens:,} in / "
            f"{usage.output_tokens:,} out · {money(event.cost_usd)} · "
            f"{millis(event.latency_s)}{asked_html}{_request(event.request)}{text}</div>")


def _request(request: ModelRequest | None) -> str:
    """The model's whole input, folded (recorded only when the agent was asked to)."""
    if request is None:
        return ""
    rows = []
    for message in request.messages:
        who = message.role + (f" · {message.name}" if message.name else "")
        calls = "".join(f"\n→ {c.name}({json.dumps(c.arguments, ensure_ascii=False)})"
                        for c in message.tool_calls)
        rows.append(f'<div class="small"><span class="label">{esc(who)}</span></div>'
                    f"{folded((message.content or '') + calls, limit_lines=6)}")
    return (f'<details class="fold request"><summary>request: {len(request.messages)} '
            f'message(s), {len(request.tools)} tool schema(s)</summary>{"".join(rows)}'
            "</details>")


def _call(view: CallView, tracker: FileTracker) -> str:
    call, done, decision = view.call, view.finished, view.decision
    if done is None:
        state, kind = "no result", "warn"
    elif done.refused:
        state, kind = "refused", "bad"
    else:
        state, kind = ("ok", "ok") if done.ok else ("error", "bad")
    if kind == "ok" and view.gate:
        kind = "warn"
    diff = tracker.diff(call, done)
    if call.parse_error:
        args = folded(f"{call.raw_arguments or ''}\n(arguments could not be read: "
                      f"{call.parse_error})")
    elif diff is not None:
        applied = "" if done is not None and done.ok else " · proposed, not applied"
        applied += f" · {diff.note}" if diff.note else ""
        args = f'<div class="small muted">{esc(diff.path)}{applied}</div>{_diff(diff)}'
    else:
        compact = json.dumps(call.arguments, ensure_ascii=False, default=str)
        args = folded(compact if len(compact) <= 100 else json.dumps(
            call.arguments, indent=1, ensure_ascii=False, default=str), limit_lines=8)
    parts = [f'<div class="call c-{kind}"><div><span class="label">tool</span>'
             f"<b><code>{esc(call.name)}</code></b> {badge(state, kind)}"
             + (f' <span class="muted small">{millis(done.duration_s)} · {esc(done.channel)}'
                "</span>" if done else "") + f"</div>{args}"]
    parts += [_gate(g) for g in view.gate]
    if decision is not None:
        parts.append(_decision(decision.decision, decision.rule, decision.reason,
                               decision.approved, decision.overrides))
    if done is not None:
        if done.output:
            parts.append(f'<div class="output">{folded(done.output)}</div>')
        if done.error:
            parts.append(f'<div class="error">{folded(done.error, cls="err")}</div>')
    parts += [_verdict(v) for v in view.verdicts]
    return "".join(parts) + "</div>"


def _diff(diff: Diff) -> str:
    rows = []
    for line in diff.lines:
        cls = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "")
        rows.append(f'<div class="{cls}">{esc(line) or " "}</div>')
    summary = f"+{diff.added} −{diff.removed}"
    return (f'<pre class="diff" title="{esc(summary)}">{"".join(rows)}</pre>'
            if rows else '<div class="muted small">(no change)</div>')


def _decision(decision: str, rule: str, reason: str, approved: bool | None,
              overrides: tuple[str, ...]) -> str:
    kind = {"allow": "ok", "deny": "bad"}.get(decision, "warn")
    if decision == "allow" and not overrides:
        return (f'<div class="small muted decision">policy: allow'
                f"{esc(f' ({rule})' if rule else '')}{esc(f' — {reason}' if reason else '')}"
                "</div>")
    answer = {True: " · approved", False: " · not approved"}.get(approved, "") \
        if approved is not None else ""
    over = f" · let through gate warning(s) {', '.join(overrides)}" if overrides else ""
    return (f'<div class="note n-{kind} decision"><span class="label">policy</span>'
            f"<b>{esc(decision)}</b> {esc(f'[{rule}]' if rule else '')} {esc(reason)}"
            f"{esc(answer)}{esc(over)}</div>")


def _gate(event: GateWarned) -> str:
    rows = []
    for w in event.warnings:
        cites = f" <span class=\"muted small\">cites {esc(', '.join(w.cites))}</span>" \
            if w.cites else ""
        kind = f" [{w.kind}]" if w.kind else ""
        rows.append(f'<div class="note n-{"bad" if w.severity == "block" else "warn"} gate">'
                    f'<span class="label">gate {esc(w.severity)}</span>{esc(w.message)}'
                    f"<span class=\"muted\">{esc(kind)}</span>{cites}</div>")
    return "".join(rows)


def _verdict(event: Verified) -> str:
    who = "grader" if event.grader else "verifier"
    mark = "passed" if event.ok else "failed"
    cost = event.cost
    spent = (f" · {cost.tokens:,} tokens, {cost.calls} call(s), {millis(cost.seconds)}"
             if cost.tokens or cost.calls or cost.seconds else "")
    detail = folded(event.detail, limit_lines=8) if event.detail else ""
    return (f'<div class="note n-{"ok" if event.ok else "bad"} verdict"><span class="label">'
            f"{who}</span><b>{esc(event.verifier)}</b> {mark}"
            f'<span class="muted small">{esc(spent)}</span>{detail}</div>')


KNOWN_SECTIONS = ("system", "task", "tools", "history", "memory", "skills")
"""Sections the built-in context constructors make: the same colour on every page."""


def _section_colours(run: RunView) -> dict[str, str]:
    """One colour per section name, the same in every step of the run."""
    names: list[str] = []
    for step in run.steps:
        for event in step.events:
            if isinstance(event, ContextBuilt):
                names += [s.name for s in event.manifest.sections]
    names = list(dict.fromkeys(names))
    others = [n for n in names if n not in KNOWN_SECTIONS]
    slots = {n: i for i, n in enumerate([*KNOWN_SECTIONS, *others])}
    return {n: SECTION_COLOURS[slots[n] % len(SECTION_COLOURS)] for n in names}
