"""`report.html`: one self-contained page for a bench run — tables and matplotlib plots,
embedded as base64 PNGs so the page opens offline.

Plots come from what the suites recorded:
- `series[NAME]`: `{"x": [...], "y": {LABEL: [...]}, "xlabel", "ylabel", "log"}`, or
  `{LABEL: [y, ...]}` (x = 1, 2, ...), or `{LABEL: {x: y}}`: one line per label;
- `recall@K` metrics (top level and per variant): recall@k curves;
- `success` against a cost figure, per variant and ablation cell.
matplotlib (the `report` extra) is imported only here; without it the page has tables only.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

RECALL_KEY = re.compile(r"^recall@(\d+)$")
COST_KEYS = ("cost_usd", "tokens_per_solved_task", "tokens_per_step", "tokens", "steps")
MAX_ROWS = 200

CSS = """
body{font:14px/1.45 system-ui,-apple-system,sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f5f5f5}
.meta{color:#666}.pos{color:#1a7f37}.neg{color:#c0392b}
.plots{display:flex;flex-wrap:wrap;gap:1em}.plots img{max-width:520px;border:1px solid #eee}
details{margin:.5em 0 1.5em}code{background:#f5f5f5;padding:0 .2em}
.scroll{overflow-x:auto}
"""
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def _colours(record: dict[str, Any]) -> dict[str, str]:
    """One colour per variant name, the same in every plot of a suite's section."""
    names = set(record.get("metrics", {}).get("by_variant") or {})
    for value in (record.get("series") or {}).values():
        names.update(str(k) for k in _series_lines(value)[0])
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(sorted(names))}


def write_report(records: list[dict[str, Any]], path: str | Path,
                 skipped: dict[str, str] | None = None) -> Path:
    """Write the HTML report for the given `results.json` payloads (and the suites that
    were skipped, with the reason)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(records, skipped), encoding="utf-8")
    return path


def render(records: list[dict[str, Any]], skipped: dict[str, str] | None = None) -> str:
    plt = _pyplot()
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             "<title>harness bench report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>harness bench report</h1>"]
    if plt is None:
        parts.append("<p class='meta'>matplotlib is not installed (pip install "
                     "'harness[report]'): tables only.</p>")
    parts.append(_overview(records))
    if skipped:
        parts.append("<p class='meta'>skipped: " + "; ".join(
            f"<b>{_e(n)}</b> ({_e(why)})" for n, why in skipped.items()) + "</p>")
    for record in records:
        parts.append(_section(record, plt))
    parts.append("</body></html>")
    return "\n".join(parts)


# -- sections ---------------------------------------------------------------------------------
def _overview(records: list[dict[str, Any]]) -> str:
    rows = []
    for r in records:
        headline = ", ".join(f"{k} {_fmt(v)}" for k, v in _scalars(r.get("metrics", {})).items())
        rows.append([f"<a href='#{_e(r['suite'])}'>{_e(r['suite'])}</a>", _e(r.get("config")),
                     str(r.get("cases", "")), _e(headline[:300])])
    return _table(["suite", "config", "cases", "figures"], rows)


def _section(record: dict[str, Any], plt: Any) -> str:
    metrics = record.get("metrics", {})
    versions = ", ".join(f"{k} {v}" for k, v in record.get("versions", {}).items())
    out = [f"<h2 id='{_e(record['suite'])}'>{_e(record['suite'])}</h2>",
           f"<p class='meta'>config <code>{_e(record.get('config'))}</code> · model "
           f"<code>{_e(record.get('model') or 'offline')}</code> · seed {record.get('seed')} · "
           f"repeat {record.get('repeat', 1)} · {record.get('cases')} cases · "
           f"{record.get('timings', {}).get('elapsed_s', 0):.1f}s · {_e(versions)}</p>"]
    if record.get("composition"):
        comp = record["composition"]
        out.append("<p class='meta'>composition: " + _e(", ".join(
            f"{k} {comp[k]['variant']}" for k in ("context", "memory", "skills", "governor")
            if k in comp)) + "</p>")
    out.append(_table(["metric", "value"], [[_e(k), _fmt(v)] for k, v in metrics.items()
                                             if k not in ("by_variant", "ablations")
                                             and not isinstance(v, dict)]))
    variants = metrics.get("by_variant") or {}
    if variants:
        out.append("<h3>by variant</h3>" + _grid_table("variant", variants))
    ablations = metrics.get("ablations") or {}
    if ablations:
        out.append("<h3>ablations against the base config</h3>" + _ablation_table(
            _scalars(metrics), ablations))
    images = [img for img in _plots(record, plt) if img]
    if images:
        out.append("<div class='plots'>" + "".join(
            f"<img alt='{_e(title)}' title='{_e(title)}' src='data:image/png;base64,{data}'>"
            for title, data in images) + "</div>")
    rows = record.get("rows") or []
    if rows:
        keys = list(dict.fromkeys(k for row in rows[:MAX_ROWS] for k in row))
        shown = f"first {MAX_ROWS} of {len(rows)}" if len(rows) > MAX_ROWS else str(len(rows))
        out.append(f"<details><summary>per-task rows ({shown})</summary>" + _table(
            keys, [[_fmt(row.get(k)) for k in keys] for row in rows[:MAX_ROWS]]) + "</details>")
    return "\n".join(out)


def _grid_table(first: str, variants: dict[str, dict[str, Any]]) -> str:
    keys = list(dict.fromkeys(k for v in variants.values() for k in _scalars(v)))
    return _table([first, *keys], [[_e(n), *(_fmt(v.get(k)) for k in keys)]
                                   for n, v in variants.items()])


def _ablation_table(base: dict[str, float], ablations: dict[str, Any]) -> str:
    keys = list(base)
    rows = [["base", *(_fmt(base[k]) for k in keys)]]
    for name, cell in ablations.items():
        vals, delta = cell.get("metrics", {}), cell.get("delta", {})
        rows.append([_e(name), *(_fmt(vals.get(k)) + _delta_html(delta.get(k)) for k in keys)])
    return _table(["cell", *keys], rows)


def _delta_html(d: float | None) -> str:
    if not d:
        return ""
    return f" <span class='{'pos' if d > 0 else 'neg'}'>({d:+.3g})</span>"


# -- plots ------------------------------------------------------------------------------------
def _plots(record: dict[str, Any], plt: Any) -> list[tuple[str, str] | None]:
    if plt is None:
        return []
    suite, colours = record["suite"], _colours(record)
    images = [_series_plot(plt, f"{suite}: {name}", value, colours)
              for name, value in (record.get("series") or {}).items()]
    images.append(_recall_plot(plt, suite, record.get("metrics", {}), colours))
    images.append(_success_cost_plot(plt, suite, record.get("metrics", {}), colours))
    return images


def _series_lines(value: Any) -> tuple[dict[str, tuple[list, list]], dict[str, Any]]:
    """Normalise the accepted series shapes into {label: (xs, ys)} plus options."""
    if isinstance(value, list):
        value = {"": value}
    if not isinstance(value, dict):
        return {}, {}
    if "y" in value and isinstance(value["y"], dict):
        xs = list(value.get("x") or [])
        lines = {k: (xs or list(range(1, len(ys) + 1)), list(ys)) for k, ys in value["y"].items()}
        return lines, value
    lines = {}
    for label, ys in value.items():
        if isinstance(ys, list) and all(isinstance(y, int | float) for y in ys):
            lines[label] = (list(range(1, len(ys) + 1)), ys)
        elif isinstance(ys, dict):
            lines[label] = (list(ys), list(ys.values()))
    return lines, {}


def _series_plot(plt: Any, title: str, value: Any,
                 colours: dict[str, str]) -> tuple[str, str] | None:
    lines, opts = _series_lines(value)
    lines = {k: (xs, ys) for k, (xs, ys) in lines.items() if ys and len(xs) == len(ys)}
    if not lines:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, (xs, ys) in lines.items():
        clean = [(x, y) for x, y in zip(xs, ys, strict=True) if isinstance(y, int | float)]
        ax.plot([_num(x) for x, _ in clean], [y for _, y in clean], marker="o",
                markersize=3, label=str(label) or None, color=colours.get(str(label)))
    if opts.get("log"):
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(opts.get("xlabel", "step"))
    ax.set_ylabel(opts.get("ylabel", title.split(": ")[-1]))
    return _finish(plt, fig, ax, title, legend=len(lines) > 1)


def _recall_plot(plt: Any, suite: str, metrics: dict[str, Any],
                 colours: dict[str, str]) -> tuple[str, str] | None:
    curves = {}
    for name, values in {"default": metrics, **(metrics.get("by_variant") or {})}.items():
        points = sorted((int(m.group(1)), v) for k, v in values.items()
                        if (m := RECALL_KEY.match(k)) and isinstance(v, int | float))
        if len(points) >= 2:
            curves[name] = points
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, points in curves.items():
        ax.plot([k for k, _ in points], [v for _, v in points], marker="o", label=name,
                color=colours.get(name))
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.02)
    return _finish(plt, fig, ax, f"{suite}: recall@k", legend=len(curves) > 1)


def _success_cost_plot(plt: Any, suite: str, metrics: dict[str, Any],
                       colours: dict[str, str]) -> tuple[str, str] | None:
    variants = {k: _scalars(v) for k, v in (metrics.get("by_variant") or {}).items()}
    base = _scalars(metrics)
    repeated = any(all(v.get(k) == base.get(k) for k in ("success", *COST_KEYS))
                   for v in variants.values())
    points = {} if repeated else {"base": base}  # the base usually is one of the variants
    points.update(variants)
    points.update({k: v.get("metrics", {}) for k, v in (metrics.get("ablations") or {}).items()})
    if len(points) < 2:
        return None
    cost = next((k for k in COST_KEYS if sum(k in p for p in points.values()) >= 2), None)
    if cost is None or sum("success" in p for p in points.values()) < 2:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, p in points.items():
        if isinstance(p.get(cost), int | float) and isinstance(p.get("success"), int | float):
            ax.scatter(p[cost], p["success"], label=name, color=colours.get(name), s=36)
    ax.set_xlabel(cost)
    ax.set_ylabel("success")
    return _finish(plt, fig, ax, f"{suite}: success vs {cost}", legend=True)


def _finish(plt: Any, fig: Any, ax: Any, title: str, legend: bool) -> tuple[str, str]:
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return title, base64.b64encode(buf.getvalue()).decode("ascii")


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# -- html helpers -----------------------------------------------------------------------------
def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<div class='scroll'><table><tr>{th}</tr>{body}</table></div>"


def _scalars(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if isinstance(v, int | float) or v is None}


def _num(x: Any) -> Any:
    try:
        return float(x)
    except (TypeError, ValueError):
        return str(x)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return _e(str(value)[:120])
    return _e(str(value))


def _e(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)
