"""`LexicalRouter`: BM25 over a skill's name and description, its body sections and headings.

Three ideas on top of plain BM25, none tied to any particular corpus or query set:

- Fields. The *card* (name with hyphens split, plus description) is what a skill says it
  is for; each body *section* (heading plus its text) is scored on its own and the best
  section counts, so a long body neither drowns nor dominates; *headings* form a third,
  light field. Field scores are added with weights.
- Analysis. Lowercase words, English stopwords removed, Snowball stems, so "debugging a
  flaky test" meets "Debug flaky tests".
- Hub correction. Broad skills (long descriptions full of trigger words) match almost
  any query. Each skill's *hubness* is how well it matches queries meant for other
  skills; we take the skill's own description sentences and headings as those pseudo
  queries and average its top `hub_k` scores; a skill's score is divided by
  `1 + hub_weight * hubness / mean hubness`, which leaves the scale (and the sign) alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from harness.skills.library import SkillLibrary
from harness.skills.ranking import RankingRouter
from harness.skills.skill import Skill, sections
from harness.skills.text import Analyzer


@dataclass(frozen=True)
class LexicalConfig:
    """Weights and switches of the lexical router (`plain()` is the textbook baseline)."""

    card_weight: float = 1.0
    section_weight: float = 0.5
    heading_weight: float = 0.2
    stem: bool = True
    stopwords: bool = True
    hub_weight: float = 1.0
    hub_k: int = 10
    k1: float = 1.5
    b: float = 0.75

    @classmethod
    def plain(cls) -> LexicalConfig:
        """BM25 over name and description only: no stems, stopwords, sections or correction."""
        return cls(section_weight=0.0, heading_weight=0.0, stem=False, stopwords=False,
                   hub_weight=0.0)


def card_text(skill: Skill) -> str:
    return f"{skill.name.replace('-', ' ')} {skill.description}"


class _Field:
    """One BM25 index whose documents each belong to a skill (a skill may own several)."""

    def __init__(self, docs: list[list[str]], owners: list[int], n_skills: int, cfg: LexicalConfig):
        import bm25s

        self.owners = np.asarray(owners, dtype=np.int64)
        self.n_skills = n_skills
        self.index = None
        if any(docs):
            self.index = bm25s.BM25(k1=cfg.k1, b=cfg.b)
            self.index.index(docs, show_progress=False)

    def scores(self, terms: list[str]) -> np.ndarray:
        """Best document score per skill."""
        out = np.zeros(self.n_skills)
        if self.index is None or not terms:
            return out
        np.maximum.at(out, self.owners, self.index.get_scores(terms))
        return out


class LexicalRouter(RankingRouter):
    """Ranks skills by field-weighted BM25 with stemming and hub correction (no model)."""

    name = "lexical"

    def __init__(self, library: SkillLibrary, config: LexicalConfig | None = None, **kwargs):
        super().__init__(library, **kwargs)
        self.config = config or LexicalConfig()
        self.analyze = Analyzer(stem=self.config.stem, stopwords=self.config.stopwords)
        self._skills = list(library)
        self._fields = self._build_fields()
        self._hub = self._hubness() if self.config.hub_weight else np.zeros(len(self._skills))

    @classmethod
    def plain(cls, library: SkillLibrary, **kwargs) -> LexicalRouter:
        """Plain BM25 over name + description: the baseline the others are measured against."""
        router = cls(library, LexicalConfig.plain(), **kwargs)
        router.name = "bm25-plain"
        return router

    def _build_fields(self) -> list[tuple[float, _Field]]:
        cfg, n = self.config, len(self._skills)
        fields = [(cfg.card_weight, _Field([self.analyze(card_text(s)) for s in self._skills],
                                           list(range(n)), n, cfg))]
        if cfg.section_weight:
            docs, owners = [], []
            for i, skill in enumerate(self._skills):
                for _, title, text in sections(skill.body):
                    docs.append(self.analyze(f"{title}\n{text}"))
                    owners.append(i)
            fields.append((cfg.section_weight, _Field(docs, owners, n, cfg)))
        if cfg.heading_weight:
            fields.append((cfg.heading_weight, _Field(
                [self.analyze(" ".join(s.headings())) for s in self._skills], list(range(n)), n, cfg)))
        return fields

    def _raw(self, terms: list[str]) -> np.ndarray:
        return sum(w * f.scores(terms) for w, f in self._fields)

    def _hubness(self) -> np.ndarray:
        """Mean of each skill's `hub_k` best scores over pseudo queries from the corpus."""
        pseudo = []
        for skill in self._skills:
            pseudo += [s for s in re.split(r"(?<=[.!?])\s+", skill.description) if len(s) > 20]
            pseudo += [h for h in skill.headings() if len(h) > 10]
        rows = [self._raw(t) for t in map(self.analyze, pseudo) if t]
        if not rows:
            return np.zeros(len(self._skills))
        matrix = np.sort(np.vstack(rows), axis=0)
        return matrix[-min(self.config.hub_k, len(rows)):].mean(axis=0)

    def scores(self, query: str) -> dict[str, float]:
        terms = self.analyze(query)
        raw = self._raw(terms)
        mean_hub = float(self._hub.mean()) if self._hub.size else 0.0
        if mean_hub > 0:
            raw = raw / (1.0 + self.config.hub_weight * self._hub / mean_hub)
        return {s.name: float(raw[i]) for i, s in enumerate(self._skills) if raw[i] > 0}
