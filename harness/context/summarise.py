"""Summarisation of steps that fall out of the window, by any `Model`.

`Summariser` asks a model (any, e.g. a cheaper one) and records the call in the run's
trajectory as `ModelCalled(purpose="summarise")`, so its tokens and cost are counted and
a replay can reproduce it. Without a model, the offline `ExtractiveSummariser` writes the
summaries (see `harness.context.extractive`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from harness.context.fencing import fence
from harness.context.history import HistoryView, Part, describe_calls, verbatim
from harness.context.memos import RecentMemos
from harness.context.steps import Step, describe_ranges, step_text, steps_label
from harness.context.tokens import TokenCounter
from harness.events import ModelCalled
from harness.llm.base import Model, ModelError
from harness.messages import Message, ModelRequest
from harness.state import AgentState

SUMMARY_SYSTEM = (
    "You compress an agent's earlier steps so that it can continue without them. Keep every "
    "fact the task may need: names, numbers, identifiers, paths, errors, decisions and what "
    "each step found. Drop everything else. Reply with the summary only, in short lines.")
STEPS_HEADER = "Steps to summarise:\n"
MERGE_HEADER = "Summary to shorten:\n"


class Summariser:
    """Summarises steps with `model`, recording each call in the run's trajectory.

    A model error does not stop the run: the summary falls back to the list of calls and
    their outcomes, and the manifest says so.
    """

    def __init__(self, model: Model | None = None, max_tokens: int = 400):
        if model is None:
            from harness.context.extractive import ExtractiveSummariser

            model = ExtractiveSummariser()
        self.model = model
        self.max_tokens = max_tokens
        self._system = Message(role="system", content=SUMMARY_SYSTEM)  # one object: its JSON is kept

    @property
    def name(self) -> str:
        return getattr(self.model, "name", type(self.model).__name__)

    def steps(self, state: AgentState, steps: list[Step]) -> str:
        body = "\n\n".join(step_text(s) for s in steps)
        return self._ask(state, STEPS_HEADER + body) or describe_calls(steps)

    def merge(self, state: AgentState, summary: str) -> str:
        return self._ask(state, MERGE_HEADER + summary) or summary

    def _ask(self, state: AgentState, body: str) -> str:
        request = ModelRequest.of(
            [self._system, Message(role="user", content=f"Task:\n{state.task}\n\n{body}")], [],
            {"max_tokens": self.max_tokens})
        start = time.perf_counter()
        try:
            reply = self.model.complete(request)
        except ModelError:
            return ""
        state.emit(ModelCalled(model=reply.model or self.name, request_digest=request.digest(),
                               response=reply, usage=reply.usage, cost_usd=reply.cost_usd,
                               latency_s=reply.latency_s or time.perf_counter() - start,
                               purpose="summarise"))
        state.tokens += reply.usage.total_tokens
        if state.cost_usd is not None:
            state.cost_usd = None if reply.cost_usd is None else state.cost_usd + reply.cost_usd
        return (reply.text or "").strip()


class _Memo:
    """What a summarising strategy remembers about one run."""

    def __init__(self) -> None:
        self.upto = 0
        self.chunks: list[tuple[range, str]] = []
        self.parts: list[Part] = []
        self.counter: TokenCounter | None = None
        self.chunk_tokens: list[int] = []  # tokens of each chunk, as `counter` counts them


class SummariseHistory:
    """The last `keep_last` steps verbatim; older steps summarised by `summariser` (any
    `Model`, e.g. a cheaper one; the offline `ExtractiveSummariser` when None).

    Steps are summarised in batches of `batch` as they leave the window (so the model is
    called once per batch, and each step is read by the summariser once); the model sees
    the batches' summaries as one fenced summary; when they together pass
    `max_summary_tokens`, the summariser merges them into one.
    """

    name = "summarise"

    def __init__(self, summariser: Model | None = None, *, keep_last: int = 1, batch: int = 3,
                 max_summary_tokens: int = 600):
        if keep_last < 1 or batch < 1:
            raise ValueError("summarise: keep_last and batch must be at least 1")
        self.summariser = Summariser(summariser)
        self.keep_last, self.batch = keep_last, batch
        self.max_summary_tokens = max_summary_tokens
        self._memos: RecentMemos[str, _Memo] = RecentMemos(_Memo)

    def view(self, steps: list[Step], state: AgentState, counter: TokenCounter, *,
             key: str | None = None) -> HistoryView:
        """`key` names the memo (default: the run), for callers that summarise several
        stretches of one run separately."""
        memo = self._memos.of(key or state.run_id)
        if memo.upto > len(steps):  # the history was replaced: start over
            memo.upto, memo.chunks, memo.parts, memo.chunk_tokens = 0, [], [], []
        due = len(steps) - self.keep_last
        if due - memo.upto >= self.batch:
            fallen = steps[memo.upto:due]
            memo.chunks.append((range(fallen[0].index, fallen[-1].index + 1),
                                self.summariser.steps(state, fallen)))
            memo.upto = due
            if _summary_tokens(memo, counter) > self.max_summary_tokens:
                merged = self.summariser.merge(state, "\n".join(t for _, t in memo.chunks))
                memo.chunks, memo.chunk_tokens = [(_span(memo.chunks), merged)], []
            # one summary of every batch so far, under one header and fence
            memo.parts = [summary_part(_span(memo.chunks), "\n".join(t for _, t in memo.chunks),
                                       self.summariser.name)]
        parts = memo.parts + [verbatim(s) for s in steps[memo.upto:]]
        summarised = memo.chunks[-1][0][-1] if memo.chunks else 0
        return HistoryView(parts, f"steps 1-{summarised} summarised by {self.summariser.name}; "
                                  f"{len(steps) - memo.upto} recent steps verbatim"
                           if summarised else f"all {len(steps)} steps verbatim")


def _span(chunks: list[tuple[range, str]]) -> range:
    """The steps the chunks summarise, first to last."""
    return range(chunks[0][0][0], chunks[-1][0][-1] + 1)


def _summary_tokens(memo: _Memo, counter: TokenCounter) -> int:
    """Tokens of a run's summaries so far, counting each chunk once."""
    if memo.counter is not counter:
        memo.counter, memo.chunk_tokens = counter, []
    memo.chunk_tokens += [counter.count(text) for _, text in memo.chunks[len(memo.chunk_tokens):]]
    return sum(memo.chunk_tokens)


def summary_part(steps: Sequence[int], text: str, author: str, title: str = "") -> Part:
    """A summary of `steps` as a fenced user message (it was written from tool output)."""
    head = title or f"Summary of earlier {steps_label(steps)}"
    body = fence(text, "summary", steps=describe_ranges(steps), by=author)
    return Part([Message(role="user", content=f"{head} (their full outputs are no longer "
                                              f"shown):\n{body}")], steps, "summary")
