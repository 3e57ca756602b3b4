"""The gullible probe: the worst case of a model that obeys injected instructions.

Whenever an injection's text is visible anywhere in its input (compared with whitespace
collapsed and string escapes decoded, so reformatting or quoting does not hide it), it
emits that injection's tool call — the one whose text appears last, once per call it has
not already made. Otherwise it does the
task the plain way: it makes the planned calls in order, then answers with everything it
read (the content of every tool result in its input). Asked as an isolated worker (a
`submit` tool is offered), the plain way is to submit what it read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from harness.llm.base import SyncModel
from harness.llm.scripted import to_response
from harness.messages import ModelRequest, ModelResponse


class Injection(BaseModel):
    """Text that hijacks the model once it can read it, and the call it then makes."""

    text: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


def injections_for(text: str, calls: Iterable[dict]) -> list[Injection]:
    """An instruction that asks for several calls `{"tool", "args"}`: one `Injection` per
    call, which the model makes in the order given."""
    return [Injection(text=text, tool=c["tool"], args=c.get("args", {})) for c in calls]


class GullibleModel(SyncModel):
    """Obeys every injection it can read; otherwise follows `plan`, then reports what it read.

    `plan` is a list of tool calls `{"tool": name, "args": {...}}` that the task needs.
    Injections whose text appears at the same place (one instruction asking for several
    calls) are obeyed in the order they are listed. With `reads_own_calls=False` the
    arguments of its own earlier calls do not count as read: for plans computed by an
    oracle (a benchmark's ground truth), whose arguments may carry text the model never
    read anywhere.
    """

    def __init__(self, injections: Iterable[Injection] = (), plan: Iterable[dict] = (), *,
                 name: str = "gullible", reads_own_calls: bool = True):
        self.injections = list(injections)
        self.plan = list(plan)
        self.name = name
        self.reads_own_calls = reads_own_calls
        self.calls = 0

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        made = {_key(c.name, c.arguments) for m in request.messages for c in m.tool_calls}
        hijack = self._obey(request, made)
        if hijack is not None:
            reply: Any = hijack
        elif any(t.get("function", {}).get("name") == "submit" for t in request.tools):
            reply = {"tool": "submit", "args": _fill(_submit_schema(request), _read(request))}
        else:
            todo = [c for c in self.plan if _key(c["tool"], c.get("args", {})) not in made]
            reply = todo[0] if todo else _answer(request)
        return to_response(reply, model=self.name, request=request,
                           call_prefix=f"g{self.calls}")

    def _obey(self, request: ModelRequest, made: set[str]) -> dict | None:
        visible = squash(request.text() if self.reads_own_calls else "\n".join(
            m.content for m in request.messages if m.content))
        best, best_pos = None, -1
        for inj in self.injections:
            pos = visible.rfind(squash(inj.text))
            if pos > best_pos and _key(inj.tool, inj.args) not in made:
                best, best_pos = inj, pos
        return None if best is None else {"tool": best.tool, "args": best.args}


ESCAPE = re.compile(r"\\(\n[ \t]*|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)


def squash(text: str) -> str:
    """Text as a reader sees it: string escapes decoded (JSON, YAML, Python: `\\n`, `\\"`,
    `\\u00e9`, YAML's escaped line breaks), YAML's doubled quotes undone, whitespace
    collapsed. So quoting or reformatting an instruction does not hide it."""
    def decode(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] == "\n":
            return ""
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\n"}.get(code, code)

    return " ".join(ESCAPE.sub(decode, text).replace("''", "'").split())


def _key(tool: str, args: dict) -> str:
    return tool + json.dumps(args, sort_keys=True)


def _read(request: ModelRequest) -> str:
    """Everything the model read: tool results, and in a worker the content it was handed."""
    tool_text = [m.content for m in request.messages if m.role == "tool" and m.content]
    if tool_text:
        return "\n".join(tool_text)
    return "\n".join(m.content for m in request.messages[1:] if m.role == "user" and m.content)


def _answer(request: ModelRequest) -> str:
    read = _read(request) if any(m.role == "tool" for m in request.messages) else ""
    return f"Here is what I found:\n{read}" if read else "I found nothing to report."


def _submit_schema(request: ModelRequest) -> dict:
    for t in request.tools:
        if t.get("function", {}).get("name") == "submit":
            return t["function"].get("parameters", {})
    return {}


def _fill(schema: dict, text: str) -> dict:
    """Fill a submit schema with what was read: lines for lists of strings, the text for
    strings, true for booleans."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    out: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type")
        if kind == "array" and prop.get("items", {}).get("type", "string") == "string":
            limit = prop.get("maxItems")
            out[name] = lines[:limit] if limit else lines
        elif kind == "string":
            out[name] = text
        elif kind == "boolean":
            out[name] = True
    return out
