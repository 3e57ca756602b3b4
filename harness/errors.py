"""Errors that more than one layer raises: a bottom module, so any layer may import them."""

from __future__ import annotations


class DataError(ValueError):
    """A data file (a benchmark's tasks, a transcript) is missing or malformed; the message
    names the file, the line and the field."""


class ToolError(Exception):
    """Raised by a tool for an error the model should see and can correct."""


class WorkspaceEscape(ToolError):
    """A path resolves outside the agent's workspace."""
