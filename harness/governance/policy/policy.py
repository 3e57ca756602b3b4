"""Policies: the user's ordered rules, the built-in protections, then a permission mode.

    policy = Policy("workspace-write", rules=[Rule(id="no-push", effect="deny",
                                                   commands=["git push **"])])
    policy = Policy.load("policy.toml")          # or .yaml / .yml / .json

The first matching rule decides. Order: your rules, then the protections (skipped in
`full`), then the mode's rules. So a rule of yours can allow what a protection would stop.

Egress is task-aware: `evaluate(call, workspace, task=..., sources=...)` takes the task
given to the Agent as trusted text. A send is allowed without asking when every
destination (recipient, account, host, channel or user) is
- named by the task or `destinations` (`workspace-write.task-destination`), or
- found in the output of a call the task designated, outside instruction-like passages
  (`workspace-write.task-source`; see `harness.governance.egress.provenance`), or
- a channel or user name that earlier output of the tool's own system showed, outside
  instruction-like passages (`workspace-write.known-name`; `known_names=False` turns it off).
Any other send is asked about (`protect.egress`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.config_files import SUFFIXES, ConfigFileError, field_line, read_mapping
from harness.governance.base import Decision
from harness.governance.egress.destinations import TrustedText
from harness.governance.egress.provenance import Provenance
from harness.governance.policy._facts import ActionFacts, ToolKind, analyse, effects_of
from harness.governance.policy.rules import Rule
from harness.messages import ToolCall
from harness.shell.paths import SINKS, PathResolver
from harness.tools.effects import Effects

Mode = Literal["read-only", "workspace-write", "full", "plan"]
GateAction = Literal["inject", "ask", "deny"]

PROTECTIONS: tuple[Rule, ...] = (
    Rule(id="protect.unparsable", effect="ask", kinds=["shell"], check="unparsable"),
    Rule(id="protect.privilege", effect="deny", check="privilege"),
    Rule(id="protect.container-escape", effect="deny", check="container-escape"),
    Rule(id="protect.credentials", effect="deny", check="credential-read"),
    Rule(id="protect.download-exec", effect="deny", check="download-exec"),
    Rule(id="protect.destructive", effect="deny", check="destructive"),
    Rule(id="protect.infra-destructive", effect="deny", check="infra-destructive"),
    Rule(id="protect.exfiltration", effect="deny", check="exfiltration"),
    Rule(id="protect.write-outside", effect="deny", check="write-outside"),
    Rule(id="protect.git-internals", effect="deny", check="git-internals"),
    Rule(id="protect.unknown-write", effect="ask", check="unknown-write"),
    Rule(id="protect.untrusted-install", effect="ask", check="untrusted-install"),
    Rule(id="protect.dynamic-program", effect="ask", kinds=["shell"], check="dynamic-program"),
    Rule(id="protect.inline-code", effect="ask", kinds=["shell"], check="inline-code"),
    Rule(id="protect.egress", effect="ask", check="egress"),
)

MODES: dict[str, tuple[Rule, ...]] = {
    "full": (Rule(id="full", effect="allow", reason="full mode allows everything"),),
    "workspace-write": (
        Rule(id="workspace-write.task-destination", effect="allow", check="task-destination"),
        Rule(id="workspace-write.task-source", effect="allow", check="task-source"),
        Rule(id="workspace-write.known-name", effect="allow", check="known-name"),
        Rule(id="workspace-write", effect="allow",
             reason="workspace-write mode: no protection applies"),),
    "read-only": (
        Rule(id="read-only.reads", effect="allow", kinds=["read", "network"],
             reason="read-only mode allows reading"),
        Rule(id="read-only.shell", effect="allow", kinds=["shell"], check="readonly-command"),
        Rule(id="read-only.writes", effect="deny", kinds=["write"],
             reason="read-only mode: no writes"),
        Rule(id="read-only.other", effect="ask",
             reason="read-only mode: this may change something"),
    ),
    "plan": (
        Rule(id="plan.reads", effect="allow", kinds=["read", "network"],
             reason="plan mode allows reading"),
        Rule(id="plan.shell", effect="allow", kinds=["shell"], check="readonly-command"),
        Rule(id="plan.side-effects", effect="deny", reason="plan mode: no side effects"),
    ),
}


class GatePolicy(BaseModel):
    """What a memory gate warning of each severity becomes: context, a question, or a no."""

    model_config = ConfigDict(extra="forbid")

    info: GateAction = "inject"
    warn: GateAction = "ask"
    block: GateAction = "deny"


class PolicyConfig(BaseModel):
    """A policy as written in a TOML, YAML or JSON file."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = "workspace-write"
    rules: list[Rule] = Field(default_factory=list)
    tool_kinds: dict[str, ToolKind] = Field(default_factory=dict)
    """Tool name -> kind (read/write/shell/network/egress/other), overriding what the tool
    declares: the tool is taken to do what a tool of that kind does, with the conventional
    argument names (`path`, `command`, `url`, `to`, ...; see `harness.tools.effects`)."""
    gate: GatePolicy = Field(default_factory=GatePolicy)
    scratch: list[str] = Field(default_factory=lambda: list(SINKS))
    """Paths outside the workspace that may be written freely. Only sinks by default: to
    allow a temp dir, list it here or write an allow rule for its paths."""
    destinations: list[str] = Field(default_factory=list)
    """Where data may be sent without asking, besides what the task names: addresses,
    hosts or domains (a domain covers its subdomains and e-mail addresses), accounts,
    channel or user names."""
    require_sandbox: bool = False
    """Refuse every tool that touches the machine (files, commands) in a run whose tools
    the operating system does not confine (`NoSandbox`)."""
    known_names: bool = True
    """A channel or user name that earlier tool output showed (a channel list, a message's
    sender) is a member of the system the tool acts on: sending to it is not asked about.
    Turn off where a name can reach outsiders (shared channels, federated chat)."""


class PolicyError(ValueError):
    """A policy file is unreadable or invalid (the message names file and field)."""


class Policy:
    """Ordered rules deciding allow / deny / ask for each tool call, with the rule's id."""

    def __init__(self, mode: Mode = "workspace-write", rules: list[Rule] | tuple[Rule, ...] = (),
                 *, tool_kinds: dict[str, ToolKind] | None = None,
                 gate: GatePolicy | None = None, env: dict[str, str] | None = None,
                 home: str | os.PathLike[str] | None = None,
                 scratch: list[str] | tuple[str, ...] | None = None,
                 destinations: list[str] | tuple[str, ...] = (), known_names: bool = True,
                 require_sandbox: bool = False):
        if mode not in MODES:
            raise PolicyError(f"unknown mode '{mode}'; choose from: {', '.join(MODES)}")
        self.mode = mode
        self.rules = list(rules)
        self.tool_kinds = dict(tool_kinds or {})
        self.gate = gate or GatePolicy()
        self.env, self.home = env, home
        self.scratch = tuple(scratch) if scratch is not None else SINKS
        self.destinations = tuple(destinations)
        self.known_names = known_names
        self.require_sandbox = require_sandbox

    @property
    def ordered(self) -> list[Rule]:
        """Every rule in the order it is tried."""
        protections = [] if self.mode == "full" else list(PROTECTIONS)
        return [*self.rules, *protections, *MODES[self.mode]]

    def resolver(self, workspace: str | os.PathLike[str],
                 sandboxed: bool = False) -> PathResolver:
        """Paths as the policy sees them in `workspace`, for a command run unconfined or in
        a sandbox whose only writable places are the workspace and its own /tmp. A new one
        each call: a governor keeps the ones of its run (`PolicyGovernor.for_run`)."""
        return PathResolver(Path(workspace).resolve(), env=self.env, home=self.home,
                            scratch=self.scratch, sandboxed=sandboxed)

    def trusted(self, task: str | None) -> TrustedText:
        """What the user named: the task given to the Agent, and configured destinations."""
        return TrustedText(task or "", self.destinations)

    def facts(self, call: ToolCall, workspace: str | os.PathLike[str],
              task: str | None = None, sources: Provenance | None = None,
              sandboxed: bool = False, effects: Effects | None = None, *,
              resolver: PathResolver | None = None,
              trusted: TrustedText | None = None) -> ActionFacts:
        """What the call would do, from what its tool declares (`effects`; a `tool_kinds`
        entry overrides it; None: what the tool's name says). `resolver` and `trusted`, when
        given, are `resolver(workspace, sandboxed)` and `trusted(task)` made once per run."""
        return analyse(call, resolver or self.resolver(workspace, sandboxed), effects,
                       trusted or self.trusted(task), sources=sources,
                       known_names=self.known_names, overrides=self.tool_kinds)

    def kind(self, call: ToolCall, effects: Effects | None = None) -> ToolKind:
        """The call's kind as rules see it (`read`, `write`, `shell`, ...)."""
        return effects_of(call.name, effects, self.tool_kinds).kind

    def evaluate(self, call: ToolCall, workspace: str | os.PathLike[str],
                 task: str | None = None, sources: Provenance | None = None,
                 *, sandboxed: bool = False, effects: Effects | None = None,
                 resolver: PathResolver | None = None,
                 trusted: TrustedText | None = None) -> Decision:
        """The decision of the first rule that matches the call. `task` is the trusted text
        (the task given to the Agent) and `sources` the outputs of calls it designated:
        egress to a destination one of them names needs no asking. `sandboxed`: the command
        runs in a sandbox that can write nowhere but the workspace and its own /tmp.
        `effects`: what the call's tool declares it does (`state.tools.effects(call.name)`;
        None for a tool the policy knows only by name). `resolver` and `trusted`: as
        `facts` takes them."""
        res = resolver or self.resolver(workspace, sandboxed)
        facts = self.facts(call, workspace, task, sources, sandboxed, effects, resolver=res,
                           trusted=trusted)
        for rule in self.ordered:
            reason = rule.match(facts, res)
            if reason is not None:
                return Decision(decision=rule.effect, rule=rule.id, reason=reason)
        return Decision(decision="ask", rule="default", reason="no rule matched")

    # -- loading ------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: PolicyConfig | dict[str, Any], **kwargs: Any) -> Policy:
        if isinstance(config, dict):
            config = PolicyConfig.model_validate(config)
        return cls(config.mode, config.rules, tool_kinds=config.tool_kinds, gate=config.gate,
                   scratch=config.scratch, destinations=config.destinations,
                   known_names=config.known_names, require_sandbox=config.require_sandbox,
                   **kwargs)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **kwargs: Any) -> Policy:
        """Load a policy from TOML, YAML or JSON; errors name the file and the field."""
        path = Path(path)
        if path.suffix not in SUFFIXES:
            raise PolicyError(f"{path}: policy files are .toml, .yaml, .yml or .json")
        try:
            data = read_mapping(path, what="a policy ('mode' and 'rules')")
        except ConfigFileError as exc:
            raise PolicyError(f"policy {exc}") from exc
        try:
            return cls.from_config(PolicyConfig.model_validate(data), **kwargs)
        except ValidationError as exc:
            line = field_line(path, exc.errors()[0]["loc"])
            raise PolicyError(f"{path}: {_describe(exc, data)}"
                              + ("" if line is None else f" (line {line})")) from exc


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") or []
        rid = rules[loc[1]].get("id") if loc[1] < len(rules) and isinstance(
            rules[loc[1]], dict) else None
        where = f"rule {loc[1] + 1}" + (f" ('{rid}')" if rid else "") + (
            f" field '{'.'.join(str(p) for p in loc[2:])}'" if loc[2:] else "")
        return f"{where}: {err['msg']}"
    return f"field '{where}': {err['msg']}"
