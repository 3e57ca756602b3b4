"""`LiteLLMModel`: any provider litellm reaches, with retries and cost accounting.

litellm is imported lazily, on the first call, so `import harness` stays fast.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from harness._fast import MAX_NESTING, text_nesting_depth
from harness.llm.base import ModelError
from harness.llm.connection_pool import ConnectionPool, retry_after
from harness.llm.credentials import CredentialsError, missing_key, rejected_key
from harness.llm.prompt_cache import mark_stable_prefix, needs_breakpoints
from harness.llm.response_cache import ResponseCache
from harness.messages import ModelRequest, ModelResponse, ToolCall, Usage

# Errors litellm maps to these status codes are transient; auth and bad requests are not.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
RETRYABLE_NAMES = frozenset({"RateLimitError", "Timeout", "APITimeoutError", "APIConnectionError",
                             "InternalServerError", "ServiceUnavailableError", "BadGatewayError"})
NEVER_RETRY_NAMES = frozenset({"AuthenticationError", "PermissionDeniedError", "BadRequestError",
                               "NotFoundError", "ContextWindowExceededError",
                               "ContentPolicyViolationError", "UnprocessableEntityError"})


class RetryPolicy(BaseModel):
    """Exponential backoff with jitter: wait ~ min(initial * 2**n + U(0, jitter), max_wait)."""

    max_attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 30.0
    jitter: float = 1.0
    max_retry_after: float = 60.0
    """A provider's `Retry-After` lengthens a wait up to this many seconds."""


def is_transient(exc: BaseException) -> bool:
    """True for rate limits, timeouts, connection errors and 5xx; False for auth/bad requests."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & NEVER_RETRY_NAMES or _missing_credentials(exc):
        return False
    if names & RETRYABLE_NAMES:
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and status in RETRYABLE_STATUS


def is_rate_limit(exc: BaseException) -> bool:
    """True for a provider's 429 (litellm's and openai's `RateLimitError`)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "RateLimitError" in names or getattr(exc, "status_code", None) == 429


def _missing_credentials(exc: BaseException) -> bool:
    # Some providers' "no API key" errors reach us as 500s; retrying them only wastes time.
    text = str(exc).lower()
    return "missing credentials" in text or ("api_key" in text and "set the" in text)


def _rejected_credentials(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "AuthenticationError" in names or _missing_credentials(exc)


def _import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


class LiteLLMModel:
    """A `Model` backed by `litellm.completion`.

    `LiteLLMModel("openai/gpt-4o-mini", temperature=0)`; extra keyword arguments are
    passed to litellm on every call (e.g. `api_base`, `mock_response` for offline tests).
    Transient failures are retried per `retry`; `attempts` counts calls to the provider,
    and `waits` records each backoff in seconds. A key the provider rejects (or finds
    missing) raises `CredentialsError` at its first answer, never retried, naming the
    variable to set; `check_credentials()` finds a missing one without any call (litellm's
    offline `mock_response` needs none, so calls do not require it).

    `cache_prompt=True` marks the stable prefix of each request (tool schemas, system
    message, the latest messages) with cache breakpoints for providers that cache only at
    them (Anthropic's Claude, also on Bedrock and Vertex; at most 4), so that the next turn
    reads that prefix from the provider's cache; the others cache a repeated prefix
    themselves. Cached reads show in `Usage.cached_input_tokens`.

    `stream=True` (or an `on_text` callback) asks for the reply as a stream: `on_text`
    receives its text as it arrives, and the reply, its tool calls and its usage are the
    ones the stream adds up to (litellm's `stream_chunk_builder`).

    `response_cache` (a `ResponseCache` or its directory) answers a request it has seen
    from disk without calling the provider: the reply as stored, `cached`, cost 0.

    A retried attempt waits at least the provider's `Retry-After` (up to
    `retry.max_retry_after`), longer if the backoff says so.

    `pool` (a `ConnectionPool`, e.g. `shared_pool(model, n)`) bounds the calls in flight of
    every run that shares it: each attempt of `acomplete` holds a slot, and a 429 pauses the
    whole pool for its `Retry-After` and lowers its limit. With a pool the provider's SDK does
    not retry by itself (`max_retries=0`; openai's client otherwise retries a 429 twice
    unseen), so every 429 reaches the pool. The sync `complete` ignores the pool.
    """

    def __init__(self, model: str, *, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 response_cache: ResponseCache | str | Path | None = None,
                 cache_prompt: bool = False, stream: bool = False,
                 on_text: Callable[[str], None] | None = None,
                 pool: ConnectionPool | None = None, **params: Any):
        self.name = model
        self.pool = pool
        self.cache_prompt = cache_prompt
        self.stream, self.on_text = stream or on_text is not None, on_text
        self.params = params
        self.response_cache = (ResponseCache(response_cache)
                               if isinstance(response_cache, str | Path) else response_cache)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.attempts = 0
        self.waits: list[float] = []
        self.credentials_error: CredentialsError | None = None
        """The last missing or rejected key, if a call failed on one."""

    # -- extension point: one provider call ------------------------------------------
    def _call(self, kwargs: dict[str, Any]) -> Any:
        litellm = _import_litellm()
        if not self.stream:
            return litellm.completion(**kwargs)
        chunks = [self._heard(c) for c in litellm.completion(**kwargs, **STREAM)]
        return litellm.stream_chunk_builder(chunks, messages=kwargs["messages"])

    async def _acall(self, kwargs: dict[str, Any]) -> Any:
        litellm = _import_litellm()
        if not self.stream:
            return await litellm.acompletion(**kwargs)
        chunks = [self._heard(c) async for c in await litellm.acompletion(**kwargs, **STREAM)]
        return litellm.stream_chunk_builder(chunks, messages=kwargs["messages"])

    async def _pooled_call(self, kwargs: dict[str, Any]) -> Any:
        """One attempt, holding a slot of the pool if there is one."""
        if self.pool is None:
            return await self._acall(kwargs)
        async with self.pool.slot():
            try:
                return await self._acall({**kwargs, "max_retries": 0})
            except Exception as exc:
                if is_rate_limit(exc):  # pause the pool before the slot is let go
                    self.pool.rate_limited(retry_after(exc))
                raise

    def _heard(self, chunk: Any) -> Any:
        """Pass a streamed chunk's text to `on_text` as it arrives; keep the chunk."""
        if self.on_text is not None and chunk.choices:
            text = getattr(chunk.choices[0].delta, "content", None)
            if text:
                self.on_text(text)
        return chunk

    # -- Model protocol ----------------------------------------------------------------
    def complete(self, request: ModelRequest) -> ModelResponse:
        kwargs = self._kwargs(request)
        key, hit = self._lookup(kwargs)
        if hit is not None:
            return hit
        _import_litellm()  # the first import is slow; keep it out of the measured latency
        start = time.perf_counter()
        try:
            for attempt in Retrying(**self._retry_args(), sleep=self._sleep):
                with attempt:
                    self.attempts += 1
                    raw = self._call(kwargs)
        except Exception as exc:
            raise self._error(exc) from exc
        return self._store(key, self._parse(raw, time.perf_counter() - start))

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        kwargs = self._kwargs(request)
        key, hit = self._lookup(kwargs)
        if hit is not None:
            return hit
        _import_litellm()
        start = time.perf_counter()
        try:
            async for attempt in AsyncRetrying(**self._retry_args()):
                with attempt:
                    self.attempts += 1
                    raw = await self._pooled_call(kwargs)
        except Exception as exc:
            raise self._error(exc) from exc
        return self._store(key, self._parse(raw, time.perf_counter() - start))

    def check_credentials(self) -> None:
        """Raise `CredentialsError` if the provider's API key is nowhere to be found (not
        passed as `api_key`, not in the provider's environment variable)."""
        missing = missing_key(self.name, self.params)
        if missing is not None:
            self.credentials_error = missing
            raise missing

    # -- helpers ---------------------------------------------------------------------
    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.name,
                                  "messages": [m.to_openai() for m in request.messages]}
        if request.tools:
            kwargs["tools"] = request.tools
        kwargs.update(self.params)
        kwargs.update(request.params)
        if self.cache_prompt and needs_breakpoints(self.name):
            kwargs = mark_stable_prefix(kwargs)
        return kwargs

    def _lookup(self, kwargs: dict[str, Any]) -> tuple[str | None, ModelResponse | None]:
        """The request's cache key and the cached reply, if there is a cache."""
        if self.response_cache is None:
            return None, None
        key = self.response_cache.key(kwargs)
        return key, self.response_cache.get(key)

    def _store(self, key: str | None, reply: ModelResponse) -> ModelResponse:
        if key is not None and self.response_cache is not None:
            self.response_cache.put(key, reply)
        return reply

    def _retry_args(self) -> dict[str, Any]:
        p = self.retry
        return {
            "stop": stop_after_attempt(p.max_attempts),
            "wait": self._wait,
            "retry": retry_if_exception(is_transient),
            "before_sleep": self._record_wait,
            "reraise": True,
        }

    def _wait(self, state: RetryCallState) -> float:
        """The backoff, or the provider's `Retry-After` if that is longer."""
        p = self.retry
        backoff = (wait_exponential(multiplier=p.initial_wait, max=p.max_wait)
                   + wait_random(0, p.jitter))(state)
        exc = state.outcome.exception() if state.outcome is not None else None
        asked = retry_after(exc) if exc is not None else None
        return backoff if asked is None else max(backoff, min(asked, p.max_retry_after))

    def _record_wait(self, state: RetryCallState) -> None:
        if state.next_action is not None:
            self.waits.append(state.next_action.sleep)

    def _error(self, exc: Exception) -> ModelError:
        if _rejected_credentials(exc):
            self.credentials_error = rejected_key(self.name, exc)
            return self.credentials_error
        kind = "transient error, retries exhausted" if is_transient(exc) else "error"
        return ModelError(f"{self.name}: {kind} after {self.attempts} attempt(s): "
                          f"{type(exc).__name__}: {str(exc)[:300]}")

    def _parse(self, raw: Any, latency: float) -> ModelResponse:
        choice = raw.choices[0].message
        calls = [tool_call(tc.id or f"call_{i}", tc.function.name, tc.function.arguments)
                 for i, tc in enumerate(getattr(choice, "tool_calls", None) or [])]
        return ModelResponse(
            text=choice.content,
            tool_calls=calls,
            usage=provider_usage(getattr(raw, "usage", None)),
            cost_usd=self._cost(raw),
            latency_s=latency,
            model=getattr(raw, "model", None) or self.name,
            raw=raw.model_dump() if hasattr(raw, "model_dump") else None,
        )

    def _cost(self, raw: Any) -> float | None:
        """The call's price from litellm's model map, which prices cached reads and cache
        writes at their own rates; None for a model it does not price."""
        try:
            return float(_import_litellm().completion_cost(completion_response=raw, model=self.name))
        except Exception:  # unknown model or missing price: cost is unknown, not an error
            return None


def tool_call(call_id: str, name: str, raw: Any) -> ToolCall:
    """`ToolCall.from_raw`, except that arguments nested deeper than `MAX_NESTING` levels
    (which json cannot parse without recursing past Python's limit) are kept as sent and
    marked with a parse error, which the model sees as a tool error."""
    if isinstance(raw, str) and text_nesting_depth(raw, MAX_NESTING) > MAX_NESTING:
        return ToolCall(id=call_id, name=name, raw_arguments=raw,
                        parse_error=f"arguments nest deeper than {MAX_NESTING} levels (the "
                                    f"limit); flatten them")
    return ToolCall.from_raw(call_id, name, raw)


STREAM = {"stream": True, "stream_options": {"include_usage": True}}
"""How a streamed call is asked for: with the usage in its last chunk."""


def provider_usage(usage: Any) -> Usage:
    """`Usage` from litellm's normalised usage: prompt and completion tokens, cached reads
    (`prompt_tokens_details.cached_tokens`, Anthropic's `cache_read_input_tokens`), cache
    writes (Anthropic's `cache_creation_input_tokens`) and reasoning tokens
    (`completion_tokens_details.reasoning_tokens`, Gemini's thoughts)."""
    def count(obj: Any, *names: str) -> int:
        for name in names:
            value = getattr(obj, name, None) if obj is not None else None
            if isinstance(value, int) and value > 0:
                return value
        return 0

    prompt = getattr(usage, "prompt_tokens_details", None)
    completion = getattr(usage, "completion_tokens_details", None)
    return Usage(input_tokens=count(usage, "prompt_tokens"),
                 output_tokens=count(usage, "completion_tokens"),
                 cached_input_tokens=count(prompt, "cached_tokens")
                 or count(usage, "cache_read_input_tokens"),
                 cache_write_tokens=count(usage, "cache_creation_input_tokens")
                 or count(prompt, "cache_creation_tokens", "cache_write_tokens"),
                 reasoning_tokens=count(completion, "reasoning_tokens"))
