"""The page around the content: inline CSS and a few lines of JS, nothing fetched, so a
page opens offline from a file. Every piece of text reaches HTML through `esc`."""

from __future__ import annotations

import html
from typing import Any

STATUS_CLASSES = {"success": "ok", "answered": "answered", "failed": "bad",
                  "stopped": "stopped", "error": "bad"}

SECTION_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#eeca3b",
                   "#9d755d", "#ff9da6", "#bab0ac", "#e45756")

CSS = """
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f7f8fa; --card:#fff;
  --ok:#16794a; --okbg:#e7f6ee; --bad:#b42318; --badbg:#fdecea; --warn:#9a6700;
  --warnbg:#fff6db; --info:#175cd3; --infobg:#eaf1fe; --stop:#475467; --stopbg:#eef0f3; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
  color:var(--fg); background:var(--bg); }
main { max-width:1100px; margin:0 auto; padding:20px 24px 48px; }
h1 { font-size:20px; margin:0 0 4px; } h2 { font-size:15px; margin:0; }
a { color:var(--info); }
pre, code { font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
pre { margin:4px 0; padding:8px 10px; background:#f2f4f7; border-radius:6px;
  white-space:pre-wrap; overflow-wrap:anywhere; max-height:480px; overflow:auto; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:14px 16px; margin:12px 0; }
.muted { color:var(--muted); } .small { font-size:12px; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px;
  font-weight:600; vertical-align:1px; }
.b-ok { color:var(--ok); background:var(--okbg); } .b-bad { color:var(--bad); background:var(--badbg); }
.b-answered, .b-warn { color:var(--warn); background:var(--warnbg); }
.b-stopped { color:var(--stop); background:var(--stopbg); }
.b-info { color:var(--info); background:var(--infobg); }
.task { white-space:pre-wrap; font-size:15px; margin:8px 0; }
.totals { display:flex; flex-wrap:wrap; gap:8px 22px; margin-top:10px; }
.totals div b { display:block; font-size:16px; }
.totals div span { color:var(--muted); font-size:12px; }
.strip { display:flex; flex-wrap:wrap; gap:4px; margin-top:10px; }
.strip a { min-width:26px; text-align:center; padding:1px 6px; border-radius:5px;
  text-decoration:none; font-size:12px; background:var(--okbg); color:var(--ok); }
.strip a.s-bad { background:var(--badbg); color:var(--bad); }
.strip a.s-warn { background:var(--warnbg); color:var(--warn); }
details.step { background:var(--card); border:1px solid var(--line); border-radius:10px;
  margin:10px 0; }
details.step > summary { padding:10px 16px; cursor:pointer; display:flex; gap:12px;
  align-items:baseline; }
details.step > summary .figures { margin-left:auto; color:var(--muted); font-size:12px; }
.step-body { padding:0 16px 12px; }
.row { margin:8px 0; }
.label { font-size:11px; font-weight:700; text-transform:uppercase; letter-spacing:.04em;
  color:var(--muted); margin-right:6px; }
.bar { display:flex; height:14px; border-radius:4px; overflow:hidden; background:#eef0f3;
  margin:4px 0; }
.bar span { height:100%; }
.legend { display:flex; flex-wrap:wrap; gap:2px 14px; font-size:12px; color:var(--muted); }
.legend i { display:inline-block; width:9px; height:9px; border-radius:2px; margin-right:4px; }
.call { border-left:3px solid var(--line); padding:4px 0 4px 12px; margin:10px 0; }
.call.c-bad { border-color:var(--bad); } .call.c-ok { border-color:#9bd3b5; }
.call.c-warn { border-color:#f0c75e; }
.note { padding:6px 10px; border-radius:6px; margin:4px 0; }
.n-bad { background:var(--badbg); } .n-warn { background:var(--warnbg); }
.n-ok { background:var(--okbg); } .n-info { background:var(--infobg); }
pre.err { background:var(--badbg); color:var(--bad); }
.diff { padding:0; } .diff div { padding:0 10px; white-space:pre-wrap; overflow-wrap:anywhere; }
.diff .add { background:#e6ffec; } .diff .del { background:#ffebe9; }
.diff .hunk { color:var(--info); background:#f0f5ff; }
details.fold > summary { cursor:pointer; color:var(--muted); font-size:12px; }
table.runs { width:100%; border-collapse:collapse; background:var(--card);
  border:1px solid var(--line); }
table.runs td.task { color:var(--muted); }
table.runs th, table.runs td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); }
table.runs td.num, table.runs th.num { text-align:right; font-variant-numeric:tabular-nums; }
.tools { float:right; } .tools button { font-size:12px; margin-left:4px; }
"""

JS = """
function fold(open) { document.querySelectorAll('details').forEach(d => { d.open = open; }); }
"""


def esc(value: Any) -> str:
    """`value` as text that HTML shows and never runs."""
    return html.escape("" if value is None else str(value), quote=True)


def document(title: str, body: str) -> str:
    """A whole HTML page: `title` is plain text, `body` HTML built with `esc`."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main><script>{JS}</script></body></html>\n")


def badge(text: str, kind: str) -> str:
    return f'<span class="badge b-{kind}">{esc(text)}</span>'


def status_badge(status: str | None) -> str:
    if status is None:
        return badge("unfinished", "stopped")
    return badge(status, STATUS_CLASSES.get(status, "bad"))


def money(cost: float | None) -> str:
    return "cost ?" if cost is None else f"${cost:.4f}"


def millis(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def folded(text: str, *, limit_lines: int = 12, limit_chars: int = 1200, cls: str = "") -> str:
    """Text in a <pre>; a long one shows its first lines and folds the rest in <details>."""
    lines = text.splitlines()
    klass = f' class="{cls}"' if cls else ""
    if len(lines) <= limit_lines and len(text) <= limit_chars:
        return f"<pre{klass}>{esc(text)}</pre>"
    head = "\n".join(lines[:limit_lines])[:limit_chars]
    return (f"<pre{klass}>{esc(head)}</pre><details class=\"fold\"><summary>show all "
            f"{len(lines)} lines ({len(text):,} characters)</summary><pre{klass}>{esc(text)}"
            f"</pre></details>")
