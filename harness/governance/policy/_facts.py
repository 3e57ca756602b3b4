"""What a tool call would do: the paths it reads, writes and deletes, the commands it runs,
the destinations it sends to. Policies and protections decide over these facts, not over
strings; what the tool does comes from its declared `Effects` (`harness.tools.effects`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness.governance.egress.destinations import (
    EMAIL,
    HOST_IN_TEXT,
    RECIPIENT_ARGS,
    URL,
    Destination,
    TrustedText,
    classify,
    from_arguments,
    from_command,
)
from harness.governance.egress.provenance import Provenance
from harness.messages import ToolCall
from harness.shell.accesses import Access, AccessMode, shell_accesses
from harness.shell.command import ParsedCommand, SimpleCommand
from harness.shell.parser import parse
from harness.shell.paths import PathRef, PathResolver
from harness.shell.scope import locate
from harness.shell.substitutions import ShellParseError
from harness.tools.effects import (
    DESTINATION_ARGS,
    URL_ARGS,
    Effects,
    Kind,
    name_words,
    undeclared,
)

ToolKind = Kind
"""A call's kind as rules match it: read/write/shell/network/egress/other."""
SENDING_PROGRAMS = {"curl", "wget", "http", "https", "scp", "sftp", "rsync", "ftp", "tftp",
                    "lftp", "rclone", "smbclient", "mail", "mailx", "sendmail", "mutt", "msmtp",
                    "swaks"}
# ... a call of a tool that declares nothing and whose name has one of these words does not
# send, whatever its arguments.
NOT_SENDING = {"delete", "remove", "cancel", "revoke", "read", "list", "search", "get", "find",
               "view", "show", "check", "lookup", "query", "fetch", "download"}


@dataclass
class ActionFacts:
    """Everything the policy knows about a tool call, derived once per call."""

    call: ToolCall
    kind: ToolKind
    effects: Effects = field(default_factory=Effects)
    """What the tool declares it does (or, undeclared, what its name says)."""
    accesses: list[Access] = field(default_factory=list)
    command: ParsedCommand | None = None
    urls: list[str] = field(default_factory=list)
    parse_error: str | None = None
    destinations: list[Destination] = field(default_factory=list)
    trusted: TrustedText = field(default_factory=TrustedText)
    """What the user named: the Agent's task and configured destinations (never tool output)."""
    sources: Provenance | None = None
    """The outputs of calls the task designated, which vouch for the addresses they name."""
    known_names: bool = True
    """Whether a channel or user name that earlier output showed counts as a member of the
    system the tool acts on (see `harness.governance.egress.provenance`)."""

    @property
    def tool(self) -> str:
        return self.call.name

    @property
    def args(self) -> dict[str, Any]:
        return self.call.arguments

    def commands(self) -> list[SimpleCommand]:
        return list(self.command.walk()) if self.command else []

    def paths(self, *modes: AccessMode) -> list[PathRef]:
        return [a.path for a in self.accesses if not modes or a.mode in modes]

    @cached_property
    def vouchers(self) -> dict[Destination, str | None]:
        """Why each destination may receive data without asking — "named" (by the task or
        the configuration), "source: CALL" (in the output of a call the task designated) or
        "known: CALL" (a name the tool's system showed in that call's output) — or None.
        Worked out once per call: several rules ask, and finding a known name scans outputs."""
        return {d: self._voucher(d) for d in self.destinations}

    def _voucher(self, dest: Destination) -> str | None:
        if self.trusted.names(dest):
            return "named"
        if self.sources is None:
            return None
        label = self.sources.source_of(dest)
        if label is not None:
            return f"source: {label}"
        if self.known_names and plain_name(dest.value):
            label = self.sources.known_name(dest)
            if label is not None:
                return f"known: {label}"
        return None


def plain_name(value: str) -> bool:
    """A name a system can resolve (`general`, `Alice Smith`, `External_0`): short, a few
    words, no address or link inside it. Anything longer is text, not a name."""
    words = value.split()
    return 0 < len(words) <= 4 and len(value) <= 64 and not (
        EMAIL.search(value) or URL.search(value) or HOST_IN_TEXT.search(value))


def effects_of(name: str, effects: Effects | None = None,
               overrides: Mapping[str, ToolKind] | None = None) -> Effects:
    """What a tool does: a policy file's `tool_kinds` entry for it, else what it declares,
    else the default for a tool that declares nothing (`harness.tools.effects.undeclared`)."""
    if overrides and name in overrides:
        return Effects.of_kind(overrides[name], name)
    return effects if effects is not None else undeclared(name)


def analyse(call: ToolCall, resolver: PathResolver, effects: Effects | None = None,
            trusted: TrustedText | None = None, *, sources: Provenance | None = None,
            known_names: bool = True,
            overrides: Mapping[str, ToolKind] | None = None) -> ActionFacts:
    """Derive the facts of a call from what its tool does (`effects`; see `effects_of`):
    its kind, the paths it touches, its parsed command, the destinations it sends to, what
    the user named (`trusted`) and pointed to (`sources`)."""
    effects = effects_of(call.name, effects, overrides)
    kind = effects.kind
    if kind in ("write", "other") and not effects.declared and _sends_to(call, effects):
        kind = "egress"  # e.g. create_event(participants=...), schedule_payment(iban=...)
    facts = ActionFacts(call=call, kind=kind, effects=effects, trusted=trusted or TrustedText(),
                        sources=sources, known_names=known_names)
    mode: AccessMode = "read"
    if kind == "write":
        mode = "delete" if effects.deletes else "write"
    for key in effects.paths:
        value = call.arguments.get(key)
        for raw in value if isinstance(value, list) else [value]:
            if isinstance(raw, str) and raw:
                facts.accesses.append(Access(resolver.resolve(raw), mode, call.name))
    for key in URL_ARGS if not effects.declared else effects.destinations:
        if isinstance(call.arguments.get(key), str):
            facts.urls.append(call.arguments[key])
    if kind == "shell":
        text = next((call.arguments[k] for k in effects.commands
                     if isinstance(call.arguments.get(k), str)), None)
        if text is not None:
            try:
                facts.command = parse(text)
            except ShellParseError as exc:
                facts.parse_error = str(exc)
            else:
                locate(facts.command, resolver)
                for cmd in facts.command.walk():
                    facts.accesses += shell_accesses(cmd, resolver)
                    facts.urls += [a for a in cmd.args if "://" in a]
                    if cmd.program in SENDING_PROGRAMS:
                        facts.destinations += from_command(cmd)
    if kind == "egress":
        names = effects.destinations if effects.declared else DESTINATION_ARGS
        facts.destinations = from_arguments(call.arguments, names)
    return facts


def _sends_to(call: ToolCall, effects: Effects) -> bool:
    """Does a call that is not a read or a delete name a recipient among its arguments?"""
    if NOT_SENDING & set(name_words(call.name)) or any(
            k in call.arguments for k in effects.paths):
        return False
    if any(k.lower() in RECIPIENT_ARGS and v for k, v in call.arguments.items()):
        return True
    to = call.arguments.get("to")
    return isinstance(to, str) and classify("to", to).shape != "name"


def tool_kind(name: str, overrides: Mapping[str, ToolKind] | None = None,
              effects: Effects | None = None) -> ToolKind:
    """A tool's kind: configured in `overrides`, else from its declared `effects`, else
    what its name says (see `effects_of`)."""
    return effects_of(name, effects, overrides).kind
