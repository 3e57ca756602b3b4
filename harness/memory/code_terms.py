"""Code entities in a rule's prose: which words name code, and how to find them in code.

A word names code when it looks like code: punctuation of names, calls, paths, flags and
tags (`pool.Query`, `__snapshots__`, `require()`, `-mod=vendor`, `@v4`, `a::b`), a
capital inside a word (`formatMoney`, `SciPy`), or quotes around it. Ordinary words do
not, whatever they are; a rule's grammar decides whether a bare word is a name (see
`rules`). Versions alone (`1.20`, `v3`) and directories (`vendor/`) are not entities.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_CODE_MARK = re.compile(r"[_@/*=$<>\\]|::|\w\(|\w\.\w|\w:\w|^-{1,2}\w|^\.\w|[a-z][A-Z]|^\?")
_BARE_VERSION = re.compile(r"[vV]?\d+(?:\.\d+)*[a-z]?")
_TAGGED_VERSION = re.compile(r"(?<=[@:=~^])[vV]?\d+(?:\.\d+)*")
"""A version attached to a name by a tag separator: `@v4`, `python:3.11`, `==2.1`."""
_ANY_VERSION = r"[vV]?\d+(?:\.\d+)*"
_PRONOUN = frozenset("it its they them this that these those he she we you one".split())
_DOMAIN = re.compile(r"\.(?:com|org|net|io|dev|in|co|edu|gov)(?:/|$)")


@dataclass(frozen=True)
class Term:
    """A code entity a rule names, and the pattern that finds it in code. A forbidden
    term may be qualified: forbidden only `together_with` one of some terms ("with
    shell=True"), or `unless` one of others is there ("without Loader=SafeLoader")."""

    text: str
    pattern: re.Pattern[str]
    shape: bool = False
    """True when `text` is an example standing for every term of its shape."""
    together_with: tuple[Term, ...] = ()
    unless: tuple[Term, ...] = ()

    def hits(self, code: str) -> Counter[str]:
        """How often each spelling of the term occurs in `code` (case-folded)."""
        return Counter(m.group().lower() for m in self.pattern.finditer(code))

    def qualified_away(self, code: str) -> bool:
        """Whether `code` lacks what the prohibition needs, or holds what excuses it."""
        return (bool(self.together_with)
                and not any(t.pattern.search(code) for t in self.together_with)
                or any(t.pattern.search(code) for t in self.unless))

    def describe(self, hit: str) -> str:
        """How a warning names a hit: the rule's own spelling, or the hit and its model."""
        if hit == self.text.lower() or not (self.shape or "*" in self.text):
            return self.text
        return f"{hit} (like {self.text})"


def quoted(word: str) -> bool:
    return len(word) > 2 and word[0] in "`\"'" and word[-1] == word[0]


def unquote(word: str) -> str:
    return word[1:-1].strip() if quoted(word) else word


def code_like(word: str) -> bool:
    """Whether a word of prose names code by its form alone."""
    if quoted(word):
        return bool(unquote(word))
    if (_BARE_VERSION.fullmatch(word) or word.lower() in ("e.g", "i.e") or word.endswith("/")
            or not re.search(r"\w", word)):
        return False
    return bool(_CODE_MARK.search(word))


def nameable(word: str) -> bool:
    """Whether a bare word can be a name: not a number, a pronoun or a directory."""
    return (len(word) > 1 and not _BARE_VERSION.fullmatch(word) and not word.endswith("/")
            and word.lower() not in _PRONOUN and bool(re.search(r"[A-Za-z]", word)))


def alternatives(word: str) -> list[str]:
    """`pool.Query/Exec` -> pool.Query, pool.Exec; `redis/psycopg` -> redis, psycopg;
    a path such as `github.com/x/y`, `@scope/pkg` or `owner/repo@ref` stays whole."""
    term = unquote(word)
    if (term.count("/") != 1 or not re.fullmatch(r"[\w.*()-]+/[\w.*()-]+", term)
            or _DOMAIN.search(term)):
        return [term]
    head, tail = term.split("/")
    if "." in head and "." not in tail:
        return [head, head.rsplit(".", 1)[0] + "." + tail]
    return [head, tail]


def make_term(text: str, example: bool = False) -> Term:
    """The term for `text`. An example with a tagged version (`@v4`, `python:3.11`)
    stands for every version of that shape; `*` matches the rest of a name."""
    if example and _TAGGED_VERSION.search(text):
        body = _ANY_VERSION.join(re.escape(p) for p in _TAGGED_VERSION.split(text))
        return Term(text, re.compile(_start(text) + body + r"(?![\w.])", re.I), shape=True)
    body = re.escape(text.removesuffix("()"))
    body = body.replace(r"\*", r"\w*").replace(r"\ ", r"\s+")
    end = "" if text.endswith(("*", ".")) else r"(?![\w$-])"
    return Term(text, re.compile(_start(text) + body + end, re.I))


def _start(text: str) -> str:
    """A term starts a word; a bare name is not an attribute (`x.requests`), a path part
    (`application/json`) or part of a hyphenated name (`python-ulid` is not `ulid`)."""
    if not (text[0].isalnum() or text[0] == "_"):
        return ""
    return r"(?<![\w$./-])" if re.fullmatch(r"[\w-]+", text) else r"(?<![\w$])"
