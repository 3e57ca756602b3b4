"""Draws a report `Figure` with matplotlib (the `report` extra, imported lazily) into a PNG.

The headline line is drawn last, thick, black and on top of everything; the other lines
vary colour, marker and dash so that lines that cross or coincide stay distinguishable.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from harness.bench._report_figures import Figure

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
DASHES = ("-", "--", "-.", ":")
HEADLINE_COLOUR = "#000000"
DPI = 130
NAMED_POINTS = 6
"""Up to this many points of a scatter plot carry their name beside them (more would
overlap; the legend names them all)."""
LEGEND_BELOW_AT = 4
"""With this many lines or more the legend goes below the plot, not over the data."""


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def colours(labels: list[str]) -> dict[str, str]:
    """One colour per label (sorted, so a variant keeps its colour in every plot of a suite)."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(sorted(set(labels)))}


def draw(ax: Any, figure: Figure, palette: dict[str, str] | None = None) -> None:
    """Draw `figure` on a matplotlib Axes: lines in order (the headline last), title, axis
    labels, scale and legend."""
    palette = palette or colours([line.label for line in figure.lines])
    for i, line in enumerate(figure.lines):
        style: dict[str, Any] = (
            {"color": HEADLINE_COLOUR, "linewidth": 2.6, "marker": "*", "markersize": 11,
             "zorder": 10} if line.headline else
            {"color": palette.get(line.label, PALETTE[i % len(PALETTE)]), "linewidth": 1.5,
             "marker": MARKERS[i % len(MARKERS)], "markersize": 5, "alpha": 0.9,
             "zorder": 2 + i / 100})
        if figure.kind == "scatter":
            ax.scatter(line.xs, line.ys, label=line.legend, color=style["color"],
                       marker=style["marker"], s=(style["markersize"] + 3) ** 2 * 1.3,
                       zorder=style["zorder"], edgecolors="white", linewidths=0.6)
        else:
            ax.plot(line.xs, line.ys, label=line.legend,
                    linestyle="-" if line.headline else DASHES[i % len(DASHES)], **style)
    if figure.kind == "scatter":
        if len(figure.lines) <= NAMED_POINTS:
            _name_points(ax, figure)
        ax.margins(0.12)
    if figure.log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        from matplotlib.ticker import FuncFormatter

        for axis in (ax.xaxis, ax.yaxis):  # 1.25M rather than 1.25 and a "1e6" offset
            axis.set_major_formatter(FuncFormatter(_tick))
    if figure.ylim is not None:
        ax.set_ylim(*figure.ylim)
    if not figure.log and all(isinstance(x, float) and x.is_integer()
                              for line in figure.lines for x in line.xs):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.set_title(figure.title, fontsize=12, loc="left")
    ax.set_xlabel(figure.xlabel, fontsize=11)
    ax.set_ylabel(figure.ylabel, fontsize=11)
    ax.tick_params(labelsize=10)
    ax.grid(alpha=0.3)
    labelled = [line for line in figure.lines if line.label]
    if len(labelled) > 1 or any(line.headline for line in labelled):
        below = len(labelled) >= LEGEND_BELOW_AT
        ax.legend(fontsize=9, frameon=not below, framealpha=0.85, **(
            {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2),
             "ncol": min(3, len(labelled))} if below else {}))


def _tick(value: float, _pos: Any) -> str:
    """Short tick labels: 1.2M, 150k, 2,500, 0.25."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:,.0f}" if size >= 1000 else f"{value:g}"


def _name_points(ax: Any, figure: Figure) -> None:
    """Write each point's name beside it (points at the same place share one label)."""
    names: dict[tuple[Any, float], list[str]] = {}
    for line in figure.lines:
        for x, y in zip(line.xs, line.ys, strict=True):
            names.setdefault((x, y), []).append(line.label)
    for (x, y), labels in names.items():
        ax.annotate(", ".join(labels), (x, y), textcoords="offset points", xytext=(7, 5),
                    fontsize=8, color="#333", zorder=20)


def render_png(plt: Any, figure: Figure, palette: dict[str, str] | None = None) -> str:
    """`figure` as a base64 PNG."""
    entries = sum(bool(line.label) for line in figure.lines)
    legend_rows = -(-entries // 3) if entries >= LEGEND_BELOW_AT else 0
    fig, ax = plt.subplots(figsize=(6.4, 3.9 + 0.28 * legend_rows))
    try:
        draw(ax, figure, palette)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
