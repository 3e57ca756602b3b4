"""Skills: procedural knowledge in the Agent Skills format, routed into the context by relevance.

Heavy or optional pieces (bm25s, the embedding backends) are imported when a router is built.
"""

from harness.skills.base import NoSkills, Routing, SkillRouter
from harness.skills.disclosure import Disclosure, disclose
from harness.skills.embedding import EmbeddingRouter, load_embedder
from harness.skills.hybrid import HybridRouter
from harness.skills.lexical import LexicalConfig, LexicalRouter
from harness.skills.library import SkillLibrary, default_roots, package_skills_root, scan_root
from harness.skills.loading import import_skill_tools, loaded_by_model, skill_tools
from harness.skills.model_router import ModelRouter
from harness.skills.ranking import RankingRouter, query_of
from harness.skills.skill import Skill, SkillFileError, SkillProblem, parse_skill_file

__all__ = [
    "Disclosure", "EmbeddingRouter", "HybridRouter", "LexicalConfig", "LexicalRouter",
    "ModelRouter", "NoSkills", "RankingRouter", "Routing", "Skill", "SkillFileError",
    "SkillLibrary", "SkillProblem", "SkillRouter", "default_roots", "disclose",
    "import_skill_tools", "load_embedder", "loaded_by_model", "package_skills_root", "parse_skill_file",
    "query_of", "scan_root", "skill_tools",
]
