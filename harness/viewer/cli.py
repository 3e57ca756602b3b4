"""`harness view RUN.jsonl --html OUT.html` and `harness view DIR --html OUT_DIR`."""

from __future__ import annotations

from pathlib import Path

from harness._console import EXIT_OK, UsageError, read_trajectory


def write_pages(source: str, out: str) -> int:
    """Write the page of the run at `source`, or, for a folder, a page per `*.jsonl` under
    it and an index page; print where. Unreadable lines are warned about on stderr (by
    `read_trajectory`) and named on the page."""
    from harness.viewer.files import write_html, write_index

    path, target = Path(source), Path(out)
    if path.is_dir():
        if target.is_file():
            raise UsageError(f"{out}: is a file; a folder of runs needs a folder to write to")
        print(write_index(path, target))
        return EXIT_OK
    trajectory = read_trajectory(path)
    if target.is_dir():
        target = target / f"{path.stem}.html"
    print(write_html(trajectory, target, title=path.name))
    return EXIT_OK
