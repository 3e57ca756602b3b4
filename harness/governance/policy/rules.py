"""Policy rules: conditions over a call's facts, and the decision they give when they match.

Every condition a rule sets must hold for it to match. Quantifiers follow the effect: a
`deny` or `ask` rule matches when *any* path or command meets its patterns; an `allow`
rule matches only when *every* one does — so `allow rm -rf build/` never waves through
the `curl … | sh` chained after it.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.governance.policy._facts import ActionFacts, ToolKind
from harness.governance.policy._protections import CHECKS
from harness.shell.accesses import AccessMode
from harness.shell.command import SimpleCommand
from harness.shell.paths import PathRef, PathResolver

Effect = Literal["allow", "deny", "ask"]


class Rule(BaseModel):
    """One ordered policy rule. Unset conditions match anything.

    - `tools`: globs over the tool name; `kinds`: read/write/shell/network/egress/other,
      what the tool declares it does in one word (`harness.tools.effects.Effects.kind`).
    - `paths`: globs over the paths the call touches (relative globs are workspace paths,
      `~/…` and `/…` are absolute; `**` spans directories), limited to `access` modes and
      to a `location` (inside/outside the workspace, or unknown).
    - `commands`: shell command patterns, parsed with shlex: the program (a glob over its
      name), required flags (`-rf` = `-r` + `-f`, extra flags allowed), then positional
      globs one-to-one; a final `**` accepts any further arguments.
    - `args`: argument name -> regular expression searched in its string value.
    - `check`: a built-in check (see `harness.governance.policy._protections.CHECKS`).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    effect: Effect
    reason: str = ""
    tools: list[str] = Field(default_factory=lambda: ["*"])
    kinds: list[ToolKind] | None = None
    paths: list[str] | None = None
    access: list[AccessMode] | None = None
    location: Literal["inside", "outside", "unknown"] | None = None
    commands: list[str] | None = None
    args: dict[str, str] | None = None
    check: str | None = None

    @field_validator("check")
    @classmethod
    def _known_check(cls, value: str | None) -> str | None:
        if value is not None and value not in CHECKS:
            raise ValueError(f"unknown check '{value}'; choose from: {', '.join(sorted(CHECKS))}")
        return value

    @field_validator("args")
    @classmethod
    def _valid_regex(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, pattern in (value or {}).items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"args.{name}: invalid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _valid_commands(self) -> Rule:
        for pattern in self.commands or []:
            if not shlex.split(pattern):
                raise ValueError("commands: empty command pattern")
        return self

    def match(self, facts: ActionFacts, res: PathResolver) -> str | None:
        """The reason this rule applies, or None when it does not match."""
        every = self.effect == "allow"
        if not any(fnmatch.fnmatchcase(facts.tool, t) for t in self.tools):
            return None
        if self.kinds is not None and facts.kind not in self.kinds:
            return None
        if self.args is not None:
            for name, pattern in self.args.items():
                value = facts.args.get(name)
                if value is None or not re.search(pattern, str(value)):
                    return None
        if self.paths is not None or self.location is not None or self.access is not None:
            refs = [a.path for a in facts.accesses if self.access is None or a.mode in self.access]
            if not refs:
                return None
            ok = [self._path_ok(r, res) for r in refs]
            if not (all(ok) if every else any(ok)):
                return None
        if self.commands is not None:
            cmds = facts.commands()
            if not cmds:
                return None
            ok = [any(command_matches(p, c, res) for p in self.commands) for c in cmds]
            if not (all(ok) if every else any(ok)):
                return None
        if self.check is not None:
            found = CHECKS[self.check](facts, res)
            if found is None:
                return None
            return self.reason or found
        return self.reason or f"rule {self.id}"

    def _path_ok(self, ref: PathRef, res: PathResolver) -> bool:
        if self.location is not None:
            where = "unknown" if ref.inside is None else "inside" if ref.inside else "outside"
            if where != self.location:
                return False
        return self.paths is None or any(res.matches(g, ref) for g in self.paths)


def command_matches(pattern: str, cmd: SimpleCommand, res: PathResolver) -> bool:
    """Does a simple command match a shlex-parsed command pattern?"""
    tokens = shlex.split(pattern)
    if not fnmatch.fnmatchcase(cmd.program, tokens[0]):
        return False
    flags = [t for t in tokens[1:] if t.startswith("-") and len(t) > 1]
    positionals = [t for t in tokens[1:] if not (t.startswith("-") and len(t) > 1)]
    have = cmd.flags()
    for f in flags:
        need = {f.split("=", 1)[0]} if f.startswith("--") else {f"-{c}" for c in f[1:]}
        if not need <= have:
            return False
    rest = positionals[-1] == "**" if positionals else False
    if rest:
        positionals = positionals[:-1]
    args = cmd.positionals()
    if len(args) < len(positionals) or (not rest and len(args) != len(positionals)):
        return False
    return all(_word_matches(p, cmd.word(a), res) for p, a in zip(positionals, args, strict=False))


def _word_matches(pattern: str, word: str, res: PathResolver) -> bool:
    if fnmatch.fnmatchcase(word, pattern) or fnmatch.fnmatchcase(word.rstrip("/"),
                                                                   pattern.rstrip("/")):
        return True
    if any(c in pattern for c in "/.~") or any(c in word for c in "/.~"):
        ref = res.resolve(word)
        target = res.resolve(pattern) if not any(c in pattern for c in "*?") else None
        if target is not None and target.resolved is not None:
            return ref.resolved == target.resolved
        return res.matches(pattern.rstrip("/"), ref)
    return False
