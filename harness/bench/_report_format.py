"""Numbers and names for the report's tables: one precision per column, names that wrap."""

from __future__ import annotations

import html
import math
import re
from typing import Any

SHARE_DECIMALS = 3
MAX_DECIMALS = 6
_BREAK_AFTER = re.compile(r"([_+/@.,-])")


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def decimals_for(values: list[Any], share: bool = False) -> int:
    """How many decimals show every number of a column with sensible precision: none when
    all are whole, three for shares, fewer as the numbers grow, more when the smallest
    non-zero one would otherwise print as 0."""
    nums = [abs(float(v)) for v in values if is_number(v)]
    if share:
        return SHARE_DECIMALS
    if not nums or all(n.is_integer() for n in nums):
        return 0
    biggest = max(nums)
    decimals = 0 if biggest >= 1000 else 1 if biggest >= 100 else 2 if biggest >= 10 else 3
    smallest = min((n for n in nums if n), default=0.0)
    if smallest and smallest < 10 ** -decimals:
        decimals = min(MAX_DECIMALS, math.ceil(-math.log10(smallest)) + 1)
    return decimals


def format_value(value: Any, decimals: int = 0) -> str:
    """One cell as escaped HTML: numbers with `decimals` and thousands separators, yes/no for
    booleans, a dash for a missing value, anything else as (shortened) text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if is_number(value):
        return f"{float(value):,.{decimals}f}"
    if isinstance(value, float):  # nan, inf
        return escape(str(value))
    if isinstance(value, dict):
        return escape(", ".join(f"{k} {format_value(v, decimals_for([v]))}"
                                for k, v in value.items())[:240])
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        return escape(", ".join(str(v) for v in value)[:240])
    return escape(str(value))


def format_column(values: list[Any], share: bool = False) -> list[str]:
    """A column's cells, every number with the same number of decimals."""
    decimals = decimals_for(values, share)
    return [format_value(v, decimals) for v in values]


def format_delta(delta: Any, decimals: int) -> str:
    """An ablation cell's difference from the base, signed, or '' when there is none."""
    if not is_number(delta) or not delta:
        return ""
    text = f"{float(delta):+,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        text = f"{float(delta):+.2g}"
    return f" <span class='{'pos' if delta > 0 else 'neg'}'>({text})</span>"


def wrappable(name: Any) -> str:
    """An escaped name that may break after `_`, `+`, `/`, `@`, `.`, `,` or `-`."""
    return _BREAK_AFTER.sub(r"\1<wbr>", escape(name))


def escape(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)
