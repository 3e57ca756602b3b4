"""Writing pages: one run's page, or a folder of runs with an index page linking them."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from harness.events import Trajectory, TrajectoryError, TrajectoryReadWarning
from harness.viewer.page import badge, document, esc, money, status_badge
from harness.viewer.render import render_run
from harness.viewer.steps import group


def read_quietly(path: str | os.PathLike[str]) -> Trajectory:
    """The trajectory at `path`; unreadable lines are kept in `problems` (the page names
    them) rather than warned about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoryReadWarning)
        return Trajectory.read(path)


def write_html(trajectory: Trajectory | str | os.PathLike[str], out: str | os.PathLike[str],
               *, title: str | None = None, index_href: str | None = None) -> Path:
    """Write the page of one run (a `Trajectory` or the path of its JSONL) to `out`."""
    if not isinstance(trajectory, Trajectory):
        title = title or Path(trajectory).name
        trajectory = read_quietly(trajectory)
    return _write(Path(out), render_run(trajectory, title=title, index_href=index_href))


@dataclass
class IndexRow:
    """One run on the index page."""

    name: str
    href: str
    task: str
    status: str | None
    steps: int
    tokens: int
    cost_usd: float | None
    problems: int
    error: str = ""


def write_index(runs: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
    """Write a page for every `*.jsonl` under the folder `runs` (at the same relative path
    under `out_dir`, `.html` for `.jsonl`) and `out_dir/index.html` linking them with each
    run's status, steps and tokens. A file that cannot be read is listed with its error.
    Returns the index page's path."""
    root, out = Path(runs), Path(out_dir)
    if not root.is_dir():
        raise TrajectoryError(f"{root}: not a folder")
    rows = []
    for path in sorted(root.rglob("*.jsonl")):
        rel = path.relative_to(root)
        page = out / rel.with_suffix(".html")
        href = rel.with_suffix(".html").as_posix()
        back = "../" * (len(rel.parts) - 1) + "index.html"
        try:
            trajectory = read_quietly(path)
        except TrajectoryError as exc:
            rows.append(IndexRow(rel.as_posix(), "", "", None, 0, 0, None, 0, str(exc)))
            continue
        write_html(trajectory, page, title=rel.as_posix(), index_href=back)
        run = group(trajectory)
        task = run.start.task if run.start else ""
        rows.append(IndexRow(rel.as_posix(), href, _first_line(task), run.finish.status if run.finish else None,
                             run.model_steps, run.tokens, run.cost_usd,
                             len(trajectory.problems)))
    return _write(out / "index.html", render_index(rows, title=f"runs in {root}"))


def render_index(rows: list[IndexRow], *, title: str) -> str:
    """The index page: a table of runs, each linking its page."""
    body = []
    for row in rows:
        name = (f'<a href="{esc(row.href)}">{esc(row.name)}</a>' if row.href
                else esc(row.name))
        note = f" {badge(f'{row.problems} bad line(s)', 'warn')}" if row.problems else ""
        if row.error:
            note = f' {badge("unreadable", "bad")} <span class="muted">{esc(row.error)}</span>'
        body.append(f"<tr><td>{name}{note}</td><td class=\"task\">{esc(row.task)}</td>"
                    f"<td>{status_badge(row.status)}</td>"
                    f'<td class="num">{row.steps}</td><td class="num">{row.tokens:,}</td>'
                    f'<td class="num">{esc(money(row.cost_usd))}</td></tr>')
    table = ('<table class="runs"><thead><tr><th>run</th><th>task</th><th>status</th>'
             '<th class="num">steps</th><th class="num">tokens</th><th class="num">cost</th>'
             f'</tr></thead><tbody>{"".join(body)}</tbody></table>')
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status or "unfinished"] = counts.get(row.status or "unfinished", 0) + 1
    summary = " · ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    head = (f'<div class="card"><h1>{esc(title)}</h1><div class="muted">{len(rows)} run(s)'
            f"{esc(' · ' + summary if summary else '')}</div></div>")
    empty = '<p class="muted">No *.jsonl files here.</p>' if not rows else ""
    return document(title, head + table + empty)


def _first_line(text: str, limit: int = 90) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _write(path: Path, text: str) -> Path:
    """Write `text` whole or not at all: an earlier page stays until the new one is done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
