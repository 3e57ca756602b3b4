"""`ExtractiveSummariser`: an offline, deterministic summarising `Model`.

Query-focused extractive summarisation: for each step it keeps the calls and outcomes and
the few sentences of the step's output that best match the task, weighting each shared
term by how rare it is among the sentences being summarised (so the words every note
repeats count for little and names and numbers count for much). Strategies that
summarise use it when no model is given, so they run without an LLM; with a real model,
`Summariser` sends the same request to it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

from harness.context._summary_prompts import MERGE_HEADER, STEPS_HEADER
from harness.context.steps import steps_label
from harness.llm.base import SyncModel, estimate_tokens
from harness.messages import ModelRequest, ModelResponse, Usage

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_SENTENCE_END = re.compile(r"[.!?]\s")
"""Where `_SENTENCE` splits inside a line: without one, a text's lines are its sentences."""
_NOT_PROSE = ("call: ", "result (", "<untrusted ", "</untrusted>", "[step ")
_STOP = frozenset(
    "the a an and or of to in on for with by at from is are was were be been it this that "
    "these those as which what who whom whose when where how why there their then than into "
    "its not no yes do does did has have had can could should would will shall may might must "
    "you your we our they them he she his her i me my all any each every some one per via".split())

BULLET = "  - "
_HEADER = re.compile(r"^(steps? [\d, -]+): (.*)$")
_STEP_START = re.compile(r"\n(?=\[step \d+\])")
_OUTCOME = re.compile(r"^result \((.*)\):$", re.MULTILINE)
"""A result's header line, as `step_text` writes it: the outcome may hold parentheses."""
_RANGE = re.compile(r"(\d+)(?:-(\d+))?")
_IDENTIFIER = re.compile(r"\b(?=[\w-]*\d)[\w-]{2,}\b|#\w+")
"""A token with a digit in it (a code, a number, a version) or a #channel."""
_MAYBE_IDENTIFIER = re.compile(r"[\d#]")
"""What `_IDENTIFIER` needs somewhere: a cheap test that rules most prose out."""


@lru_cache(maxsize=4096)  # the task and short outputs recur in every batch
def terms(text: str) -> frozenset[str]:
    """Content words of `text`, lower-cased and lightly stemmed."""
    return frozenset(_stem(w) for w in _WORD.findall(text.lower())
                     if len(w) > 2 and w not in _STOP)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class ExtractiveSummariser(SyncModel):
    """Keeps, per step, its calls with their outcomes and at most `per_step` sentences that
    share at least `min_overlap` content words with the task, scored by the rarity of the
    shared words plus `identifier_bonus` for sentences that carry an identifier or number
    (the facts a summary must keep). A step with a failed call keeps its calls and outcomes
    even without such a sentence (what failed is what the agent must not repeat); other
    steps with nothing relevant are rolled into one line. Honours `params["max_tokens"]` by
    dropping the least relevant sentences, then the oldest failures. Reads the request
    `Summariser` writes, and its own output when asked to shorten a summary."""

    name = "extractive-summariser"

    def __init__(self, per_step: int = 3, min_overlap: int = 2, identifier_bonus: float = 1.0):
        self.per_step = per_step
        self.min_overlap = min_overlap
        self.identifier_bonus = identifier_bonus

    def complete(self, request: ModelRequest) -> ModelResponse:
        prompt = request.messages[-1].content or ""
        header = MERGE_HEADER if "\n\n" + MERGE_HEADER in prompt else STEPS_HEADER
        task, _, body = prompt.removeprefix("Task:\n").rpartition("\n\n" + header)
        entries = _parse_summary(body) if header == MERGE_HEADER else \
            [_parse_step(c) for c in _STEP_START.split(body.strip())]
        text = _render(self._select(entries, terms(task)),
                       int(request.params.get("max_tokens", 10**9)))
        return ModelResponse(text=text, model=self.name, usage=Usage(
            input_tokens=estimate_tokens(request.text()), output_tokens=estimate_tokens(text)))

    def _select(self, entries: list[Entry], query: frozenset[str]) -> list[Entry]:
        weight: dict[str, float] | None = None  # needed only once a sentence qualifies
        out = []
        kept: set[str] = set()  # a sentence already in the summary is not repeated
        for e in entries:
            ranked, seen = [], set()
            for i, s in enumerate(e.sentences):
                shared = terms(s) & query
                if len(shared) >= self.min_overlap and (text := s[:300]) not in kept \
                        and text not in seen:
                    if weight is None:
                        weight = _idf([terms(s) for e in entries for s in e.sentences])
                    bonus = self.identifier_bonus if _MAYBE_IDENTIFIER.search(s) \
                        and _IDENTIFIER.search(s) else 0.0
                    ranked.append((round(_score(shared, weight) + bonus, 6), i, text))
                    seen.add(text)
            if not ranked:  # the usual case: nothing in the step bears on the task
                out.append(Entry(e.label, e.what))
                continue
            keep = sorted(sorted(ranked, reverse=True)[: self.per_step], key=lambda r: r[1])
            kept.update(s for _, _, s in keep)
            out.append(Entry(e.label, e.what, [s for _, _, s in keep], [r for r, _, _ in keep]))
        return out


@dataclass
class Entry:
    """One step of a summary: its label, its calls with outcomes, the sentences kept."""

    label: str
    what: str
    sentences: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether one of the step's calls ended in an error."""
        return " -> error" in self.what


def _parse_step(chunk: str) -> Entry:
    """An entry from one `[step N]` chunk of the request (all its output sentences)."""
    head, _, rest = chunk.partition("\n")
    calls = [ln.removeprefix("call: ") for ln in rest.splitlines() if ln.startswith("call: ")]
    outcomes = _OUTCOME.findall(rest)
    what = "; ".join([f"{c} -> {o}" for c, o in zip(calls, outcomes, strict=False)]) or "no calls"
    pieces = _SENTENCE.split(rest) if _SENTENCE_END.search(rest) else rest.split("\n")
    sentences = [s for s in map(str.strip, pieces) if s and not s.startswith(_NOT_PROSE)]
    return Entry(head.strip("[]"), what, sentences)


def _parse_summary(text: str) -> list[Entry]:
    """Entries from a summary this model wrote (to shorten it)."""
    entries: list[Entry] = []
    for line in text.splitlines():
        if line.startswith(BULLET) and entries:
            entries[-1].sentences.append(line.removeprefix(BULLET))
        elif header := _HEADER.match(line):
            label, what = header.groups()
            entries.append(Entry(label, what))
        elif line.strip():
            entries.append(Entry("note", "", [line.strip()]))
    return entries


FAILURE = -1
"""The index that stands for an entry's failure line in `_render`'s dropped set."""


def _render(entries: list[Entry], max_tokens: int) -> str:
    """The summary, dropping the least relevant sentences, then the oldest failures, until
    it fits `max_tokens`."""
    # (score, tie-break, what to drop): a sentence is (entry, index), a failure line
    # (entry, FAILURE); failures go last, oldest first
    ranked = sorted([(sc, -i, (i, j)) for i, e in enumerate(entries)
                     for j, sc in enumerate(e.scores)]
                    + [(math.inf, i, (i, FAILURE)) for i, e in enumerate(entries) if e.failed])
    dropped: set[tuple[int, int]] = set()
    text = _text(entries, dropped)
    while ranked and estimate_tokens(text) > max_tokens:
        dropped.add(ranked.pop(0)[2])
        text = _text(entries, dropped)
    return text


def _text(entries: list[Entry], dropped: set[tuple[int, int]]) -> str:
    lines, idle = [], []
    for i, e in enumerate(entries):
        kept = [s for j, s in enumerate(e.sentences) if (i, j) not in dropped]
        if not kept and not (e.failed and (i, FAILURE) not in dropped):
            idle.append(e.label.removeprefix("step ").removeprefix("steps "))
            continue
        lines.append(f"{e.label}: {e.what}")
        lines += [BULLET + s for s in kept]
    if idle:
        numbers = [n for label in idle for a, b in _RANGE.findall(label)
                   for n in range(int(a), int(b or a) + 1)]
        lines.append(f"{steps_label(numbers)}: nothing relevant found")
    return "\n".join(lines)


def _idf(docs: list[frozenset[str]]) -> dict[str, float]:
    df = Counter(chain.from_iterable(docs))
    n = len(docs) or 1
    return {t: math.log(1 + n / c) for t, c in df.items()}


def _score(shared: frozenset[str], weight: dict[str, float]) -> float:
    return sum(weight.get(t, 1.0) for t in shared)
