"""The memory summary placed in context: what an agent must know before it acts.

Open issues with their failed attempts, approaches known to fail (a failed approach stays
a failure after its issue was fixed some other way), live decisions, fragile files and key
facts, in that order of importance, cut to a token budget. Each failed approach is one
self-contained line that says it failed, so that a line read alone still warns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.llm.base import estimate_tokens
from harness.memory.events import Attempt
from harness.memory.gate import still_failed_all
from harness.memory.projection import Projection
from harness.memory.recorder import describe


@dataclass
class Summary:
    """Rendered summary text, the ids it mentions and how many lines the budget cut."""

    text: str
    items: list[str] = field(default_factory=list)
    dropped: int = 0


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _action_brief(attempt: Attempt) -> str:
    a = attempt.action
    if a is None or attempt.approach == describe(a):  # the label already says it
        return ""
    if a.tool == "edit_file":
        return (f" [edit_file {a.args.get('path', '')}: `{_clip(str(a.args.get('old', '')), 120)}`"
                f" -> `{_clip(str(a.args.get('new', '')), 160)}`]")
    if a.tool == "write_file":
        return f" [write_file {a.args.get('path', '')}]"
    if "command" in a.args:
        return f" [{a.tool}: `{_clip(str(a.args['command']), 160)}`]"
    return f" [{a.tool}]"


def _failed_line(attempt: Attempt) -> str:
    error = f" ({_clip(attempt.error, 160)})" if attempt.error.strip() else ""
    return (f"- failed [{attempt.id}]: {_clip(attempt.approach, 200)}"
            f"{_action_brief(attempt)}{error}")


def render_summary(memory: Projection, budget_tokens: int = 800,
                   workspace: str | None = None) -> Summary:
    """The summary within `budget_tokens` (estimated), most important lines first."""
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    failed = still_failed_all(memory, workspace)
    failed_ids = {a.id for a in failed}
    issues = []
    for issue in memory.open_issues():
        issues.append((issue.id, f"- [{issue.id}] {_clip(issue.title, 160)}"))
        issues += [(a.id, "  " + _failed_line(a))
                   for a in memory.attempts(issue.id) if a.id in failed_ids]
    blocks.append(("Open issues", issues))
    open_ids = {i.id for i in memory.open_issues()}
    others = [(a.id, _failed_line(a)) for a in reversed(failed) if a.issue not in open_ids]
    blocks.append(("Approaches that failed (do not repeat them)", others))
    blocks.append(("Decisions", [(d.id, f"- [{d.id}] {_clip(d.title, 100)}: {_clip(d.rule, 200)}"
                                        f" (applies to {', '.join(d.files) or 'the project'})")
                                 for d in memory.decisions()]))
    blocks.append(("Fragile files", [(f.id, f"- [{f.id}] {f.path}: {_clip(f.reason, 160)}")
                                     for f in memory.fragile()]))
    contested = {i for _, ids in memory.contradictions() for i in ids}
    blocks.append(("Facts", [(f.id, f"- [{f.id}] {_clip(f.subject, 60)}: {_clip(f.claim, 160)}"
                                    + (" (contradicted)" if f.id in contested else ""))
                             for f in reversed(memory.facts())]))
    lines: list[str] = ["# Project memory"]
    used = estimate_tokens(lines[0])
    items: list[str] = []
    dropped = 0
    for title, entries in blocks:
        if not entries:
            continue
        header = f"## {title}"
        if used + estimate_tokens(header) + estimate_tokens(entries[0][1]) > budget_tokens:
            dropped += len(entries)
            continue
        lines.append(header)
        used += estimate_tokens(header) + 1
        for item_id, line in entries:
            cost = estimate_tokens(line) + 1
            if used + cost > budget_tokens:
                dropped += 1
                continue
            lines.append(line)
            used += cost
            items.append(item_id)
    if not items:
        return Summary("", [], dropped)
    return Summary("\n".join(lines), items, dropped)
