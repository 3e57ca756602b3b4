"""`report.html`: one self-contained page for a bench run, readable on its own.

Per suite: the run's settings, its figures with what each means and which direction is
better, variants and ablation cells side by side, breakdowns, plots and per-task rows.
Every plot carries a title, axis labels with units, a "better" line and its metric's
definition (`_report_metrics`); the headline configuration is drawn last and labelled; a
plot with one point or every point equal is said in a sentence instead (`_report_figures`).
Plots are PNGs embedded as base64 and the style is inline, so the page opens offline.
matplotlib (the `report` extra) is imported only when plotting; without it, tables only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bench._report_draw import colours, pyplot, render_png
from harness.bench._report_figures import (
    Figure,
    Sentence,
    figures,
    headline_of,
    series_lines,
)
from harness.bench._report_format import escape, format_value, wrappable
from harness.bench._report_metrics import describe
from harness.bench._report_tables import (
    ablation_table,
    breakdown_tables,
    format_metric,
    grid_table,
    metric_table,
    rows_table,
    scalar_metrics,
    table,
    unsuffixed,
)

MAX_ROWS = 200
OVERVIEW_FIGURES = 4

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;
max-width:1120px;color:#1d1d1f;padding:0 1.2em}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2.4em;border-bottom:2px solid #ddd;
padding-bottom:.2em}h3{margin:1.6em 0 .4em;font-size:1.05em}
.meta{color:#555}.unit{color:#777;font-size:.85em}code{background:#f3f3f3;padding:0 .25em;
border-radius:3px}
.scroll{overflow-x:auto;width:fit-content;max-width:100%;margin:.5em 0 1em;border:1px solid #e4e4e4;
border-radius:4px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.92em}
caption{text-align:left;padding:.3em .6em;color:#555}
th,td{border-bottom:1px solid #eee;padding:.3em .7em;vertical-align:top}
th{background:#f6f6f6;text-align:left;font-weight:600;min-width:4.5em;max-width:14em;
overflow-wrap:break-word}
th.num,td.num{text-align:right}td.num{white-space:nowrap}
td.text{min-width:6em;max-width:34em;overflow-wrap:anywhere}
tbody tr:hover{background:#fafafa}
.pos{color:#1a7f37}.neg{color:#c0392b}
.tag{font-size:.75em;background:#111;color:#fff;border-radius:3px;padding:0 .35em;
margin-left:.3em;vertical-align:1px}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(500px,1fr));gap:1.2em;
margin:1em 0}
figure{margin:0;align-self:start;border:1px solid #e4e4e4;border-radius:4px;padding:.6em .8em;background:#fff}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#333;margin-top:.4em}figcaption .better{font-weight:600}
figcaption .note{color:#8a5a00}
figure.sentence p{font-size:1.02em;margin:.3em 0}figure.sentence h4{margin:.1em 0 .3em}
details{margin:.5em 0 1.5em}summary{cursor:pointer;color:#333}
details.legend{margin:-.5em 0 1em;font-size:.88em}details.legend ul{margin:.3em 0}
"""


def write_report(records: list[dict[str, Any]], path: str | Path,
                 skipped: dict[str, str] | None = None) -> Path:
    """Write the HTML report for the given `results.json` payloads (and the suites that
    were skipped, with the reason)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(records, skipped), encoding="utf-8")
    return path


def render(records: list[dict[str, Any]], skipped: dict[str, str] | None = None) -> str:
    """The report page as one HTML string (no external resources)."""
    plt = pyplot()
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width,initial-scale=1'>",
             "<title>harness bench report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>harness bench report</h1>"]
    if plt is None:
        parts.append("<p class='meta'>matplotlib is not installed (pip install "
                     "'harness[report]'): tables only, no plots.</p>")
    parts.append(_overview(records))
    if skipped:
        names = ", ".join(f"<b>{escape(n)}</b>" for n in skipped)
        parts.append(f"<details class='skipped'><summary>skipped: {names} (why)</summary>"
                     + table(["suite", "why it was skipped"],
                             [[escape(n), escape(why)] for n, why in skipped.items()],
                             [False, False]) + "</details>")
    parts.extend(_section(record, plt) for record in records)
    parts.append("</body></html>")
    return "\n".join(parts)


# -- sections ---------------------------------------------------------------------------------
def _overview(records: list[dict[str, Any]]) -> str:
    rows = []
    for r in records:
        figures_ = scalar_metrics(unsuffixed(r.get("metrics") or {}))
        # the run's own scores first: a baseline's or a count of cases says less
        ranked = sorted(figures_.items(), key=lambda kv: (
            kv[0].startswith(("baseline_", "gain_")), describe(kv[0]).better == "neither"))
        shown = ranked[:OVERVIEW_FIGURES]
        more = len(figures_) - len(shown)
        text = "; ".join(f"{escape(k)} <b>{format_metric(k, v)}</b>"
                         for k, v in shown) + (f"; … {more} more" if more > 0 else "")
        suite = escape(r.get("suite"))
        rows.append([f"<a href='#{suite}'>{wrappable(r.get('suite'))}</a>",
                     wrappable(r.get("config")), format_value(r.get("cases")), text])
    return table(["suite", "headline config", "cases", "headline figures"], rows,
                 [False, False, True, False])


def _section(record: dict[str, Any], plt: Any) -> str:
    metrics = record.get("metrics") or {}
    suite, config = escape(record.get("suite")), str(record.get("config") or "")
    headline = headline_of(record)
    elapsed = (record.get("timings") or {}).get("elapsed_s", 0) or 0
    versions = ", ".join(f"{k} {v}" for k, v in (record.get("versions") or {}).items())
    out = [f"<h2 id='{suite}'>{suite}</h2>",
           f"<p class='meta'>headline config <code>{escape(config)}</code>"
           + (f" (variant <code>{escape(headline)}</code>)" if headline != config else "")
           + " · model "
           f"<code>{escape(record.get('model') or 'offline')}</code> · seed "
           f"{escape(record.get('seed'))} · repeat {escape(record.get('repeat', 1))} · "
           f"{escape(record.get('cases'))} cases · {float(elapsed):.1f} s"
           + (f" · {escape(versions)}" if versions else "") + "</p>"]
    if record.get("data"):
        out.append(f"<p class='meta'>data <code>{escape(record['data'])}</code></p>")
    if record.get("composition"):
        comp = record["composition"]
        out.append("<p class='meta'>composition: " + escape(", ".join(
            f"{k} {comp[k]['variant']}" for k in ("context", "memory", "skills", "governor")
            if isinstance(comp.get(k), dict) and "variant" in comp[k])) + "</p>")
    top = unsuffixed(metrics)
    hidden = len(metrics) - len(top)
    out.append(f"<h3>figures of <code>{escape(config)}</code></h3>" + metric_table(
        {k: v for k, v in top.items() if not isinstance(v, dict)}))
    if hidden:
        out.append(f"<p class='meta'>{hidden} per-size copies of these figures "
                   f"(<code>KEY@SIZE</code>) are in the breakdown below.</p>")
    variants = metrics.get("by_variant") or {}
    if variants:
        out.append("<h3>by variant</h3>" + grid_table("variant", variants, headline))
    ablations = metrics.get("ablations") or {}
    if ablations:
        out.append("<h3>ablations against the base config</h3>" + ablation_table(
            scalar_metrics(metrics), ablations))
    out.extend(f"<h3>{escape(name.replace('_', ' '))}</h3>{html}"
               for name, html in breakdown_tables(metrics))
    plots = _plots(record, plt)
    if plots:
        out.append("<h3>plots</h3><div class='plots'>" + "".join(plots) + "</div>")
    rows = record.get("rows") or []
    if rows:
        shown = f"first {MAX_ROWS} of {len(rows)}" if len(rows) > MAX_ROWS else str(len(rows))
        out.append(f"<details><summary>per-task rows ({shown})</summary>"
                   f"{rows_table(rows, MAX_ROWS)}</details>")
    return "\n".join(out)


def _plots(record: dict[str, Any], plt: Any) -> list[str]:
    items = figures(record)
    if plt is None:  # sentences need no matplotlib
        return [_sentence_html(f) for f in items if isinstance(f, Sentence)]
    palette = colours(_labels(record) + [line.label for f in items
                                         if isinstance(f, Figure) for line in f.lines])
    return [_figure_html(f, render_png(plt, f, palette)) if isinstance(f, Figure)
            else _sentence_html(f) for f in items]


def _figure_html(figure: Figure, png: str) -> str:
    alt = f"{figure.title}. x: {figure.xlabel}; y: {figure.ylabel}"
    notes = "".join(f"<br><span class='note'>{escape(n)}</span>" for n in figure.notes)
    return (f"<figure><img alt='{escape(alt)}' src='data:image/png;base64,{png}'>"
            f"<figcaption><span class='better'>{escape(figure.better)}</span> "
            f"{escape(figure.definition)}{notes}</figcaption></figure>")


def _sentence_html(sentence: Sentence) -> str:
    return (f"<figure class='sentence'><h4>{escape(sentence.title)}</h4>"
            f"<p>{escape(sentence.text)}</p><figcaption>{escape(sentence.definition)}"
            f"</figcaption></figure>")


def _labels(record: dict[str, Any]) -> list[str]:
    """Every variant or line name of a suite, so that each keeps one colour in its plots."""
    metrics = record.get("metrics") or {}
    names = [str(n) for n in (metrics.get("by_variant") or {})]
    names += [str(n) for n in (metrics.get("ablations") or {})]
    for value in (record.get("series") or {}).values():
        names += list(series_lines(value)[0])
    return names
