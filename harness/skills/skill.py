"""A skill in the Agent Skills format, and the parser for its `SKILL.md`.

A skill is a folder `NAME/` holding `SKILL.md`: YAML front matter between `---` lines
(`name`, `description`; optional `license`, `metadata`, `allowed-tools`), then a markdown
body. It may also hold `scripts/`, `references/`, `assets/` and a `tools.py` of `@tool`
functions. Problems are reported with the file, the line and the field.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from harness.config_files import MAX_BYTES, ConfigFileError, parse_yaml

NAME_MAX = 64
DESCRIPTION_MAX = 1024
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
KNOWN_FIELDS = ("name", "description", "license", "metadata", "allowed-tools", "compatibility")
RESOURCE_DIRS = ("references", "scripts", "assets")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


class SkillProblem(BaseModel):
    """Something wrong with a skill file. An `error` keeps the skill from loading; a `warning`
    (a spec violation a reader can live with, e.g. an unknown field) does not."""

    path: str
    line: int
    field: str = ""
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.path} line {self.line}: {self.message}"


class SkillFileError(ValueError):
    """A `SKILL.md` (or a skill's `tools.py`) cannot be used; the message names file and line."""

    def __init__(self, problem: SkillProblem):
        super().__init__(str(problem))
        self.problem = problem


class Skill(BaseModel):
    """One loaded skill: its front matter, its markdown body and where it lives."""

    name: str
    description: str
    body: str = ""
    path: Path = Field(description="the SKILL.md file")
    license: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    allowed_tools: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict, description="unknown front matter fields")
    body_line: int = 1
    root: Path | None = Field(default=None, description="the library root it was found under")

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def summary(self) -> str:
        """The one-line description shown before the body is loaded."""
        return one_line(self.description)

    def headings(self) -> list[str]:
        """The markdown headings of the body, outside code fences."""
        return [title for _, title, _ in sections(self.body)]

    def resources(self) -> list[str]:
        """Files under `references/`, `scripts/` and `assets/`, relative to the skill folder."""
        found = []
        for sub in RESOURCE_DIRS:
            base = self.folder / sub
            if base.is_dir():
                found += sorted(str(p.relative_to(self.folder)) for p in base.rglob("*")
                                if p.is_file() and "__pycache__" not in p.parts)
        return found

    def resource_path(self, relative: str) -> Path:
        """The path of one of the skill's files, refusing anything outside the skill folder."""
        folder = self.folder.resolve()
        target = (folder / relative).resolve()
        if folder not in target.parents:
            raise SkillFileError(SkillProblem(path=str(self.path), line=1, field="resource",
                                              message=f"'{relative}' is outside skill '{self.name}'"))
        return target

    @property
    def tools_file(self) -> Path | None:
        path = self.folder / "tools.py"
        return path if path.is_file() else None


def one_line(text: str, limit: int = 200) -> str:
    """The first sentence of `text` on one line, cut at a word boundary within `limit`."""
    flat = " ".join(text.split())
    match = re.search(r"(?<=[.!?])\s", flat)
    first = flat[:match.start()] if match else flat
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def sections(body: str) -> list[tuple[int, str, str]]:
    """Split a markdown body into (level, heading, text) sections; text before the first
    heading is a section with level 0 and an empty heading. Fenced code is not split."""
    out: list[tuple[int, str, str]] = []
    level, title = 0, ""
    lines: list[str] = []
    fence: str | None = None
    for line in body.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
        match = _HEADING.match(line) if fence is None else None
        if match:
            if title or any(x.strip() for x in lines):
                out.append((level, title, "\n".join(lines)))
            level, title, lines = len(match.group(1)), match.group(2), []
        else:
            lines.append(line)
    if title or any(x.strip() for x in lines):
        out.append((level, title, "\n".join(lines)))
    return out


def parse_skill_file(path: str | Path, *, root: Path | None = None) -> tuple[Skill, list[SkillProblem]]:
    """Parse and validate `NAME/SKILL.md`. Returns the skill and its warnings; raises
    `SkillFileError` for the first error that keeps it from loading."""
    path = Path(path)
    shown = _display(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _error(shown, 1, "", f"cannot read: {exc.strerror}") from exc
    if len(raw) > MAX_BYTES:
        raise _error(shown, 1, "", f"larger than {MAX_BYTES} bytes (the limit)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _error(shown, line, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise _error(shown, 1, "", "SKILL.md must start with YAML front matter between '---' lines")
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if close is None:
        raise _error(shown, len(lines), "", "front matter is not closed by a '---' line")
    front = "\n".join(lines[1:close])
    end_line = close + 1  # 1-based line of the closing '---'
    try:
        data, node = parse_yaml(front, shown, first_line=2)
    except ConfigFileError as exc:
        line = exc.line or 2
        raise _error(shown, line, _field_at(lines, line), f"front matter: {exc.reason}") from exc
    if not isinstance(data, dict):
        raise _error(shown, 2, "", "front matter must be a mapping of fields (name: ..., "
                                   "description: ...)")
    key_lines = _key_lines(node)

    def where(key: str) -> int:
        return key_lines.get(key, end_line)

    warnings: list[SkillProblem] = []

    for key in ("name", "description"):
        if key not in data or data[key] is None or data[key] == "":
            raise _error(shown, where(key), key, f"front matter has no '{key}'")
        if not isinstance(data[key], str):
            raise _error(shown, where(key), key, f"'{key}' must be a string, got "
                                                 f"{type(data[key]).__name__}")
    name, description = data["name"].strip(), data["description"].strip()
    if len(name) > NAME_MAX:
        raise _error(shown, where("name"), "name", f"name '{name}' is longer than {NAME_MAX} characters")
    if not NAME_PATTERN.match(name):
        raise _error(shown, where("name"), "name", f"name '{name}' must be lowercase letters, "
                                                   "digits and single hyphens")
    if name != path.parent.name:
        raise _error(shown, where("name"), "name", f"name '{name}' does not match its folder "
                                                   f"'{path.parent.name}'")
    if len(description) > DESCRIPTION_MAX:
        warnings.append(SkillProblem(path=shown, line=where("description"), field="description",
                                     severity="warning", message=(
                                         f"description is {len(description)} characters, more "
                                         f"than {DESCRIPTION_MAX}")))
    license_ = data.get("license")
    if license_ is not None and not isinstance(license_, str):
        raise _error(shown, where("license"), "license", "'license' must be a string")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _error(shown, where("metadata"), "metadata", "'metadata' must be a mapping")
    metadata = _string_keys(metadata, "metadata", where("metadata"), shown, warnings)
    allowed = data.get("allowed-tools") or []
    if isinstance(allowed, str):
        allowed = allowed.split()
    if not isinstance(allowed, list) or not all(isinstance(t, str) for t in allowed):
        raise _error(shown, where("allowed-tools"), "allowed-tools",
                     "'allowed-tools' must be a space-separated string or a list of strings")
    extra = {str(k): v for k, v in data.items() if k not in KNOWN_FIELDS}
    for key in extra:
        warnings.append(SkillProblem(path=shown, line=where(key), field=key, severity="warning",
                                     message=f"unknown front matter field '{key}' (kept in extra)"))
    body = "\n".join(lines[close + 1:]).strip("\n")
    try:
        skill = Skill(name=name, description=description, body=body, path=path,
                      license=license_, metadata=metadata, allowed_tools=allowed, extra=extra,
                      body_line=close + 2, root=root)
    except ValidationError as exc:  # a value the checks above let through
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise _error(shown, where(str(err["loc"][0])), field,
                     f"'{field}': {err['msg']}") from exc
    return skill, warnings


def _string_keys(mapping: dict[Any, Any], field: str, line: int, shown: str,
                 warnings: list[SkillProblem]) -> dict[str, Any]:
    """`mapping` with every key a string: a key YAML read as another type (`1:`, `true:`)
    is kept under its text, with a warning."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            warnings.append(SkillProblem(
                path=shown, line=line, field=f"{field}.{key}", severity="warning",
                message=f"'{field}' key {key!r} is not a string (read as '{key}'); quote it"))
        out[str(key)] = value
    return out


def _field_at(lines: list[str], line: int) -> str:
    """The top-level front matter field that SKILL.md's `line` (1-based) belongs to."""
    for text in reversed(lines[1:line]):
        match = re.match(r"([^\s#'\"-][^:]*):", text)
        if match:
            return match.group(1).strip()
    return ""


def _key_lines(node: Any) -> dict[str, int]:
    """Top-level key -> 1-based line in SKILL.md (front matter starts on line 2)."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 2 for k, _ in node.value
            if isinstance(k, yaml.ScalarNode)}


def _display(path: Path) -> str:
    """The path relative to the working directory when under it (as a user typed it); bytes
    of a name that are not UTF-8 are shown as escapes (`\\xff`)."""
    try:
        shown = str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        shown = str(path)
    return os.fsencode(shown).decode("utf-8", "backslashreplace")


def _error(path: str, line: int, field: str, message: str) -> SkillFileError:
    return SkillFileError(SkillProblem(path=path, line=line, field=field, message=message))
