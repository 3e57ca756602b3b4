"""`RecentMemos`: what a context constructor or strategy remembers per run (or per step
list), for the most recent few only, so one shared by many runs does not grow without end."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentMemos(OrderedDict[K, V], Generic[K, V]):
    """A mapping that keeps the `keep` most recently added keys, dropping the oldest when a
    new one is set with `memos[key] = value`. `of(key)` is the memo for `key`, made by
    `make` when there is none."""

    def __init__(self, make: Callable[[], V] | None = None, keep: int = 16):
        super().__init__()
        self.make = make
        self.keep = keep

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        while len(self) > self.keep:
            self.popitem(last=False)

    def of(self, key: K) -> V:
        if key not in self:
            if self.make is None:
                raise KeyError(key)
            self[key] = self.make()
        return self[key]
