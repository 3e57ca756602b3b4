"""`ResponseCache`: model replies kept on disk, keyed by everything that determines them.

A reply is stored under `request_key(kwargs)`, the digest of what `LiteLLMModel` sends
litellm (model, messages, tools, parameters) less what cannot change the reply (keys,
timeouts, retries). The store is a `diskcache.Cache` (SQLite in WAL mode underneath), so
several processes and threads may read and write one directory at once; diskcache is
imported when a cache is opened, never by `import harness`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.errors import DataError
from harness.messages import ModelResponse

__all__ = ["CachedResponse", "ResponseCache", "ResponseCacheError", "request_key",
           "IGNORED_PARAMS"]

KEY_VERSION = "harness-response-cache/1"
"""Part of every key: a change to what is stored or how keys are made changes it."""

IGNORED_PARAMS = frozenset({"api_key", "timeout", "request_timeout", "stream_timeout",
                            "num_retries", "max_retries", "metadata"})
"""litellm arguments left out of the key: credentials, patience and logging, which do not
change what the model answers."""


class ResponseCacheError(DataError):
    """The cache directory cannot be opened as a response cache; the message names it."""


class CachedResponse(ModelResponse):
    """A reply served from a `ResponseCache`: as stored (text, tool calls, the usage the
    provider reported), with `cost_usd` 0 (nothing was paid) and `latency_s` the lookup's.
    `cached` is read by `RunState.charge` into `ModelCalled.cached`; it is not part of the
    response's stored JSON."""

    cached: bool = True


def request_key(kwargs: Mapping[str, Any], sample: int = 0) -> str:
    """The SHA-256 hex of the litellm call's arguments as canonical JSON (sorted keys, no
    spaces, ASCII), without `IGNORED_PARAMS`, with `KEY_VERSION` and, when not 0, `sample`.
    Values JSON cannot write go in by their JSON schema (a pydantic class, e.g.
    `response_format`) or `repr`."""
    kept = {k: v for k, v in kwargs.items() if k not in IGNORED_PARAMS}
    head = [KEY_VERSION, sample] if sample else [KEY_VERSION]
    text = json.dumps([*head, kept], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True, default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, type) and issubclass(value, BaseModel):
        return value.model_json_schema()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return repr(value)


class ResponseCache:
    """Replies on disk under `directory` (created if absent), shared safely by processes
    and threads. Entries are never evicted: remove the directory to empty the cache.

    `get(key)` returns a `CachedResponse` or None; an entry that cannot be read back (a
    corrupt or foreign value, a lost file) is a miss, with a warning, and the next `put`
    replaces it. `hits` and `misses` count this object's lookups.

    `sample` says which draw of each request this cache serves: caches on one directory
    with different samples (a benchmark's repeats, one seed each) keep separate replies.
    """

    def __init__(self, directory: str | Path, *, sample: int = 0):
        self.directory = Path(directory)
        self.sample = sample
        self.hits = 0
        self.misses = 0
        self._store, errors = _open(self.directory)
        self._write_errors: tuple[type[Exception], ...] = (*errors, ValueError)

    def key(self, kwargs: Mapping[str, Any]) -> str:
        """`request_key(kwargs, self.sample)`: where this cache keeps the reply to `kwargs`."""
        return request_key(kwargs, self.sample)

    def get(self, key: str) -> CachedResponse | None:
        """The stored reply for `key`, marked cached, cost 0; None on a miss."""
        start = time.perf_counter()
        try:
            stored = self._store.get(key)
        except Exception as exc:  # a corrupt entry can fail in SQLite, a file or unpickling
            self._miss(key, f"{type(exc).__name__}: {exc}")
            return None
        if stored is None:
            self.misses += 1
            return None
        if not isinstance(stored, str):
            self._miss(key, f"holds a {type(stored).__name__}, not a reply's JSON")
            return None
        try:
            reply = CachedResponse.model_validate_json(stored)
        except ValidationError as exc:
            self._miss(key, f"not a stored reply ({exc.error_count()} error(s): "
                            f"{exc.errors()[0]['msg']})")
            return None
        self.hits += 1
        return reply.model_copy(update={"cost_usd": 0.0, "cached": True,
                                        "latency_s": time.perf_counter() - start})

    def put(self, key: str, reply: ModelResponse) -> None:
        """Store `reply` under `key` (replacing any entry). A store that fails is warned
        about, never raised: the caller already has its reply."""
        try:
            self._store.set(key, reply.model_dump_json(exclude={"cached"}))
        except self._write_errors as exc:
            warnings.warn(f"{self.directory}: reply not cached ({type(exc).__name__}: {exc})",
                          stacklevel=2)

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        self._store.close()

    def _miss(self, key: str, reason: str) -> None:
        self.misses += 1
        warnings.warn(f"{self.directory}: cache entry {key[:16]} unreadable, calling the "
                      f"model instead: {reason}", stacklevel=3)

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r})"


def _open(directory: Path) -> tuple[Any, tuple[type[Exception], ...]]:
    """The diskcache store at `directory`, and the errors its reads and writes may raise."""
    try:
        import diskcache  # type: ignore[import-untyped]
    except ModuleNotFoundError as exc:
        raise ResponseCacheError(f"{directory}: a response cache needs diskcache "
                                 f"(pip install diskcache)") from exc
    try:
        # eviction off: a cache of paid replies never drops one on its own
        store = diskcache.Cache(str(directory), eviction_policy="none")
    except (sqlite3.Error, OSError) as exc:
        raise ResponseCacheError(
            f"{directory}: cannot open as a response cache ({type(exc).__name__}: {exc}); "
            f"choose another directory, or remove this one to start an empty cache") from exc
    return store, (sqlite3.Error, OSError, diskcache.Timeout)
