"""Reading a decision's rule: which terms it forbids, and where a term is confined.

A rule is prose ("Request bodies are validated with zod; do not add joi, yup or
hand-written validation."). Clauses that prohibit ("do not", "never", "no", "must not",
"... are not allowed") name forbidden terms; clauses that prescribe ("use X") name terms
that are fine; "X may be used only under DIR/" confines X to DIR. An action breaks the
rule when the text it *adds* to a bound file contains a forbidden term that the old
text did not already hold, after masking what the rule prescribes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.memory.paths import binds, normalize_path

_CLAUSES = re.compile(r"[;:\n]|\((?!\))|(?<!\()\)|(?<=[a-z0-9\])`'\"])\.(?=\s|$)")
_PREFIX_NEG = re.compile(
    r"\b(?:do\s+not|don't|does\s+not|never|must\s+not|must\s+never|should\s+not|shall\s+not|"
    r"cannot|can't|may\s+not|avoid|forbid(?:s|den)?|ban(?:s|ned)?|no|not|without|instead\s+of)\b",
    re.I)
_SUFFIX_NEG = re.compile(r"\b(?:are|is)\s+(?:not\s+allowed|forbidden|banned|prohibited|"
                         r"disallowed|not\s+permitted)\b", re.I)
_ONLY_UNDER = re.compile(r"\bonly\s+(?:under|in|inside|within|from)\s+(\S+/)", re.I)
_TERM = re.compile(r"`([^`]+)`|([@\w][\w.@/*\-]*(?:\(\))?)")

# Words of rule prose that are never the thing a rule forbids.
_PROSE = frozenset("""
a an the and or nor but if then else of to in on at for with from by as into onto over under
is are was were be been being do does did done have has had having it its this that these
those such e.g i.e etc any all every each some other another same own only just also too
very more most less least than via per use used uses using add added adds adding call calls
called calling import imports importing write writes written edit edits change changes make
makes made keep keeps kept put set get run runs go goes new old way ways instead directly
ever always must should shall may might can could would will need needs not no never don
avoid forbid forbidden ban banned allowed allow reintroduce introduce introduced code file
files function functions method methods value values string strings literal literals number
numbers class classes module modules package packages library libraries variable variables
type types thing things anything something place places here there where when which who
what how why they them their you your we our one two three hand written hand-written legacy
global local inside outside within between again back behind until unless before after
language languages feature features newer older external synchronous asynchronous block
blocks event events loop loops client clients role roles check checks numeric limit limits
folder folders directory directories version versions tag tags hook hooks support parameter
parameters id ids field fields schema schemas setting settings option options config test
tests data state
""".split())


@dataclass
class RuleTerms:
    """What a rule forbids (terms), where terms are confined, and what it prescribes."""

    forbidden: list[str] = field(default_factory=list)
    confined: list[tuple[str, str]] = field(default_factory=list)
    """(term, directory) pairs: the term may appear only under the directory."""
    prescribed: list[str] = field(default_factory=list)


def _terms(text: str) -> list[str]:
    out: list[str] = []
    for m in _TERM.finditer(text):
        raw = (m.group(1) or m.group(2)).strip().rstrip(".")
        for part in _split_alternatives(raw):
            if (len(part) > 1 and part.lower() not in _PROSE and not part.isdigit()
                    and not part.endswith("/")):
                out.append(part)
    return out


def _split_alternatives(term: str) -> list[str]:
    """`pool.Query/Exec` -> pool.Query, pool.Exec; `redis/psycopg` -> redis, psycopg;
    a path such as `github.com/x/y` stays whole."""
    if ("/" not in term or term.count("/") > 1 or term.endswith("/")
            or re.search(r"\.(?:com|org|net|io|dev|in|co|edu|gov)(?:/|$)", term)):
        return [term]
    head, *rest = term.split("/")
    if "." in head and all(r and "." not in r for r in rest):
        prefix = head.rsplit(".", 1)[0] + "."
        return [head, *(prefix + r for r in rest)]
    return [p for p in (head, *rest) if p]


def parse_rule(rule: str) -> RuleTerms:
    """Split a rule into clauses and collect forbidden, confined and prescribed terms."""
    terms = RuleTerms()
    for clause in _CLAUSES.split(rule):
        if not clause.strip():
            continue
        only = _ONLY_UNDER.search(clause)
        if only:
            folder = only.group(1)
            for term in _terms(clause[: only.start()]):
                terms.confined.append((term, folder))
            continue
        suffix = _SUFFIX_NEG.search(clause)
        prefix = _PREFIX_NEG.search(clause)
        if suffix:
            terms.forbidden += _terms(clause[: suffix.start()])
        elif prefix:
            terms.forbidden += _terms(clause[prefix.end():])
        else:
            terms.prescribed += _terms(clause)
    return terms


def _pattern(term: str) -> re.Pattern[str]:
    body = re.escape(term.rstrip("*").removesuffix("()")).replace(r"\*", r"\w*")
    start = r"(?<![\w])" if term[0].isalnum() or term[0] == "_" else ""
    end = "" if term.endswith(("*", ".")) else r"(?![\w])"
    return re.compile(start + body + end, re.I)


def _count(term: str, text: str) -> int:
    return len(_pattern(term).findall(text))


def _mask(text: str, prescribed: list[str]) -> str:
    for term in sorted(prescribed, key=len, reverse=True):
        if "." in term or "/" in term or "(" in term:
            text = _pattern(term).sub(" ", text)
    return text


def added_text(tool: str, args: dict) -> tuple[str, str]:
    """(old, new) text of a file-changing action: what was there and what will be."""
    if tool == "edit_file":
        return str(args.get("old", "")), str(args.get("new", ""))
    return "", str(args.get("content", ""))


def violations(rule: str, scope_path: str, old: str, new: str) -> list[str]:
    """Terms the change introduces against the rule, for a file at `scope_path`."""
    terms = parse_rule(rule)
    before, after = _mask(old, terms.prescribed), _mask(new, terms.prescribed)
    found = [t for t in dict.fromkeys(terms.forbidden) if _count(t, after) > _count(t, before)]
    for term, folder in terms.confined:
        if not binds(normalize_path(folder), scope_path) and _count(term, after) > _count(term, before):
            found.append(f"{term} outside {folder}")
    return found
