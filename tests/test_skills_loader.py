"""The SKILL.md loader and the skill library: validation errors, resources, overriding."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.skills import (
    Skill,
    SkillFileError,
    SkillLibrary,
    import_skill_tools,
    package_skills_root,
    parse_skill_file,
)


def write_skill(root: Path, folder: str, front: str, body: str = "# Body\nDo the thing.\n") -> Path:
    path = root / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(SkillFileError) as info:
        parse_skill_file(path)
    return str(info.value)


def test_valid_skill_loads_front_matter_body_and_headings(tmp_path):
    path = write_skill(tmp_path, "git-hygiene",
                       "name: git-hygiene\ndescription: Keep commits small. Use before committing.\n"
                       "license: MIT\nallowed-tools: Bash(git:*) Read\nmetadata:\n  version: '1'\n",
                       "# Git hygiene\n\n## Before you commit\nRun the tests.\n\n"
                       "```sh\n# not a heading\n```\n## Messages\nImperative mood.\n")
    skill, warnings = parse_skill_file(path)
    assert warnings == []
    assert (skill.name, skill.license, skill.allowed_tools) == ("git-hygiene", "MIT",
                                                                ["Bash(git:*)", "Read"])
    assert skill.metadata == {"version": "1"}
    assert skill.summary == "Keep commits small."
    assert skill.headings() == ["Git hygiene", "Before you commit", "Messages"]
    assert skill.body_line == 9 and skill.body.startswith("# Git hygiene")


def test_missing_description_names_file_line_and_field(tmp_path):
    path = write_skill(tmp_path, "git", "name: git\n")
    message = error_of(path)
    assert message.endswith("SKILL.md line 3: front matter has no 'description'")
    assert "git" in message


@pytest.mark.parametrize("front, line, fragment", [
    ("name: Git_Tool\ndescription: x\n", 2, "lowercase letters, digits and single hyphens"),
    ("name: other\ndescription: x\n", 2, "does not match its folder 'tool'"),
    ("name: tool\ndescription: [unclosed\n", 3, "not valid YAML"),
    ("description: x\n", 3, "front matter has no 'name'"),
    ("name: tool\ndescription: 42\n", 3, "'description' must be a string"),
    ("name: tool\ndescription: x\nmetadata: [a, b]\n", 4, "'metadata' must be a mapping"),
    ("- just\n- a list\n", 2, "front matter must be a mapping"),
])
def test_malformed_front_matter_is_rejected_with_its_line(tmp_path, front, line, fragment):
    message = error_of(write_skill(tmp_path, "tool", front))
    assert f"line {line}:" in message and fragment in message


def test_missing_or_unclosed_front_matter(tmp_path):
    plain = tmp_path / "a" / "SKILL.md"
    plain.parent.mkdir()
    plain.write_text("# No front matter\n")
    assert "line 1: SKILL.md must start with YAML front matter" in error_of(plain)
    unclosed = tmp_path / "b" / "SKILL.md"
    unclosed.parent.mkdir()
    unclosed.write_text("---\nname: b\ndescription: x\n")
    assert "line 3: front matter is not closed" in error_of(unclosed)


def test_name_longer_than_64_characters_is_an_error(tmp_path):
    name = "a" * 65
    assert "longer than 64" in error_of(write_skill(tmp_path, name, f"name: {name}\ndescription: x\n"))


def test_long_description_and_unknown_fields_are_warnings_not_errors(tmp_path):
    path = write_skill(tmp_path, "tool", f"name: tool\ndescription: {'word ' * 300}\nowner: me\n")
    skill, warnings = parse_skill_file(path)
    assert skill.extra == {"owner": "me"}
    assert [(w.field, w.line, w.severity) for w in warnings] == [
        ("description", 3, "warning"), ("owner", 4, "warning")]


def test_one_broken_skill_does_not_stop_the_others(tmp_path):
    write_skill(tmp_path, "good", "name: good\ndescription: Works.\n")
    write_skill(tmp_path, "bad", "name: bad\n")
    write_skill(tmp_path, "also-good", "name: also-good\ndescription: Works too.\n")
    (tmp_path / "not-a-skill").mkdir()
    library = SkillLibrary([tmp_path])
    assert library.names() == ["also-good", "good"]
    assert [p.field for p in library.errors] == ["description"]
    assert "bad" in library.errors[0].path


def test_later_roots_override_earlier_ones_by_name(tmp_path):
    package, user, project = tmp_path / "package", tmp_path / "user", tmp_path / "project"
    write_skill(package, "commit", "name: commit\ndescription: Package version.\n")
    write_skill(package, "bisect", "name: bisect\ndescription: Only in the package.\n")
    write_skill(user, "commit", "name: commit\ndescription: User version.\n")
    write_skill(project, "commit", "name: commit\ndescription: Project version.\n")
    library = SkillLibrary([package, user, project])
    assert library["commit"].description == "Project version."
    assert library["commit"].root == project
    assert library["bisect"].description == "Only in the package."
    assert library.overridden["commit"] == [package / "commit" / "SKILL.md",
                                            user / "commit" / "SKILL.md"]
    assert SkillLibrary([project, user, package])["commit"].description == "Package version."


def test_resources_are_listed_and_cannot_escape_the_skill(tmp_path):
    path = write_skill(tmp_path, "tool", "name: tool\ndescription: x\n")
    (path.parent / "references").mkdir()
    (path.parent / "references" / "api.md").write_text("API notes")
    (path.parent / "scripts").mkdir()
    (path.parent / "scripts" / "run.sh").write_text("echo hi")
    skill, _ = parse_skill_file(path)
    assert skill.resources() == ["references/api.md", "scripts/run.sh"]
    assert skill.resource_path("references/api.md").read_text() == "API notes"
    with pytest.raises(SkillFileError, match="outside skill 'tool'"):
        skill.resource_path("../../etc/passwd")


def test_tools_py_brings_tools_and_a_broken_one_names_its_line(tmp_path):
    path = write_skill(tmp_path, "tool", "name: tool\ndescription: x\n")
    (path.parent / "tools.py").write_text(
        "from harness.tools.base import tool\n\n@tool\ndef shout(text: str) -> str:\n"
        "    \"\"\"Upper-case text.\"\"\"\n    return text.upper()\n")
    skill, _ = parse_skill_file(path)
    tools = import_skill_tools(skill)
    assert [t.name for t in tools] == ["shout"]
    (path.parent / "tools.py").write_text("import os\n\nraise RuntimeError('boom')\n")
    with pytest.raises(SkillFileError, match=r"tools.py line 3: tools.py failed to import: "
                                             r"RuntimeError: boom"):
        import_skill_tools(skill)


def test_the_shipped_skills_are_found_and_all_valid():
    root = package_skills_root()
    assert root is not None
    library = SkillLibrary([root])
    assert library.problems == []
    assert len(library) >= 8
    for skill in library:
        assert isinstance(skill, Skill) and len(skill.body) > 800, skill.name


def test_shipped_outline_tool_lists_definitions_with_lines(tmp_path):
    from harness.messages import ToolCall
    from harness.tools.base import ToolContext

    skill = SkillLibrary([package_skills_root()])["read-unfamiliar-codebase"]
    (outline,) = import_skill_tools(skill)
    (tmp_path / "mod.py").write_text("class A:\n    \"\"\"An A.\"\"\"\n    def run(self):\n"
                                     "        pass\n\n\ndef helper():\n    return 1\n")
    result = outline(ToolCall(id="1", name="outline_python", arguments={"path": "mod.py"}),
                     ToolContext(workspace=tmp_path))
    assert result.ok
    assert result.output.splitlines() == ["    1  class A  # An A.", "    3      def run",
                                          "    7  def helper"]


def test_shipped_outline_tool_cannot_read_past_the_workspace(tmp_path):
    from harness.messages import ToolCall
    from harness.tools.base import ToolContext

    skill = SkillLibrary([package_skills_root()])["read-unfamiliar-codebase"]
    (outline,) = import_skill_tools(skill)
    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "secret.py").write_text("def leaked_secret():\n    pass\n")
    (ws / "link.py").symlink_to(tmp_path / "secret.py")
    for path in ("link.py", "../secret.py", str(tmp_path / "secret.py"), "missing.py"):
        result = outline(ToolCall(id="1", name="outline_python", arguments={"path": path}),
                         ToolContext(workspace=ws))
        assert not result.ok and "leaked_secret" not in (result.error or "")
