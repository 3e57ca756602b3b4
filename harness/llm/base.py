"""The `Model` protocol: one request in, one response out, sync and async; and the
dependency-free token estimate the offline models, the context and the routers share."""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

from harness.messages import ModelRequest, ModelResponse


@runtime_checkable
class Model(Protocol):
    """Anything that answers a `ModelRequest`. `name` is recorded in every `ModelCalled`."""

    name: str

    def complete(self, request: ModelRequest) -> ModelResponse: ...

    async def acomplete(self, request: ModelRequest) -> ModelResponse: ...


def estimate_tokens(text: str) -> int:
    """A fast, dependency-free token estimate (~4 characters per token)."""
    return (len(text) + 3) // 4


class ModelError(RuntimeError):
    """A model could not answer (unreachable, rejected the request, ran out of script)."""


class SyncModel:
    """Base for models whose natural form is synchronous; `acomplete` runs `complete`."""

    name: str = "model"

    def complete(self, request: ModelRequest) -> ModelResponse:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement complete()")

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        return self.complete(request)


async def run_sync_in_thread(model: SyncModel, request: ModelRequest) -> ModelResponse:
    """For blocking models (network I/O) that should not block the event loop."""
    return await asyncio.to_thread(model.complete, request)
