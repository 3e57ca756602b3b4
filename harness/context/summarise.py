"""Summarisation of steps that fall out of the window, by any `Model`.

`Summariser` asks a model (any, e.g. a cheaper one) and records the call in the run's
trajectory as `ModelCalled(purpose="summarise")`, so its tokens and cost are counted and
a replay can reproduce it. `ExtractiveSummariser` is the offline default: a deterministic
query-focused extractive summary (the sentences of each step that share the most terms
with the task), so strategies that summarise run without an LLM.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict

from harness.context.fencing import fence
from harness.context.history import HistoryView, Part, describe_calls, verbatim
from harness.context.steps import Step, describe_ranges, step_text, steps_label
from harness.context.tokens import TokenCounter
from harness.events import ModelCalled
from harness.llm.base import Model, ModelError, SyncModel
from harness.llm.scripted import estimate_tokens
from harness.messages import Message, ModelRequest, ModelResponse, Usage
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
        self.model = model or ExtractiveSummariser()
        self.max_tokens = max_tokens

    @property
    def name(self) -> str:
        return getattr(self.model, "name", type(self.model).__name__)

    def steps(self, state: AgentState, steps: list[Step]) -> str:
        body = "\n\n".join(step_text(s) for s in steps)
        return self._ask(state, STEPS_HEADER + body) or describe_calls(steps)

    def merge(self, state: AgentState, summary: str) -> str:
        return self._ask(state, MERGE_HEADER + summary) or summary

    def _ask(self, state: AgentState, body: str) -> str:
        request = ModelRequest(
            messages=[Message(role="system", content=SUMMARY_SYSTEM),
                      Message(role="user", content=f"Task:\n{state.task}\n\n{body}")],
            params={"max_tokens": self.max_tokens})
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
        self.chunks: list[tuple[list[int], str]] = []
        self.cache: dict[tuple[int, int], str] = {}


class RunMemos(OrderedDict[str, _Memo]):
    """Per-run memos, keeping only the most recent runs."""

    def __init__(self, keep: int = 16):
        super().__init__()
        self.keep = keep

    def of(self, run_id: str) -> _Memo:
        if run_id not in self:
            self[run_id] = _Memo()
            while len(self) > self.keep:
                self.popitem(last=False)
        return self[run_id]


class SummariseHistory:
    """The last `keep_last` steps verbatim; older steps summarised by a model.

    Steps are summarised in batches of `batch` as they leave the window (so the model is
    called once per batch, and each step is read by the summariser once); when the
    summaries together pass `max_summary_tokens`, they are merged into one.
    """

    name = "summarise"

    def __init__(self, model: Model | None = None, *, keep_last: int = 2, batch: int = 4,
                 max_summary_tokens: int = 600):
        if keep_last < 1 or batch < 1:
            raise ValueError("summarise: keep_last and batch must be at least 1")
        self.summariser = Summariser(model)
        self.keep_last, self.batch = keep_last, batch
        self.max_summary_tokens = max_summary_tokens
        self._memos = RunMemos()

    def view(self, steps: list[Step], state: AgentState, counter: TokenCounter) -> HistoryView:
        memo = self._memos.of(state.run_id)
        if memo.upto > len(steps):  # the history was replaced: start over
            memo.upto, memo.chunks = 0, []
        due = len(steps) - self.keep_last
        if due - memo.upto >= self.batch:
            fallen = steps[memo.upto:due]
            memo.chunks.append(([s.index for s in fallen], self.summariser.steps(state, fallen)))
            memo.upto = due
            if sum(counter.count(text) for _, text in memo.chunks) > self.max_summary_tokens:
                merged = self.summariser.merge(state, "\n".join(t for _, t in memo.chunks))
                memo.chunks = [([i for ids, _ in memo.chunks for i in ids], merged)]
        parts = [summary_part(ids, text, self.summariser.name) for ids, text in memo.chunks]
        parts += [verbatim(s) for s in steps[memo.upto:]]
        summarised = [i for ids, _ in memo.chunks for i in ids]
        return HistoryView(parts, f"{steps_label(summarised) if summarised else 'no steps'} "
                                  f"summarised by {self.summariser.name}; "
                                  f"{len(steps) - memo.upto} recent steps verbatim")


def summary_part(steps: list[int], text: str, author: str, title: str = "") -> Part:
    """A summary of `steps` as a fenced user message (it was written from tool output)."""
    head = title or f"Summary of earlier {steps_label(steps)}"
    body = fence(text, "summary", steps=describe_ranges(steps), by=author)
    return Part([Message(role="user", content=f"{head} (their full outputs are no longer "
                                              f"shown):\n{body}")], steps, "summary")


# -- the offline summariser ----------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_NOT_PROSE = ("call: ", "result (", "<untrusted ", "</untrusted>")
_STOP = frozenset(
    "the a an and or of to in on for with by at from is are was were be been it this that "
    "these those as which what who whom whose when where how why there their then than into "
    "its not no yes do does did has have had can could should would will shall may might must "
    "you your we our they them he she his her i me my all any each every some one per via".split())


def terms(text: str) -> set[str]:
    """Content words of `text`, lower-cased and lightly stemmed."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class ExtractiveSummariser(SyncModel):
    """An offline summarising `Model`: for each step, its calls and outcomes plus the (at
    most `per_step`) sentences of its output that share at least `min_overlap` content
    words with the task; steps with nothing relevant are rolled into one line. Reads the
    request that `Summariser` writes; honours `params["max_tokens"]` by dropping the
    least relevant lines."""

    name = "extractive-summariser"

    def __init__(self, per_step: int = 3, min_overlap: int = 2):
        self.per_step = per_step
        self.min_overlap = min_overlap

    def complete(self, request: ModelRequest) -> ModelResponse:
        prompt = request.messages[-1].content or ""
        task = prompt.split("\n\n", 1)[0].removeprefix("Task:\n")
        query = terms(task)
        if MERGE_HEADER in prompt:
            scored = [(len(terms(line) & query), i, line) for i, line in
                      enumerate(prompt.split(MERGE_HEADER, 1)[1].splitlines()) if line.strip()]
        else:
            body = prompt.split(STEPS_HEADER, 1)[-1]
            scored = self._steps(body, query)
        text = self._cap(scored, int(request.params.get("max_tokens", 10**9)))
        return ModelResponse(text=text, model=self.name, usage=Usage(
            input_tokens=estimate_tokens(request.text()), output_tokens=estimate_tokens(text)))

    def _steps(self, body: str, query: set[str]) -> list[tuple[int, int, str]]:
        lines: list[tuple[int, int, str]] = []
        idle: list[str] = []
        for chunk in re.split(r"\n(?=\[step \d+\])", body.strip()):
            head, _, rest = chunk.partition("\n")
            calls = [ln.removeprefix("call: ") for ln in rest.splitlines() if ln.startswith("call: ")]
            outcomes = re.findall(r"^result \(([^)]*)\)", rest, re.MULTILINE)
            sentences = [s.strip() for s in _SENTENCE.split(rest) if s.strip()
                         and not s.startswith(_NOT_PROSE)]
            ranked = sorted(((len(terms(s) & query), -i, s[:300]) for i, s in enumerate(sentences)),
                            reverse=True)
            keep = sorted((r for r in ranked[: self.per_step] if r[0] >= self.min_overlap),
                          key=lambda r: -r[1])
            label = head.strip("[]")
            if keep:
                found = " ".join(s for _, _, s in keep)
                what = "; ".join(f"{c} -> {o}" for c, o in zip(calls, outcomes, strict=False))
                lines.append((max(k[0] for k in keep), len(lines), f"{label}: {what}: {found}"))
            else:
                idle.append(label.removeprefix("step "))
        if idle:
            lines.append((0, len(lines), f"steps {', '.join(idle)}: nothing relevant to the task"))
        return lines

    @staticmethod
    def _cap(scored: list[tuple[int, int, str]], max_tokens: int) -> str:
        kept = list(scored)
        while kept and estimate_tokens("\n".join(s for _, _, s in kept)) > max_tokens:
            kept.remove(min(kept, key=lambda r: (r[0], -r[1])))
        return "\n".join(s for _, _, s in sorted(kept, key=lambda r: r[1]))
