"""What the report plots, decided without drawing anything: one `Figure` (or, when a plot
would show nothing, a `Sentence`) per series a suite recorded, per recall@k family and per
trade-off (a score against what it costs: success against tokens, utility against damage...).

Accepted series shapes (`record['series'][NAME]`): `{"x": [...], "y": {LABEL: [...]},
"xlabel", "ylabel", "log"}`, `{LABEL: [y, ...]}` (x = 1, 2, ...), `{LABEL: {x: y}}`, or a
plain list. The headline configuration (`record['config']`) is drawn last and marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.bench._report_format import decimals_for, format_value, is_number
from harness.bench._report_metrics import MetricInfo, axis_label, better_sentence, describe

RECALL_KEY = re.compile(r"^(baseline_)?recall@(\d+)$")
COST_KEYS = ("cost_usd", "tokens_per_solved_task", "tokens_per_step", "tokens", "steps")
TRADEOFFS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("success", COST_KEYS),
    ("utility", ("damage_rate",)),
    ("benign_utility", ("attack_success_rate",)),
    ("utility_under_attack", ("attack_success_rate",)),
    ("blocked_dangerous", ("blocked_benign",)),
    ("top3", ("tokens_per_query",)),
)
"""(score, costs): each plotted as the score against the first cost the variants report."""
HEADLINE_SUFFIX = " (headline)"


@dataclass(frozen=True)
class Line:
    """One labelled line (or set of points) of a figure."""

    label: str
    xs: list[Any]
    ys: list[float]
    headline: bool = False

    @property
    def legend(self) -> str:
        return self.label + HEADLINE_SUFFIX if self.headline else self.label


@dataclass(frozen=True)
class Figure:
    """A plot to draw: `lines` are in drawing order, the headline last."""

    title: str
    xlabel: str
    ylabel: str
    lines: list[Line]
    better: str
    definition: str
    kind: Literal["line", "scatter"] = "line"
    log: bool = False
    notes: list[str] = field(default_factory=list)
    ylim: tuple[float, float] | None = None


@dataclass(frozen=True)
class Sentence:
    """What a degenerate plot (one point, or every point equal) says instead, in words."""

    title: str
    text: str
    definition: str


def figures(record: dict[str, Any]) -> list[Figure | Sentence]:
    """Every plot of a suite's record, in the order the report shows them."""
    suite, headline = record.get("suite", ""), headline_of(record)
    metrics = record.get("metrics") or {}
    out: list[Figure | Sentence | None] = [
        series_figure(f"{suite}: {name}", name, value, headline)
        for name, value in (record.get("series") or {}).items()]
    out.append(recall_figure(suite, metrics, headline))
    out += [tradeoff_figure(suite, metrics, headline, score, costs)
            for score, costs in TRADEOFFS]
    return [f for f in out if f is not None]


def headline_of(record: dict[str, Any]) -> str:
    """The headline configuration's name among the variants: the record's config when a
    variant has that name, else the variant whose figures are the top-level ones (a suite
    may name its config 'default' and its variants otherwise), else the config."""
    config = str(record.get("config") or "")
    metrics = record.get("metrics") or {}
    variants = {str(k): v for k, v in (metrics.get("by_variant") or {}).items()
                if isinstance(v, dict)}
    if config in variants:
        return config
    top = _scalars(metrics)
    same = [n for n, v in variants.items()
            if (figs := _scalars(v)) and all(top.get(k) == x for k, x in figs.items())]
    return same[0] if len(same) == 1 else config


# -- series -----------------------------------------------------------------------------------
def series_lines(value: Any) -> tuple[dict[str, tuple[list, list]], dict[str, Any]]:
    """Normalise the accepted series shapes into {label: (xs, ys)} plus options."""
    if isinstance(value, list):
        value = {"": value}
    if not isinstance(value, dict):
        return {}, {}
    if "y" in value and isinstance(value["y"], dict):
        xs = list(value.get("x") or [])
        lines = {str(k): (xs or list(range(1, len(ys) + 1)), list(ys))
                 for k, ys in value["y"].items() if isinstance(ys, list)}
        return lines, value
    lines = {}
    for label, ys in value.items():
        if isinstance(ys, list) and all(is_number(y) or y is None for y in ys):
            lines[str(label)] = (list(range(1, len(ys) + 1)), ys)
        elif isinstance(ys, dict):
            lines[str(label)] = (list(ys), list(ys.values()))
    return lines, {}


def series_figure(title: str, name: str, value: Any, headline: str) -> Figure | Sentence | None:
    raw, opts = series_lines(value)
    info = describe(name)
    lines = []
    for label, (xs, ys) in raw.items():
        if len(xs) != len(ys):
            continue
        points = [(_num(x), float(y)) for x, y in zip(xs, ys, strict=True) if is_number(y)]
        if points:
            lines.append(Line(label or info.label, [x for x, _ in points],
                              [y for _, y in points], headline=label == headline))
    if not lines:
        return None
    xlabel = opts.get("xlabel") or info.xlabel or "step"
    ylabel = opts.get("ylabel") or axis_label(info)
    if (said := _degenerate(title, ylabel, xlabel, lines, info)) is not None:
        return said
    lines = _headline_last(lines)
    return Figure(title, xlabel, ylabel, lines, better_sentence(info), info.definition,
                  log=bool(opts.get("log")), notes=_coinciding(lines))


# -- recall@k ---------------------------------------------------------------------------------
def recall_figure(suite: str, metrics: dict[str, Any], headline: str) -> Figure | Sentence | None:
    variants = {str(k): v for k, v in (metrics.get("by_variant") or {}).items()
                if isinstance(v, dict)}
    curves: dict[str, list[tuple[int, float]]] = {}
    top, baseline = _recall_points(metrics, False), _recall_points(metrics, True)
    for name, values in variants.items():
        if len(points := _recall_points(values, False)) >= 2:
            curves[name] = points
    if len(top) >= 2 and top not in curves.values():
        curves[headline or "chosen config"] = top
    if len(baseline) >= 2 and "baseline" not in curves:
        curves["baseline"] = baseline
    if not curves:
        return None
    lines = [Line(name, [k for k, _ in pts], [v for _, v in pts],
                  headline=name == headline or (name not in variants and name != "baseline"))
             for name, pts in curves.items()]
    info = describe("recall@k")
    title = f"{suite}: recall@k"
    if (said := _degenerate(title, "recall@k", "k", lines, info)) is not None:
        return said
    lines = _headline_last(lines)
    return Figure(title, axis_label(describe("k")), axis_label(info), lines,
                  better_sentence(info), info.definition, notes=_coinciding(lines),
                  ylim=(0.0, 1.02))


def _recall_points(values: dict[str, Any], baseline: bool) -> list[tuple[int, float]]:
    return sorted((int(m.group(2)), float(v)) for k, v in values.items()
                  if (m := RECALL_KEY.match(k)) and bool(m.group(1)) == baseline
                  and is_number(v))


# -- trade-offs: a score against what it costs -------------------------------------------------
def tradeoff_figure(suite: str, metrics: dict[str, Any], headline: str, score: str,
                    costs: tuple[str, ...]) -> Figure | Sentence | None:
    """`score` (y) against the first of `costs` (x) that two or more configurations report,
    one point per variant and ablation cell."""
    variants = {str(k): _scalars(v) for k, v in (metrics.get("by_variant") or {}).items()
                if isinstance(v, dict)}
    points: dict[str, dict[str, Any]] = {}
    if headline not in variants:  # else the top level repeats the headline variant
        points[headline or "base"] = _scalars(metrics)
    points.update(variants)
    points.update({str(k): _scalars(v.get("metrics") or {})
                   for k, v in (metrics.get("ablations") or {}).items() if isinstance(v, dict)})

    def usable(cost: str) -> dict[str, tuple[float, float]]:
        return {n: (float(p[cost]), float(p[score])) for n, p in points.items()
                if is_number(p.get(cost)) and is_number(p.get(score))}

    cost = next((k for k in costs if len(usable(k)) >= 2), None)
    if cost is None:
        return None
    pairs = usable(cost)
    y_info, x_info = describe(score), describe(cost)
    title = f"{suite}: {score} vs {cost}"
    definition = f"{y_info.definition} {x_info.definition}"
    if len({c for c, _ in pairs.values()}) == 1 or len({s for _, s in pairs.values()}) == 1:
        text = "; ".join(_spread(key, info, {n: v[i] for n, v in pairs.items()})
                         for key, info, i in ((score, y_info, 1), (cost, x_info, 0)))
        return Sentence(title, text + ".", definition)
    lines = _headline_last([Line(n, [c], [s], headline=n == headline)
                            for n, (c, s) in pairs.items()])
    return Figure(title, axis_label(x_info), axis_label(y_info), lines,
                  _tradeoff_better(y_info, x_info), definition, kind="scatter",
                  notes=_coinciding(lines))


def _tradeoff_better(y: MetricInfo, x: MetricInfo) -> str:
    vertical = {"higher": "up", "lower": "down"}.get(y.better)
    horizontal = {"higher": "right", "lower": "left"}.get(x.better)
    if vertical and horizontal:
        return (f"Up and to the {horizontal} is better: {y.better} {y.label} at {x.better} "
                f"{x.label}." if vertical == "up" else
                f"Down and to the {horizontal} is better: {y.better} {y.label} at {x.better} "
                f"{x.label}.")
    return better_sentence(y)


def _spread(key: str, info: MetricInfo, values: dict[str, float]) -> str:
    """'success is 1.000 for every configuration' or 'x ranges from A (n) to B (m)'."""
    decimals = decimals_for(list(values.values()), info.unit == "share")
    if len(set(values.values())) == 1:
        return (f"{key} is {format_value(next(iter(values.values())), decimals)} for all "
                f"{len(values)} configurations")
    low = min(values, key=lambda n: values[n])
    high = max(values, key=lambda n: values[n])
    return (f"{key} ranges from {format_value(values[low], decimals)} ({low}) to "
            f"{format_value(values[high], decimals)} ({high})")


# -- shared -----------------------------------------------------------------------------------
def _degenerate(title: str, ylabel: str, xlabel: str, lines: list[Line],
                info: MetricInfo) -> Sentence | None:
    """A Sentence when the plot would be flat (every y equal) or a single point."""
    ys = [y for line in lines for y in line.ys]
    share = info.unit == "share"
    if len(set(ys)) == 1:
        scope = "every configuration" if len(lines) > 1 else lines[0].label or "the run"
        where = f" at every {xlabel}" if any(len(line.xs) > 1 for line in lines) else ""
        value = format_value(ys[0], decimals_for(ys, share))
        return Sentence(title, f"{ylabel} is {value} for {scope}{where}.", info.definition)
    if all(len(line.xs) == 1 for line in lines):
        at = {line.label: line.xs[0] for line in lines}
        same_x = len({str(x) for x in at.values()}) == 1
        text = _spread(ylabel, info, {line.label: line.ys[0] for line in lines})
        where = f" at {xlabel} {at[lines[0].label]}" if same_x else ""
        return Sentence(title, f"{text}{where} (one point per line, nothing to draw a line "
                               f"through).", info.definition)
    return None


def _headline_last(lines: list[Line]) -> list[Line]:
    return [line for line in lines if not line.headline] + \
        [line for line in lines if line.headline]


def _coinciding(lines: list[Line]) -> list[str]:
    """Notes naming lines drawn exactly on top of each other."""
    groups: dict[tuple, list[str]] = {}
    for line in lines:
        groups.setdefault((tuple(map(str, line.xs)), tuple(line.ys)), []).append(line.legend)
    return [f"{', '.join(names[:-1])} and {names[-1]} coincide (same values everywhere); "
            f"the one drawn on top hides the others." for names in groups.values()
            if len(names) > 1]


def _scalars(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if is_number(v) or isinstance(v, bool)}


def _num(x: Any) -> Any:
    try:
        return float(x)
    except (TypeError, ValueError):
        return str(x)
