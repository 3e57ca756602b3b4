"""Skills: procedural knowledge in the Agent Skills format, routed into the context by relevance.

Only the protocol is imported eagerly; the rest (and numpy, bm25s, the optional embedding
backends) loads on first use, so `import harness` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.skills.base import NoSkills, Routing, SkillRouter

_LAZY = {
    "Disclosure": "disclosure", "disclose": "disclosure",
    "EmbeddingRouter": "embedding", "load_embedder": "embedding",
    "HybridRouter": "hybrid",
    "LexicalConfig": "lexical", "LexicalRouter": "lexical",
    "SkillLibrary": "library", "default_roots": "library", "package_skills_root": "library",
    "scan_root": "library",
    "import_skill_tools": "loading", "loaded_by_model": "loading", "skill_tools": "loading",
    "ModelRouter": "model_router",
    "RankingRouter": "ranking", "query_of": "ranking",
    "Skill": "skill", "SkillFileError": "skill", "SkillProblem": "skill",
    "parse_skill_file": "skill",
}

__all__ = ["NoSkills", "Routing", "SkillRouter", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harness.skills' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"harness.skills.{module}"), name)
    globals()[name] = value
    return value
