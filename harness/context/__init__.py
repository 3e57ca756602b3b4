"""Context construction: what enters the model's input at each step.

`BudgetedContext` assembles prioritised sections within a token budget and shows the
history through a strategy chosen by name: "compact" (the default), "full", "last-n",
"mask", "summarise" or "subgoal". Every build returns a manifest that accounts for every token.
"""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "BudgetedContext": "harness.context.budgeted",
    "CompactHistory": "harness.context.summarise",
    "Context": "harness.context.base",
    "ContextConstructor": "harness.context.base",
    "ContextOverflow": "harness.context.budgeted",
    "DEFAULT_SYSTEM_PROMPT": "harness.context.base",
    "ExtractiveSummariser": "harness.context.extractive",
    "FullHistory": "harness.context.history",
    "FullHistoryContext": "harness.context.base",
    "HistoryStrategy": "harness.context.history",
    "HistoryView": "harness.context.history",
    "LastN": "harness.context.history",
    "MaskObservations": "harness.context.history",
    "Part": "harness.context.history",
    "STRATEGIES": "harness.context.strategies",
    "Step": "harness.context.steps",
    "SubgoalHistory": "harness.context.subgoals",
    "SummariseHistory": "harness.context.summarise",
    "Summariser": "harness.context.summarise",
    "HFTokenizer": "harness.context.tokens",
    "ServerTokenizer": "harness.context.tokens",
    "TokenCounter": "harness.context.tokens",
    "context_window": "harness.context.tokens",
    "declare_subgoal": "harness.context.subgoals",
    "fence": "harness.fencing",
    "fenced_spans": "harness.fencing",
    "history_strategy": "harness.context.strategies",
    "is_untrusted": "harness.fencing",
    "split_steps": "harness.context.steps",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.context.base import (
        DEFAULT_SYSTEM_PROMPT,
        Context,
        ContextConstructor,
        FullHistoryContext,
    )
    from harness.context.budgeted import BudgetedContext, ContextOverflow
    from harness.context.extractive import ExtractiveSummariser
    from harness.context.history import (
        FullHistory,
        HistoryStrategy,
        HistoryView,
        LastN,
        MaskObservations,
        Part,
    )
    from harness.context.steps import Step, split_steps
    from harness.context.strategies import STRATEGIES, history_strategy
    from harness.context.subgoals import SubgoalHistory, declare_subgoal
    from harness.context.summarise import CompactHistory, SummariseHistory, Summariser
    from harness.context.tokens import (
        HFTokenizer,
        ServerTokenizer,
        TokenCounter,
        context_window,
    )
    from harness.fencing import fence, fenced_spans, is_untrusted
