"""Approach equivalence: when two actions are the same idea, however they are written.

Two edits of a file are the same approach when what they change is the same up to
formatting (whitespace, quote style, trailing commas and semicolons, comments) and the
names of newly introduced identifiers. Two shell commands are the same approach when
they run the same program with the same arguments, up to option order and spacing.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

from harness.memory.events import Action
from harness.memory.paths import normalize_path, same_file

FILE_WRITERS = frozenset({"edit_file", "write_file"})
FILE_READERS = frozenset({"read_file", "list_dir", "search_files", "view_file", "cat"})
SHELL_TOOLS = frozenset({"run_shell", "shell", "bash"})

EDIT_THRESHOLD = 0.55
"""Minimum similarity of two edits' changes to call them one approach."""
WRITE_THRESHOLD = 0.9
"""Minimum similarity of two whole-file writes to call them one approach."""

_TOKEN = re.compile(r"""
    (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)
  | (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<num>\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<ident>[A-Za-z_$][\w$]*)
  | (?P<op>==|!=|<=|>=|=>|->|:=|&&|\|\||\*\*|<<|>>|[^\s\w])
""", re.VERBOSE | re.DOTALL)
_NOISE = frozenset({",", ";"})


def code_tokens(text: str) -> list[tuple[str, str]]:
    """(kind, token) pairs of code with formatting removed: no whitespace, comments,
    commas or semicolons; strings in one quote style; `60_000` as `60000`."""
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or ""
        tok = m.group()
        if kind == "comment" or (kind == "op" and tok in _NOISE):
            continue
        if kind == "str":
            tok = '"' + " ".join(tok[1:-1].split()) + '"'
        elif kind == "num":
            tok = tok.replace("_", "")
        out.append((kind, tok))
    return out


def _rename_fresh(tokens: list[tuple[str, str]], known: set[str]) -> list[str]:
    """Identifiers that the edit introduces (absent from the old text, not an attribute
    after '.') become one placeholder, so renaming a new variable changes nothing."""
    out: list[str] = []
    prev = ""
    for kind, tok in tokens:
        if kind == "ident" and tok not in known and prev != ".":
            out.append("§")
        else:
            out.append(tok)
        prev = tok
    return out


def edit_change(old: str, new: str) -> Counter[str]:
    """What an edit changes: the multiset of removed (`-tok`) and added (`+tok`) tokens.

    A bag rather than a diff, so that moving code around (pulling an expression into a
    variable, reordering arguments) does not hide that the same tokens went in."""
    old_toks = code_tokens(old)
    known = {t for k, t in old_toks if k == "ident"}
    before = Counter(t for _, t in old_toks)
    after = Counter(_rename_fresh(code_tokens(new), known))
    change = Counter({"+" + t: n for t, n in (after - before).items()})
    change.update({"-" + t: n for t, n in (before - after).items()})
    return change


def multiset_similarity(a: Counter[str], b: Counter[str]) -> float:
    """Weighted Jaccard of two multisets (1.0 when both are empty)."""
    union = sum((a | b).values())
    return 1.0 if union == 0 else sum((a & b).values()) / union


def _flag(tok: str) -> bool:
    return tok.startswith("-") and tok != "-" and not _number(tok)


def _number(tok: str) -> bool:
    return bool(re.fullmatch(r"-\d+(\.\d+)?", tok))


def command_forms(command: str, workspace: str | None = None) -> set[tuple]:
    """Canonical forms of a shell command: each `&&`/`;`/`|` segment as its environment
    assignments (a set), its positional words in order and its options (a multiset).
    Two readings of options are produced, with and without `-o VALUE` pairing, because
    whether an option takes a value cannot be known from the text alone."""
    try:
        words = shlex.split(command, posix=True)
    except ValueError:
        words = command.split()
    segments: list[list[str]] = [[]]
    for w in words:
        if w in ("&&", "||", ";", "|"):
            segments.append([])
        else:
            segments[-1].append(normalize_path(w, workspace) if "/" in w and not _flag(w) else w)
    forms: list[list[tuple]] = [[], []]
    for seg in filter(None, segments):
        n = _env_prefix(seg)
        env, rest = tuple(sorted(seg[:n])), seg[n:]
        for paired, form in zip((False, True), forms, strict=True):
            positional: list[str] = []
            options: list[str] = []
            i = 0
            while i < len(rest):
                w = rest[i]
                if _flag(w):
                    if paired and "=" not in w and i + 1 < len(rest) and not _flag(rest[i + 1]):
                        options.append(f"{w} {rest[i + 1]}")
                        i += 2
                        continue
                    options.append(w)
                else:
                    positional.append(w)
                i += 1
            form.append((env, tuple(positional), tuple(sorted(options))))
    return {tuple(f) for f in forms}


def _env_prefix(seg: list[str]) -> int:
    """How many leading words are `NAME=value` environment assignments."""
    n = 0
    while n < len(seg) and re.fullmatch(r"[A-Za-z_]\w*=.*", seg[n]):
        n += 1
    return n


@dataclass(frozen=True)
class Match:
    """How a new action relates to a recorded one."""

    same: bool
    score: float
    why: str


def same_approach(recorded: Action, action: Action, workspace: str | None = None) -> Match:
    """Whether `action` repeats the approach of the `recorded` action."""
    if recorded.tool in SHELL_TOOLS and action.tool in SHELL_TOOLS:
        a, b = str(recorded.args.get("command", "")), str(action.args.get("command", ""))
        if command_forms(a, workspace) & command_forms(b, workspace):
            why = "the same command" if " ".join(a.split()) == " ".join(b.split()) else \
                "the same command up to argument order and spacing"
            return Match(True, 1.0, why)
        return Match(False, 0.0, "a different command")
    if recorded.tool not in FILE_WRITERS or action.tool != recorded.tool:
        return Match(False, 0.0, "a different kind of action")
    pa = normalize_path(str(recorded.args.get("path", "")), workspace)
    pb = normalize_path(str(action.args.get("path", "")), workspace)
    if not same_file(pa, pb):
        return Match(False, 0.0, "a different file")
    if action.tool == "write_file":
        ta = [t for _, t in code_tokens(str(recorded.args.get("content", "")))]
        tb = [t for _, t in code_tokens(str(action.args.get("content", "")))]
        score = SequenceMatcher(None, ta, tb, autojunk=False).ratio() if (ta or tb) else 1.0
        return Match(score >= WRITE_THRESHOLD, score,
                     "the same file content" if score == 1.0 else
                     f"nearly the same file content (similarity {score:.2f})")
    ca = edit_change(str(recorded.args.get("old", "")), str(recorded.args.get("new", "")))
    cb = edit_change(str(action.args.get("old", "")), str(action.args.get("new", "")))
    if not ca and not cb:  # both only move code around: compare the results in order
        ta = _rename_fresh(code_tokens(str(recorded.args.get("new", ""))), set())
        tb = _rename_fresh(code_tokens(str(action.args.get("new", ""))), set())
        score = SequenceMatcher(None, ta, tb, autojunk=False).ratio()
    else:
        score = multiset_similarity(ca, cb)
    why = ("the same edit" if score == 1.0 else
           f"the same change up to formatting and renaming (similarity {score:.2f})")
    return Match(score >= EDIT_THRESHOLD, score, why)
