"""The HTML trajectory viewer: a recorded run as one self-contained page (`render_run`,
`write_html`), and a folder of runs with an index page (`write_index`). Used by
`harness view RUN.jsonl --html OUT.html` and `harness view DIR --html OUT_DIR`."""

from harness._lazy import lazy_exports

__all__ = ["render_run", "write_html", "write_index"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "render_run": "harness.viewer.render",
    "write_html": "harness.viewer.files",
    "write_index": "harness.viewer.files",
})
