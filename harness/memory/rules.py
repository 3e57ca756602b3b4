"""Reading a decision's rule: which code entities it forbids, and where one is confined.

A rule is prose. Its grammar says where a prohibition puts the forbidden thing:
- the object of a negated verb: "never import X", "do not add X, Y or Z", "no longer sets X";
- the subject of a negated predicate: "X is forbidden / deprecated / no longer used",
  "X must not be added";
- the object of a contrast or an absence: "instead of X", "..., not X", "no X".
"X may be used only under DIR/" confines X to DIR. Code the rule names without
forbidding it is prescribed, and masked before counting (`redis.asyncio` is not `redis`).

The gate can only check offline what names code, so a prohibition forbids the code
entities of its phrase (see `code_terms`), plus a phrase that is one bare word where the
grammar makes it a name: the object of a verb that takes a component ("do not import
requests"), a subject ("zap is deprecated"), a contrast ("use zod, not yup"), an item of
a list that holds code ("no time.sleep, requests or ..."). Descriptions ("request bodies",
"a version string", "external cache") name nothing to look for and never warn. An example
of a forbidden kind ("tags such as @v4") stands for its shape when it carries a version.
A trailing "with X" / "without X" / "unless X" qualifies the prohibition when X is code;
when the phrase before "with" names no code, X is the forbidden instrument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from harness.memory.approach import language, strip_comments
from harness.memory.code_terms import (
    Term,
    alternatives,
    code_like,
    make_term,
    nameable,
    quoted,
)
from harness.memory.paths import binds, normalize_path

_NEG = (r"(?:(?:do|does|did|must|should|shall|may|might|can|could|will|would|need)"
        r"(?:\s+not|\s+never|n't)|cannot|can't|won't|never|no\s+longer)")
_CUE = re.compile(rf"""
    (?P<subject>\b(?:is|are|was|were|has\s+been|have\s+been)\s+(?:being\s+)?
        (?:(?:not|no\s+longer|never)\s+(?:to\s+be\s+)?
           (?:used|allowed|permitted|supported|accepted|welcome|an\s+option)
         | forbidden|banned|prohibited|disallowed|deprecated|removed|rejected|dropped
         | retired|obsolete|phased\s+out)\b
      | \b{_NEG}\s+be\s+\w+(?:ed|en)\b)
  | (?P<verb>\b{_NEG}\b)
  | (?P<direct>\b(?:avoid|forbid|ban|prohibit|disallow)s?\b)
  | (?P<contrast>\b(?:instead\s+of|rather\s+than|in\s+place\s+of)\b
      | (?:^|(?<=,))\s*(?:but\s+)?not\b)
  | (?P<absent>\bno\b(?!\s+(?:longer|more|one|matter|need)\b)|\bwithout\b)
""", re.I | re.X)
"""A prohibition, named by where it puts the forbidden thing: the clause's subject, the
object of a negated verb, or the phrase after the cue."""
_COMPONENT_VERB = re.compile(r"(?:re-?)?(?:import|use?|add|call|require?|install|invoke?"
                             r"|introduce?|depend|vendor)(?:s|es|d|ed|ing)?", re.I)
"""Verbs whose object is a software component, so a bare word after them is a name."""
_AUXILIARY = re.compile(r"\b(?:is|are|was|were|has|have|had|must|should|shall|may|might|"
                        r"can|cannot|could|will|would|do|does|did|never|no\s+longer)\b", re.I)
_OPENING_ADVERBIAL = re.compile(r"^(?:in|inside|within|under|for|on|at|from)\b[^,]*,\s*", re.I)
_LEADING_PREPOSITION = re.compile(r"^(?:(?:on|upon|to|by|with|from|into|onto|via|through|"
                                  r"out\s+of)\s+)+", re.I)
_PHRASE_END = re.compile(
    r"\s(in|inside|within|under|outside|at|on|for|from|with|without|to|into|onto|by|via|"
    r"through|across|when|while|unless|until|because|since|so|than|except|beyond|behind|"
    r"after|before|if|where|which|that|who|per|during|once)\s", re.I)
"""Words after which a noun phrase has ended: what follows says where, when or why."""
_QUALIFIERS = {"with": "together_with", "without": "unless", "unless": "unless",
               "except": "unless"}
_EXAMPLES = re.compile(r"\b(?:such\s+as|e\.g|for\s+example|for\s+instance|like|including)\b",
                       re.I)
_ADVERB = re.compile(r"^(?:\w+ly|again|anymore|here|there|anywhere|everywhere|elsewhere|"
                     r"either|ever|yet)$", re.I)
_WORD = re.compile(r"`[^`]+`|\"[^\"]+\"|'[^'\s]+'|\S+")
_ONLY_UNDER = re.compile(r"\bonly\s+(?:under|in|inside|within|from)\s+(\S+/)", re.I)
_ABBREVIATION = re.compile(r"\b(e\.g|i\.e|etc|vs|cf)\.", re.I)
_PARENTHETICAL = re.compile(r"(?<!\S)\(([^()]*)\)")
"""A prose parenthesis (not a call's): its own clause."""
_CLAUSE_END = re.compile(r"(`[^`]*`)|[;\n]|:(?=\s)|(?<=[\w\])`'\"*])\.(?=\s|$)")
"""Clause boundaries outside backticks: `;`, a line break, `: ` and a full stop."""


@dataclass
class RuleTerms:
    """What a rule forbids, where terms are confined, and what it prescribes."""

    forbidden: list[Term] = field(default_factory=list)
    confined: list[tuple[Term, str]] = field(default_factory=list)
    """(term, directory) pairs: the term may appear only under the directory."""
    prescribed: list[Term] = field(default_factory=list)


@dataclass(frozen=True)
class _Slot:
    """A phrase a prohibition points at. `names`: whether a one-word item is a name
    (`always`), only when its list also holds code (`in-code-lists`), or `never`."""

    text: str
    names: str


def parse_rule(rule: str) -> RuleTerms:
    """The forbidden, confined and prescribed code entities of a rule."""
    terms = RuleTerms()
    named: list[Term] = []
    for clause in _clauses(rule):
        named += _code_terms(clause)
        only = _ONLY_UNDER.search(clause)
        if only:
            subject = _subject(clause[: only.start()])
            terms.confined += [(t, only.group(1)) for t in _entities(subject, "always")]
            continue
        for slot in _negated_slots(clause):
            terms.forbidden += _entities(slot.text, slot.names)
    terms.forbidden = list({t.text.lower(): t for t in terms.forbidden}.values())
    terms.prescribed = _prescribed(named, terms)
    return terms


def _prescribed(named: list[Term], terms: RuleTerms) -> list[Term]:
    """The named code that the rule neither forbids, confines nor uses as a qualifier,
    nor is part of such a term (`module` of `module.exports`)."""
    restricted = [*terms.forbidden, *(t for t, _ in terms.confined)]
    restricted += [q for t in terms.forbidden for q in (*t.together_with, *t.unless)]
    texts = [t.text.lower() for t in restricted]
    return [t for t in named if not any(t.text.lower() in text for text in texts)]


def _clauses(rule: str) -> list[str]:
    text = _PARENTHETICAL.sub(r"; \1;", _ABBREVIATION.sub(lambda m: m.group(1), rule))
    out, start = [], 0
    for m in _CLAUSE_END.finditer(text):
        if not m.group(1):
            out.append(text[start:m.start()])
            start = m.end()
    out.append(text[start:])
    return [c.strip() for c in out if c.strip()]


def _negated_slots(clause: str) -> list[_Slot]:
    """Each prohibition of a clause with the phrase it forbids. A `without` after another
    prohibition qualifies that one ("never call X without Y") rather than forbid Y."""
    cues = [c for i, c in enumerate(_CUE.finditer(clause))
            if not (i and c.group().lower() == "without")]
    slots = []
    for cue, following in zip(cues, [*cues[1:], None], strict=False):
        if cue.lastgroup == "subject":
            slots.append(_Slot(_subject(clause[: cue.start()]), "always"))
        else:
            end = following.start() if following else len(clause)
            slots.append(_object(cue.lastgroup or "", clause[cue.end():end]))
    return slots


def _subject(text: str) -> str:
    """The clause's subject: what precedes its first auxiliary verb, after any opening
    adverbial ("In handlers, ...")."""
    aux = _AUXILIARY.search(text)
    subject = text[: aux.start()] if aux else text
    return _OPENING_ADVERBIAL.sub("", subject.strip())


def _object(cue: str, text: str) -> _Slot:
    """The phrase after a prohibiting cue; after a negated verb ("never import"), or a
    gerund ("avoid calling"), the phrase past the verb and its particle ("write to")."""
    text = text.strip()
    names = "in-code-lists" if cue == "absent" else "always"
    verb = _leading_verb(text)
    if verb and (cue == "verb" or (cue == "direct" and verb.group(1).endswith("ing"))):
        names = "always" if _COMPONENT_VERB.fullmatch(verb.group(1)) else "never"
        text = text[verb.end():]
    return _Slot(_LEADING_PREPOSITION.sub("", text), names)


def _leading_verb(text: str) -> re.Match[str] | None:
    """The plain lowercase word a phrase opens with, when it can be a verb."""
    word = re.match(r"([a-z][a-z\-]*)\b\s*", text)
    if not word or code_like(word.group(1)) or _LEADING_PREPOSITION.match(word.group()):
        return None
    return word


def _entities(phrase: str, names: str) -> list[Term]:
    """The code entities of a noun phrase; one-word items count as names when `names`
    says so. Examples after "such as" stand for their kind; a trailing qualifier made of
    code narrows the prohibition."""
    phrase, qualifier, condition = _qualifier(phrase)
    head, marker, tail = _split_examples(phrase)
    items = [(words, False) for words in _items(head)]
    items += [(words, True) for words in _items(tail)] if marker else []
    has_code = any(code_like(w) for words, _ in items for w in words)
    out: list[Term] = []
    for words, is_example in items:
        is_name = len(words) == 1 and (is_example or not marker) and (
            names == "always" or (names == "in-code-lists" and has_code))
        out += [make_term(part, is_example) for word in words
                if code_like(word) or (is_name and nameable(word))
                for part in alternatives(word)]
    if not out and qualifier == "together_with":  # "never print with fmt.Println": the
        return condition                             # instrument is what is forbidden
    if not condition:
        return out
    if qualifier == "together_with":
        return [replace(t, together_with=tuple(condition)) for t in out]
    return [replace(t, unless=tuple(condition)) for t in out]


def _qualifier(phrase: str) -> tuple[str, str, list[Term]]:
    """The phrase cut where it ends, the kind of its qualifier (`together_with` or
    `unless`) and the qualifier's code terms (empty when it names no code)."""
    end = _PHRASE_END.search(phrase + " ")
    if not end:
        return phrase, "", []
    kind = _QUALIFIERS.get(end.group(1).lower(), "")
    return phrase[: end.start()], kind, _code_terms(phrase[end.end():]) if kind else []


def _code_terms(text: str) -> list[Term]:
    """Every code-like term of a text, wherever it stands."""
    words = (_clean(raw) for raw in _WORD.findall(text))
    return [make_term(part) for word in words if word and code_like(word)
            for part in alternatives(word)]


def _split_examples(phrase: str) -> tuple[str, str, str]:
    m = _EXAMPLES.search(phrase)
    return (phrase[: m.start()], m.group(), phrase[m.end():]) if m else (phrase, "", "")


def _items(phrase: str) -> list[list[str]]:
    """The coordinated items of a phrase ("a, b or c d"), each as its words, with
    trailing adverbs ("directly") dropped."""
    items: list[list[str]] = [[]]
    for raw in _WORD.findall(re.sub(r"\band/or\b", " or ", phrase)):
        if raw.lower() in ("or", "and", "nor", "&"):
            items.append([])
            continue
        word = _clean(raw)
        if word:
            items[-1].append(word)
        if raw.endswith(",") and not quoted(raw):
            items.append([])
    for words in items:
        while words and _ADVERB.match(words[-1]):
            words.pop()
    return [words for words in items if words]


def _clean(raw: str) -> str:
    """A word without sentence punctuation, unmatched parentheses or a possessive `'s`
    (quotes are kept: they mark a name)."""
    if quoted(raw):
        return raw
    word = raw.strip("[]\"'").rstrip(",.;:!?")
    while word.startswith("(") and word.count("(") > word.count(")"):
        word = word[1:]
    while word.endswith(")") and word.count(")") > word.count("("):
        word = word[:-1]
    return re.sub(r"'s$", "", word)


def added_text(tool: str, args: dict) -> tuple[str, str]:
    """(old, new) text of a file-changing action: what was there and what will be."""
    if tool == "edit_file":
        return str(args.get("old", "")), str(args.get("new", ""))
    return "", str(args.get("content", ""))


def violations(rule: str, scope_path: str, old: str, new: str) -> list[str]:
    """What the change introduces against the rule, for a file at `scope_path`: terms
    that occur more often in its code (comments aside, prescribed terms masked)."""
    terms = parse_rule(rule)
    lang = language(scope_path)
    before, after = (_mask(strip_comments(text, lang), terms.prescribed) for text in (old, new))
    found = [hit for term in terms.forbidden for hit in _introduced(term, before, after)]
    for term, folder in terms.confined:
        if not binds(normalize_path(folder), scope_path):
            found += [f"{hit} outside {folder}" for hit in _introduced(term, before, after)]
    return list(dict.fromkeys(found))


def _introduced(term: Term, before: str, after: str) -> list[str]:
    if term.qualified_away(after):
        return []
    return [term.describe(hit) for hit in term.hits(after) - term.hits(before)]


def _mask(text: str, prescribed: list[Term]) -> str:
    for term in sorted(prescribed, key=lambda t: len(t.text), reverse=True):
        text = term.pattern.sub(" ", text)
    return text
