"""`RankingRouter`: the shared half of every scoring router.

A subclass says how relevant each skill is to a query (`scores`); the base ranks, keeps the
top k, decides which bodies to load (a confident first candidate, or what the model asked
for with `load_skill`) and renders the section within the token budget.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TypedDict

from harness.llm.base import estimate_tokens
from harness.skills.base import Routing
from harness.skills.disclosure import TokenCounter, disclose
from harness.skills.library import SkillLibrary
from harness.skills.loading import import_skill_tools, loaded_by_model, skill_tools
from harness.skills.skill import SkillFileError, SkillProblem
from harness.state import AgentState
from harness.tools.base import Tool

Ranked = list[tuple[str, float]]


class RankingOptions(TypedDict, total=False):
    """The keyword options every `RankingRouter` takes (a subclass passes them on with
    `**options: Unpack[RankingOptions]`)."""

    top_k: int
    budget_tokens: int | None
    load_confidence: float
    count_tokens: TokenCounter
    provide_tools: bool


def query_of(state: AgentState) -> str:
    """What a router matches skills against: the task and any later user messages."""
    later = [m.content for m in state.history if m.role == "user" and m.content]
    return "\n".join([state.task, *later])


class RankingRouter(ABC):
    """Ranks skills for the run's task; lists the top `top_k` within `budget_tokens`.

    The first candidate's body is loaded when `confidence` reaches `load_confidence`
    (set it above 1 to never preload). `budget_tokens=None` means no limit. Routing a run
    adds `load_skill` and `read_skill_file` to its toolset (unless `provide_tools=False`),
    since the section tells the model to use them.
    """

    name = "ranking"

    def __init__(self, library: SkillLibrary, *, top_k: int = 3, budget_tokens: int | None = 1500,
                 load_confidence: float = 0.5, count_tokens: TokenCounter = estimate_tokens,
                 provide_tools: bool = True):
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        self.library = library
        self.top_k = top_k
        self.budget_tokens = budget_tokens
        self.load_confidence = load_confidence
        self.count_tokens = count_tokens
        self.provide_tools = provide_tools
        self.problems: list[SkillProblem] = []
        self._last: tuple[str, Ranked] | None = None
        self._skill_tools: dict[str, list[Tool]] = {}

    @abstractmethod
    def scores(self, query: str) -> dict[str, float]:
        """Relevance of skills to `query`, higher is better. Skills left out are not candidates."""

    def rank(self, query: str, k: int | None = None) -> Ranked:
        """The best `k` (default `top_k`) skills, ties broken by name so runs reproduce."""
        if self._last is None or self._last[0] != query:
            ordered = sorted(self.scores(query).items(), key=lambda kv: (-kv[1], kv[0]))
            self._last = (query, [(n, float(s)) for n, s in ordered])
        return self._last[1][: self.top_k if k is None else k]

    def confidence(self, ranked: Ranked) -> float:
        """How sure the router is of its first candidate, in [0, 1]: its score's margin over
        the second, relative to the first."""
        if not ranked or ranked[0][1] <= 0:
            return 0.0
        top = ranked[0][1]
        second = max(ranked[1][1], 0.0) if len(ranked) > 1 else 0.0
        return min(1.0, (top - second) / top)

    def route_query(self, query: str, *, already_loaded: Sequence[str] = ()) -> Routing:
        """Route one query: candidates with scores, loaded bodies and the context section."""
        ranked = self.rank(query)
        confident = bool(ranked) and self.confidence(ranked) >= self.load_confidence
        shown = disclose([n for n, _ in ranked], self.library,
                         load=[ranked[0][0]] if confident else [],
                         already_loaded=already_loaded, budget_tokens=self.budget_tokens,
                         count_tokens=self.count_tokens)
        scores = dict(ranked)
        return Routing(candidates=[(n, round(scores[n], 4)) for n in shown.listed if n in scores],
                       loaded=[*already_loaded, *shown.loaded], section=shown.section,
                       router=self.name)

    def route(self, state: AgentState) -> Routing:
        """Route the run's current query; tools of loaded skills join the run's toolset."""
        asked = [n for n in loaded_by_model(state.trajectory) if n in self.library]
        routing = self.route_query(query_of(state), already_loaded=asked)
        if routing.section is not None and self.provide_tools:
            for t in skill_tools(self.library):
                if t.name not in state.tools:
                    state.tools.add(t)
        self._add_tools(state, routing.loaded)
        return routing

    def _add_tools(self, state: AgentState, names: Sequence[str]) -> None:
        """Tools from the `tools.py` of loaded skills join the run's toolset."""
        for name in names:
            skill = self.library.get(name)
            if skill is None or skill.tools_file is None:
                continue
            if name not in self._skill_tools:
                try:
                    self._skill_tools[name] = import_skill_tools(skill)
                except SkillFileError as exc:
                    self._skill_tools[name] = []
                    self.problems.append(exc.problem)
            for t in self._skill_tools[name]:
                if t.name not in state.tools:
                    state.tools.add(t)
