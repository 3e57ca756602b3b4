"""Replay a recorded run: the `ModelCalled` events of a trajectory drive the model."""

from __future__ import annotations

from harness.events import ModelCalled, Trajectory
from harness.llm.base import ModelError, SyncModel
from harness.messages import ModelRequest, ModelResponse, RequestDigests


class ReplayDivergence(ModelError):
    """The replayed run asked the model something the recording did not."""


class ReplayModel(SyncModel):
    """Returns the recorded responses in order.

    With `strict=True` (default) each request's digest must equal the recorded one; the
    first mismatch raises `ReplayDivergence` naming the step.
    """

    def __init__(self, trajectory: Trajectory, *, strict: bool = True, purpose: str = "agent"):
        self._calls: list[ModelCalled] = [
            e for e in trajectory.of_type(ModelCalled) if e.purpose == purpose
        ]
        self.strict = strict
        self.name = self._calls[0].model if self._calls else "replay"
        self._next = 0
        self._digests = RequestDigests()  # hashes only what each request adds to the last

    @property
    def remaining(self) -> int:
        return len(self._calls) - self._next

    def complete(self, request: ModelRequest) -> ModelResponse:
        if self._next >= len(self._calls):
            raise ReplayDivergence(
                f"replay: the recording has {len(self._calls)} model calls; "
                f"the run asked for call {self._next + 1}")
        recorded = self._calls[self._next]
        self._next += 1
        if self.strict and (digest := self._digests.digest(request)) != recorded.request_digest:
            raise ReplayDivergence(
                f"replay diverged at step {recorded.step} (model call {self._next}): request "
                f"digest {digest} != recorded {recorded.request_digest}")
        return recorded.response
