"""Progressive disclosure: what of the routed skills enters the context, within a token budget.

The section lists routed candidates by name and one-line description; a body enters only
when the router is confident about it (or the model asked for it with `load_skill`), and
only if it fits the budget. The skill's other files are named, not included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.skills.library import SkillLibrary
from harness.skills.skill import Skill
from harness.state import ContextSection

SECTION_NAME = "skills"
SECTION_PRIORITY = 60
HEADER = ("## Skills\nSkills that may help with this task. Call load_skill(name) to read one "
          "in full before you rely on it.")

TokenCounter = Callable[[str], int]


@dataclass
class Disclosure:
    """The rendered section and what it holds: listed candidates and loaded bodies."""

    section: ContextSection | None
    listed: list[str]
    loaded: list[str]
    tokens: int


def body_block(skill: Skill) -> str:
    """A skill's full text as the model sees it when loaded, naming its other files."""
    parts = [f"### Skill: {skill.name}\n{skill.body.strip()}"]
    files = skill.resources()
    if files:
        parts.append(f"Files in this skill (read with read_skill_file('{skill.name}', PATH)): "
                     + ", ".join(files))
    return "\n\n".join(parts)


def disclose(ranked: Sequence[str], library: SkillLibrary, *, load: Sequence[str] = (),
             already_loaded: Sequence[str] = (), budget_tokens: int | None,
             count_tokens: TokenCounter) -> Disclosure:
    """List `ranked` names (best first) and the bodies of `load`, within `budget_tokens`.

    Candidates are listed while their lines fit; a body is added only if it fits what is
    left. Skills in `already_loaded` (the model loaded them) are marked, not repeated.
    """
    if not ranked and not already_loaded:
        return Disclosure(None, [], [], 0)
    budget = float("inf") if budget_tokens is None else budget_tokens
    used = count_tokens(HEADER)
    listing: list[str] = [HEADER]
    listed: list[str] = []
    for name in [*already_loaded, *(n for n in ranked if n not in already_loaded)]:
        skill = library.get(name)
        if skill is None:
            continue
        mark = " (loaded)" if name in already_loaded else ""
        line = f"- {name}{mark}: {skill.summary}"
        cost = count_tokens(line) + 1
        if used + cost > budget:
            break
        listing.append(line)
        used += cost
        listed.append(name)
    if not listed:
        return Disclosure(None, [], [], 0)
    bodies: list[str] = []
    loaded: list[str] = []
    for name in load:
        skill = library.get(name)
        if skill is None or name not in listed or name in already_loaded:
            continue
        block = body_block(skill)
        cost = count_tokens(block) + 2
        if used + cost <= budget:
            bodies.append(block)
            used += cost
            loaded.append(name)
    text = "\n\n".join(["\n".join(listing), *bodies])
    while count_tokens(text) > budget and (bodies or len(listing) > 2):
        # a counter that is not additive (real tokenizers) may overshoot: drop the last piece
        if bodies:
            bodies.pop(), loaded.pop()
        else:
            listing.pop(), listed.pop()
        text = "\n\n".join(["\n".join(listing), *bodies])
    if count_tokens(text) > budget:
        return Disclosure(None, [], [], 0)
    section = ContextSection(name=SECTION_NAME, text=text, priority=SECTION_PRIORITY,
                             items=[*listed, *(f"{n} (body)" for n in loaded)])
    return Disclosure(section, listed, loaded, count_tokens(text))
