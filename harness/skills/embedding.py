"""`EmbeddingRouter`: cosine similarity between the query and each skill's card.

Optional: install the `embeddings` extra (model2vec) or sentence-transformers, or pass any
`embed(texts) -> array` function. Nothing here is imported until the router is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Unpack

import numpy as np

from harness.skills.lexical import card_text
from harness.skills.library import SkillLibrary
from harness.skills.ranking import RankingOptions, RankingRouter

Embed = Callable[[Sequence[str]], np.ndarray]
DEFAULT_MODEL = "minishlab/potion-base-8M"


def load_embedder(name: str = DEFAULT_MODEL) -> Embed:
    """An embedding function from model2vec (preferred) or sentence-transformers, by model
    name or local path. Raises ImportError saying what to install when neither is there."""
    try:
        from model2vec import StaticModel
    except ImportError:
        StaticModel = None
    if StaticModel is not None:
        model = StaticModel.from_pretrained(name)
        return lambda texts: np.asarray(model.encode(list(texts)))
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ImportError("the embedding router needs model2vec (the harness 'embeddings' "
                          "extra) or sentence-transformers, or an `embed` function") from exc
    st = SentenceTransformer(name)
    return lambda texts: np.asarray(st.encode(list(texts)))


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class EmbeddingRouter(RankingRouter):
    """Ranks skills by cosine similarity of embeddings of the query and of each skill's name,
    description and headings."""

    name = "embedding"

    def __init__(self, library: SkillLibrary, embed: Embed | str = DEFAULT_MODEL,
                 **options: Unpack[RankingOptions]):
        super().__init__(library, **options)
        self.embed = load_embedder(embed) if isinstance(embed, str) else embed
        self._names = library.names()
        texts = [f"{card_text(library[n])}\n{'; '.join(library[n].headings())}" for n in self._names]
        self._matrix = _unit(self.embed(texts)) if texts else np.zeros((0, 1))

    def scores(self, query: str) -> dict[str, float]:
        if not self._names:
            return {}
        sims = self._matrix @ _unit(self.embed([query]))[0]
        return {n: float(s) for n, s in zip(self._names, sims, strict=True) if s > 0}
