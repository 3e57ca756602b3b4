"""`LexicalRouter`: BM25 over a skill's name and description, its body sections and headings.

Three ideas on top of plain BM25, none tied to any particular corpus or query set:

- Fields. The *card* (name with hyphens split, plus description) is what a skill says it
  is for; each body *section* (heading plus its text) is scored on its own and the best
  section counts, so a long body neither drowns nor dominates; *headings* form a third,
  light field. Field scores are added with weights.
- Analysis. Lowercase words, English stopwords removed, Snowball stems, so "debugging a
  flaky test" meets "Debug flaky tests".
- Spelling tolerance. A query word the index does not know (after stemming) is matched to
  the nearest vocabulary term one edit away (two when both have 8+ letters; the first
  letter must agree), and counts at `typo_credit` per edit ("fucntion" -> "function" at
  half weight). Known words are never corrected; see `spelling.py`.
- Hub correction. Broad skills (long descriptions full of trigger words) match almost
  any query. Each skill's *hubness* is how well it matches queries meant for other
  skills; we take the skill's own description sentences and headings as those pseudo
  queries and average its top `hub_k` scores; a skill's score is divided by
  `1 + hub_weight * hubness / mean hubness`, which leaves the scale (and the sign) alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Unpack

import numpy as np

from harness.skills.library import SkillLibrary
from harness.skills.ranking import RankingOptions, RankingRouter
from harness.skills.skill import Skill, sections
from harness.skills.spelling import Speller
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
    typo_credit: float = 0.5
    k1: float = 1.5
    b: float = 0.75

    @classmethod
    def plain(cls) -> LexicalConfig:
        """BM25 over name and description only: no stems, stopwords, sections, spelling
        tolerance or hub correction."""
        return cls(section_weight=0.0, heading_weight=0.0, stem=False, stopwords=False,
                   hub_weight=0.0, typo_credit=0.0)


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

    def scores(self, terms: list[str], weighted: Sequence[tuple[str, float]] = ()) -> np.ndarray:
        """Best document score per skill, for `terms` at full weight plus `weighted` terms."""
        out = np.zeros(self.n_skills)
        if self.index is None or not (terms or weighted):
            return out
        docs = self.index.get_scores(terms) if terms else np.zeros(len(self.owners))
        for term, weight in weighted:
            docs = docs + weight * self.index.get_scores([term])
        np.maximum.at(out, self.owners, docs)
        return out


class LexicalRouter(RankingRouter):
    """Ranks skills by field-weighted BM25 with stemming and hub correction (no model)."""

    name = "lexical"

    def __init__(self, library: SkillLibrary, config: LexicalConfig | None = None,
                 **options: Unpack[RankingOptions]):
        super().__init__(library, **options)
        self.config = config or LexicalConfig()
        self.analyze = Analyzer(stem=self.config.stem, stopwords=self.config.stopwords)
        self._skills = list(library)
        self._texts: list[str] = []
        self._fields = self._build_fields()
        self.speller = self._build_speller() if self.config.typo_credit else None
        self._hub = self._hubness() if self.config.hub_weight else np.zeros(len(self._skills))

    @classmethod
    def plain(cls, library: SkillLibrary, **options: Unpack[RankingOptions]) -> LexicalRouter:
        """Plain BM25 over name + description: the baseline the others are measured against."""
        router = cls(library, LexicalConfig.plain(), **options)
        router.name = "bm25-plain"
        return router

    def _build_fields(self) -> list[tuple[float, _Field]]:
        cfg, n = self.config, len(self._skills)
        fields = [(cfg.card_weight, self._field([card_text(s) for s in self._skills],
                                                list(range(n))))]
        if cfg.section_weight:
            texts, owners = [], []
            for i, skill in enumerate(self._skills):
                for _, title, text in sections(skill.body):
                    texts.append(f"{title}\n{text}")
                    owners.append(i)
            fields.append((cfg.section_weight, self._field(texts, owners)))
        if cfg.heading_weight:
            fields.append((cfg.heading_weight, self._field(
                [" ".join(s.headings()) for s in self._skills], list(range(n)))))
        return fields

    def _field(self, texts: list[str], owners: list[int]) -> _Field:
        self._texts += texts
        return _Field([self.analyze(t) for t in texts], owners, len(self._skills), self.config)

    def _build_speller(self) -> Speller:
        """The vocabulary of every indexed text, as (written form, index term) pairs."""
        return Speller((w, self.analyze.term(w)) for t in self._texts for w in self.analyze.words(t))

    def _raw(self, terms: list[str], weighted: Sequence[tuple[str, float]] = ()) -> np.ndarray:
        total = np.zeros(len(self._skills))
        for weight, field in self._fields:
            total += weight * field.scores(terms, weighted)
        return total

    def query_terms(self, query: str) -> tuple[list[str], list[tuple[str, float]]]:
        """The query's known terms, and the terms its unknown words were corrected to with
        their discounted weights. Words nothing is close to drop out."""
        terms: list[str] = []
        corrected: list[tuple[str, float]] = []
        for word in self.analyze.words(query):
            term = self.analyze.term(word)
            if self.speller is None or self.speller.known(term):
                terms.append(term)
                continue
            match = self.speller.correct(word, term)
            if match is not None:
                corrected.append((match[0], self.config.typo_credit ** match[1]))
        return terms, corrected

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
        hub: np.ndarray = matrix[-min(self.config.hub_k, len(rows)):].mean(axis=0)
        return hub

    def scores(self, query: str) -> dict[str, float]:
        raw = self._raw(*self.query_terms(query))
        mean_hub = float(self._hub.mean()) if self._hub.size else 0.0
        if mean_hub > 0:
            raw = raw / (1.0 + self.config.hub_weight * self._hub / mean_hub)
        return {s.name: float(raw[i]) for i, s in enumerate(self._skills) if raw[i] > 0}
