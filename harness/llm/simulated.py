"""An offline model with the latency of a remote one: it waits, then replies from a script.

`SimulatedLatencyModel` stands in for a provider when what is measured is how many runs
one process keeps in flight (`benchmarks/throughput.py`): `acomplete` suspends on
`asyncio.sleep` for `latency_s` ± uniform `jitter_s` (a seeded draw), so the event loop is
free while it "waits on the network", then answers like `ScriptedModel`, with estimated
token usage. One instance may serve many concurrent runs: which reply a request gets
depends on the request alone (the number of assistant turns it already holds).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable

from harness._fast import updated
from harness.llm.scripted import Reply, ScriptExhausted, to_response
from harness.messages import ModelRequest, ModelResponse


class SimulatedLatencyModel:
    """Replies from `script` after a simulated latency; an async `Model`.

    >>> m = SimulatedLatencyModel([{"tool": "read_file", "args": {"path": "a.txt"}}, "done"],
    ...                           latency_s=0.5, jitter_s=0.1, seed=1)

    A request that already holds n assistant turns gets reply n of the script, so runs that
    share the model each go through the whole script; a run that goes past its end gets
    `ScriptExhausted`. `script` may instead be a function of the request. Each call waits
    `latency_s` + uniform(-`jitter_s`, `jitter_s`) seconds (never less than 0), drawn in
    call order from a `random.Random(seed)`: the same seed gives the same latencies.
    `latencies` keeps every draw, `calls` counts them. `complete` (sync) blocks its thread
    for the same time; `acomplete` suspends and never blocks the event loop.
    """

    def __init__(self, script: Iterable[Reply] | Callable[[ModelRequest], Reply], *,
                 latency_s: float = 0.5, jitter_s: float = 0.0, seed: int = 0,
                 name: str = "simulated", cost_per_call: float | None = 0.0):
        if latency_s < 0 or jitter_s < 0:
            raise ValueError(f"latency_s and jitter_s must be >= 0, got {latency_s}, {jitter_s}")
        self.name = name
        self.latency_s = latency_s
        self.jitter_s = jitter_s
        self.cost_per_call = cost_per_call
        self._policy = script if callable(script) else None
        self._script = None if callable(script) else list(script)
        self._rng = random.Random(seed)
        self.latencies: list[float] = []
        """Every latency drawn, in call order (seconds)."""

    @property
    def calls(self) -> int:
        return len(self.latencies)

    def next_latency(self) -> float:
        """Draw the next call's latency (and record it in `latencies`)."""
        jitter = self._rng.uniform(-self.jitter_s, self.jitter_s) if self.jitter_s else 0.0
        latency = max(0.0, self.latency_s + jitter)
        self.latencies.append(latency)
        return latency

    def reply(self, request: ModelRequest, latency_s: float = 0.0) -> ModelResponse:
        """The scripted reply to `request`, with estimated usage; no waiting."""
        turn = sum(1 for m in request.messages if m.role == "assistant")
        if self._policy is not None:
            reply = self._policy(request)
        else:
            assert self._script is not None
            if turn >= len(self._script):
                raise ScriptExhausted(f"{self.name}: script has {len(self._script)} replies, "
                                      f"asked for reply {turn + 1}")
            reply = self._script[turn]
        response = to_response(reply, model=self.name, request=request,
                               call_prefix=f"call_{turn}", cost_usd=self.cost_per_call)
        return updated(response, {"latency_s": latency_s})

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        latency = self.next_latency()
        await asyncio.sleep(latency)
        return self.reply(request, latency)

    def complete(self, request: ModelRequest) -> ModelResponse:
        latency = self.next_latency()
        time.sleep(latency)
        return self.reply(request, latency)

