"""What a tool does, as it declares it: the policy, the memory gate and the metrics read
this instead of guessing from the tool's name.

    @tool(effects=Effects(writes=True, paths=("target",)))
    def save_report(target: str, text: str) -> str: ...

    @tool(effects=Effects.shell("script"))        # shorthands for the common shapes
    def run_script(script: str) -> str: ...

`paths`, `commands` and `destinations` name the *arguments* that hold paths, shell command
lines and destinations (URLs, hosts, addresses, recipients): the policy resolves those
paths, parses those commands and judges those destinations exactly as it does for the
built-in `write_file`, `run_shell` and a sending tool.

A tool that declares nothing gets `undeclared(name)`, the one default: what its name says
by the table the policy has always used (`read_file`, `run_shell`, `send_email`, a leading
verb such as `send_…` or `delete_…`) with the conventional argument names (`path`, `file`,
`command`, `url`, `to`, ...), marked `declared=False`. On such a guess the policy also
treats a call that names a recipient (`participants=[...]`) as a send. A name the table
cannot place (`do_thing`) does nothing known: read-only mode asks about it, plan mode
refuses it. Declare effects to be sure.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

Kind = Literal["read", "write", "shell", "network", "egress", "other"]
"""A tool's effects in one word, as policy rules (`kinds`) match them."""

PATH_ARGS = ("path", "file", "file_path", "filename", "filepath", "src", "dst", "source",
             "destination", "target", "dir", "directory", "old_path", "new_path", "paths")
"""Argument names that conventionally hold paths."""
COMMAND_ARGS = ("command", "cmd", "script", "commands")
"""Argument names that conventionally hold shell command lines."""
URL_ARGS = ("url", "uri", "endpoint", "href")
"""Argument names that conventionally hold the URL a tool fetches."""
DESTINATION_ARGS = (
    "to", "cc", "bcc", "recipient", "recipients", "receiver", "receivers", "email", "emails",
    "email_address", "user_email", "iban", "account", "account_number", "account_id", "phone",
    "phone_number", "url", "uri", "endpoint", "webhook", "webhook_url", "host", "hostname",
    "domain", "channel", "channels", "channel_name", "user", "users", "username",
    "participants", "attendees", "invitees", "guests", "members", "target", "destination")
"""Argument names that conventionally name where a sending tool sends."""

KNOWN_TOOLS: dict[str, Kind] = {
    "read_file": "read", "list_dir": "read", "search_files": "read", "search": "read",
    "web_search": "read", "grep": "read", "glob": "read", "view": "read", "cat": "read",
    "write_file": "write", "edit_file": "write", "create_file": "write", "delete_file": "write",
    "move_file": "write", "append_file": "write", "mkdir": "write", "apply_patch": "write",
    "run_shell": "shell", "bash": "shell", "shell": "shell", "exec": "shell",
    "run_command": "shell", "terminal": "shell", "execute_command": "shell",
    "http_get": "network", "fetch": "network", "web_fetch": "network", "browse": "network",
    "send_email": "egress", "http_post": "egress", "http_request": "egress",
    "upload_file": "egress", "send_message": "egress", "post_message": "egress",
}
"""What tools that declare nothing do, by their common names."""
SENDING_VERBS = frozenset({
    "send", "post", "share", "transfer", "upload", "publish", "forward", "reply", "invite",
    "pay", "wire", "email", "mail", "message", "tweet", "broadcast", "notify", "dm", "sms",
    "remit", "donate", "refund"})
"""A tool that declares nothing and whose name starts with one of these sends something."""
_WRITING = re.compile(r"(write|edit|delete|remove|move|rename|create|update|patch|append)")
_READING = re.compile(r"(read|list|search|get|find|view|show|open)")
_DELETING = re.compile(r"(delete|remove)")


class Effects(BaseModel):
    """What a tool does and which of its arguments say where.

    - `reads`: reads files or data (from `paths`, or from the `destinations` it fetches).
    - `writes`: creates or changes the files its `paths` name; `deletes`: removes them.
    - `executes`: runs the command lines in its `commands` arguments (which may do
      anything: read, write, delete, send).
    - `sends`: delivers data to the `destinations` it names (a message, an upload, a post).
    - `paths`, `commands`, `destinations`: names of the arguments holding each.
    - `declared`: False when the harness guessed these from the tool's name
      (`undeclared`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reads: bool = False
    writes: bool = False
    deletes: bool = False
    executes: bool = False
    sends: bool = False
    paths: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()
    declared: bool = True

    @classmethod
    def reader(cls, *paths: str) -> Effects:
        """Reads the files its `paths` arguments name (default `path`)."""
        return cls(reads=True, paths=paths or ("path",))

    @classmethod
    def writer(cls, *paths: str) -> Effects:
        """Writes the files its `paths` arguments name (default `path`)."""
        return cls(reads=True, writes=True, paths=paths or ("path",))

    @classmethod
    def shell(cls, *commands: str) -> Effects:
        """Runs the command lines its `commands` arguments hold (default `command`)."""
        return cls(reads=True, writes=True, deletes=True, executes=True,
                   commands=commands or ("command",))

    @classmethod
    def sender(cls, *destinations: str) -> Effects:
        """Sends data to the destinations its arguments name (default `to`)."""
        return cls(sends=True, destinations=destinations or ("to",))

    @property
    def kind(self) -> Kind:
        """The effects in one word: `shell` (executes), `egress` (sends), `write` (writes
        or deletes), `network` (reads from a destination), `read`, else `other`."""
        if self.executes:
            return "shell"
        if self.sends:
            return "egress"
        if self.writes or self.deletes:
            return "write"
        if self.reads:
            return "network" if self.destinations else "read"
        return "other"

    @property
    def read_only(self) -> bool:
        """Changes nothing: no writes, deletions, commands or sends."""
        return not (self.writes or self.deletes or self.executes or self.sends)

    @classmethod
    def of_kind(cls, kind: Kind, name: str = "", *, declared: bool = True) -> Effects:
        """The effects of a tool of `kind` with the conventional argument names (how a
        policy file's `tool_kinds` and the `undeclared` default describe a tool); a
        `write` tool whose name says delete or remove deletes."""
        if kind == "shell":
            return cls(reads=True, writes=True, deletes=True, executes=True,
                       paths=PATH_ARGS, commands=COMMAND_ARGS, declared=declared)
        if kind == "egress":
            return cls(sends=True, paths=PATH_ARGS, destinations=DESTINATION_ARGS,
                       declared=declared)
        if kind == "network":
            return cls(reads=True, paths=PATH_ARGS, destinations=URL_ARGS, declared=declared)
        if kind == "write":
            return cls(writes=True, deletes=bool(_DELETING.search(name)), paths=PATH_ARGS,
                       declared=declared)
        if kind == "read":
            return cls(reads=True, paths=PATH_ARGS, declared=declared)
        return cls(paths=PATH_ARGS, declared=declared)


def undeclared(name: str) -> Effects:
    """The default for a tool that declares no effects: what its name says (see the module
    docstring), with `declared=False`."""
    return Effects.of_kind(kind_of_name(name), name, declared=False)


def kind_of_name(name: str) -> Kind:
    """A tool's kind read off its name: a common name, else its leading verb."""
    if name in KNOWN_TOOLS:
        return KNOWN_TOOLS[name]
    words = name_words(name)
    if words and words[0] in SENDING_VERBS:
        return "egress"
    low = name.lower()
    if _WRITING.search(low):
        return "write"
    if _READING.search(low):
        return "read"
    return "other"


def name_words(name: str) -> list[str]:
    """`sendMoney`, `send_money`, `send-money` -> ['send', 'money']."""
    return re.findall(r"[a-z]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
