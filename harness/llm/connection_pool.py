"""`ConnectionPool`: a shared, adaptive bound on the model calls in flight.

Every run that calls one model shares its pool (`shared_pool(model_name, n)`): at most
`limit` calls hold a slot at once, and a provider's 429 pauses *every* caller until its
`Retry-After` has passed and halves `limit`; successes grow it back by one at a time up to
`max_connections` (additive increase, multiplicative decrease).

The pool holds no asyncio primitive bound to an event loop: a waiter is a future of its own
running loop, woken thread-safely, so one pool serves tests that each `asyncio.run`, and
loops in several threads.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

DEFAULT_PAUSE = 1.0
"""Seconds a 429 without a `Retry-After` pauses the pool."""
MAX_PAUSE = 60.0
"""The longest pause a single `Retry-After` can impose."""


class ConnectionPool:
    """At most `max_connections` model calls in flight, shared by every run that uses it.

    `async with pool.slot(): ...` waits for a free slot and for any pause to end; a normal
    exit counts as a success. `rate_limited(retry_after)` (call it while still holding the
    slot, so nobody takes it before the pause is set) pauses every caller and halves `limit`,
    at most once per pause: the calls already in flight answering 429 too do not cut it
    again. After `limit` successes in a row `limit` grows by one, up to `max_connections`.

    `clock` (seconds, monotonic) is injectable for tests of the logic; waiting for a pause
    to end sleeps in real seconds.
    """

    def __init__(self, max_connections: int, *, name: str = "",
                 clock: Callable[[], float] = time.monotonic,
                 default_pause: float = DEFAULT_PAUSE, max_pause: float = MAX_PAUSE):
        if max_connections < 1:
            raise ValueError(f"ConnectionPool {name!r}: max_connections must be >= 1, "
                             f"got {max_connections}")
        self.name = name
        self.max_connections = max_connections
        self.limit = max_connections
        """The current adaptive limit, 1..max_connections."""
        self.in_flight = 0
        """Calls holding a slot now."""
        self.rate_limits = 0
        """429s seen."""
        self.paused_s = 0.0
        """Total seconds the pool was paused by Retry-After (overlapping pauses count once)."""
        self.default_pause, self.max_pause = default_pause, max_pause
        self._clock = clock
        self._paused_until = -math.inf
        self._successes = 0
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def __repr__(self) -> str:
        return (f"ConnectionPool({self.name!r}, limit={self.limit}/{self.max_connections}, "
                f"in_flight={self.in_flight}, rate_limits={self.rate_limits})")

    def pause_left(self) -> float:
        """Seconds until the current pause ends; 0 when not paused."""
        return max(0.0, self._paused_until - self._clock())

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the `limit` slots for the block, once any pause has ended."""
        await self._acquire()
        ok = False
        try:
            yield
            ok = True
        finally:
            if ok:
                self.succeeded()
            self._release()

    def rate_limited(self, retry_after: float | None) -> None:
        """A provider said 429: pause every caller for `retry_after` seconds (`default_pause`
        when None, at most `max_pause`) and halve `limit` (at least 1)."""
        seconds = self.default_pause if retry_after is None else retry_after
        seconds = min(max(seconds, 0.0), self.max_pause)
        with self._lock:
            self.rate_limits += 1
            now = self._clock()
            already_paused = now < self._paused_until
            until = now + seconds
            if until > self._paused_until:
                self.paused_s += until - max(now, self._paused_until)
                self._paused_until = until
            if not already_paused:
                self.limit = max(1, self.limit // 2)
            self._successes = 0

    def succeeded(self) -> None:
        """A call succeeded: after `limit` successes in a row, grow `limit` by one."""
        with self._lock:
            if self.limit >= self.max_connections:
                return
            self._successes += 1
            if self._successes < self.limit:
                return
            self.limit += 1
            self._successes = 0
            self._wake()

    # -- waiting -------------------------------------------------------------------------
    async def _acquire(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                pause = self._paused_until - self._clock()
                if pause <= 0 and self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                waiter: asyncio.Future[None] | None = None
                if pause <= 0:
                    waiter = loop.create_future()
                    self._waiters.append((loop, waiter))
            if waiter is None:
                await asyncio.sleep(pause)  # then check again: the pause may have grown
                continue
            try:
                await waiter
            except asyncio.CancelledError:
                with self._lock:
                    if (loop, waiter) in self._waiters:
                        self._waiters.remove((loop, waiter))
                    else:  # woken and cancelled at once: let the others look again
                        self._wake()
                raise

    def _release(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self._wake()

    def _wake(self) -> None:
        """Wake every waiter to look again (called with the lock held)."""
        waiters, self._waiters = self._waiters, []
        for loop, waiter in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, waiter)
            except RuntimeError:  # its loop has closed; nobody is waiting any more
                pass


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


_pools: dict[tuple[str, int], ConnectionPool] = {}
_pools_lock = threading.Lock()


def shared_pool(key: str, max_connections: int) -> ConnectionPool:
    """The one pool of this process for `key` (a model name) and `max_connections`."""
    with _pools_lock:
        pool = _pools.get((key, max_connections))
        if pool is None:
            pool = _pools[(key, max_connections)] = ConnectionPool(max_connections, name=key)
        return pool


def in_flight() -> int:
    """Model calls in flight now, over every shared pool of this process."""
    with _pools_lock:
        return sum(pool.in_flight for pool in _pools.values())


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait, from the headers of a litellm, openai or httpx
    exception (`retry-after-ms`, then `retry-after` in seconds or as an HTTP-date); None
    when it did not say."""
    for headers in _header_sources(exc):
        ms = _number(headers.get("retry-after-ms"))
        if ms is not None:
            return ms / 1000
        value = headers.get("retry-after")
        seconds = _number(value)
        if seconds is None and value:
            seconds = _http_date_seconds(value)
        if seconds is not None:
            return seconds
    return None


def _header_sources(exc: BaseException) -> list[dict[str, str]]:
    """The exception's response headers, lower-cased, from wherever its library put them."""
    found = []
    response = _quiet_getattr(exc, "response")
    for headers in (_quiet_getattr(response, "headers"),
                    _quiet_getattr(exc, "litellm_response_headers"),
                    _quiet_getattr(exc, "headers"), _quiet_getattr(exc, "response_headers")):
        if isinstance(headers, Mapping) or hasattr(headers, "items"):
            try:
                found.append({str(k).lower(): str(v) for k, v in headers.items()})
            except Exception:  # an odd header object: look elsewhere
                continue
    return found


def _quiet_getattr(obj: Any, name: str) -> Any:
    # openai's APIStatusError.response and friends may raise on access when unset
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _number(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _http_date_seconds(value: str) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": the date is in UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())
