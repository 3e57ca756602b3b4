"""Skills: procedural knowledge loaded into the context by relevance."""

from harness.skills.base import NoSkills, Routing, SkillRouter

__all__ = ["NoSkills", "Routing", "SkillRouter"]
