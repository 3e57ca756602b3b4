"""History strategies by name, for configs, the CLI and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.context.history import FullHistory, HistoryStrategy, LastN, MaskObservations
from harness.context.subgoals import SubgoalHistory
from harness.context.summarise import CompactHistory, SummariseHistory

STRATEGIES: dict[str, Callable[..., HistoryStrategy]] = {
    "compact": CompactHistory,
    "full": FullHistory,
    "last-n": LastN,
    "mask": MaskObservations,
    "summarise": SummariseHistory,
    "subgoal": SubgoalHistory,
}


def history_strategy(spec: str | HistoryStrategy, **options: Any) -> HistoryStrategy:
    """A strategy from its name (`"mask"`, `"last-n"`, ...) and keyword options, or the
    strategy itself when given one."""
    if not isinstance(spec, str):
        return spec
    try:
        factory = STRATEGIES[spec]
    except KeyError:
        raise ValueError(f"unknown history strategy {spec!r}; choose from: "
                         f"{', '.join(STRATEGIES)}") from None
    return factory(**options)
