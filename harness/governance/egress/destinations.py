"""Where a call sends data, and whether the user named that place.

Egress is judged by its destination: the recipient, account, URL or host, channel or user
a call sends to. Only the task given to the Agent is trusted text (with destinations the
user configured): tool outputs, file contents and web pages are not, even when they read
like a task, so an address that only they mention is one the user never chose.

Destinations come from arguments by name (`to`, `recipients`, `iban`, `url`, `channel`,
...) and, in shell commands, from the hosts and addresses of programs that send. They are
compared by shape: e-mail addresses exactly, hosts by domain (a subdomain of a named host
belongs to it; `example.com.evil.net` does not), account numbers with spaces and dashes
removed, other names as whole words of the task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from harness.shell.command import SimpleCommand
from harness.tools.effects import DESTINATION_ARGS

Shape = Literal["email", "host", "account", "name"]

# Arguments that make any call that is not a read or a delete an egress: they only ever
# name who receives something (an invitation, a share, a payment, a message).
RECIPIENT_ARGS = frozenset({
    "cc", "bcc", "recipient", "recipients", "receiver", "receivers", "email", "emails",
    "email_address", "user_email", "iban", "account_number", "participants", "attendees",
    "invitees", "guests", "webhook", "webhook_url"})

# EMAIL and URL start a match only where a token starts (the lookbehinds): without that, a
# long run of word characters (a minified file, a blob) costs quadratic time, each position
# scanning to the end for an "@" or a "://".
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
URL = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^\s'\"<>`]+", re.I)
DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
HOST = re.compile(DOMAIN + r"|\d{1,3}(?:\.\d{1,3}){3}", re.I)
HOST_IN_TEXT = re.compile(rf"(?<![\w@.-]){DOMAIN}(?![\w-]|\.\w)", re.I)
ACCOUNT = re.compile(r"\+?\d[\d \-./]{6,}\d|[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){10,32}")
REMOTE = re.compile(r"^(?:[\w.-]+@)?([\w.-]+\.[a-z]{2,24}|\d+(?:\.\d+){3}):(?!//)", re.I)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


@dataclass(frozen=True)
class Destination:
    """One place a call sends to: the argument it came from, the raw value, its shape and
    the normalised key it is compared by."""

    arg: str
    value: str
    shape: Shape
    key: str


def classify(arg: str, value: str) -> Destination:
    """The destination a value names, by its shape."""
    text = value.strip()
    if EMAIL.fullmatch(text.removeprefix("mailto:")):
        return Destination(arg, value, "email", text.removeprefix("mailto:").lower())
    host = host_of(text)
    if host is not None:
        return Destination(arg, value, "host", host)
    if ACCOUNT.fullmatch(text):
        return Destination(arg, value, "account", _account(text))
    return Destination(arg, value, "name", " ".join(text.lower().split()))


def host_of(text: str) -> str | None:
    """The host a URL or bare domain points at (no scheme, user, port or `www.`), else None."""
    text = text.strip()
    rest = SCHEME.sub("", text)
    if rest == text and (not text or any(c.isspace() for c in text)):
        return None
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    host = re.sub(r":\d*$", "", host)
    return host.lower().removeprefix("www.") if HOST.fullmatch(host) else None


def from_arguments(args: dict[str, Any], names: Iterable[str] = DESTINATION_ARGS
                   ) -> list[Destination]:
    """The destinations named by a call's arguments (lists and comma lists expanded)."""
    out: list[Destination] = []
    wanted = {n.lower() for n in names}
    for key, value in args.items():
        if key.lower() not in wanted:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                item = next((item[k] for k in ("email", "address", "id", "name") if k in item),
                            None)
            if not isinstance(item, str) or not item.strip():
                continue
            emails = EMAIL.findall(item)
            parts = emails if emails and len(emails) > 1 else [item]
            out += [classify(key, p) for p in parts]
    return out


def from_command(cmd: SimpleCommand) -> list[Destination]:
    """The hosts and addresses a sending shell command names (URLs, `user@host:path`,
    mail recipients)."""
    out: list[Destination] = []
    for raw in cmd.positionals() + [a.split("=", 1)[1] for a in cmd.args
                                    if a.startswith("--") and "=" in a]:
        word = cmd.word(raw)
        if "://" in word:
            host = host_of(word)
            out.append(Destination("command", word, "host", host) if host else
                       classify("command", word))
        elif EMAIL.fullmatch(word):
            out.append(classify("command", word))
        elif (m := REMOTE.match(word)) is not None:
            out.append(Destination("command", word, "host", m.group(1).lower()))
    return out


class TrustedText:
    """The destinations the user named: in the task given to the Agent, or configured.

    `names(d)` says whether a destination is one of them."""

    def __init__(self, task: str = "", configured: Iterable[str] = ()):
        self.task = task
        self.configured = tuple(configured)
        text = "\n".join([task, *self.configured])
        self.emails = {e.lower() for e in EMAIL.findall(text)}
        rest = EMAIL.sub(" ", text)
        self.hosts = {h for h in map(host_of, URL.findall(rest)) if h}
        for found in HOST_IN_TEXT.findall(URL.sub(" ", rest)):
            self.hosts.add(found.lower().removeprefix("www."))
            head, _, last = found.rpartition(".")
            if last[:1].isupper() and "." in head:  # "site.com.Then": a missing space
                self.hosts.add(head.lower().removeprefix("www."))
        self.domains = {h for h in map(host_of, self.configured) if h}
        self.upper = text.upper()
        self.words = " ".join(text.lower().split())

    def names(self, dest: Destination) -> bool:
        """Did the user name this destination (or, configured, its domain)?"""
        if dest.shape == "email":
            domain = dest.key.rsplit("@", 1)[1]
            return dest.key in self.emails or any(_within(domain, d) for d in self.domains)
        if dest.shape == "host":
            return any(_within(dest.key, h) for h in self.hosts)
        if dest.shape == "account":  # written with or without spaces, dashes or dots
            spaced = r"[\s\-./]?".join(map(re.escape, dest.key))
            return re.search(rf"(?<![A-Z0-9]){spaced}(?![A-Z0-9])", self.upper) is not None
        return len(dest.key) > 1 and re.search(
            rf"(?<![\w@.-]){re.escape(dest.key)}(?![\w@-])", self.words) is not None

    def unnamed(self, dests: Iterable[Destination]) -> list[Destination]:
        """The destinations the user did not name."""
        return [d for d in dests if not self.names(d)]


def _within(host: str, named: str) -> bool:
    return host == named or host.endswith("." + named)


def _account(text: str) -> str:
    return re.sub(r"[\s\-./]", "", text).upper()
