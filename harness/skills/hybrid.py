"""`HybridRouter`: several routers' opinions fused into one ranking.

Scores of different routers live on different scales (BM25 sums, cosines, rank weights),
so each router's scores are min-max normalised over the skills it scored before the
weighted sum; a skill a router did not score gets 0 from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from harness.skills.library import SkillLibrary
from harness.skills.ranking import RankingOptions, RankingRouter


class HybridRouter(RankingRouter):
    """Weighted sum of normalised scores from `parts` (pairs of router and weight)."""

    name = "hybrid"

    def __init__(self, library: SkillLibrary, parts: Sequence[tuple[RankingRouter, float]],
                 **options: Unpack[RankingOptions]):
        if not parts:
            raise ValueError("a hybrid router needs at least one (router, weight) part")
        super().__init__(library, **options)
        self.parts = list(parts)

    def scores(self, query: str) -> dict[str, float]:
        total: dict[str, float] = {}
        for router, weight in self.parts:
            scored = router.scores(query)
            if not scored:
                continue
            low, high = min(scored.values()), max(scored.values())
            span = high - low
            for name, score in scored.items():
                norm = (score - low) / span if span > 0 else 1.0
                total[name] = total.get(name, 0.0) + weight * norm
        return {n: s for n, s in total.items() if s > 0}
