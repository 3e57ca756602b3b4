"""What each event says as span attributes: the GenAI semantic conventions' names where
they define one, `harness.*` names for the rest. Plain functions of events (no OpenTelemetry
import), so the span tree and the names can be read apart.

The GenAI names are those of `opentelemetry-semantic-conventions` (its `gen_ai_attributes`
module, still incubating there, so they are spelled out here and the tests check them
against the installed package)."""

from __future__ import annotations

import json
from typing import Any

from harness.events import (
    ContextBuilt,
    GateWarning,
    MemoryRecorded,
    ModelCalled,
    PolicyDecided,
    SkillsRouted,
    SubagentReturned,
    SubagentStarted,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    ToolRequested,
    Verified,
)

OPERATION = "gen_ai.operation.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
CONVERSATION_ID = "gen_ai.conversation.id"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_WRITE_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
REASONING_TOKENS = "gen_ai.usage.reasoning.output_tokens"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"
EVALUATION_NAME = "gen_ai.evaluation.name"
EVALUATION_LABEL = "gen_ai.evaluation.score.label"
EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"
ERROR_TYPE = "error.type"

INVOKE_AGENT, CHAT, EXECUTE_TOOL = "invoke_agent", "chat", "execute_tool"

Attributes = dict[str, Any]
"""Attribute name -> a str, bool, int, float or a list of one of these (never None)."""


def run_started(event: TaskStarted) -> Attributes:
    """The root span's attributes known as the run begins."""
    attrs: Attributes = {OPERATION: INVOKE_AGENT, CONVERSATION_ID: event.run_id,
                         "harness.run.id": event.run_id, REQUEST_MODEL: event.model,
                         "harness.task": event.task, "harness.workspace": event.workspace}
    if event.parent_run_id:
        attrs["harness.run.parent_id"] = event.parent_run_id
    if event.sandbox is not None:
        attrs["harness.sandbox.backend"] = event.sandbox.backend
        attrs["harness.sandbox.confined"] = event.sandbox.confined
    return attrs


def run_finished(event: TaskFinished, usage: dict[str, int]) -> Attributes:
    """The root span's attributes as the run ends: its outcome and its totals (`usage`:
    the sums of `usage_of` over its model calls)."""
    return _without_none({
        "harness.outcome.status": event.status, "harness.outcome.reason": event.reason,
        "harness.steps": event.steps, "harness.usage.total_tokens": event.tokens,
        **usage, "harness.cost_usd": event.cost_usd})


def usage_of(event: ModelCalled) -> dict[str, int]:
    """A model call's tokens under the conventions' names: in, out, read from and written
    to the provider's prompt cache, and reasoning (the parts are 0 where not reported)."""
    usage = event.usage
    # getattr: the cache and reasoning parts are recent fields of `Usage`
    return {INPUT_TOKENS: usage.input_tokens, OUTPUT_TOKENS: usage.output_tokens,
            CACHE_READ_TOKENS: getattr(usage, "cached_input_tokens", 0),
            CACHE_WRITE_TOKENS: getattr(usage, "cache_write_tokens", 0),
            REASONING_TOKENS: getattr(usage, "reasoning_tokens", 0)}


def model_called(event: ModelCalled) -> Attributes:
    """A `chat` span: model, tokens (`usage_of`), cost, purpose and latency."""
    return _without_none({
        OPERATION: CHAT, REQUEST_MODEL: event.model,
        RESPONSE_MODEL: event.response.model or None, **usage_of(event),
        "harness.cost_usd": event.cost_usd,
        "harness.purpose": event.purpose, "harness.latency_s": event.latency_s,
        "harness.request_digest": event.request_digest or None, "harness.step": event.step,
        "harness.tool_calls": len(event.response.tool_calls)})


def tool_requested(event: ToolRequested) -> Attributes:
    """An `execute_tool` span as the call is requested: tool, call id, arguments' size."""
    call = event.call
    arguments = call.raw_arguments if call.raw_arguments is not None else \
        json.dumps(call.arguments, separators=(",", ":"), default=str)
    return _without_none({
        OPERATION: EXECUTE_TOOL, TOOL_NAME: call.name, TOOL_CALL_ID: call.id,
        TOOL_TYPE: "function", "harness.tool.arguments_bytes": len(arguments.encode(
            "utf-8", errors="replace")), "harness.tool.parse_error": call.parse_error,
        "harness.step": event.step})


def tool_outcome(event: ToolFinished) -> str:
    """`ok`, `refused` or `error`."""
    return "refused" if event.refused else "ok" if event.ok else "error"


def tool_finished(event: ToolFinished) -> Attributes:
    """How the call ended: outcome, duration, channel, error (a refusal's is its reason)."""
    outcome = tool_outcome(event)
    return _without_none({
        "harness.tool.outcome": outcome, "harness.tool.duration_s": event.duration_s,
        "harness.tool.channel": event.channel, "harness.tool.output_bytes": len(
            event.output.encode("utf-8", errors="replace")),
        "harness.tool.error": event.error,
        ERROR_TYPE: "tool_error" if outcome == "error" else None})


def policy_decided(event: PolicyDecided) -> Attributes:
    return _without_none({
        "harness.policy.decision": event.decision, "harness.policy.rule": event.rule,
        "harness.policy.reason": event.reason, "harness.policy.approved": event.approved,
        "harness.policy.overrides": list(event.overrides) or None})


def gate_warning(warning: GateWarning) -> Attributes:
    return _without_none({
        "harness.gate.message": warning.message, "harness.gate.severity": warning.severity,
        "harness.gate.kind": warning.kind or None, "harness.gate.cites": warning.cites or None})


def verified(event: Verified) -> Attributes:
    """A verdict in the conventions' evaluation terms: name, label (pass/fail), explanation."""
    return _without_none({
        EVALUATION_NAME: event.verifier, EVALUATION_LABEL: "pass" if event.ok else "fail",
        EVALUATION_EXPLANATION: event.detail or None, "harness.verdict.ok": event.ok,
        "harness.verdict.grader": event.grader, TOOL_CALL_ID: event.call_id,
        "harness.verification.tokens": event.cost.tokens,
        "harness.verification.calls": event.cost.calls,
        "harness.verification.seconds": event.cost.seconds})


def memory_recorded(event: MemoryRecorded) -> Attributes:
    return _without_none({"harness.memory.ids": event.memory_ids or None,
                          "harness.memory.kind": event.kind or None,
                          "harness.memory.summary": event.summary or None})


def skills_routed(event: SkillsRouted) -> Attributes:
    return _without_none({
        "harness.skills.router": event.router or None,
        "harness.skills.loaded": event.loaded or None,
        "harness.skills.candidates": [name for name, _ in event.candidates] or None,
        "harness.skills.scores": [float(score) for _, score in event.candidates] or None,
        "harness.skills.tools": sorted(event.tools) or None})


def context_built(event: ContextBuilt) -> Attributes:
    manifest = event.manifest
    return _without_none({
        "harness.context.tokens": manifest.total_tokens,
        "harness.context.budget_tokens": manifest.budget_tokens,
        "harness.context.strategy": manifest.strategy or None,
        "harness.context.sections": [s.name for s in manifest.sections] or None,
        "harness.step": event.step})


def subagent_started(event: SubagentStarted) -> Attributes:
    return {OPERATION: INVOKE_AGENT, "harness.run.id": event.child_run_id,
            "harness.run.parent_id": event.run_id, "harness.task": event.task}


def subagent_returned(event: SubagentReturned) -> Attributes:
    return _without_none({"harness.subagent.ok": event.ok, "harness.subagent.error": event.error,
                          ERROR_TYPE: "subagent_error" if not event.ok else None})


def _without_none(attrs: Attributes) -> Attributes:
    return {k: v for k, v in attrs.items() if v is not None}
