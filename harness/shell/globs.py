"""Shell patterns as the policy reads them: matching a path against a glob, deciding whether
two globs can match a common path, and brace expansion.

A command that names `~/.ss?/id_*` reads whatever the shell expands it to, so a glob counts
as a credential when it *could* match a credential pattern: `intersects` answers that for
`*`, `?`, `[…]` and `**` (the policy's stand-in for a part only known at run time, which may
hold `/`) on either side.
"""

from __future__ import annotations

import re
from functools import lru_cache

GLOB_CHARS = re.compile(r"[*?\[]")
WILDCARDS = re.compile(r"\.?[*?]+")
BRACES = re.compile(r"(?<!\$)\{([^{}]*,[^{}]*)\}")
MAX_EXPANSIONS = 64


def has_glob(text: str) -> bool:
    return GLOB_CHARS.search(text) is not None


def glob_match(pattern: str, path: str) -> bool:
    """Glob with `**` (any depth, including none), `*` and `?` (within one component).
    A pattern ending in `/` or `/**` matches the directory and everything under it."""
    if pattern.endswith("/"):
        pattern += "**"
    return _glob_re(pattern).fullmatch(path) is not None


@lru_cache(maxsize=512)
def _glob_re(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append(r"(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append(r"(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(r".*")
            i += 2
        elif c == "*":
            out.append(r"[^/]*")
            i += 1
        elif c == "?":
            out.append(r"[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))


def glob_folder(word: str) -> str:
    """`dir/*` touches all of `dir`: a path whose last part is only wildcards stands for
    its folder (`*` for the current one)."""
    head, slash, last = word.rstrip("/").rpartition("/")
    if not WILDCARDS.fullmatch(last):
        return word
    return head or slash or "."


# -- intersection ---------------------------------------------------------------------------
# A pattern is a tuple of tokens: ("lit", c), ("one", None) for `?`, ("set", chars, negated)
# for `[…]`, ("star", None) for `*` (no `/`) and ("deep", None) for `**` (anything).
Token = tuple


def _tokens(pattern: str) -> tuple[Token, ...]:
    out: list[Token] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(("deep", None))
            i += 2
            while i < len(pattern) and pattern[i] == "*":
                i += 1
        elif c == "*":
            out.append(("star", None))
            i += 1
        elif c == "?":
            out.append(("one", None))
            i += 1
        elif c == "[" and (end := _class_end(pattern, i)) is not None:
            body = pattern[i + 1:end]
            negated = body[:1] in ("!", "^")
            out.append(("set", _class_chars(body[1:] if negated else body), negated))
            i = end + 1
        else:
            out.append(("lit", c))
            i += 1
    return tuple(out)


def _class_end(pattern: str, start: int) -> int | None:
    j = start + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    end = pattern.find("]", j)
    return end if end != -1 else None


def _class_chars(body: str) -> frozenset[str]:
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            chars.update(chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            chars.add(body[i])
            i += 1
    return frozenset(chars)


def _char_ok(token: Token, c: str) -> bool:
    kind = token[0]
    if kind == "lit":
        return token[1] == c
    if kind == "one":
        return c != "/"
    return c != "/" and ((c in token[1]) != token[2])


def _singles_meet(a: Token, b: Token) -> bool:
    """Can two one-character tokens match the same character?"""
    if a[0] == "lit":
        return _char_ok(b, a[1])
    if b[0] == "lit":
        return _char_ok(a, b[1])
    if a[0] == "set" and b[0] == "set" and not a[2] and not b[2]:
        return bool(a[1] & b[1])
    return True


def _fits_star(token: Token, deep: bool) -> bool:
    """Can a `*` (or `**` when deep) consume what this one-character token matches?"""
    return deep or token[0] != "lit" or token[1] != "/"


def intersects(a: str, b: str) -> bool:
    """Can some path match both globs? (`*`, `?`, `[…]` stay within a component; `**`
    matches anything.)"""
    return _meet(_tokens(a), _tokens(b))


@lru_cache(maxsize=4096)
def _meet(p: tuple[Token, ...], q: tuple[Token, ...]) -> bool:
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(p) and j == len(q):
            return True
        pi = p[i] if i < len(p) else None
        qj = q[j] if j < len(q) else None
        if pi is not None and pi[0] in ("star", "deep"):
            stack.append((i + 1, j))  # the star matches nothing more
            if qj is not None and qj[0] in ("star", "deep"):
                if pi[0] == "deep" or qj[0] == "star":
                    stack.append((i, j + 1))  # it swallows the other's star
            elif qj is not None and _fits_star(qj, pi[0] == "deep"):
                stack.append((i, j + 1))
        if qj is not None and qj[0] in ("star", "deep"):
            stack.append((i, j + 1))
            if pi is not None and pi[0] not in ("star", "deep") and _fits_star(
                    pi, qj[0] == "deep"):
                stack.append((i + 1, j))
            elif pi is not None and qj[0] == "deep" and pi[0] == "star":
                stack.append((i + 1, j))
        if pi is not None and qj is not None and pi[0] not in ("star", "deep") and qj[0] not in (
                "star", "deep") and _singles_meet(pi, qj):
            stack.append((i + 1, j + 1))
    return False


def escape(text: str) -> str:
    """A literal path as a glob that matches only it."""
    return re.sub(r"([*?\[])", r"[\1]", text)


# -- brace expansion ------------------------------------------------------------------------
def expand_braces(word: str) -> list[str]:
    """`a/{b,c}/d` -> `a/b/d`, `a/c/d` (nested and repeated braces too), at most 64 words.
    `${VAR}` is a variable, not a brace list."""
    out: list[str] = []
    todo = [word]
    while todo and len(out) + len(todo) <= MAX_EXPANSIONS:
        w = todo.pop(0)
        m = BRACES.search(w)
        if m is None:
            out.append(w)
            continue
        todo += [w[:m.start()] + part + w[m.end():] for part in m.group(1).split(",")]
    return out + todo
