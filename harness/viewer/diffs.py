"""Edits as diffs: what an `edit_file` or `write_file` call changed, old to new.

The files a run began with come from its recorded workspace snapshot (when it was small
enough to keep); each successful edit updates them, so a later `write_file` is shown
against the content it replaced and an edit with the lines around it."""

from __future__ import annotations

import base64
import binascii
import difflib
from dataclasses import dataclass

from harness.events import TaskStarted, ToolFinished
from harness.messages import ToolCall

EDIT_TOOLS = frozenset({"edit_file", "write_file"})
CONTEXT_LINES = 3
MAX_TRACKED_CHARS = 400_000
"""A file larger than this is not followed: its edits are shown as old text to new text."""


@dataclass
class Diff:
    """A unified diff of one edit: `lines` start with ' ', '+', '-' or '@'."""

    path: str
    lines: list[str]
    added: int
    removed: int
    note: str = ""
    """What the diff could not know (e.g. the content a write replaced)."""


class FileTracker:
    """The workspace's text files as the run changed them (those it knows of)."""

    def __init__(self, start: TaskStarted | None):
        self.files: dict[str, str] = {}
        self.forgotten: set[str] = set()
        """Files whose content this record stopped following."""
        snapshot = start.workspace_state.snapshot if start and start.workspace_state else None
        for path, encoded in (snapshot or {}).items():
            try:
                text = base64.b64decode(encoded, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):  # not base64, or not text: no diff context
                continue
            if len(text) <= MAX_TRACKED_CHARS:
                self.files[path] = text

    def diff(self, call: ToolCall, finished: ToolFinished | None) -> Diff | None:
        """The diff of an edit call (None for other calls or arguments of the wrong type).
        Only an edit that succeeded changes what later diffs are shown against."""
        if call.name not in EDIT_TOOLS:
            return None
        args = call.arguments
        path = args.get("path")
        if not isinstance(path, str):
            return None
        path = path.removeprefix("./")
        known = self.files.get(path)
        whole = True  # whether `after` is the file's whole new content
        note = ""
        if call.name == "write_file":
            new = args.get("content")
            if not isinstance(new, str):
                return None
            before, after = known or "", new
            if known is None and (path in self.forgotten or not self.files):
                note = "the content it replaced, if any, is not in the record"
        else:
            old, new = args.get("old"), args.get("new")
            if not isinstance(old, str) or not isinstance(new, str):
                return None
            if known is not None and old and known.count(old) == 1:
                before, after = known, known.replace(old, new, 1)
            else:
                before, after, whole = old, new, False
        if finished is not None and finished.ok:
            if whole and len(after) <= MAX_TRACKED_CHARS:
                self.files[path] = after
                self.forgotten.discard(path)
            else:
                self.files.pop(path, None)  # changed in a way this record cannot follow
                self.forgotten.add(path)
        return _unified(path, before, after, note)


def _unified(path: str, before: str, after: str, note: str) -> Diff:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                      fromfile=f"a/{path}", tofile=f"b/{path}",
                                      n=CONTEXT_LINES, lineterm=""))[2:]  # drop ---/+++ headers
    added = sum(1 for line in lines if line.startswith("+"))
    removed = sum(1 for line in lines if line.startswith("-"))
    return Diff(path, lines, added, removed, note)
