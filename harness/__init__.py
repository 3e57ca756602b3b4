"""harness: build, study and measure the harness around LLM agents.

The public API lives here. Submodules are imported on first use, so `import harness`
stays fast and litellm loads only when a `LiteLLMModel` makes its first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Agent": "harness.agent", "LoopGuard": "harness.loop_guard",
    "AgentState": "harness.state", "Budget": "harness.state", "ContextSection": "harness.state",
    "Section": "harness.state", "PerRun": "harness.state", "Effects": "harness.tools",
    "Trajectory": "harness.events", "TrajectoryWriter": "harness.events",
    "Event": "harness.events", "parse_event": "harness.events",
    "Model": "harness.llm", "LiteLLMModel": "harness.llm", "ScriptedModel": "harness.llm",
    "ReplayModel": "harness.llm", "FunctionModel": "harness.llm", "RetryPolicy": "harness.llm",
    "ModelRequest": "harness.llm", "ModelResponse": "harness.llm", "Message": "harness.llm",
    "ToolCall": "harness.llm", "ModelError": "harness.llm",
    "Tool": "harness.tools", "tool": "harness.tools", "ToolContext": "harness.tools",
    "ToolError": "harness.tools", "ToolResult": "harness.tools", "default_tools": "harness.tools",
    "ContextConstructor": "harness.context", "FullHistoryContext": "harness.context",
    "BudgetedContext": "harness.context", "ContextOverflow": "harness.context",
    "ExtractiveSummariser": "harness.context", "declare_subgoal": "harness.context",
    "Memory": "harness.memory", "NullMemory": "harness.memory",
    "ProjectMemory": "harness.memory", "Recalled": "harness.memory",
    "SkillRouter": "harness.skills", "NoSkills": "harness.skills",
    "SkillLibrary": "harness.skills", "Skill": "harness.skills",
    "SkillFileError": "harness.skills", "LexicalRouter": "harness.skills",
    "ModelRouter": "harness.skills", "EmbeddingRouter": "harness.skills",
    "HybridRouter": "harness.skills",
    "Governor": "harness.governance", "AllowAll": "harness.governance",
    "Decision": "harness.governance", "Verdict": "harness.governance",
    "PolicyGovernor": "harness.governance", "Policy": "harness.governance",
    "PolicyError": "harness.governance", "Rule": "harness.governance",
    "Isolation": "harness.governance", "CommandVerifier": "harness.governance",
    "SchemaVerifier": "harness.governance", "FunctionVerifier": "harness.governance",
    "Worker": "harness.subagent",
    "Sandbox": "harness.sandbox", "Bubblewrap": "harness.sandbox", "Docker": "harness.sandbox",
    "NoSandbox": "harness.sandbox", "Limits": "harness.sandbox",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover
    from harness.agent import Agent
    from harness.context import (
        BudgetedContext,
        ContextConstructor,
        ContextOverflow,
        ExtractiveSummariser,
        FullHistoryContext,
        declare_subgoal,
    )
    from harness.events import Event, Trajectory, TrajectoryWriter, parse_event
    from harness.governance import (
        AllowAll,
        CommandVerifier,
        Decision,
        FunctionVerifier,
        Governor,
        Isolation,
        Policy,
        PolicyError,
        PolicyGovernor,
        Rule,
        SchemaVerifier,
        Verdict,
    )
    from harness.llm import (
        FunctionModel,
        LiteLLMModel,
        Message,
        Model,
        ModelError,
        ModelRequest,
        ModelResponse,
        ReplayModel,
        RetryPolicy,
        ScriptedModel,
        ToolCall,
    )
    from harness.loop_guard import LoopGuard
    from harness.memory import Memory, NullMemory, ProjectMemory, Recalled
    from harness.sandbox import Bubblewrap, Docker, Limits, NoSandbox, Sandbox
    from harness.skills import (
        EmbeddingRouter,
        HybridRouter,
        LexicalRouter,
        ModelRouter,
        NoSkills,
        Skill,
        SkillFileError,
        SkillLibrary,
        SkillRouter,
    )
    from harness.state import AgentState, Budget, ContextSection, PerRun, Section
    from harness.subagent import Worker
    from harness.tools import (
        Effects,
        Tool,
        ToolContext,
        ToolError,
        ToolResult,
        default_tools,
        tool,
    )
