"""Fencing of untrusted content: text that came from outside (tool output, files, the web)
enters the context between delimiters that carry its provenance, so the model, the
governance layer and a person reading the trajectory can all tell it apart.

    <untrusted source="file" tool="read_file" ref="call_3">
    ...content...
    </untrusted>

Delimiter look-alikes inside the content are defused, so content cannot close its own
fence and pose as trusted text. A model that copies fences into what it writes gets them
taken off again (`unfence`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.messages import ToolCall
from harness.tools.effects import Effects

TRUSTED_CHANNELS = frozenset({"none", ""})
_LOOKALIKE = re.compile(r"<(\s*/?\s*untrusted)(?=[\s>])", re.IGNORECASE)
FENCE_RE = re.compile(r'<untrusted((?: \w+="[^"]*")*)>\n(.*?)\n</untrusted>', re.DOTALL)
_ATTR_RE = re.compile(r'(\w+)="([^"]*)"')
# The delimiters as `fence` writes them, with the newline that joins each to the body: an
# opening tag (source first) or a closing one. A model copying a tag that carries a ref (as
# every fence in a run's context does) may drop the newlines, so with a ref they are
# optional. Inside a fence, a fence nested in its content was shown defused (`‹`), so there
# both forms are delimiters.
_ATTRS = r'(?: \w+="[^"\n]*")*'
_OPEN = rf'untrusted source="[^"\n]*"(?:{_ATTRS}>\n|{_ATTRS} ref="[\w-]{{8,}}"{_ATTRS}>\n?)'
_TAGS = re.compile(rf"(<{_OPEN})|(\n?</untrusted>)")
_TAGS_INSIDE = re.compile(rf"([<‹]{_OPEN})|(\n?[<‹]/untrusted>)")


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


def unfence(text: str) -> tuple[str, int]:
    """`text` without the fences a model copied into it from its context, and how many
    were taken off. A fence is an opening tag exactly as `fence` writes it and the closing
    tag that pairs with it; the body stays as it was shown, except that fences nested in it
    (as the model wrapped them, or as the context showed them, defused) come off too. A tag
    without a partner, and anything that only looks like a tag, stays as it is."""
    if "untrusted" not in text:
        return text, 0
    return _unwrap(text, _TAGS)


def _unwrap(text: str, tags: re.Pattern[str]) -> tuple[str, int]:
    """`text` with each outermost pair of `tags` removed (their bodies unwrapped in turn)."""
    opened: list[re.Match[str]] = []
    pairs: list[tuple[re.Match[str], re.Match[str]]] = []
    for tag in tags.finditer(text):
        if tag.group(1):
            opened.append(tag)
        elif opened and opened[-1].group(0)[0] == tag.group(0).lstrip("\n")[0]:  # < or ‹
            pairs.append((opened.pop(), tag))
    kept: list[str] = []
    at = removed = 0
    for start, end in sorted(pairs, key=lambda pair: pair[0].start()):
        if start.start() < at:  # inside a pair already unwrapped
            continue
        body, inner = _unwrap(text[start.end():end.start()], _TAGS_INSIDE)
        kept += [text[at:start.start()], body]
        at, removed = end.end(), removed + 1 + inner
    return "".join(kept) + text[at:], removed


def unfence_arguments(call: ToolCall, effects: Effects | None) -> tuple[ToolCall, str]:
    """For a call of a tool that writes files (and runs and sends nothing, as it declares):
    the call with copied fences taken off the text it writes (`unfence` on each string
    argument that names no path), and a note saying what came off ("" when nothing did).
    Any other call comes back as it is."""
    if effects is None or not effects.writes or effects.executes or effects.sends:
        return call, ""
    where = {*effects.paths, *effects.commands, *effects.destinations}
    arguments, removed = dict(call.arguments), []
    for name, value in call.arguments.items():
        if isinstance(value, str) and name not in where:
            arguments[name], n = unfence(value)
            if n:
                removed.append(f"{n} from `{name}`")
    if not removed:
        return call, ""
    note = (f"[harness: took untrusted-content fences copied from the context off the text "
            f"before writing it: {', '.join(removed)}]")
    return call.model_copy(update={"arguments": arguments}), note
