"""Skills: procedural knowledge in the Agent Skills format, routed into the context by relevance.

Every name loads on first use (with numpy, bm25s and the optional embedding backends), so `import harness` stays fast.
"""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "Disclosure": "harness.skills.disclosure",
    "EmbeddingRouter": "harness.skills.embedding",
    "HybridRouter": "harness.skills.hybrid",
    "LexicalConfig": "harness.skills.lexical",
    "LexicalRouter": "harness.skills.lexical",
    "ModelRouter": "harness.skills.model_router",
    "NoSkills": "harness.skills.base",
    "RankingRouter": "harness.skills.ranking",
    "Routing": "harness.skills.base",
    "Skill": "harness.skills.skill",
    "SkillFileError": "harness.skills.skill",
    "SkillLibrary": "harness.skills.library",
    "SkillProblem": "harness.skills.skill",
    "SkillRouter": "harness.skills.base",
    "default_roots": "harness.skills.library",
    "disclose": "harness.skills.disclosure",
    "import_skill_tools": "harness.skills.loading",
    "load_embedder": "harness.skills.embedding",
    "loaded_by_model": "harness.skills.loading",
    "package_skills_root": "harness.skills.library",
    "parse_skill_file": "harness.skills.skill",
    "query_of": "harness.skills.ranking",
    "scan_root": "harness.skills.library",
    "skill_tools": "harness.skills.loading",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
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
