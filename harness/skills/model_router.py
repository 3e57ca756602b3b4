"""`ModelRouter`: asks a `Model` to pick the relevant skills from their descriptions.

Answers are cached by query and candidate set (in memory, and in a JSON file when
`cache_path` is given), so a repeated step or benchmark run costs nothing. With a
`shortlist` router, the model only chooses among that router's best `shortlist_k`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Unpack

from harness.llm.base import Model
from harness.messages import Message, ModelRequest, ModelResponse
from harness.skills.base import Routing
from harness.skills.library import SkillLibrary
from harness.skills.ranking import RankingOptions, RankingRouter
from harness.state import AgentState

SYSTEM = ("You route tasks to skills. Given a task and a list of skills (name: description), "
          "reply with JSON only: {\"skills\": [names, most relevant first]}, at most {k} names, "
          "only names from the list, and an empty list if none applies.")


REPLY_TOKENS_PER_NAME = 16
"""Room a reply gets for each name it may give: enough for the JSON, not for an essay (a
1.5B model wrote 1,100 tokens to one routing question, two minutes on a CPU)."""


def parse_choice(text: str, names: list[str]) -> list[str]:
    """Skill names from a model's reply: a JSON `{"skills": [...]}` (or list) if there is
    one, else the known names in the order they appear. Unknown names are dropped."""
    picked: list[str] = []
    match = re.search(r"\{.*\}|\[.*\]", text or "", re.S)
    if match:
        try:
            data = json.loads(match.group(0))
            items = data.get("skills", []) if isinstance(data, dict) else data
            picked = [str(x) for x in items if isinstance(x, str)]
        except json.JSONDecodeError:
            picked = []
    if not picked:
        found = [(m.start(), n) for n in names
                 for m in [re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text or "")] if m]
        picked = [n for _, n in sorted(found)]
    known = set(names)
    return list(dict.fromkeys(n for n in picked if n in known))


class ModelRouter(RankingRouter):
    """Ranks skills by a model's choice: the first pick scores 1, the second 1/2, and so on."""

    name = "model"

    def __init__(self, library: SkillLibrary, model: Model, *,
                 shortlist: RankingRouter | None = None, shortlist_k: int = 10,
                 cache_path: str | Path | None = None, **kwargs: Unpack[RankingOptions]):
        super().__init__(library, **kwargs)
        self.model = model
        self.shortlist = shortlist
        self.shortlist_k = shortlist_k
        self.cache_path = Path(cache_path) if cache_path else None
        self.cache: dict[str, list[str]] = {}
        if self.cache_path and self.cache_path.is_file():
            self.cache = json.loads(self.cache_path.read_text(encoding="utf-8"))
        self.responses: list[ModelResponse] = []
        """Every model reply this router received (not cached ones), oldest first."""

    def request(self, query: str, names: list[str]) -> ModelRequest:
        listing = "\n".join(f"- {n}: {' '.join(self.library[n].description.split())}" for n in names)
        return ModelRequest(messages=[
            Message(role="system", content=SYSTEM.replace("{k}", str(self.top_k))),
            Message(role="user", content=f"Task:\n{query}\n\nSkills:\n{listing}")],
            params={"temperature": 0, "max_tokens": REPLY_TOKENS_PER_NAME * self.top_k + 24})

    def scores(self, query: str) -> dict[str, float]:
        if self.shortlist is not None:
            names = sorted(n for n, _ in self.shortlist.rank(query, self.shortlist_k))
        else:
            names = self.library.names()
        if not names:
            return {}
        key = hashlib.sha256(json.dumps([self.model.name, query, names]).encode()).hexdigest()[:24]
        if key not in self.cache:
            reply = self.model.complete(self.request(query, names))
            self.responses.append(reply)
            self.cache[key] = parse_choice(reply.text or "", names)
            if self.cache_path:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                self.cache_path.write_text(json.dumps(self.cache, indent=1), encoding="utf-8")
        return {n: 1.0 / (i + 1) for i, n in enumerate(self.cache[key])}

    def route(self, state: AgentState) -> Routing:
        """Route, and charge the run for each routing model call (purpose skill_routing)."""
        seen = len(self.responses)
        routing = super().route(state)
        for reply in self.responses[seen:]:
            state.charge(reply, "skill_routing", model=self.model.name)
        return routing
