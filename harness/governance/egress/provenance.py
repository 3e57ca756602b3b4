"""Where a destination came from: the sources a task points to.

The task is the only trusted text, but a task often names where a destination is rather
than the destination itself: "pay the bill 'bill-december-2023.txt'", "her e-mail is on her
website www.dora-website.com", "with the participants of the 'Introductory meeting'". A
call the task designates reads a source the user chose: every string argument it passes is
something the task names, and one of them picks out one thing (a path, an address, a
proper name; not a search word). An address found in that call's output is vouched for
by the source, so a send to it needs no asking (rule `workspace-write.task-source`).

Two limits keep this from becoming a way in:
- trust goes one hop: a call whose arguments came from tool output (a link found on a
  page, a file listed in a folder) designates nothing, so its output vouches for nothing;
- passages of the output that read like instructions (`InstructionDetector`) vouch for
  nothing either: an address an injected order asks to send to stays unvouched even inside
  a source the user chose.

What is left is the data-only attack: a forged address written as plain data into the very
source the user named (a doctored bill). No rule over strings can tell that from the real
one; isolation keeps the main model from reading the orders around it, and the user's
approval remains the last word for sends the task does not name outright.

Names are different from addresses: a channel or user name (`general`, `Charlie`) can only
be resolved by the system the tool acts on. A name that system has already shown in any
earlier output of the run (a channel list, a message's sender), outside instruction-like
passages, is a known member of it (`known_name`): sending to it stays inside.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from harness.governance.egress.destinations import Destination, TrustedText, classify
from harness.governance.injection.detector import InstructionDetector
from harness.messages import ToolCall, call_signature

LABEL_CHARS = 160
"""A source call is named by its signature cut to this length (decision reasons quote it)."""
MAX_SOURCES = 256
"""Designated outputs remembered per run (the oldest are forgotten first)."""
MAX_OUTPUT_CHARS = 262_144
"""An output longer than this is remembered by its head (a name or address past it is not
seen): bounds what a run of huge pages keeps."""
MAX_OUTPUTS_CHARS = 4 * MAX_OUTPUT_CHARS
"""Characters of outputs remembered per run for `known_name` (the oldest go first)."""


@dataclass
class Source:
    """One designated call and the destinations its output can vouch for."""

    label: str
    found: TrustedText


@dataclass
class Provenance:
    """The designated sources of one run, and which destinations they vouch for."""

    detector: InstructionDetector = field(default_factory=InstructionDetector)
    sources: list[Source] = field(default_factory=list)
    outputs: deque[tuple[str, str]] = field(default_factory=deque)
    """(call label, raw output) of observed calls, newest last, within MAX_OUTPUTS_CHARS."""
    _chars: int = 0

    def observe(self, call: ToolCall, output: str, trusted: TrustedText) -> Source | None:
        """Remember `output`; when the task designates `call`, also as a source (returned)."""
        if not output:
            return None
        output = output[:MAX_OUTPUT_CHARS]
        self.outputs.append((call_signature(call, LABEL_CHARS), output))
        self._chars += len(output)
        while self._chars > MAX_OUTPUTS_CHARS:
            self._chars -= len(self.outputs.popleft()[1])
        if not designates(trusted, call):
            return None
        clean = self.detector.scan(output).text
        source = Source(label=call_signature(call, LABEL_CHARS), found=TrustedText(clean))
        self.sources.append(source)
        del self.sources[:-MAX_SOURCES]
        return source

    def source_of(self, dest: Destination) -> str | None:
        """The label of a designated call whose output names `dest`, if any."""
        return next((s.label for s in self.sources if s.found.names(dest)), None)

    def known_name(self, dest: Destination) -> str | None:
        """The label of the newest call whose output shows the name `dest` as a whole word,
        outside instruction-like passages (only outputs that contain it are scanned)."""
        if dest.shape != "name" or len(dest.key) < 2:
            return None
        word = re.compile(rf"(?<![\w@.-]){re.escape(dest.value.strip())}(?![\w@-])", re.I)
        for label, output in reversed(self.outputs):
            if word.search(output) and word.search(self.detector.scan(output).text):
                return label
        return None


def designates(trusted: TrustedText, call: ToolCall) -> bool:
    """Does the task point at this call's source: is every string argument (at least one)
    something the task names, and one of them specific enough to pick out one thing (see
    `specific`)? Numbers and flags don't count either way."""
    values = [v.strip() for v in _strings(call.arguments)]
    values = [v for v in values if v]
    return bool(values) and all(trusted.names(classify("arg", v)) for v in values) \
        and any(specific(v, trusted.task) for v in values)


def specific(value: str, task: str) -> bool:
    """A value that picks out one thing rather than a kind of thing: an address, a path or
    an id (a digit or `./_-@:` in it), several words (`Introductory meeting`), or a proper
    name (capitalised where the task writes it). `search(query="invoice")` for "pay the
    invoice" is not: it returns whatever anyone wrote about invoices."""
    if len(value.split()) > 1 or re.search(r"[\d./_\-@:]", value):
        return True
    return re.search(rf"(?<![\w@.-]){re.escape(value[:1].upper() + value[1:])}(?![\w@-])",
                     task) is not None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
