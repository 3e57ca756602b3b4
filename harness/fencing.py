"""Fencing of untrusted content: text that came from outside (tool output, files, the web)
enters the context between delimiters that carry its provenance, so the model, the
governance layer and a person reading the trajectory can all tell it apart.

    <untrusted source="file" tool="read_file" ref="call_3">
    ...content...
    </untrusted>

Delimiter look-alikes inside the content are defused, so content cannot close its own
fence and pose as trusted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRUSTED_CHANNELS = frozenset({"none", ""})
_LOOKALIKE = re.compile(r"<(\s*/?\s*untrusted)(?=[\s>])", re.IGNORECASE)
FENCE_RE = re.compile(r'<untrusted((?: \w+="[^"]*")*)>\n(.*?)\n</untrusted>', re.DOTALL)
_ATTR_RE = re.compile(r'(\w+)="([^"]*)"')


def is_untrusted(channel: str | None) -> bool:
    """True for content from any channel but "none" (see `harness.tools.base.Channel`)."""
    return channel is not None and channel not in TRUSTED_CHANNELS


def fence(text: str, source: str, **attrs: str | None) -> str:
    """Wrap `text` in an untrusted fence tagged with its `source` and other provenance."""
    tags = {"source": source, **{k: v for k, v in attrs.items() if v}}
    head = " ".join(f'{k}="{_attr(v)}"' for k, v in tags.items())
    return f"<untrusted {head}>\n{defuse(text)}\n</untrusted>"


def defuse(text: str) -> str:
    """Replace the `<` of anything that looks like a fence delimiter with `‹`."""
    return _LOOKALIKE.sub(r"‹\1", text)


def _attr(value: str) -> str:
    return str(value).replace('"', "'").replace("\n", " ")[:120]


@dataclass
class Fenced:
    """One fenced span found in a text."""

    attrs: dict[str, str]
    body: str
    start: int
    end: int

    @property
    def source(self) -> str:
        return self.attrs.get("source", "")


def fenced_spans(text: str) -> list[Fenced]:
    """Every fenced span in `text`, in order (for governance and for audits)."""
    return [Fenced(dict(_ATTR_RE.findall(m.group(1))), m.group(2), m.start(), m.end())
            for m in FENCE_RE.finditer(text)]
