"""Reading a mapping from a TOML, YAML or JSON file, with errors that name the file."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

SUFFIXES = (".toml", ".yaml", ".yml", ".json")


class ConfigFileError(ValueError):
    """A config file is unreadable, not valid in its format, or not a mapping."""


def read_mapping(path: str | Path, what: str = "a config") -> dict[str, Any]:
    """The top-level mapping of a .toml, .yaml/.yml (or any other suffix: YAML) or .json file.
    An empty YAML file is an empty mapping; `what` names the file's role in errors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    kind = {".toml": "TOML", ".json": "JSON"}.get(path.suffix, "YAML")
    try:
        if kind == "TOML":
            data = tomllib.loads(text)
        elif kind == "JSON":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
            data = {} if data is None else data
    except Exception as exc:  # TOMLDecodeError, JSONDecodeError, yaml.YAMLError
        raise ConfigFileError(f"{path}: not valid {kind}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: {what} is a mapping of fields, got {type(data).__name__}")
    return data
