"""Project memory served over MCP, so any coding agent can record, recall and check.

    server = memory_server(".harness/memory")
    server.run()                      # stdio; or `harness mcp --memory DIR [--http PORT]`

Each tool is one `ProjectMemory` call: the record tools append typed events to the log
(duplicates of live items are merged and their id returned), `check_action` is the
pre-action gate, `doctor` the hygiene report. Bad arguments come back as MCP tool errors
naming the field; nothing is written for a refused call.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from harness.memory.events import parse_memory_event
from harness.memory.project import ProjectMemory

INSTRUCTIONS = (
    "Project memory shared across sessions and agents. Before editing a file or running a "
    "command that changes things, call check_action: it warns when the action repeats a "
    "failed attempt, changes a fragile file or breaks a decision, citing the event ids. "
    "Record issues, attempts (with their outcome and error), fixes and decisions as you go; "
    "call summary at the start of a task and recall to search.")

Files = Annotated[tuple[str, ...], Field(description="workspace paths the event is about")]
Provenance = Annotated[tuple[str, ...], Field(
    description="where this came from: trajectory event ids, commit hashes, URLs")]
NonEmpty = Field(min_length=1)
ServedKind = Literal["issue", "attempt", "fix", "decision", "fact", "note", "fragile"]

REFERENCES: dict[str, dict[str, str | None]] = {
    "attempt": {"issue": "issue"},
    "fix": {"issue": "issue", "attempt": "attempt"},
    "supersede": {"old": None, "new": None},
}
"""Per event kind, its fields that cite another event, and the kind they must cite
(None: any kind). A cited id must already be in memory."""


def memory_server(root: str | os.PathLike[str], *,
                  workspace: str | os.PathLike[str] | None = None) -> MCPServer:
    """An MCP server over the project memory at `root` (`workspace`: where relative paths
    live; default the folder holding `.harness/`). Run it with `.run()` (stdio) or
    `.run("streamable-http", host="127.0.0.1", port=PORT)`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        memory = ProjectMemory(root, workspace=workspace, record=False, author="mcp")
    for w in caught:  # unreadable log lines: said once here, listed by doctor until fixed
        print(f"warning: {w.message}", file=sys.stderr)
    server = MCPServer("harness-memory", instructions=INSTRUCTIONS, log_level="WARNING")
    for tool in _tools(memory):
        server.add_tool(tool)
    return server


def _tools(memory: ProjectMemory) -> list[Any]:
    """The tools, as closures over one open memory. They are `async` although they block:
    the SDK runs sync tools on worker threads, and the memory's SQLite index belongs to
    the thread that opened it. Each call takes milliseconds."""

    def store(kind: str, **fields: Any) -> dict[str, Any]:
        fields = {k: v for k, v in fields.items() if v is not None}
        try:
            event = parse_memory_event({"kind": kind, **fields})
        except ValidationError as exc:
            raise ToolError(_field_error(kind, exc)) from exc
        memory.sync()
        for field, must_be in REFERENCES.get(kind, {}).items():
            cited = getattr(event, field)
            if cited:
                _require(memory, kind, field, cited, must_be)
        try:
            stored = memory.add(event)
        except ValueError as exc:
            raise ToolError(str(exc)) from exc
        return {"id": stored, "merged": stored != event.id}

    async def record_issue(title: Annotated[str, NonEmpty], files: Files = (),
                           check: str = "", provenance: Provenance = ()) -> dict[str, Any]:
        """Record a problem being worked on. `check` is the command whose failure shows it
        (e.g. `pytest tests/test_calc.py`). Returns the issue's id, or the id of the open
        issue it duplicates (`merged`)."""
        return store("issue", title=title, files=files, check=check, provenance=provenance)

    async def record_attempt(
            approach: Annotated[str, Field(min_length=1,
                                           description="the approach, in words")],
            outcome: Literal["failed", "succeeded", "pending"],
            tool: Annotated[str | None, Field(
                description="the tool the attempt used, e.g. edit_file or run_shell")] = None,
            args: Annotated[dict[str, Any] | None, Field(
                description="the tool's arguments, e.g. {\"path\": \"calc.py\", \"old\": "
                            "\"a - b\", \"new\": \"a + b\"}")] = None,
            issue: Annotated[str | None, Field(description="id of the issue tried")] = None,
            error: Annotated[str, Field(description="what went wrong, if it failed")] = "",
            files: Files = (), provenance: Provenance = ()) -> dict[str, Any]:
        """Record one try at an issue and its outcome. With `tool` and `args`, check_action
        will warn anyone about to repeat a failed attempt (up to formatting, renaming and
        argument order)."""
        if args is not None and tool is None:
            raise ToolError("attempt: field 'tool': required when 'args' is given")
        action = {"tool": tool, "args": args or {}} if tool is not None else None
        return store("attempt", approach=approach, outcome=outcome, action=action, issue=issue,
                     error=error, files=files, provenance=provenance)

    async def record_fix(issue: Annotated[str, Field(min_length=1,
                                                     description="id of the fixed issue")],
                         attempt: Annotated[str | None, Field(
                             description="id of the attempt that fixed it")] = None,
                         summary: str = "", provenance: Provenance = ()) -> dict[str, Any]:
        """Record that an issue is fixed (closing it), optionally by which attempt."""
        return store("fix", issue=issue, attempt=attempt, summary=summary,
                     provenance=provenance)

    async def record_decision(
            title: Annotated[str, NonEmpty], rule: Annotated[str, Field(
                description="what the decision forbids or requires, e.g. 'no print() in "
                            "library code'; check_action warns on edits that break it")] = "",
            why: str = "", files: Annotated[tuple[str, ...], Field(
                description="paths the decision binds; a path ending in '/' binds a "
                            "directory")] = (),
            provenance: Provenance = ()) -> dict[str, Any]:
        """Record a project decision: what, why, and the files it binds."""
        return store("decision", title=title, rule=rule, why=why, files=files,
                     provenance=provenance)

    async def record_fact(subject: Annotated[str, NonEmpty], claim: Annotated[str, NonEmpty],
                          replaces_older: Annotated[bool, Field(
                              description="supersede every live fact on the same subject")]
                          = False, provenance: Provenance = ()) -> dict[str, Any]:
        """Record a claim about a subject (e.g. 'test command': 'make test'). Two live
        facts on one subject that disagree are a contradiction until one is superseded."""
        if not replaces_older:
            return store("fact", subject=subject, claim=claim, provenance=provenance)
        try:
            fact_id = memory.fact(subject, claim, supersede=True, provenance=provenance)
        except ValidationError as exc:
            raise ToolError(_field_error("fact", exc)) from exc
        return {"id": fact_id, "merged": False}

    async def record_note(text: Annotated[str, NonEmpty], thread: str = "",
                          entities: tuple[str, ...] = (), files: Files = (),
                          provenance: Provenance = ()) -> dict[str, Any]:
        """Record free text. Notes of one `thread` are linked in order; notes sharing an
        entity (a module, a person) are linked to each other."""
        return store("note", text=text, thread=thread, entities=entities, files=files,
                     provenance=provenance)

    async def mark_fragile(path: Annotated[str, Field(
                               min_length=1, description="a file, or a directory ending "
                                                         "in '/'")],
                           reason: str = "", provenance: Provenance = ()) -> dict[str, Any]:
        """Mark a file (or directory) as fragile: check_action warns before it changes."""
        return store("fragile", path=path, reason=reason, provenance=provenance)

    async def supersede(old: Annotated[str, Field(min_length=1,
                                                  description="id of the event replaced")],
                        new: Annotated[str, Field(
                            description="id of the event replacing it, if any")] = "",
                        reason: str = "") -> dict[str, Any]:
        """Retire an event: it stays in the log but is no longer served; a superseded
        failure no longer warns, a superseded decision no longer binds."""
        return store("supersede", old=old, new=new, reason=reason)

    async def recall(query: Annotated[str, NonEmpty],
                     k: Annotated[int, Field(ge=1, le=50)] = 5,
                     kinds: Annotated[list[ServedKind] | None, Field(
                         description="only these kinds of event")] = None) -> dict[str, Any]:
        """Search live memory (lexical, graph and recency signals fused): the `k` most
        relevant items with their ids and scores."""
        return {"items": [h.model_dump() for h in memory.recall(query, k=k, kinds=kinds)]}

    async def summary(budget_tokens: Annotated[int, Field(ge=50)] = 800) -> str:
        """What an agent should know before working here: open issues and their failed
        attempts, live decisions, fragile files and key facts, within the token budget."""
        return memory.summary(budget_tokens) or "(memory is empty)"

    async def check_action(tool: Annotated[str, Field(
                               min_length=1, description="the tool about to be called, e.g. "
                                                         "edit_file, write_file or run_shell")],
                           args: Annotated[dict[str, Any], Field(
                               description="its arguments, e.g. {\"command\": \"sed -i ...\"}")]
                           ) -> dict[str, Any]:
        """The pre-action gate: before a change, ask whether it repeats a failed attempt,
        changes a fragile file or breaks a decision. Returns the warnings (none: go
        ahead), each citing the memory event ids behind it."""
        return {"warnings": [w.model_dump() for w in memory.check({"tool": tool, "args": args})]}

    async def doctor() -> dict[str, Any]:
        """Memory hygiene: duplicates, stale items served, open contradictions, dangling
        links, unreadable log lines; `healthy` is true when there is nothing to fix."""
        report = memory.hygiene()
        return {**report.model_dump(mode="json"), "healthy": report.healthy}

    return [record_issue, record_attempt, record_fix, record_decision, record_fact,
            record_note, mark_fragile, supersede, recall, summary, check_action, doctor]


def _field_error(kind: str, exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"] if p != kind) or kind
    return f"{kind}: field '{field}': {err['msg']}"


def _require(memory: ProjectMemory, kind: str, field: str, cited: str,
             must_be: str | None) -> None:
    """Refuse a citation of an event the memory does not hold (or of the wrong kind)."""
    held = memory.index.payload(cited)
    if held is None:
        raise ToolError(f"{kind}: field '{field}': no event {cited!r} in "
                        f"{Path(memory.log.path)}")
    if must_be is not None and held.get("kind") != must_be:
        raise ToolError(f"{kind}: field '{field}': {cited!r} is of kind "
                        f"'{held.get('kind')}', expected kind {must_be!r}")
