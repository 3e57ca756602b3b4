"""One file, one name: normalising the many ways a workspace path can be written."""

from __future__ import annotations

import posixpath


def normalize_path(path: str, workspace: str | None = None) -> str:
    """`./src/a.py`, `src//a.py`, `src/b/../a.py` and `<workspace>/src/a.py` all become
    `src/a.py`. A trailing `/` (a directory) is kept. Absolute paths outside the
    workspace stay absolute."""
    raw = path.strip().replace("\\", "/")
    is_dir = raw.endswith("/")
    p = posixpath.normpath(raw) if raw else ""
    if workspace and p.startswith("/"):
        root = posixpath.normpath(workspace.replace("\\", "/"))
        if p == root:
            p = "."
        elif p.startswith(root.rstrip("/") + "/"):
            p = p[len(root.rstrip("/")) + 1:]
    if p in ("", "."):
        return "./" if is_dir else "."
    return p + "/" if is_dir and not p.endswith("/") else p


def same_file(a: str, b: str) -> bool:
    """Whether two normalised paths name the same file. An absolute path matches a
    relative one when it ends with all of the relative path's components
    (`/x/src/a.py` ~ `src/a.py`), never by substring (`oauth.py` is not `auth.py`)."""
    if a == b:
        return True
    if a.startswith("/") == b.startswith("/"):
        return False
    absolute, relative = (a, b) if a.startswith("/") else (b, a)
    return absolute.endswith("/" + relative)


def binds(scope: str, path: str) -> bool:
    """Whether a decision's `scope` (a file, or a directory ending in '/') covers `path`."""
    if scope.endswith("/"):
        folder = scope.rstrip("/")
        if folder in ("", "."):
            return True
        if path.startswith(folder + "/"):
            return True
        return path.startswith("/") and ("/" + folder + "/") in path
    return same_file(scope, path)
