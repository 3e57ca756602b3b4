"""Models: the `Model` protocol, `LiteLLMModel`, and the offline `ScriptedModel`, `ReplayModel`
and `SimulatedLatencyModel`."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "Model": "harness.llm.base",
    "ModelError": "harness.llm.base",
    "SyncModel": "harness.llm.base",
    "ConnectionPool": "harness.llm.connection_pool",
    "estimate_tokens": "harness.llm.base",
    "LiteLLMModel": "harness.llm.litellm_model",
    "RetryPolicy": "harness.llm.litellm_model",
    "is_transient": "harness.llm.litellm_model",
    "CachedResponse": "harness.llm.response_cache",
    "ResponseCache": "harness.llm.response_cache",
    "ResponseCacheError": "harness.llm.response_cache",
    "request_key": "harness.llm.response_cache",
    "ReplayDivergence": "harness.llm.replay",
    "ReplayModel": "harness.llm.replay",
    "FunctionModel": "harness.llm.scripted",
    "ScriptedModel": "harness.llm.scripted",
    "ScriptExhausted": "harness.llm.scripted",
    "SimulatedLatencyModel": "harness.llm.simulated",
    "Message": "harness.messages",
    "ModelRequest": "harness.messages",
    "ModelResponse": "harness.messages",
    "ToolCall": "harness.messages",
    "Usage": "harness.messages",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.llm.base import Model, ModelError, SyncModel, estimate_tokens
    from harness.llm.connection_pool import ConnectionPool
    from harness.llm.litellm_model import LiteLLMModel, RetryPolicy, is_transient
    from harness.llm.replay import ReplayDivergence, ReplayModel
    from harness.llm.response_cache import (
        CachedResponse,
        ResponseCache,
        ResponseCacheError,
        request_key,
    )
    from harness.llm.scripted import FunctionModel, ScriptedModel, ScriptExhausted
    from harness.llm.simulated import SimulatedLatencyModel
    from harness.messages import Message, ModelRequest, ModelResponse, ToolCall, Usage
