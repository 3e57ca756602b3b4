"""Context construction: what enters the model's input at each step.

`BudgetedContext` assembles prioritised sections within a token budget and shows the
history through a strategy chosen by name: "compact" (the default), "full", "last-n",
"mask", "summarise" or "subgoal". Every build returns a manifest that accounts for every token.
"""

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
from harness.context.tokens import TokenCounter, context_window
from harness.fencing import fence, fenced_spans, is_untrusted

__all__ = [
    "DEFAULT_SYSTEM_PROMPT", "STRATEGIES", "BudgetedContext", "CompactHistory", "Context",
    "ContextConstructor", "ContextOverflow", "ExtractiveSummariser", "FullHistory",
    "FullHistoryContext",
    "HistoryStrategy", "HistoryView", "LastN", "MaskObservations", "Part", "Step",
    "SubgoalHistory", "SummariseHistory", "Summariser", "TokenCounter", "context_window",
    "declare_subgoal", "fence", "fenced_spans", "history_strategy", "is_untrusted",
    "split_steps",
]
