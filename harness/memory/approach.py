"""Approach equivalence: when two actions are the same idea, however they are written.

Two edits of a file are the same approach when they make the same change at the same
place, up to formatting (whitespace, quote style, commas and semicolons, comments in the
file's language), the names of the variables they define, and pulling an expression into
a single-use variable. Token order counts: `max(lo, min(x, hi))` and `min(lo, max(x, hi))`
are different fixes. Undoing an edit is never the same approach as the edit. Two shell
commands are the same approach when they run the same program with the same arguments,
up to option order and spacing (only there is order ignored). Commands are read by the
shell parser governance uses too (`harness.shell`).

What an action is — a command, a change to a file, or neither — comes from what its tool
declares (`Effects`: `executes` with a command argument, `writes` with a path argument).
Records carry only a tool's name: a record of the same tool is read by the same
declaration; any other, and any action whose tool declares nothing known to memory, by
the built-in tool names below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from harness.memory.events import RecordedAction
from harness.memory.paths import normalize_path, same_file
from harness.shell.parser import parse
from harness.shell.substitutions import ShellParseError
from harness.tools.effects import Effects

FILE_WRITERS = frozenset({"edit_file", "write_file"})
"""Tools that change a file, by name (for records and tools with no declaration)."""
FILE_READERS = frozenset({"read_file", "list_dir", "search_files", "view_file", "cat"})
SHELL_TOOLS = frozenset({"run_shell", "shell", "bash"})
"""Tools that run a command line, by name (for records and tools with no declaration)."""
Role = Literal["shell", "write", "other"]
Declared = Mapping[str, Effects]
"""What tools declare they do, by tool name."""
SCRIPT_RUNNERS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "python", "python3", "node",
                            "ruby", "perl"})
"""Interpreters that run the script file they are given: `bash x.sh` runs what `./x.sh` does."""

EDIT_THRESHOLD = 0.55
"""Minimum similarity of two edits' changes to call them one approach."""
WRITE_THRESHOLD = 0.9
"""Minimum similarity of two whole-file writes to call them one approach."""

_COMMENTS = {
    "hash": r"\#[^\n]*",
    "config": r"\#[^\n]*",
    "slash": r"//[^\n]*|/\*.*?\*/",
    "sql": r"--[^\n]*|/\*.*?\*/",
    "any": r"//[^\n]*|\#[^\n]*|/\*.*?\*/",
}
"""Comment syntax by family; `any` (both styles) for files of unknown language. In
`config` files a quoted scalar is the same value unquoted; in `sql` names and keywords
are case-insensitive."""
_FAMILY = {
    **dict.fromkeys("py pyi pyx sh bash zsh fish rb r pl tf mk dockerfile makefile "
                    "gitignore".split(), "hash"),
    **dict.fromkeys("yml yaml toml cfg ini conf env".split(), "config"),
    **dict.fromkeys("js jsx ts tsx mjs cjs go rs java kt kts c h cc cpp cxx hpp cs swift "
                    "scala dart proto css scss less groovy gradle zig".split(), "slash"),
    "sql": "sql",
}
_TOKEN = r"""
    (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)
  | (?P<comment>{comment})
  | (?P<num>\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<ident>[A-Za-z_$][\w$]*)
  | (?P<op>==|!=|<=|>=|=>|->|:=|&&|\|\||\*\*|//|<<|>>|[^\s\w])
"""
_TOKENIZERS = {family: re.compile(_TOKEN.replace("{comment}", c), re.VERBOSE | re.DOTALL)
               for family, c in _COMMENTS.items()}
_NOISE = frozenset({",", ";"})


def language(path: str) -> str:
    """The comment family of a file from its name: `hash`, `config`, `slash`, `sql` or
    `any`."""
    name = path.rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else name
    return _FAMILY.get(ext, "any")


def code_tokens(text: str, lang: str = "any") -> list[tuple[str, str]]:
    """(kind, token) pairs of code with formatting removed: no whitespace, comments,
    commas or semicolons; strings in one quote style; `60_000` as `60000`. `lang` (see
    `language`) says what starts a comment: `//` is floor division in Python."""
    out: list[tuple[str, str]] = []
    for m in _TOKENIZERS.get(lang, _TOKENIZERS["any"]).finditer(text):
        kind = m.lastgroup or ""
        tok = m.group()
        if kind == "comment" or (kind == "op" and tok in _NOISE):
            continue
        if kind == "str" and lang == "config":  # `name: "ci"` is `name: ci`
            out += code_tokens(tok[1:-1], "any")
            continue
        if kind == "str":
            tok = '"' + " ".join(tok[1:-1].split()) + '"'
        elif kind == "num":
            tok = tok.replace("_", "")
        elif kind == "ident" and lang == "sql":
            tok = tok.lower()
        out.append((kind, tok))
    return out


def strip_comments(text: str, lang: str) -> str:
    """`text` with its comments blanked, for a file of a known comment family (`lang`
    from `language`); text of an unknown language is returned as it is, since `#` or
    `//` there need not start a comment."""
    if lang not in _COMMENTS or lang == "any":
        return text
    comments = (m.span() for m in _TOKENIZERS[lang].finditer(text) if m.lastgroup == "comment")
    out, at = [], 0
    for start, end in comments:
        out += [text[at:start], " "]
        at = end
    return "".join(out) + text[at:]


def _rename_fresh(tokens: list[tuple[str, str]], fresh: set[str]) -> list[str]:
    """The `fresh` names (those the edit introduces) are renamed consistently, `§1`, `§2`,
    ... in order of first use (never an attribute after '.'), so that renaming a new
    variable changes nothing while distinct new names stay distinct."""
    names: dict[str, str] = {}
    out: list[str] = []
    prev = ""
    for kind, tok in tokens:
        if kind == "ident" and tok in fresh and prev != ".":
            out.append(names.setdefault(tok, f"§{len(names) + 1}"))
        else:
            out.append(tok)
        prev = tok
    return out


_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_ASSIGN = frozenset({"=", ":=", "+=", "-=", "*=", "/=", "|=", "&=", "??="})
_BINDERS = frozenset({"def", "func", "function", "class", "let", "const", "var", "fn", "as",
                      "type", "struct", "interface", "enum", "trait", "impl", "mut"})


def _bound_names(lines: list[list[tuple[str, str]]]) -> set[str]:
    """Names that lines of code define: what they assign at the top level of a line
    (`x = ...`, `a, b := ...`, `x: T = ...`), what follows a defining keyword (`def f`,
    `let x`, `as e`) and loop variables (`for x in`). Other names (a called function,
    a library constant) refer to something that exists, so their spelling matters."""
    bound: set[str] = set()
    for line in lines:
        toks = [t for _, t in line]
        for i, (kind, tok) in enumerate(line):
            if kind == "ident" and i and toks[i - 1] in _BINDERS:
                bound.add(tok)
        if toks and toks[0] == "for":
            end = next((i for i, t in enumerate(toks) if t in ("in", "of", ":=", "=")), 0)
            bound.update(t for k, t in line[1:end] if k == "ident")
        depth = 0
        target: list[str] = []
        for i, (kind, tok) in enumerate(line):
            if tok in _ASSIGN and depth == 0:
                bound.update(target)
                break
            depth += (tok in _OPEN) - (tok in _CLOSE)
            if (kind == "ident" and depth == 0
                    and (i == 0 or toks[i - 1] not in (".", ":", "->"))):
                target.append(tok)
    return bound


def _uses(tokens: list[tuple[str, str]], name: str) -> list[int]:
    """Positions where `name` is used as a variable (not as an attribute after '.')."""
    return [i for i, (k, t) in enumerate(tokens)
            if k == "ident" and t == name and (i == 0 or tokens[i - 1][1] != ".")]


def _inline_temporaries(lines: list[list[tuple[str, str]]],
                        known: set[str]) -> list[tuple[str, str]]:
    """The tokens of `lines` with each new single-use temporary inlined: a line
    `t = EXPR` (or `t := EXPR`) whose `t` the edit introduces and uses exactly once later
    becomes EXPR at that use. Pulling an expression into a variable is not a new idea."""
    lines = [ln for ln in lines if ln]
    i = 0
    while i < len(lines):
        line = lines[i]
        expr = line[2:]
        if (len(line) > 2 and line[0][0] == "ident" and line[0][1] not in known
                and line[1][1] in ("=", ":=") and expr
                and sum(t in _OPEN for _, t in expr) == sum(t in _CLOSE for _, t in expr)
                and not _uses([tok for ln in lines[:i] for tok in ln], line[0][1])):
            rest = lines[i + 1:]
            flat = [(n, j) for n, ln in enumerate(rest) for j in _uses(ln, line[0][1])]
            if len(flat) == 1:
                n, j = flat[0]
                rest[n] = rest[n][:j] + expr + rest[n][j + 1:]
                lines = lines[:i] + rest
                continue
        i += 1
    return [tok for ln in lines for tok in ln]


def _renamed_existing(before: list[str], after: list[tuple[str, str]],
                      known: set[str], bound: set[str]) -> dict[str, str]:
    """New name -> old name for identifiers of the old text that the edit renames: the
    old name is gone from the new text and a new name stands in its place."""
    gone = known - {t for k, t in after if k == "ident"}
    if not gone:
        return {}
    renames: dict[str, str] = {}
    toks = [t for _, t in after]
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, toks, autojunk=False).get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            for old, (kind, new) in zip(before[i1:i2], after[j1:j2], strict=True):
                if old in gone and kind == "ident" and new not in known and new in bound:
                    renames.setdefault(new, old)
    return renames


def normal_edit(old: str, new: str, lang: str = "any") -> tuple[list[str], list[str]]:
    """The old and new token sequences of an edit, normalised: formatting removed, new
    single-use temporaries inlined, renamed variables given back their old names and the
    remaining new identifiers renamed consistently (`§1`, `§2`, ...). Token order stays."""
    old_toks = code_tokens(old, lang)
    known = {t for k, t in old_toks if k == "ident"}
    before = [t for _, t in old_toks]
    lines = [code_tokens(ln, lang) for ln in new.splitlines()]
    bound = _bound_names(lines)
    after = _inline_temporaries(lines, known)
    renames = _renamed_existing(before, after, known, bound)
    after = [(k, renames.get(t, t) if k == "ident" else t) for k, t in after]
    return before, _rename_fresh(after, bound - known)


@dataclass(frozen=True)
class EditDelta:
    """What an edit changes, located in its old text: the old token positions it deletes
    and the token sequence it inserts at each gap (gap i lies before old token i). Order
    and place both count: `max(lo, min(x, hi))` is not `min(lo, max(x, hi))`."""

    old: tuple[str, ...]
    deleted: frozenset[int]
    inserted: dict[int, tuple[str, ...]]


def edit_delta(old: str, new: str, lang: str = "any") -> EditDelta:
    """The delta of replacing `old` by `new`, up to formatting and renaming of the
    identifiers the edit introduces."""
    before, after = normal_edit(old, new, lang)
    deleted: set[int] = set()
    inserted: dict[int, tuple[str, ...]] = {}
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag != "equal":
            deleted.update(range(i1, i2))
            inserted[i1] = inserted.get(i1, ()) + tuple(after[j1:j2])
    return EditDelta(tuple(before), frozenset(deleted), {g: s for g, s in inserted.items() if s})


def delta_similarity(a: EditDelta, b: EditDelta) -> float:
    """How much of two edits' changes is the same change at the same place: shared
    deletions plus the common subsequence of what each inserts at a gap, over everything
    either changes (1.0 when neither changes anything). `b`'s positions are mapped into
    `a`'s old text by aligning the two old texts, so the edits may quote different spans."""
    where: dict[int, int | tuple[str, int]] = {}
    for i, j, size in SequenceMatcher(None, a.old, b.old, autojunk=False).get_matching_blocks():
        where.update({j + k: i + k for k in range(size)})

    def gap(g: int) -> int | tuple[str, int]:
        if g in where:
            return where[g]
        prev = where.get(g - 1)
        return prev + 1 if isinstance(prev, int) else ("b", g)

    deleted_b = {where.get(j, ("b", j)) for j in b.deleted}
    inserted_b = {gap(g): s for g, s in b.inserted.items()}
    shared = len(a.deleted & deleted_b)
    total = len(a.deleted | deleted_b)
    for g in a.inserted.keys() | inserted_b.keys():
        sa, sb = a.inserted.get(g, ()) if isinstance(g, int) else (), inserted_b.get(g, ())
        common = sum(m.size for m in SequenceMatcher(None, sa, sb, autojunk=False)
                     .get_matching_blocks())
        shared += common
        total += len(sa) + len(sb) - common
    return 1.0 if total == 0 else shared / total


def role(tool: str, declared: Declared | None = None) -> Role:
    """What memory compares an action of `tool` as: a command line (`shell`), a change to a
    file (`write`) or neither, from what the tool declares; by its name when `declared`
    does not hold it."""
    effects = declared.get(tool) if declared else None
    if effects is None:
        return "shell" if tool in SHELL_TOOLS else "write" if tool in FILE_WRITERS else "other"
    if effects.executes and effects.commands:
        return "shell"
    if (effects.writes or effects.deletes) and effects.paths:
        return "write"
    return "other"


def command_of(action: RecordedAction, declared: Declared | None = None) -> str:
    """The command line an action runs: the first of its tool's command arguments set."""
    effects = declared.get(action.tool) if declared else None
    return _argument(action, effects.commands if effects and effects.commands else ("command",))


def path_of(action: RecordedAction, declared: Declared | None = None) -> str:
    """The file an action changes: the first of its tool's path arguments set."""
    effects = declared.get(action.tool) if declared else None
    return _argument(action, effects.paths if effects and effects.paths else ("path",))


def _argument(action: RecordedAction, keys: tuple[str, ...]) -> str:
    return next((str(action.args[k]) for k in keys if action.args.get(k) is not None), "")


def _shape(action: RecordedAction) -> Literal["edit", "write", "args"]:
    """How a file change is given: an edit (`old` -> `new`), the whole content, or other
    arguments."""
    if action.tool == "edit_file" or {"old", "new"} & action.args.keys():
        return "edit"
    if action.tool == "write_file" or "content" in action.args:
        return "write"
    return "args"


def undoes(recorded: RecordedAction, action: RecordedAction, workspace: str | None = None,
           declared: Declared | None = None) -> bool:
    """Whether `action` is the inverse of the `recorded` edit (its old and new swapped, up
    to formatting): it restores what the recorded edit replaced."""
    if recorded.tool != action.tool or role(action.tool, declared) != "write" \
            or _shape(recorded) != "edit" or _shape(action) != "edit":
        return False
    path_a = normalize_path(path_of(recorded, declared), workspace)
    if not same_file(path_a, normalize_path(path_of(action, declared), workspace)):
        return False
    lang = language(path_a)

    def toks(act: RecordedAction, key: str) -> list[str]:
        return [t for _, t in code_tokens(str(act.args.get(key, "")), lang)]

    return (toks(action, "old") == toks(recorded, "new")
            and toks(action, "new") == toks(recorded, "old") != toks(recorded, "new"))


def _flag(tok: str) -> bool:
    return tok.startswith("-") and tok != "-" and not _number(tok)


def _number(tok: str) -> bool:
    return bool(re.fullmatch(r"-\d+(\.\d+)?", tok))


def _normal_word(word: str, workspace: str | None = None) -> str:
    """A shell word with the paths in it normalised, alone (`./src/a.py`) or as the value
    of an option or assignment (`-chdir=./infra`, `--out=/repo/dist`, `PREFIX=./out`)."""
    name, eq, value = word.partition("=")
    if eq and re.fullmatch(r"-{0,2}[\w.-]+", name):
        return name + eq + _normal_path_word(value, workspace)
    return word if _flag(word) else _normal_path_word(word, workspace)


def _normal_path_word(word: str, workspace: str | None) -> str:
    """A word that names a path (has a `/`, is not a URL) in its normal form."""
    if "/" not in word or "://" in word:
        return word
    return normalize_path(word, workspace)


def command_forms(command: str, workspace: str | None = None) -> set[tuple]:
    """Canonical forms of a shell command: each `&&`/`;`/`|` segment as its environment
    assignments (a set), its positional words in order and its options (a multiset).
    Readings of options are produced with and without `-o VALUE` pairing, because
    whether an option takes a value cannot be known from the text alone, and with
    clusters of one-letter options split (`-xq` as `-x -q`)."""
    segments = [[_normal_word(w, workspace) for w in seg] for seg in command_words(command)]
    forms: list[list[tuple]] = [[], [], []]
    for seg in filter(None, segments):
        n = _env_prefix(seg)
        env, words = tuple(sorted(seg[:n])), script_command(seg[n:])
        readings = (words, words, [f for w in words for f in _clustered(w)])
        for paired, rest, form in zip((False, True, False), readings, forms, strict=True):
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
                    # paired, `--opt=value` reads as `--opt value`
                    options.append(w.replace("=", " ", 1) if paired and w.startswith("--") else w)
                else:
                    positional.append(w)
                i += 1
            form.append((env, tuple(positional), tuple(sorted(options))))
    return {tuple(f) for f in forms}


def command_words(command: str) -> list[list[str]]:
    """The simple commands of a line (split at `&&`, `||`, `;`, `|`), each as its words:
    assignments, wrappers (`sudo`, `timeout`), program and arguments, then redirections,
    quotes removed; the line split at whitespace when it cannot be parsed."""
    try:
        parsed = parse(command)
    except ShellParseError:
        return [command.split()]
    return [[*cmd.assignments, *cmd.wrappers, *map(cmd.word, cmd.argv),
             *(w for op, target in cmd.redirects for w in (op, cmd.word(target)))]
            for pipeline in parsed.pipelines for cmd in pipeline.commands]


def _clustered(word: str) -> list[str]:
    """`-xq` as `-x -q`, the way getopt reads a cluster of one-letter options (a third
    reading: tools with one-dash long options, as `go test -race`, read it whole)."""
    if re.fullmatch(r"-[A-Za-z]{2,}", word):
        return [f"-{c}" for c in word[1:]]
    return [word]


def script_command(words: list[str]) -> list[str]:
    """`words` without a leading interpreter given a script to run (`bash tools/x.sh` ->
    `tools/x.sh`), as the script run directly is the same approach."""
    if len(words) > 1 and words[0].rsplit("/", 1)[-1] in SCRIPT_RUNNERS \
            and not _flag(words[1]) and "." in words[1].rsplit("/", 1)[-1]:
        return words[1:]
    return words


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


def same_approach(recorded: RecordedAction, action: RecordedAction,
                  workspace: str | None = None, declared: Declared | None = None) -> Match:
    """Whether `action` repeats the approach of the `recorded` action (`declared`: what
    tools declare they do, by name)."""
    kind = role(action.tool, declared)
    if kind == "shell" and role(recorded.tool, declared) == "shell":
        a, b = command_of(recorded, declared), command_of(action, declared)
        if command_forms(a, workspace) & command_forms(b, workspace):
            why = "the same command" if " ".join(a.split()) == " ".join(b.split()) else \
                "the same command up to argument order and spacing"
            return Match(True, 1.0, why)
        return Match(False, 0.0, "a different command")
    if kind != "write" or action.tool != recorded.tool:
        return Match(False, 0.0, "a different kind of action")
    pa = normalize_path(path_of(recorded, declared), workspace)
    pb = normalize_path(path_of(action, declared), workspace)
    if not same_file(pa, pb):
        return Match(False, 0.0, "a different file")
    if undoes(recorded, action, workspace, declared):
        return Match(False, 0.0, "undoes it (restores the text it replaced)")
    lang = language(pa)
    shape = _shape(action)
    if shape == "args" or _shape(recorded) != shape:
        same = recorded.args == action.args
        return Match(same, float(same), "the same arguments" if same else "different arguments")
    if shape == "write":
        ta = [t for _, t in code_tokens(str(recorded.args.get("content", "")), lang)]
        tb = [t for _, t in code_tokens(str(action.args.get("content", "")), lang)]
        score = SequenceMatcher(None, ta, tb, autojunk=False).ratio() if (ta or tb) else 1.0
        return Match(score >= WRITE_THRESHOLD, score,
                     "the same file content" if score == 1.0 else
                     f"nearly the same file content (similarity {score:.2f})")
    score = delta_similarity(
        edit_delta(str(recorded.args.get("old", "")), str(recorded.args.get("new", "")), lang),
        edit_delta(str(action.args.get("old", "")), str(action.args.get("new", "")), lang))
    same = score >= EDIT_THRESHOLD
    why = ("the same edit" if score == 1.0 else
           f"the same change up to formatting and renaming (similarity {score:.2f})" if same
           else f"a different change (similarity {score:.2f})")
    return Match(same, score, why)
