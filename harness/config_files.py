"""Reading a mapping from a TOML, YAML or JSON file, within limits, with errors that name
the file and the line.

Limits (`MAX_BYTES`, `MAX_DEPTH`, `MAX_YAML_NODES`) keep a hostile or broken file from
exhausting memory or the stack: the parsers recurse once per level of nesting, and YAML
aliases can expand a small file into a huge value.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness._fast import nesting_depth, text_nesting_depth
from harness.errors import DataError

SUFFIXES = (".toml", ".yaml", ".yml", ".json")
MAX_BYTES = 1_000_000
"""The largest config file read."""
MAX_DEPTH = 32
"""The deepest mappings and lists may nest in a config file."""
MAX_YAML_NODES = 100_000
"""The most values a YAML document may hold, counting each alias as what it repeats."""


class ConfigFileError(DataError):
    """A config file is unreadable, over a limit, not valid in its format, or not a mapping.
    The message is `FILE: REASON (line N)` (the line where known); each part is also kept,
    as `source`, `reason` and `line`."""

    def __init__(self, source: str | Path, reason: str, line: int | None = None):
        super().__init__(f"{source}: {reason}" + ("" if line is None else f" (line {line})"))
        self.source, self.reason, self.line = str(source), reason, line


def read_mapping(path: str | Path, what: str = "a config") -> dict[str, Any]:
    """The top-level mapping of a .toml, .yaml/.yml (or any other suffix: YAML) or .json file.
    An empty YAML file is an empty mapping; `what` names the file's role in errors."""
    path = Path(path)
    text = read_text(path)
    kind = {".toml": "TOML", ".json": "JSON"}.get(path.suffix, "YAML")
    if kind == "YAML":
        data, _ = parse_yaml(text, str(path))
        data = {} if data is None else data
    else:
        data = _parse_toml(text, path) if kind == "TOML" else _parse_json(text, path)
        if nesting_depth(data, MAX_DEPTH) > MAX_DEPTH:
            raise ConfigFileError(path, f"nested deeper than {MAX_DEPTH} levels (the limit)")
    if not isinstance(data, dict):
        raise ConfigFileError(path, f"{what} is a mapping of fields, got {type(data).__name__}")
    return data


def read_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """A config file's text: UTF-8 (a byte-order mark is dropped), at most `max_bytes`."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigFileError(path, f"cannot read: {exc.strerror or exc}") from exc
    if len(raw) > max_bytes:
        raise ConfigFileError(path, f"larger than {max_bytes} bytes (the limit)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigFileError(path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                                    f"{exc.start}); save the file as UTF-8", line) from exc


def parse_yaml(text: str, source: str, *, first_line: int = 1,
               max_depth: int = MAX_DEPTH) -> tuple[Any, Any]:
    """`(value, node)` of a YAML document: the value as `yaml.safe_load` makes it and its node
    tree (for the lines of keys; None for an empty document). The document is first checked
    against `max_depth` and `MAX_YAML_NODES` without building it. Errors are
    `ConfigFileError`s naming `source` and the line, counted from `first_line`."""
    import yaml

    try:
        _check_yaml_shape(text, source, first_line, max_depth)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = None if node is None else yaml.SafeLoader(text).construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigFileError(source, f"not valid YAML ({reason})", line) from exc
    except RecursionError as exc:  # a limit above should have stopped it first
        raise ConfigFileError(source, "nested too deeply to read") from exc
    return value, node


def _check_yaml_shape(text: str, source: str, first_line: int, max_depth: int) -> None:
    """Walk the document's parse events (the parser does not recurse) and stop at the first
    level past `max_depth` or value past `MAX_YAML_NODES` (aliases count as their anchor's
    whole value, so a 'billion laughs' file stops here)."""
    import yaml

    open_: list[tuple[str | None, int]] = []  # (anchor, values counted before it opened)
    sizes: dict[str, int] = {}
    values = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = first_line + (event.start_mark.line if event.start_mark else 0)
        if isinstance(event, yaml.CollectionStartEvent):
            values += 1
            open_.append((event.anchor, values))
            if len(open_) > max_depth:
                raise ConfigFileError(source, f"nested deeper than {max_depth} levels (the "
                                              f"limit)", line)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start = open_.pop()
            if anchor:
                sizes[anchor] = values - start + 1
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            values += sizes.get(event.anchor or "", 1)
        if values > MAX_YAML_NODES:
            raise ConfigFileError(source, f"more than {MAX_YAML_NODES} values (the limit; "
                                          f"aliases count as what they repeat)", line)


def _parse_toml(text: str, path: Path) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        raise ConfigFileError(path, f"not valid TOML ({str(exc).splitlines()[0]})",
                              int(match.group(1)) if match else None) from exc
    except RecursionError as exc:
        raise ConfigFileError(path, "nested too deeply to read") from exc


def _parse_json(text: str, path: Path) -> Any:
    if text_nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise ConfigFileError(path, f"nested deeper than {MAX_DEPTH} levels (the limit)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(path, f"not valid JSON ({exc.msg})", exc.lineno) from exc


def field_line(path: str | Path, loc: Sequence[str | int]) -> int | None:
    """The line of the field at `loc` (keys, with list indices skipped) in a config file, as
    far as a plain search finds it: each key in turn, after the line of the key before it.
    None when the file cannot be read or a key is not found."""
    try:
        lines = read_text(Path(path)).splitlines()
    except ConfigFileError:
        return None
    found, start = None, 0
    for key in (k for k in loc if isinstance(k, str)):
        pattern = re.compile(rf"""(^|[\s{{,\[."'])["']?{re.escape(key)}["']?\s*[:=\]]""")
        found = next((i for i in range(start, len(lines)) if pattern.search(lines[i])), None)
        if found is None:
            return None
        start = found
    return None if found is None else found + 1
