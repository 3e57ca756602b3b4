"""The shared connection pool: a bound on the model calls in flight that a provider's 429
slows as a whole. Real HTTP on 127.0.0.1 through litellm; the pool's logic on a fake clock."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from email.utils import formatdate

import httpx
import openai
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from harness.llm import ConnectionPool, LiteLLMModel, ModelError, RetryPolicy  # noqa: E402
from harness.llm.connection_pool import retry_after, shared_pool  # noqa: E402
from harness.messages import Message, ModelRequest  # noqa: E402
from tests.local_http import QuietHandler, serving  # noqa: E402

REPLY = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1733580000,
         "model": "gpt-4o-mini", "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": "ok"}}],
         "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}
FAST_RETRY = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0.01)


class Provider:
    """An OpenAI-compatible `/v1/chat/completions` on 127.0.0.1 that records when each
    request arrived and how many were in progress at once. `script` answers the n-th
    request: (delay_s, status, headers); past its end, `delay_s` then 200."""

    def __init__(self, delay_s: float = 0.0, script: list[tuple[float, int, dict]] | None = None,
                 pool: ConnectionPool | None = None):
        self.delay_s, self.script, self.pool = delay_s, list(script or []), pool
        self.arrivals: list[float] = []
        self.limits_seen: list[int] = []
        self.rejected_at: list[float] = []
        self.busy = self.most_busy = 0
        self.lock = threading.Lock()

    def handler(self) -> type[QuietHandler]:
        provider = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.read_json()
                with provider.lock:
                    n = len(provider.arrivals)
                    provider.arrivals.append(time.monotonic())
                    if provider.pool is not None:
                        provider.limits_seen.append(provider.pool.limit)
                    provider.busy += 1
                    provider.most_busy = max(provider.most_busy, provider.busy)
                delay, status, headers = (provider.script[n] if n < len(provider.script)
                                          else (provider.delay_s, 200, {}))
                time.sleep(delay)
                with provider.lock:
                    provider.busy -= 1
                    if status == 429:
                        provider.rejected_at.append(time.monotonic())
                if status == 200:
                    self.send_json(REPLY)
                    return
                body = b'{"error": {"message": "slow down", "type": "rate_limit_error"}}'
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def ask() -> ModelRequest:
    return ModelRequest(messages=[Message(role="user", content="hi")])


def model(url: str, pool: ConnectionPool, retry: RetryPolicy = FAST_RETRY) -> LiteLLMModel:
    return LiteLLMModel("openai/gpt-4o-mini", api_base=url + "/v1", api_key="k", pool=pool,
                        retry=retry)


async def many(llm: LiteLLMModel, n: int) -> list[str | None]:
    replies = await asyncio.gather(*(llm.acomplete(ask()) for _ in range(n)))
    return [r.text for r in replies]


# -- through litellm, against a real server -------------------------------------------------
def test_the_provider_never_sees_more_calls_at_once_than_the_pool_allows():
    pool = ConnectionPool(4, name="gpt-4o-mini")
    provider = Provider(delay_s=0.2)
    with serving(provider.handler()) as url:
        texts = asyncio.run(many(model(url, pool), 12))
    assert texts == ["ok"] * 12
    assert provider.most_busy == 4 and len(provider.arrivals) == 12
    assert pool.in_flight == 0 and pool.rate_limits == 0 and pool.limit == 4


def test_one_429_pauses_every_caller_for_its_retry_after_then_the_limit_grows_back():
    pool = ConnectionPool(4, name="gpt-4o-mini")
    # the first request is refused (once the others in its wave have arrived); the rest
    # take 0.15 s, so they finish after the pool has heard of the 429
    provider = Provider(delay_s=0.15, script=[(0.05, 429, {"retry-after": "1"})], pool=pool)
    with serving(provider.handler()) as url:
        llm = model(url, pool)
        texts = asyncio.run(many(llm, 12))
    assert texts == ["ok"] * 12
    # every 429 reached our pool: no retries inside the SDK (openai's client makes 2 unseen)
    assert len(provider.arrivals) == 12 + 1 and llm.attempts == 13
    assert pool.rate_limits == 1 and pool.paused_s == pytest.approx(1.0, abs=0.01)
    refused = provider.rejected_at[0]
    later = [t - refused for t in provider.arrivals if t > refused]
    assert len(later) == 13 - 4  # all but the wave that was in flight when it was refused
    assert min(later) >= 0.95, "a request reached the provider during the pause"
    assert max(llm.waits) >= 1.0  # the retry itself waited out the Retry-After
    # the limit was cut while paused, and successes grew it back to the maximum
    assert min(provider.limits_seen) < 4 and pool.limit == 4
    assert pool.in_flight == 0


def test_without_a_pool_the_openai_client_retries_429s_where_no_pool_can_see_them():
    """Why the pool turns the SDK's retries off: left on, one call makes three requests."""
    provider = Provider(script=[(0, 429, {"retry-after-ms": "10"})] * 3)
    with serving(provider.handler()) as url:
        llm = LiteLLMModel("openai/gpt-4o-mini", api_base=url + "/v1", api_key="k",
                           retry=RetryPolicy(max_attempts=1))
        with pytest.raises(ModelError, match="RateLimitError"):
            asyncio.run(llm.acomplete(ask()))
    assert llm.attempts == 1 and len(provider.arrivals) == 3


HEADERS = {
    "seconds": ({"retry-after": "2"}, 2.0, 2.0),
    "http-date": ({}, 1.9, 3.1),  # three seconds from now, made when the test runs
    "milliseconds": ({"retry-after-ms": "250", "retry-after": "9"}, 0.25, 0.25),
    "absent": ({}, None, None),
}


@pytest.mark.parametrize("case", HEADERS)
def test_the_pause_is_the_retry_after_the_provider_sent(case):
    headers, low, high = HEADERS[case]
    if case == "http-date":  # an HTTP-date is relative to now
        headers = {"retry-after": formatdate(time.time() + 3, usegmt=True)}
    pool = ConnectionPool(2, name="gpt-4o-mini")
    provider = Provider(script=[(0, 429, headers)])
    with serving(provider.handler()) as url:
        llm = model(url, pool, retry=RetryPolicy(max_attempts=1))
        with pytest.raises(ModelError) as raised:
            asyncio.run(llm.acomplete(ask()))
    asked = retry_after(raised.value.__cause__)  # the litellm exception, as raised
    if low is None:
        assert asked is None and pool.paused_s == pool.default_pause == 1.0
    else:  # (an HTTP-date asks for less as time passes)
        assert low - 0.01 <= pool.paused_s <= high and asked is not None
        assert pool.paused_s == pytest.approx(asked, abs=0.01 if case != "http-date" else 1)
    assert pool.rate_limits == 1 and pool.limit == 1 and len(provider.arrivals) == 1


# -- the pool's logic -----------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_429s_halves_the_limit_once_and_pauses_for_the_longest_retry_after():
    clock = FakeClock()
    pool = ConnectionPool(16, clock=clock)
    pool.rate_limited(2.0)
    pool.rate_limited(5.0)  # the other calls of the same burst
    pool.rate_limited(None)
    assert pool.rate_limits == 3 and pool.limit == 8
    assert pool.pause_left() == 5.0 and pool.paused_s == 5.0
    clock.now += 6  # the pause is over: the next 429 cuts again
    pool.rate_limited(None)
    assert pool.limit == 4 and pool.pause_left() == 1.0 and pool.paused_s == 6.0
    pool.rate_limited(3600)  # capped
    assert pool.pause_left() == pool.max_pause
    for _ in range(5):
        clock.now += 1000
        pool.rate_limited(0)
    assert pool.limit == 1


def test_successes_grow_the_limit_by_one_per_window_up_to_the_maximum():
    pool = ConnectionPool(4, clock=FakeClock())
    pool.rate_limited(0)
    assert pool.limit == 2
    grown = []
    for _ in range(10):
        pool.succeeded()
        grown.append(pool.limit)
    assert grown == [2, 3, 3, 3, 4, 4, 4, 4, 4, 4]


def test_the_pool_bounds_tasks_of_separate_event_loops_and_threads():
    pool = ConnectionPool(3)
    busy, most = [0], [0]
    lock = threading.Lock()

    async def call() -> None:
        async with pool.slot():
            with lock:
                busy[0] += 1
                most[0] = max(most[0], busy[0])
            await asyncio.sleep(0.02)
            with lock:
                busy[0] -= 1

    async def runs(n: int) -> None:
        await asyncio.gather(*(call() for _ in range(n)))

    asyncio.run(runs(6))  # one loop, then others: nothing is bound to the first
    threads = [threading.Thread(target=asyncio.run, args=(runs(5),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 3 and pool.in_flight == 0


def test_a_cancelled_waiter_takes_no_slot_and_a_pause_holds_back_new_callers():
    pool = ConnectionPool(1)

    async def scenario() -> float:
        async with pool.slot():
            waiting = asyncio.ensure_future(pool.slot().__aenter__())
            await asyncio.sleep(0.01)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert pool.in_flight == 1
            pool.rate_limited(0.2)
        start = time.monotonic()
        async with pool.slot():
            return time.monotonic() - start

    assert 0.18 <= asyncio.run(scenario()) < 0.5
    assert pool.in_flight == 0


def test_shared_pool_is_one_per_model_and_size_even_when_threads_race_to_make_it():
    made: list[ConnectionPool] = []
    threads = [threading.Thread(target=lambda: made.append(shared_pool("race/model", 7)))
               for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(p) for p in made}) == 1 and made[0].max_connections == 7
    assert shared_pool("race/model", 7) is made[0]
    assert shared_pool("race/model", 8) is not made[0]
    assert shared_pool("other/model", 7) is not made[0]


def test_retry_after_reads_the_headers_of_openai_and_httpx_exceptions():
    def refused(**headers: str) -> openai.RateLimitError:
        response = httpx.Response(429, headers=headers,
                                  request=httpx.Request("POST", "http://127.0.0.1/v1"))
        return openai.RateLimitError("slow down", response=response, body=None)

    assert retry_after(refused(**{"Retry-After": "7"})) == 7.0
    assert retry_after(refused(**{"retry-after-ms": "1500"})) == 1.5
    assert retry_after(refused(**{"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(refused(**{"retry-after": "soon"})) is None
    assert retry_after(refused(**{"retry-after": "-3"})) == 0.0
    assert retry_after(refused()) is None
    assert retry_after(ValueError("no response")) is None


def test_a_pool_needs_at_least_one_connection():
    with pytest.raises(ValueError, match="max_connections must be >= 1"):
        ConnectionPool(0, name="m")
