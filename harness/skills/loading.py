"""On-demand loading: the `load_skill` and `read_skill_file` tools, and a skill's own tools.

A skill's `tools.py` is Python from the skill's folder: it is imported only when that
skill is loaded, never when the library is scanned.
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
import traceback
from collections.abc import Iterable

from harness.events import ToolFinished, ToolRequested, Trajectory
from harness.skills.disclosure import body_block
from harness.skills.library import SkillLibrary
from harness.skills.skill import Skill, SkillFileError, SkillProblem
from harness.tools.base import Tool, ToolError, tool
from harness.tools.effects import Effects

LOAD_SKILL = "load_skill"
READ_SKILL_FILE = "read_skill_file"
MAX_FILE_CHARS = 40_000

SKILL_READ = Effects(reads=True)
"""What the skill tools do: read the skill library (no workspace path, command or send)."""

def skill_tools(library: SkillLibrary) -> list[Tool]:
    """`load_skill(name)` and `read_skill_file(skill, path)` over `library`."""

    def find(name: str) -> Skill:
        skill = library.get(name)
        if skill is None:
            close = difflib.get_close_matches(name, library.names(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ToolError(f"no skill named '{name}'{hint}")
        return skill

    @tool(name=LOAD_SKILL, effects=SKILL_READ)
    def load_skill(name: str) -> str:
        """Read a skill's full instructions (and the list of its files) into the conversation.

        Args:
            name: the skill's name, as listed in the Skills section.
        """
        return body_block(find(name))

    @tool(name=READ_SKILL_FILE, effects=SKILL_READ)
    def read_skill_file(skill: str, path: str) -> str:
        """Read one of a skill's files (a reference, script or asset it names).

        Args:
            skill: the skill's name.
            path: the file's path inside the skill folder, e.g. references/api.md.
        """
        found = find(skill)
        try:
            target = found.resource_path(path)
        except SkillFileError as exc:
            raise ToolError(str(exc)) from exc
        if not target.is_file():
            files = ", ".join(found.resources()) or "none"
            raise ToolError(f"skill '{skill}' has no file '{path}'; its files: {files}")
        text = target.read_text(encoding="utf-8", errors="replace")
        if len(text) > MAX_FILE_CHARS:
            text = text[:MAX_FILE_CHARS] + f"\n[... cut at {MAX_FILE_CHARS} characters]"
        return text

    return [load_skill, read_skill_file]


def loaded_by_model(trajectory: Trajectory | Iterable) -> list[str]:
    """Names the model loaded with a successful `load_skill` call, in order, from the events."""
    requested: dict[str, str] = {}
    names: list[str] = []
    for event in trajectory:
        if isinstance(event, ToolRequested) and event.call.name == LOAD_SKILL:
            requested[event.call.id] = str(event.call.arguments.get("name", ""))
        elif isinstance(event, ToolFinished) and event.ok and event.call_id in requested:
            name = requested.pop(event.call_id)
            if name and name not in names:
                names.append(name)
    return names


def import_skill_tools(skill: Skill) -> list[Tool]:
    """The `Tool`s defined at the top level of the skill's `tools.py` (none if it has none).

    Raises `SkillFileError` naming the file and line when the module fails to import.
    """
    path = skill.tools_file
    if path is None:
        return []
    module_name = f"harness_skill_tools.{skill.name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SkillFileError(SkillProblem(path=str(path), line=1, field="tools.py",
                                          message="cannot be imported"))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        line = frames[-1].lineno if frames and frames[-1].lineno else 1
        if isinstance(exc, SyntaxError) and exc.lineno:
            line = exc.lineno
        raise SkillFileError(SkillProblem(
            path=str(path), line=line, field="tools.py",
            message=f"tools.py failed to import: {type(exc).__name__}: {exc}")) from exc
    finally:
        sys.modules.pop(module_name, None)
    return [value for value in vars(module).values() if isinstance(value, Tool)]
