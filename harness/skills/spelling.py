"""Spelling tolerance: match a query word the index does not know to index terms a few edits away.

An edit is an insertion, a deletion, a substitution or a swap of two adjacent letters
("fucntion" is one edit from "function"). A query word of 4+ letters may be one edit from
a vocabulary word, and two when both have 8+ letters. The first letter must agree: typos
there are rare, while an ordinary word the corpus happens not to use ("hack", "nuts") is
one letter from many others ("back", "cut"). Words with digits are never matched.

Lookup uses a deletion neighbourhood built once per vocabulary: every vocabulary form
is stored under each string it becomes after deleting up to two letters (never the
first), so a query word finds its candidates by looking up its own deletions, and only
those candidates get the exact distance computed. Both the word as written and its
index term are looked up against the corpus's written forms and its terms, so
"comitted" finds "commit" through its stem. Among the closest candidates the term more
frequent in the corpus wins, then the alphabetically first, so results are deterministic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

MIN_LENGTH = 4  # shorter query words are never corrected
LONG = 8  # a query word and a vocabulary word both this long may be two edits apart


def max_edits(word: str, form: str | None = None) -> int:
    """How many edits apart a query word and a vocabulary form may be (`form` omitted: the
    most the word may take with any form)."""
    if len(word) < MIN_LENGTH or not word.isalpha():
        return 0
    shorter = len(word) if form is None else min(len(word), len(form))
    return 2 if shorter >= LONG else 1


def edit_distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, substitute, swap adjacent letters) from `a` to `b`; any value
    above `limit` is returned as `limit + 1`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        before, prev = prev, row
    return min(prev[-1], limit + 1)


def _keys(word: str, depth: int) -> set[str]:
    """`word` with up to `depth` (1 or 2) letters deleted, never the first."""
    n = len(word)
    out = {word, *(word[:i] + word[i + 1:] for i in range(1, n))}
    if depth > 1:
        out.update(word[:i] + word[i + 1:j] + word[j + 1:]
                   for i in range(1, n) for j in range(i + 1, n))
    return out


class Speller:
    """Maps words outside a vocabulary to the nearest vocabulary term, or to nothing."""

    def __init__(self, forms: Iterable[tuple[str, str]]):
        """`forms` are (written form, index term) pairs, one per word occurrence in the corpus."""
        pairs = Counter(forms)
        self.frequency: Counter[str] = Counter()
        terms: dict[str, set[str]] = defaultdict(set)  # written form or term -> terms
        for (form, term), count in pairs.items():
            self.frequency[term] += count
            terms[form].add(term)
            terms[term].add(term)
        self.terms = {form: sorted(found) for form, found in terms.items()}
        # deletion key -> index into `_forms`; keys shared by several forms also in `_shared`
        # (one list per shared key only: a list per key makes building several times slower)
        self._forms = sorted(f for f in self.terms if len(f) >= MIN_LENGTH - 1)
        self._first: dict[str, int] = {}
        self._shared: dict[str, list[int]] = {}
        for i, form in enumerate(self._forms):
            for key in _keys(form, 2 if len(form) >= LONG else 1):
                j = self._first.setdefault(key, i)
                if j != i:
                    self._shared.setdefault(key, [j]).append(i)

    def known(self, term: str) -> bool:
        return term in self.frequency

    def correct(self, word: str, term: str | None = None) -> tuple[str, int] | None:
        """The vocabulary term nearest to `word` (or to its index `term`) and its distance in
        edits, or None when nothing is close enough. Known terms are returned unchanged."""
        term = word if term is None else term
        if self.known(term):
            return term, 0
        best: tuple[int, int, str] | None = None
        for distance, found in self._candidates({word, term}):
            key = (distance, -self.frequency[found], found)
            if best is None or key < best:
                best = key
        return None if best is None else (best[2], best[0])

    def _candidates(self, queries: set[str]) -> Iterator[tuple[int, str]]:
        """(distance, term) for every vocabulary form close enough to one of `queries`."""
        for query in sorted(queries):
            depth = max_edits(query)
            if not depth:
                continue
            ids: set[int] = set()
            for key in _keys(query, depth):
                if key in self._first:
                    ids.update(self._shared.get(key) or (self._first[key],))
            for form in (self._forms[i] for i in ids):
                limit = max_edits(query, form)
                distance = edit_distance(query, form, limit)
                if distance <= limit:
                    for term in self.terms[form]:
                        yield distance, term
