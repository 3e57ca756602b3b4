"""Real agent transcripts as histories, to replay through context strategies.

Reads two public formats:

- tau-bench (`*.json`): a list of runs, each with `traj`, a list of OpenAI-style chat
  messages (system, user, assistant with `tool_calls`, tool);
- SWE-agent (`*.traj`): an object with `history`, the messages the model saw. Actions are
  either `tool_calls` (function calling) or an `action` string whose observation comes back
  as the next user message; demonstration messages (`is_demo`) are left out.

A tool message without an id answers the earliest call still unanswered. A UTF-8 byte order
mark is allowed.

The first user message is the task; what follows is the history. Tool output is marked as
untrusted (channel "shell" for SWE-agent, "api" for tau-bench). A malformed file raises
`TranscriptError` naming the file and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from harness.errors import DataError
from harness.messages import Message, ToolCall

SUFFIXES = (".json", ".traj")


class TranscriptError(DataError):
    """A transcript file is malformed (the message names the file and the field)."""


class Transcript(BaseModel):
    """One recorded run: its system prompt, task, and the history after the task."""

    id: str
    source: str
    system: str = ""
    task: str
    history: list[Message] = Field(default_factory=list)

    @property
    def steps(self) -> int:
        return sum(m.role == "assistant" for m in self.history)


def load_transcripts(path: str | Path) -> list[Transcript]:
    """Every transcript in a file, or in the `*.json` / `*.traj` files under a directory."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()) \
        if path.is_dir() else [path]
    if not files:
        raise TranscriptError(f"{path}: no {' or '.join(SUFFIXES)} transcript files")
    out: list[Transcript] = []
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError) as exc:
            raise TranscriptError(f"{f}: cannot read: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{f} line {exc.lineno}: not valid JSON ({exc.msg})") from exc
        if isinstance(data, dict) and "traj" in data and "history" not in data:
            data = [data]  # one tau-bench run on its own
        out.extend(_pair_results(t) for t in
                   (_tau_bench(f, data) if isinstance(data, list) else _swe_agent(f, data)))
    if not out:
        raise TranscriptError(f"{path}: no transcripts (every file holds an empty list)")
    return out


def _tau_bench(f: Path, runs: list[Any]) -> Iterator[Transcript]:
    for i, run in enumerate(runs):
        where = f"[{i}]"
        if not isinstance(run, dict) or not isinstance(run.get("traj"), list):
            raise TranscriptError(f"{f}: field '{where}.traj': expected a list of messages")
        messages = [_chat(f, f"{where}.traj[{j}]", m, channel="api")
                    for j, m in enumerate(run["traj"])]
        yield _split(f, where, f"{f.stem}#{i}", messages)


def _swe_agent(f: Path, data: Any) -> Iterator[Transcript]:
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        raise TranscriptError(f"{f}: field 'history': expected a list of messages")
    messages: list[Message] = []
    pending: ToolCall | None = None  # an `action` whose observation is the next user message
    for j, raw in enumerate(data["history"]):
        where = f"history[{j}]"
        if not isinstance(raw, dict):
            raise TranscriptError(f"{f}: field '{where}': expected an object")
        if str(raw.get("is_demo", "")).lower() == "true":
            continue
        role = raw.get("role")
        if role == "user" and pending is not None:
            messages.append(Message(role="tool", tool_call_id=pending.id, name=pending.name,
                                    content=_text(f, where, raw.get("content")), channel="shell"))
            pending = None
            continue
        m = _chat(f, where, raw, channel="shell")
        action = _action(f, where, raw.get("action")) if role == "assistant" else ""
        if not m.tool_calls and action:
            pending = ToolCall(id=f"action-{j}", name=action.split()[0][:64],
                               arguments={"command": action})
            m = m.model_copy(update={"tool_calls": [pending]})
        messages.append(m)
    yield _split(f, "history", f.stem, messages)


def _chat(f: Path, where: str, raw: Any, *, channel: str) -> Message:
    if not isinstance(raw, dict):
        raise TranscriptError(f"{f}: field '{where}': expected a message object")
    role = raw.get("role")
    if role not in ("system", "user", "assistant", "tool"):
        raise TranscriptError(f"{f}: field '{where}.role': expected system, user, assistant or "
                              f"tool, got {role!r}")
    content = _text(f, f"{where}.content", raw.get("content"))
    if role == "tool":
        ids = raw.get("tool_call_ids") or [raw.get("tool_call_id")]
        return Message(role="tool", content=content, tool_call_id=str(ids[0] or ""),
                       name=raw.get("name"), channel=channel)
    calls = []
    for k, c in enumerate(raw.get("tool_calls") or []):
        fn = c.get("function") if isinstance(c, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise TranscriptError(f"{f}: field '{where}.tool_calls[{k}].function.name': "
                                  "expected a string")
        calls.append(ToolCall.from_raw(str(c.get("id") or f"call-{k}"), fn["name"],
                                       fn.get("arguments")))
    return Message(role=role, content=content, tool_calls=calls)


def _action(f: Path, where: str, action: Any) -> str:
    """SWE-agent's `action`: a command string, or (some versions) a list of its lines."""
    if isinstance(action, list) and all(isinstance(a, str) for a in action):
        action = "\n".join(action)
    if action is not None and not isinstance(action, str):
        raise TranscriptError(f"{f}: field '{where}.action': expected a command string, got "
                              f"{type(action).__name__}")
    return (action or "").strip()


def _pair_results(t: Transcript) -> Transcript:
    """Give a tool message without a `tool_call_id` the id of the earliest call still
    unanswered, so that it pairs with its call."""
    open_calls: list[str] = []
    history = []
    for m in t.history:
        if m.role == "assistant":
            open_calls = [c.id for c in m.tool_calls]
        elif m.role == "tool":
            if not m.tool_call_id and open_calls:
                m = m.model_copy(update={"tool_call_id": open_calls[0]})
            if m.tool_call_id in open_calls:
                open_calls.remove(m.tool_call_id)
        history.append(m)
    return t.model_copy(update={"history": history})


def _text(f: Path, where: str, content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    raise TranscriptError(f"{f}: field '{where}': expected text, got {type(content).__name__}")


def _split(f: Path, where: str, tid: str, messages: list[Message]) -> Transcript:
    system = "\n\n".join(m.content or "" for m in messages if m.role == "system")
    rest = [m for m in messages if m.role != "system"]
    first_user = next((i for i, m in enumerate(rest) if m.role == "user"), None)
    if first_user is None:
        raise TranscriptError(f"{f}: field '{where}': no user message holding the task")
    return Transcript(id=tid, source=str(f), system=system, task=rest[first_user].content or "",
                      history=rest[first_user + 1:])
