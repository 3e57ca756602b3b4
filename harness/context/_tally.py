"""`PartsTally`: what a budgeted build needs to know about a history view's parts (their
tokens, messages, untrusted results, how they describe the steps), kept as running totals
and carried over from one build to the next for the leading parts the two views share.

A strategy hands out the same `Part` objects for what has not changed (summaries of earlier
batches, masked steps), so a view is usually the previous one plus a few new parts at the
end: only those are counted, and a build costs the same at step 1000 as at step 10. Parts
are treated as immutable once handed out, as messages are once sent.
"""

from __future__ import annotations

import operator
from itertools import compress, count
from typing import NamedTuple

from harness.context.history import Part
from harness.context.tokens import TokenCounter
from harness.fencing import is_untrusted
from harness.messages import Message


class _Mark(NamedTuple):
    """The running totals after some leading parts (where to cut back to)."""

    tokens: int
    messages: int
    fenced: int
    groups: int
    last_step: int
    omitted: int


_START = _Mark(0, 0, 0, 0, 0, 0)


class PartsTally:
    """Running totals over a sequence of parts, updated to a new sequence by keeping the
    totals of the leading parts it shares (the same or equal parts) with the last one."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.marks: list[_Mark] = [_START]  # marks[i]: totals of parts[:i]
        self.messages: list[Message] = []
        self.groups: list[list] = []  # [treatment, first step, last step], neighbours merged
        self.omitted: list[Part] = []
        self.counter: TokenCounter | None = None

    @classmethod
    def of(cls, parts: list[Part], counter: TokenCounter) -> PartsTally:
        return cls().update(parts, counter)

    def update(self, parts: list[Part], counter: TokenCounter) -> PartsTally:
        """Tally `parts`, reusing the totals of the leading parts shared with the last call."""
        if counter is not self.counter:
            self.counter, shared = counter, 0
        else:
            shared = shared_parts(self.parts, parts)
        self._cut(shared)
        for p in parts[shared:]:
            self._add(p, counter)
        return self

    @property
    def tokens(self) -> int:
        return self.marks[-1].tokens

    @property
    def fenced(self) -> int:
        """Untrusted tool results among the messages."""
        return self.marks[-1].fenced

    def tokens_before(self, i: int) -> int:
        """Tokens of the first `i` parts."""
        return self.marks[i].tokens

    def described(self) -> list[str]:
        """["steps 1-12: summary", "steps 13-16: verbatim", ...] for the parts that show
        steps (omitted ones are notes), neighbours with the same treatment merged."""
        return [f"step {first}: {treatment}" if first == last else
                f"steps {first}-{last}: {treatment}" for treatment, first, last in self.groups]

    def omitted_steps(self) -> list[Part]:
        """The parts that are notes about steps left out."""
        return list(self.omitted)

    def _cut(self, keep: int) -> None:
        """Forget every part after the first `keep`."""
        mark = self.marks[keep]
        del self.parts[keep:], self.marks[keep + 1:], self.messages[mark.messages:]
        del self.groups[mark.groups:], self.omitted[mark.omitted:]
        if self.groups:
            self.groups[-1][2] = mark.last_step  # merging a later part may have extended it

    def _add(self, p: Part, counter: TokenCounter) -> None:
        last = self.marks[-1]
        self.parts.append(p)
        self.messages += p.messages
        fenced = sum(1 for m in p.messages if m.role == "tool" and is_untrusted(m.channel))
        if p.treatment == "omitted":
            self.omitted.append(p)
        elif p.steps:
            g = self.groups[-1] if self.groups else None
            if g is not None and g[0] == p.treatment and g[2] + 1 == p.steps[0]:
                g[2] = p.steps[-1]
            else:
                self.groups.append([p.treatment, p.steps[0], p.steps[-1]])
        self.marks.append(_Mark(last.tokens + counter.messages(p.messages),
                                len(self.messages), last.fenced + fenced, len(self.groups),
                                self.groups[-1][2] if self.groups else 0, len(self.omitted)))


def shared_parts(old: list[Part], new: list[Part]) -> int:
    """How many leading parts `new` shares with `old`: the same objects, or equal ones
    (which count the same). Usually `new` is `old` plus a part or two, and one C-level list
    comparison says so: a scan by identity costs ten times as much, and grows with the run."""
    n = min(len(old), len(new))
    if (old if n == len(old) else old[:n]) == (new if n == len(new) else new[:n]):
        return n
    return next(compress(count(), map(operator.is_not, old, new)), n)
