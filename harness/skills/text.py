"""Turning text into index terms: lowercase words, English stopwords out, Snowball stems."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    import snowballstemmer

    stem = lru_cache(maxsize=65536)(snowballstemmer.stemmer("english").stemWord)
    return stem


class Analyzer:
    """Splits text into lowercase `[a-z0-9]+` words, optionally dropping English stopwords
    and reducing words to their Snowball stems ("debugging", "debugged" -> "debug")."""

    def __init__(self, *, stem: bool = True, stopwords: bool = True):
        self.stem = stem
        self.stopwords = stopwords

    def __call__(self, text: str) -> list[str]:
        return [self.term(w) for w in self.words(text)]

    def words(self, text: str) -> list[str]:
        """The words of `text` as written (lowercased), before stemming."""
        words = _WORD.findall(text.lower())
        if self.stopwords:
            stop = _stopwords()
            words = [w for w in words if w not in stop]
        return words

    def term(self, word: str) -> str:
        """The index term of one word: its stem, or the word itself without stemming."""
        return _stemmer()(word) if self.stem else word

    def __repr__(self) -> str:
        return f"Analyzer(stem={self.stem}, stopwords={self.stopwords})"
