"""`SkillLibrary`: the skills found under several roots, later roots overriding earlier by name.

The default roots, earliest first: the skills shipped with harness, the user's directory
(`$HARNESS_SKILLS_HOME`, else `~/.config/harness/skills`), then the project's `skills/`.
So a project skill replaces a user skill of the same name, which replaces a shipped one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.skills.skill import Skill, SkillFileError, SkillProblem, parse_skill_file

USER_ENV = "HARNESS_SKILLS_HOME"
PATH_ENV = "HARNESS_SKILLS_PATH"


def package_skills_root() -> Path | None:
    """The skills shipped with harness: the top-level `skills/` of the source tree, which
    `harness/skills/bundled` links to so that wheels carry it as package data."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "bundled", here.parents[1] / "skills"):
        if candidate.is_dir():
            return candidate.resolve()
    return None


def user_skills_root() -> Path:
    env = os.environ.get(USER_ENV)
    return Path(env).expanduser() if env else Path.home() / ".config" / "harness" / "skills"


def default_roots(project: str | Path | None = None) -> list[Path]:
    """Package, user, `$HARNESS_SKILLS_PATH` entries, then `<project>/skills` (default: cwd)."""
    roots = [r for r in (package_skills_root(), user_skills_root()) if r is not None]
    roots += [Path(p).expanduser() for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p]
    roots.append(Path(project or Path.cwd()) / "skills")
    unique: list[Path] = []
    for root in roots:
        if root.resolve() not in [u.resolve() for u in unique]:
            unique.append(root)
    return unique


@dataclass
class RootScan:
    """What one root held: the skills that loaded and every problem found."""

    root: Path
    skills: list[Skill] = field(default_factory=list)
    problems: list[SkillProblem] = field(default_factory=list)


def scan_root(root: str | Path) -> RootScan:
    """Load every `*/SKILL.md` under `root`. A broken skill becomes a problem; the rest load."""
    root = Path(root)
    scan = RootScan(root)
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:  # not a directory, gone, or unreadable: nothing found there
        if root.exists():
            scan.problems.append(SkillProblem(path=str(root), line=1, field="",
                                              message=f"cannot list: {exc.strerror or exc}"))
        return scan
    for folder in folders:
        skill_md = folder / "SKILL.md"
        if not skill_md.is_file():
            continue
        try:
            skill, warnings = parse_skill_file(skill_md, root=root)
        except SkillFileError as exc:
            scan.problems.append(exc.problem)
            continue
        except Exception as exc:  # a bug in parsing one file must not hide the other skills
            scan.problems.append(SkillProblem(
                path=str(skill_md), line=1, field="",
                message=f"could not be read: {type(exc).__name__}: {exc}"))
            continue
        scan.skills.append(skill)
        scan.problems += warnings
    return scan


class SkillLibrary:
    """Skills by name from several roots; a later root overrides an earlier one by name.

    `problems` lists every error and warning found, so one broken skill never hides the
    others. `overridden` maps a name to the files its winner replaced.
    """

    def __init__(self, roots: Iterable[str | Path] = (), *, skills: Iterable[Skill] = ()):
        self.roots = [Path(r) for r in roots]
        self._skills: dict[str, Skill] = {}
        self.problems: list[SkillProblem] = []
        self.overridden: dict[str, list[Path]] = {}
        for root in self.roots:
            scan = scan_root(root)
            self.problems += scan.problems
            for skill in scan.skills:
                self.add(skill)
        for skill in skills:
            self.add(skill)

    @classmethod
    def default(cls, project: str | Path | None = None) -> SkillLibrary:
        """The package's skills, the user's, then the project's (see `default_roots`)."""
        return cls(default_roots(project))

    def add(self, skill: Skill) -> None:
        """Add a skill, replacing any earlier one of the same name."""
        previous = self._skills.get(skill.name)
        if previous is not None:
            self.overridden.setdefault(skill.name, []).append(previous.path)
        self._skills[skill.name] = skill

    def get(self, name: str) -> Skill | None:
        return self._skills.get(name)

    def __getitem__(self, name: str) -> Skill:
        skill = self._skills.get(name)
        if skill is None:
            raise KeyError(f"no skill named '{name}'; available: {', '.join(self.names())}")
        return skill

    def names(self) -> list[str]:
        return sorted(self._skills)

    def __iter__(self) -> Iterator[Skill]:
        return iter(self._skills[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._skills)

    def __contains__(self, name: object) -> bool:
        return name in self._skills

    @property
    def errors(self) -> list[SkillProblem]:
        return [p for p in self.problems if p.severity == "error"]
