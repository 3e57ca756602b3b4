"""The evidence probe: a model that answers correctly exactly when the evidence its question
needs is in its input, and multi-step tasks whose answer needs evidence from earlier steps.

A task asks the agent to read a list of notes, one per step, and then answer a question.
The answer rests on one or two fact sentences in notes read earlier (at varied distances
from the end), among distractor facts and sentences that mention the same names without
stating the fact. The probe decides everything from its input alone:

- its next action: the file after the last `read_file` call it can see (or the first);
  when a note opens a new folder and a `declare_subgoal` tool is offered, it declares one;
- its answer: the value chained from the fact sentences visible in its input, or
  "unknown". It is never told which context strategy runs.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from harness.llm.base import SyncModel
from harness.llm.scripted import Reply, to_response
from harness.messages import ModelRequest, ModelResponse

UNKNOWN = "unknown"
FOLDERS = ["services", "clusters", "teams", "incidents", "runbooks", "meetings"]
ENTITIES = [f"the {n} {kind}" for kind in ("cluster", "service") for n in (
    "falcon", "heron", "osprey", "kestrel", "plover", "merlin", "harrier", "puffin", "curlew",
    "dunlin", "gannet", "shrike", "avocet", "lapwing", "petrel", "tern")]
TEAMS = [f"team {n}" for n in ("birch", "cedar", "hazel", "larch", "maple", "rowan", "alder",
                               "aspen", "elm", "holly", "juniper", "willow")]
ATTRS = ["rotation key", "backup window", "primary region", "deploy token", "cost centre",
         "failover target"]
TEAM_ATTRS = ["escalation phone", "budget code", "chat channel"]


def _value(rng: random.Random, attr: str) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    if attr in ("backup window",):
        h = rng.randrange(0, 22)
        return f"{h:02d}:{rng.choice(['00', '30'])}-{h + 2:02d}:00UTC"
    if attr in ("primary region", "failover target"):
        return f"{rng.choice(['eu', 'us', 'ap'])}-{rng.choice(['west', 'east', 'south'])}-{rng.randrange(1, 9)}"
    if attr == "escalation phone":
        return f"555-{rng.randrange(1000, 9999)}"
    if attr == "chat channel":
        return f"#ops-{rng.choice(letters).lower()}{rng.randrange(100, 999)}"
    return f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randrange(1000, 9999)}"


def attr_fact(attr: str, entity: str, value: str) -> str:
    return f"The {attr} of {entity} is {value}."


def owner_fact(entity: str, team: str) -> str:
    return f"{entity[0].upper()}{entity[1:]} is maintained by {team}."


_FILLER = [
    "Dashboards were migrated to the new metrics backend without data loss.",
    "Alert thresholds were tuned after the last review, and paging volume fell.",
    "The change freeze ends after the quarterly release train leaves.",
    "Most of the error budget this month went to a flaky health check.",
    "Nobody could reproduce the latency spike reported on Tuesday.",
    "The load balancer pool was resized to absorb the seasonal peak.",
    "A runbook step that referred to a retired host was rewritten.",
    "Capacity planning assumes twenty percent growth over the next two quarters.",
    "Log retention stays at thirty days until the storage review concludes.",
    "The certificate renewal job now runs weekly instead of monthly.",
    "Synthetic probes from three regions confirmed the fix.",
    "Config drift between staging and production was reconciled by hand.",
    "The incident review found no single root cause, only contributing factors.",
    "A feature flag guards the new retry policy until the canary looks clean.",
]
_MENTIONS = [
    "{Entity} was discussed at the weekly review; no action was taken.",
    "Latency for {entity} stayed within its objective during the last window.",
    "A ticket asking about the {attr} of {entity} was closed as a duplicate.",
    "The {attr} policy was reviewed by {team} and left unchanged.",
    "{Team} asked whether {entity} needs its {attr} documented again.",
    "Traffic to {entity} dipped briefly while {team} rotated credentials.",
]


@dataclass
class EvidenceTask:
    """One task: notes to read in order, a question, its answer and the notes holding the
    evidence (with their distance, in steps, from the answering step)."""

    id: str
    files: dict[str, str]
    order: list[str]
    question: str
    answer: str
    evidence: list[str]
    kind: str
    distances: list[int] = field(default_factory=list)

    @property
    def prompt(self) -> str:
        listing = "\n".join(f"- {p}" for p in self.order)
        return ("You are auditing an operations team's notes. Read each file below with "
                "read_file, one file per step, in this order; then answer the question in "
                f"one line.\n\nFiles:\n{listing}\n\nQuestion: {self.question}")


def make_tasks(n: int, *, steps: int = 30, seed: int = 0) -> list[EvidenceTask]:
    """`n` tasks of `steps` model turns (`steps - 1` notes, then the answer). Evidence
    distances cycle through 1..steps-1, so every distance is covered about equally; every
    third task needs two facts (which team maintains X, then that team's attribute)."""
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        kind = "two-hop" if i % 3 == 2 else "single"
        tasks.append(_task(rng, f"ev{seed}-{i:03d}", steps - 1, kind, 1 + (i * 7) % (steps - 1)))
    return tasks


def _task(rng: random.Random, tid: str, n_files: int, kind: str, distance: int) -> EvidenceTask:
    folders = rng.sample(FOLDERS, 5)
    cuts = sorted(rng.sample(range(1, n_files), 4))
    order = []
    for j in range(n_files):
        folder = folders[sum(j >= c for c in cuts)]
        order.append(f"{folder}/{j + 1:02d}-note.md")
    entities, teams = rng.sample(ENTITIES, 8), rng.sample(TEAMS, 5)
    target, team = entities[0], teams[0]
    facts: dict[int, list[str]] = {j: [] for j in range(n_files)}
    first = n_files - distance  # index of the note holding the (first) evidence
    if kind == "single":
        attr = rng.choice(ATTRS)
        answer = _value(rng, attr)
        question = f"What is the {attr} of {target}?"
        facts[first].append(attr_fact(attr, target, answer))
        evidence = [order[first]]
    else:
        attr = rng.choice(TEAM_ATTRS)
        answer = _value(rng, attr)
        question = f"What is the {attr} of the team that maintains {target}?"
        other = rng.choice([j for j in range(n_files) if j != first])
        facts[first].append(owner_fact(target, team))
        facts[other].append(attr_fact(attr, team, answer))
        evidence = sorted([order[first], order[other]], key=order.index)
    for j in range(n_files):  # distractors: the same attribute of others, other attributes
        for _ in range(rng.choice([0, 1, 1, 2])):
            e, t = rng.choice(entities[1:]), rng.choice(teams[1:])
            a, ta = rng.choice(ATTRS), rng.choice(TEAM_ATTRS)
            facts[j].append(rng.choice([attr_fact(a, e, _value(rng, a)), owner_fact(e, t),
                                        attr_fact(ta, t, _value(rng, ta))]))
    files = {path: _note(rng, path, facts[j], entities, teams) for j, path in enumerate(order)}
    distances = [n_files + 1 - (order.index(p) + 1) for p in evidence]
    return EvidenceTask(tid, files, order, question, answer, evidence, kind, distances)


def _note(rng: random.Random, path: str, facts: list[str], entities: list[str],
          teams: list[str]) -> str:
    sentences = []
    for _ in range(rng.randrange(12, 48)):
        if rng.random() < 0.3:
            e, t = rng.choice(entities), rng.choice(teams)
            s = rng.choice(_MENTIONS).format(entity=e, Entity=e[0].upper() + e[1:], team=t,
                                             Team=t[0].upper() + t[1:], attr=rng.choice(ATTRS))
        else:
            s = rng.choice(_FILLER)
        sentences.append(s)
    for f in facts:
        sentences.insert(rng.randrange(len(sentences) + 1), f)
    paragraphs = [" ".join(sentences[k:k + 5]) for k in range(0, len(sentences), 5)]
    return f"# {path}\n\n" + "\n\n".join(paragraphs) + "\n"


# -- the probe -------------------------------------------------------------------------

_FILES = re.compile(r"^- (\S+)$", re.MULTILINE)
_QUESTION = re.compile(r"^Question: (.+)$", re.MULTILINE)
_TWO_HOP = re.compile(r"What is the (.+?) of the team that maintains (.+?)\?")
_ONE_HOP = re.compile(r"What is the (.+?) of (.+?)\?")


class EvidenceProbe(SyncModel):
    """Reads the task's files in order, then answers from the fact sentences in its input."""

    name = "probe:evidence"

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        return to_response(self._decide(request), model=self.name, request=request,
                           call_prefix=f"probe_{self.calls}")

    def _decide(self, request: ModelRequest) -> Reply:
        task = next((m.content or "" for m in request.messages if m.role == "user"), "")
        order = _FILES.findall(task)
        reads = [str(c.arguments.get("path", "")) for m in request.messages
                 if m.role == "assistant" for c in m.tool_calls if c.name == "read_file"]
        last = order.index(reads[-1]) if reads and reads[-1] in order else -1
        if last + 1 < len(order):
            nxt = order[last + 1]
            calls = [{"tool": "read_file", "args": {"path": nxt}}]
            offered = {t.get("function", {}).get("name") for t in request.tools}
            folder = nxt.split("/", 1)[0]
            if "declare_subgoal" in offered and (last < 0 or order[last].split("/", 1)[0] != folder):
                calls.insert(0, {"tool": "declare_subgoal", "args": {"goal": f"read the {folder} notes"}})
            return calls
        question = _QUESTION.search(task)
        return answer(question.group(1) if question else "", request.text())


def answer(question: str, text: str) -> str:
    """The value the fact sentences in `text` give for `question`, or "unknown"."""
    two = _TWO_HOP.fullmatch(question.strip())
    if two:
        attr, entity = two.groups()
        owner = re.search(re.escape(entity) + r" is maintained by (team \w+)\.", text, re.IGNORECASE)
        if not owner:
            return UNKNOWN
        entity = owner.group(1)
    else:
        one = _ONE_HOP.fullmatch(question.strip())
        if not one:
            return UNKNOWN
        attr, entity = one.groups()
    fact = re.search(rf"The {re.escape(attr)} of {re.escape(entity)} is (\S+?)\.(?:\s|$)", text,
                     re.IGNORECASE)
    return fact.group(1) if fact else UNKNOWN
