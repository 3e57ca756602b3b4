"""Where downloaded data lives, and where it is downloaded from."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "HARNESS_DATA"
MIRROR_ENV = "HARNESS_DATA_MIRROR"
INCOMPLETE_MARKER = ".incomplete"
"""Present in a dataset folder while `harness data get` fills it; gone once every file is in."""


def data_home() -> Path:
    """`$HARNESS_DATA` if set, else `$XDG_CACHE_HOME/harness/data` (`~/.cache/harness/data`)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "harness" / "data"


def mirror() -> str | None:
    """`$HARNESS_DATA_MIRROR`: a base URL laid out like the upstream one, or None."""
    return os.environ.get(MIRROR_ENV) or None
