"""Take a command line's substitutions, here-documents and ANSI-C strings out before it is
split into words: `$(…)`, backticks and `<(…)`/`>(…)` become `__SUBSTn__` placeholders
(their text parsed on its own), here-document bodies `__HEREDOCn__`, and `$'…'` the quoted
string it stands for, escapes decoded (`$'\\x72m'` is `'rm'`). Comments go too: a `#`
that starts a word comments out the rest of its line only (`a#b` is a word).
"""

from __future__ import annotations

import re
import shlex

from harness.shell.escapes import ansi_c


class ShellParseError(ValueError):
    """The command line could not be parsed (unbalanced quotes or substitutions)."""


def extract_substitutions(s: str) -> tuple[str, list[str], dict[int, str], list[str]]:
    """Replace `$(…)`, backticks and `<(…)`/`>(…)` with placeholders, newlines with `;`,
    and here-document bodies with `__HEREDOCn__` (bodies returned in order); quoting is
    respected (nothing inside '…' is touched)."""
    out: list[str] = []
    subs: list[str] = []
    kinds: dict[int, str] = {}
    heredocs: list[str] = []
    quote: str | None = None
    i, n = 0, len(s)
    pending_heredoc: list[tuple[str, int]] = []

    def add(inner: str, kind: str) -> None:
        kinds[len(subs)] = kind
        out.append(f"__SUBST{len(subs)}__")
        subs.append(inner)

    while i < n:
        c = s[i]
        if quote == "'":
            out.append(c)
            if c == "'":
                quote = None
            i += 1
        elif quote is None and s.startswith("$'", i):  # ANSI-C quoting, decoded
            end = _ansi_c_end(s, i + 2)
            out.append(shlex.quote(ansi_c(s[i + 2:end])) if end > i + 2 else "''")
            i = end + 1
        elif quote is None and s.startswith('$"', i):  # a translated string: a string
            i += 1
        elif c == "\\" and i + 1 < n:
            out.append(s[i:i + 2])
            i += 2
        elif c == "$" and s.startswith("$((", i):
            end = _matching(s, i + 2, "(", ")")
            out.append("0")  # arithmetic expansion: a number
            i = end + 2 if end + 1 < n and s[end + 1] == ")" else end + 1
        elif c == "$" and s.startswith("$(", i):
            end = _matching(s, i + 1, "(", ")")
            add(s[i + 2:end], "cmd")
            i = end + 1
        elif c == "`":
            end = s.find("`", i + 1)
            while end != -1 and s[end - 1] == "\\":
                end = s.find("`", end + 1)
            if end == -1:
                raise ShellParseError("cannot parse shell command: unclosed backtick")
            add(s[i + 1:end], "tick")
            i = end + 1
        elif quote is None and c in "<>" and s.startswith("(", i + 1):
            end = _matching(s, i + 1, "(", ")")
            add(s[i + 2:end], "proc" if c == "<" else "procout")
            i = end + 1
        elif quote is None and c in "'\"":
            quote = c
            out.append(c)
            i += 1
        elif quote == '"' and c == '"':
            quote = None
            out.append(c)
            i += 1
        elif quote is None and s.startswith("<<", i) and not s.startswith("<<<", i):
            m = re.match(r"<<-?\s*(['\"]?)(\w+)\1", s[i:])
            if m:
                pending_heredoc.append((m.group(2), len(heredocs)))
                heredocs.append("")
                out.append(f"<< __HEREDOC{len(heredocs) - 1}__")
                i += m.end()
            else:
                out.append(c)
                i += 1
        elif quote is None and c == "#" and (i == 0 or s[i - 1] in " \t\n;&|()<>"):
            end = s.find("\n", i)  # a comment runs to the end of its line, not further
            i = n if end == -1 else end
        elif quote is None and c == "\n":
            out.append(" ; ")
            i += 1
            while pending_heredoc:  # take the body up to its delimiter line
                delim, index = pending_heredoc.pop(0)
                m = re.compile(rf"^[ \t]*{re.escape(delim)}[ \t]*$", re.M).search(s, i)
                heredocs[index] = s[i:m.start()] if m else s[i:]
                i = m.end() if m else n
        else:
            out.append(c)
            i += 1
    if quote is not None:
        raise ShellParseError(f"cannot parse shell command: unclosed {quote} quote")
    return "".join(out), subs, kinds, heredocs


def _ansi_c_end(s: str, start: int) -> int:
    """Index of the quote closing a `$'…'` body that starts at `start` (`\\'` escapes one)."""
    i = start
    while i < len(s):
        if s[i] == "\\":
            i += 2
        elif s[i] == "'":
            return i
        else:
            i += 1
    raise ShellParseError("cannot parse shell command: unclosed $' quote")


def _matching(s: str, start: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one at `start`, skipping quoted text."""
    depth, i, quote = 0, start, None
    while i < len(s):
        c = s[i]
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                i += 1
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellParseError(f"cannot parse shell command: unbalanced '{open_}' at char {start}")
