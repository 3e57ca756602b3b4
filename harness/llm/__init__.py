"""Models: the `Model` protocol, `LiteLLMModel`, and the offline `ScriptedModel` and `ReplayModel`."""

from harness.llm.base import Model, ModelError, SyncModel
from harness.llm.litellm_model import LiteLLMModel, RetryPolicy, is_transient
from harness.llm.replay import ReplayDivergence, ReplayModel
from harness.llm.scripted import FunctionModel, ScriptedModel, ScriptExhausted, estimate_tokens
from harness.messages import Message, ModelRequest, ModelResponse, ToolCall, Usage

__all__ = [
    "FunctionModel", "LiteLLMModel", "Message", "Model", "ModelError", "ModelRequest",
    "ModelResponse", "ReplayDivergence", "ReplayModel", "RetryPolicy", "ScriptExhausted",
    "ScriptedModel", "SyncModel", "ToolCall", "Usage", "estimate_tokens", "is_transient",
]
