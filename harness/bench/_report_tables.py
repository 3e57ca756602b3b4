"""The report's HTML tables: figures with their meaning, variants side by side, ablation
cells against the base, nested breakdowns and per-task rows. Every number column has one
precision; long names wrap; a wide table scrolls inside its box."""

from __future__ import annotations

import re
from typing import Any

from harness.bench._report_format import (
    decimals_for,
    escape,
    format_column,
    format_delta,
    format_value,
    is_number,
    wrappable,
)
from harness.bench._report_metrics import SHARE, better_sentence, describe

_AT_SIZE = re.compile(r"^(.+)@(1e\d+)$")
BETTER_MARK = {"higher": "↑ higher", "lower": "↓ lower", "neither": "—"}


def table(head: list[str], rows: list[list[str]], numeric: list[bool] | None = None,
          caption: str = "") -> str:
    """An HTML table (cells already escaped) in a horizontally scrolling box; `numeric`
    marks the columns to right-align and keep on one line."""
    numeric = numeric or [False] * len(head)
    th = "".join(f"<th class='{'num' if n else 'text'}'>{wrappable(h)}</th>"
                 for h, n in zip(head, numeric, strict=True))
    body = "".join("<tr>" + "".join(
        f"<td class='{'num' if n else 'text'}'>{c}</td>"
        for c, n in zip(row, numeric, strict=True)) + "</tr>" for row in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f"<div class='scroll'><table>{cap}<thead><tr>{th}</tr></thead>" \
           f"<tbody>{body}</tbody></table></div>"


def scalar_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The entries of a metrics dict that are one figure each (numbers, booleans, None)."""
    return {k: v for k, v in metrics.items()
            if is_number(v) or isinstance(v, bool) or v is None}


def unsuffixed(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics without `KEY@SIZE` copies of a `KEY` they also hold (a per-size breakdown
    shows those in its own table)."""
    return {k: v for k, v in metrics.items()
            if not ((m := _AT_SIZE.match(k)) and m.group(1) in metrics)}


def format_metric(key: str, value: Any) -> str:
    """One figure formatted by what it is: shares with three decimals, others by size."""
    if isinstance(value, list):
        return format_value(value)
    return format_value(value, decimals_for([value], describe(key).unit == SHARE))


def metric_table(metrics: dict[str, Any]) -> str:
    """One row per figure: its value, which direction is better, and what it means."""
    rows = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            continue
        info = describe(key)
        cell = format_metric(key, value)
        unit = "" if info.unit in ("", SHARE, "count", "yes/no") or not is_number(value) \
            else f" <span class='unit'>{escape(info.unit)}</span>"
        rows.append([wrappable(key), cell + unit, BETTER_MARK[info.better],
                     escape(info.definition)])
    return table(["metric", "value", "better", "meaning"], rows, [False, True, False, False],
                 caption="")


def grid_table(first: str, columns: dict[str, dict[str, Any]], headline: str = "") -> str:
    """Rows are the variants (the headline marked), columns their figures."""
    keys = list(dict.fromkeys(k for v in columns.values() for k in scalar_metrics(v)))
    cols = {k: format_column([v.get(k) for v in columns.values()], describe(k).unit == SHARE)
            for k in keys}
    rows = [[_name(n, headline), *(cols[k][i] for k in keys)]
            for i, n in enumerate(columns)]
    return table([first, *keys], rows, [False, *[True] * len(keys)]) + _legend(keys)


def ablation_table(base: dict[str, Any], ablations: dict[str, Any]) -> str:
    """The base config's figures, then each ablation cell's with its difference from them."""
    keys = list(scalar_metrics(base))
    cells: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {"base": (base, {})}
    cells.update({str(n): (c.get("metrics") or {}, c.get("delta") or {})
                  for n, c in ablations.items() if isinstance(c, dict)})
    cols = {}
    for k in keys:
        values = [m.get(k) for m, _ in cells.values()]
        decimals = decimals_for(values, describe(k).unit == SHARE)
        cols[k] = [format_value(m.get(k), decimals) + format_delta(d.get(k), decimals)
                   for m, d in cells.values()]
    rows = [[_name(n, "base"), *(cols[k][i] for k in keys)] for i, n in enumerate(cells)]
    return table(["cell", *keys], rows, [False, *[True] * len(keys)]) + _legend(keys)


def breakdown_tables(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, table) for each nested breakdown: a dict of dicts of figures (e.g.
    `by_category`) as a grid, a dict of figures (e.g. `damage_by_category`) as one row."""
    out = []
    for key, value in metrics.items():
        if key in ("by_variant", "ablations", "repeat_stdev") or not isinstance(value, dict) \
                or not value:
            continue
        if all(isinstance(v, dict) for v in value.values()):
            out.append((key, grid_table(key.removeprefix("by_"), value)))
        elif all(is_number(v) or v is None for v in value.values()):
            share = describe(key).unit == SHARE
            cells = format_column(list(value.values()), share)
            out.append((key, table(["", *value], [[wrappable(key), *cells]],
                                   [False, *[True] * len(value)])
                        + f"<p class='meta'>{escape(describe(key).definition)}</p>"))
    return out


def rows_table(rows: list[dict[str, Any]], limit: int) -> str:
    """The first `limit` per-task rows, every column formatted as a whole."""
    shown = rows[:limit]
    keys = list(dict.fromkeys(k for row in shown for k in row))
    cols = {k: format_column([row.get(k) for row in shown], describe(k).unit == SHARE
                             and all(not isinstance(row.get(k), bool) for row in shown))
            for k in keys}
    numeric = [all(is_number(row.get(k)) or row.get(k) is None for row in shown) for k in keys]
    return table(keys, [[cols[k][i] for k in keys] for i in range(len(shown))], numeric)


def _name(name: str, headline: str) -> str:
    mark = " <span class='tag'>headline</span>" if name == headline and headline else ""
    return wrappable(name) + mark


def _legend(keys: list[str]) -> str:
    """A compact key to the columns: direction and definition of each figure."""
    items = "".join(f"<li><code>{escape(k)}</code> — {escape(describe(k).definition)} "
                    f"<i>{escape(better_sentence(describe(k)))}</i></li>" for k in keys)
    return f"<details class='legend'><summary>what the columns mean</summary><ul>{items}" \
           f"</ul></details>"
