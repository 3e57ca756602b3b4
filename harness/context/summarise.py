"""Summarisation of steps that fall out of the window, by any `Model`.

`Summariser` asks a model (any, e.g. a cheaper one) and records the call in the run's
trajectory as `ModelCalled(purpose="summarise")`, so its tokens and cost are counted and
a replay can reproduce it. Without a model, the offline `ExtractiveSummariser` writes the
summaries (see `harness.context.extractive`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness._fast import updated
from harness.context._memos import RecentMemos
from harness.context._summary_prompts import MERGE_HEADER, STEPS_HEADER, SUMMARY_SYSTEM
from harness.context.history import HistoryView, Part, describe_calls, verbatim
from harness.context.steps import Step, describe_ranges, step_text, steps_label
from harness.context.tokens import (
    DEFAULT_WINDOW,
    MESSAGE_OVERHEAD,
    TokenCounter,
    context_window,
)
from harness.fencing import fence
from harness.llm.base import Model, ModelError, estimate_tokens
from harness.messages import Message, ModelRequest
from harness.state import AgentState, PerRun


@dataclass
class StepsSummary:
    """A summary of some steps: its text, and what went wrong for the steps in `failed`
    (their summary fell back to their calls and outcomes); `error` is "" if nothing did."""

    text: str
    error: str = ""
    failed: list[int] = field(default_factory=list)


class Summariser:
    """Summarises steps with `model`, recording each call in the run's trajectory.

    Steps (and a summary to shorten) go to the model in as few requests as fit its window:
    `window` tokens, or the model's context window as litellm's model map gives it
    (`DEFAULT_WINDOW` for a model it does not know), less the reply's `max_tokens`.

    A model error does not stop the run: the summary of that request's steps falls back to
    their calls and outcomes; the `StepsSummary` that `summarise_steps` returns lists those
    steps (`failed`) and what went wrong (`error`), and the strategies put both in the
    manifest's history note.
    `error` and `failed` on the summariser repeat the last summary's, for inspection.
    """

    def __init__(self, model: Model | None = None, max_tokens: int = 400,
                 window: int | None = None):
        if model is None:
            from harness.context.extractive import ExtractiveSummariser

            model = ExtractiveSummariser()
        self.model = model
        self.max_tokens = max_tokens
        self.window = window
        self.error = ""
        self.failed: list[int] = []
        self._system = Message(role="system", content=SUMMARY_SYSTEM)  # one object: its JSON is kept

    @property
    def name(self) -> str:
        return getattr(self.model, "name", type(self.model).__name__)

    def steps(self, state: AgentState, steps: list[Step]) -> str:
        """The text of `summarise_steps`."""
        return self.summarise_steps(state, steps).text

    def summarise_steps(self, state: AgentState, steps: list[Step]) -> StepsSummary:
        """A summary of `steps`, in as few requests as fit the window, with the steps whose
        requests failed and why."""
        texts = [step_text(s) for s in steps]
        summaries, errors, failed = [], [], []
        for run in self._requests(state, STEPS_HEADER, texts):
            batch = steps[run]
            text, error = self._ask(state, STEPS_HEADER + "\n\n".join(texts[run]))
            if error:
                errors.append(error)
                failed += [s.index for s in batch]
            summaries.append(text or describe_calls(batch))
        summary = StepsSummary("\n".join(summaries), "; ".join(dict.fromkeys(errors)), failed)
        self.error, self.failed = summary.error, summary.failed
        return summary

    def merge(self, state: AgentState, summary: str) -> str:
        """`summary` shortened, in runs of whole lines that fit the window; a run whose
        request fails is kept as it was."""
        lines = summary.splitlines()
        runs = list(self._requests(state, MERGE_HEADER, lines))
        pieces = [summary] if len(runs) == 1 else ["\n".join(lines[run]) for run in runs]
        return "\n".join(self._ask(state, MERGE_HEADER + p)[0] or p for p in pieces)

    def _requests(self, state: AgentState, header: str, texts: list[str]) -> Iterator[slice]:
        """Runs of consecutive `texts` (steps, lines) whose request fits the window. Sizes
        are the ~4-characters-per-token estimate, with a tenth of the window kept spare for
        tokenizers that count more; a text alone is sent whatever its size (`step_text`
        caps each step at 8,000 characters of output)."""
        window = self.window or context_window(self.name)
        room = int(0.9 * (window - self.max_tokens)) - estimate_tokens(
            f"{SUMMARY_SYSTEM}Task:\n{state.task}\n\n{header}") - 2 * MESSAGE_OVERHEAD
        start, used = 0, 0
        for i, text in enumerate(texts):
            size = estimate_tokens(text) + 1  # and its separator
            if i > start and used + size > room:
                yield slice(start, i)
                start, used = i, 0
            used += size
        if texts:
            yield slice(start, len(texts))

    def _ask(self, state: AgentState, body: str) -> tuple[str, str]:
        """The model's summary of `body`, or "" and what went wrong."""
        request = ModelRequest.of(
            [self._system, Message(role="user", content=f"Task:\n{state.task}\n\n{body}")], [],
            {"max_tokens": self.max_tokens})
        start = time.perf_counter()
        try:
            reply = self.model.complete(request)
        except ModelError as exc:
            return "", f"{type(exc).__name__}: {exc}"
        if not reply.latency_s:
            reply = updated(reply, {"latency_s": time.perf_counter() - start})
        state.charge(reply, "summarise", request=request, model=self.name)
        return (reply.text or "").strip(), ""


class _Memo:
    """What a summarising strategy remembers about one run (or stretch of steps)."""

    def __init__(self) -> None:
        self.upto = 0  # steps[:upto] are summarised
        self.chunks: list[tuple[range, str]] = []
        self.parts: list[Part] = []  # the one summary part, once there is a summary
        self.counter: TokenCounter | None = None
        self.chunk_tokens: list[int] = []  # tokens of each chunk, as `counter` counts them
        self.tail: list[Part] = []  # verbatim parts of the complete steps from `upto` on
        self.tail_tokens = 0  # their tokens, as `counter` counts them
        self.failed: list[str] = []  # "steps 4-6: <error>" for each summary that fell back

    def restart(self, upto: int = 0) -> None:
        """Forget the verbatim tail (and, from 0, the summaries): steps from `upto` on are
        to be shown anew."""
        if upto == 0:
            self.chunks, self.parts, self.chunk_tokens, self.failed = [], [], [], []
        self.upto, self.tail, self.tail_tokens = upto, [], 0


class SummariseHistory(PerRun):
    """The last `keep_last` steps verbatim; older steps summarised by `summariser` (any
    `Model`, e.g. a cheaper one; the offline `ExtractiveSummariser` when None).

    `trigger` sets when steps are summarised:
    - None: in batches of `batch` as they leave the window, whether or not the budget is
      pressed (the model is called once per batch, and each step is read once);
    - a share of the room the budget leaves for the history (a float in (0, 1]) or a number
      of tokens (an int): only once the steps shown verbatim pass it, and then all but the
      last `keep_last` at once (`batch` is not used).

    The model sees the summaries as one fenced summary; when they together pass
    `max_summary_tokens` (or a quarter of the history's room, if less), the summariser
    merges them into one. `reply_tokens` caps each reply of the summariser.
    """

    name = "summarise"

    def __init__(self, summariser: Model | None = None, *, keep_last: int = 1, batch: int = 3,
                 max_summary_tokens: int = 600, trigger: float | int | None = None,
                 reply_tokens: int = 400):
        if keep_last < 1 or batch < 1:
            raise ValueError(f"{self.name}: keep_last and batch must be at least 1")
        if trigger is not None and (type(trigger) not in (int, float) or not (
                0 < trigger <= 1 if isinstance(trigger, float) else trigger >= 1)):
            raise ValueError(f"{self.name}: trigger must be a share of the history's room in "
                             f"(0, 1] or a number of tokens of at least 1, got {trigger!r}")
        self.summariser = Summariser(summariser, max_tokens=reply_tokens)
        self.keep_last, self.batch = keep_last, batch
        self.max_summary_tokens = max_summary_tokens
        self.trigger = trigger
        self._memos: RecentMemos[str, _Memo] = RecentMemos(_Memo)

    def start_run(self, state: AgentState) -> None:
        self._memos = RecentMemos(_Memo)

    def view(self, steps: list[Step], state: AgentState, counter: TokenCounter, *,
             key: str | None = None, room: int | None = None) -> HistoryView:
        """`key` names the memo, for callers that summarise several stretches of one run
        separately. `room` is the tokens the budget leaves for the
        history, which a `trigger` share is of (without it: of `DEFAULT_WINDOW`)."""
        memo = self._memos.of(key or "")
        covered = memo.upto + len(memo.tail)  # summarised or in the tail: all but the newest
        if covered and covered >= len(steps):
            memo.restart()  # the history was replaced or cut: start over
        self._extend_tail(memo, steps, counter)
        due = len(steps) - self.keep_last
        if due > memo.upto and self._due(memo, steps, due, counter, room):
            fallen = steps[memo.upto:due]
            span = range(fallen[0].index, fallen[-1].index + 1)
            summary = self.summariser.summarise_steps(state, fallen)
            memo.chunks.append((span, summary.text))
            if summary.error:
                memo.failed.append(f"{steps_label(summary.failed)}: {summary.error}")
            cap = self.max_summary_tokens if room is None else \
                min(self.max_summary_tokens, max(room // 4, 1))
            if _summary_tokens(memo, counter) > cap:
                merged = self.summariser.merge(state, "\n".join(t for _, t in memo.chunks))
                memo.chunks, memo.chunk_tokens = [(_span(memo.chunks), merged)], []
            # one summary of every batch so far, under one header and fence
            memo.parts = [summary_part(_span(memo.chunks), "\n".join(t for _, t in memo.chunks),
                                       self.summariser.name)]
            memo.restart(due)
            self._extend_tail(memo, steps, counter)
        parts = memo.parts + memo.tail
        if len(steps) > memo.upto:
            parts.append(verbatim(steps[-1]))
        summarised = memo.chunks[-1][0][-1] if memo.chunks else 0
        note = f"steps 1-{summarised} summarised by {self.summariser.name}; " \
               f"{len(steps) - memo.upto} recent steps verbatim" \
            if summarised else f"all {len(steps)} steps verbatim"
        if memo.failed:
            note += f"; the summariser failed on {'; '.join(memo.failed)}: their calls and " \
                    f"outcomes are shown instead"
        return HistoryView(parts, note)

    def _extend_tail(self, memo: _Memo, steps: list[Step], counter: TokenCounter) -> None:
        """Add the steps completed since the last view to the verbatim tail. Every step but
        the last is complete: results only join the newest step."""
        if memo.counter is not counter:  # counted otherwise: count the tail again
            memo.counter, memo.chunk_tokens = counter, []
            memo.tail_tokens = sum(counter.messages(p.messages) for p in memo.tail)
        for s in steps[memo.upto + len(memo.tail):len(steps) - 1]:
            memo.tail.append(verbatim(s))
            memo.tail_tokens += counter.messages(s.messages)

    def _due(self, memo: _Memo, steps: list[Step], due: int, counter: TokenCounter,
             room: int | None) -> bool:
        """Whether the steps before `due` are to be summarised now."""
        if self.trigger is None:
            return due - memo.upto >= self.batch
        limit = self.trigger if isinstance(self.trigger, int) else \
            self.trigger * (DEFAULT_WINDOW if room is None else room)
        return memo.tail_tokens + counter.messages(steps[-1].messages) > limit


class CompactHistory(SummariseHistory):
    """Compaction under pressure: every step verbatim while the steps fit in `trigger`
    (by default half the room the budget leaves for the history); past it, all but the
    last `keep_last` steps are summarised into one summary, and later steps gather verbatim
    again until the next compaction. Nothing is lost, and no summariser is called, while
    the history fits; a long run stays within its budget with its recent steps intact.
    Options as `SummariseHistory`'s."""

    name = "compact"

    def __init__(self, summariser: Model | None = None, *, trigger: float | int = 0.5,
                 keep_last: int = 4, max_summary_tokens: int = 2_000,
                 reply_tokens: int = 1_000, **options: Any):
        super().__init__(summariser, trigger=trigger, keep_last=keep_last,
                         max_summary_tokens=max_summary_tokens, reply_tokens=reply_tokens,
                         **options)


def _span(chunks: list[tuple[range, str]]) -> range:
    """The steps the chunks summarise, first to last."""
    return range(chunks[0][0][0], chunks[-1][0][-1] + 1)


def _summary_tokens(memo: _Memo, counter: TokenCounter) -> int:
    """Tokens of a run's summaries so far, counting each chunk once (as `memo.counter`,
    which `_extend_tail` keeps current)."""
    memo.chunk_tokens += [counter.count(text) for _, text in memo.chunks[len(memo.chunk_tokens):]]
    return sum(memo.chunk_tokens)


def summary_part(steps: Sequence[int], text: str, author: str, title: str = "") -> Part:
    """A summary of `steps` as a fenced user message (it was written from tool output)."""
    head = title or f"Summary of earlier {steps_label(steps)}"
    body = fence(text, "summary", steps=describe_ranges(steps), by=author)
    return Part([Message(role="user", content=f"{head} (their full outputs are no longer "
                                              f"shown):\n{body}")], steps, "summary")
