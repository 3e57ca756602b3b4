"""gate: the pre-action gate on labelled scenarios (data: gate/dev.jsonl).

Each scenario's history is loaded into a fresh `ProjectMemory` (a real log and index in a
temp dir, ids kept), then `check(action)` is asked. A scenario expects "warn" (at least
one warning) or "allow" (none). Reports precision, recall, F1 and accuracy of warnings,
per-category accuracy (the `[tag]` opening `why`), false warnings on reads, and how often
a warning cites an id that `why` names. In-run baseline (`baseline_...`): per-file
matching with normalised paths (warn on any change to a file with a failed attempt or a
fragile mark, or on a failed command repeated verbatim; decisions never warn).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.bench.suite import BenchOptions, DataError, Suite, SuiteResult, read_jsonl
from harness.memory import ProjectMemory
from harness.memory.approach import FILE_WRITERS, SHELL_TOOLS
from harness.memory.events import (
    Attempt,
    Fix,
    Fragile,
    Issue,
    MemoryEvent,
    Note,
    ProjectDecision,
    RecordedAction,
    Supersede,
)
from harness.memory.paths import normalize_path, same_file

WORKSPACE = "/repo"
"""Absolute paths in the data live under /repo/ (the data's contract)."""

REQUIRED = {"issue": ("title", "files"), "attempt": ("issue", "approach", "action", "outcome"),
            "fix": ("issue", "attempt"), "fragile": ("path",), "decision": ("files", "rule"),
            "supersede": ("old", "new"), "note": ("text",)}
"""Fields each kind of event must carry (the data's contract)."""


def _action_only(raw: Any) -> Any:
    """An action's `tool` and `args`; other keys are ignored, as for events."""
    return {k: v for k, v in raw.items() if k in ("tool", "args")} if isinstance(raw, dict) \
        else raw


class HistoryEvent(BaseModel):
    """One event of a scenario's history (fields beyond these are ignored)."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["issue", "attempt", "fix", "fragile", "decision", "supersede", "note"]
    id: str
    title: str = ""
    files: list[str] = Field(default_factory=list)
    issue: str | None = None
    approach: str = ""
    action: RecordedAction | None = None
    outcome: Literal["failed", "succeeded"] | None = None
    error: str = ""
    attempt: str | None = None
    path: str = ""
    reason: str = ""
    rule: str = ""
    old: str = ""
    new: str = ""
    text: str = ""

    _action = field_validator("action", mode="before")(_action_only)

    @model_validator(mode="before")
    @classmethod
    def _has_its_fields(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            missing = [f for f in REQUIRED.get(raw.get("kind"), ()) if raw.get(f) is None]
            if missing:
                raise ValueError(f"an event of kind {raw['kind']!r} needs '{missing[0]}'")
        return raw

    def to_memory(self) -> MemoryEvent:
        common: dict[str, Any] = {"id": self.id, "provenance": [f"scenario:{self.id}"]}
        if self.kind == "issue":
            return Issue(title=self.title, files=self.files, **common)
        if self.kind == "attempt":
            return Attempt(issue=self.issue, approach=self.approach, action=self.action,
                           outcome=self.outcome or "pending", error=self.error, **common)
        if self.kind == "fix":
            return Fix(issue=self.issue or "", attempt=self.attempt, **common)
        if self.kind == "fragile":
            return Fragile(path=self.path, reason=self.reason, **common)
        if self.kind == "decision":
            return ProjectDecision(title=self.title, files=self.files, rule=self.rule, **common)
        if self.kind == "supersede":
            return Supersede(old=self.old, new=self.new, reason=self.reason, **common)
        return Note(text=self.text, **common)


class Scenario(BaseModel):
    """One labelled gate scenario."""

    model_config = ConfigDict(extra="ignore")

    id: str
    history: list[HistoryEvent]
    action: RecordedAction
    expect: Literal["warn", "allow"]
    why: str = ""

    _action = field_validator("action", mode="before")(_action_only)

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        seen: dict[str, int] = {}
        for n, e in enumerate(self.history):
            if e.id in seen:
                raise ValueError(f"field 'history.{n}.id': {e.id!r} repeats history.{seen[e.id]}")
            seen[e.id] = n
        return self

    @property
    def category(self) -> str:
        m = re.match(r"\s*\[([^\]]+)\]", self.why)
        return m.group(1) if m else "uncategorised"


def per_file_baseline(s: Scenario) -> bool:
    """Warn on a change to a file with a live failed attempt or fragile mark, or on a
    failed command repeated verbatim."""
    retired = {e.old for e in s.history if e.kind == "supersede"}
    tool = s.action.tool
    if tool in SHELL_TOOLS:
        cmd = s.action.args.get("command")
        return any(e.kind == "attempt" and e.outcome == "failed" and e.id not in retired
                   and e.action is not None and e.action.args.get("command") == cmd
                   for e in s.history)
    if tool not in FILE_WRITERS:
        return False
    path = normalize_path(str(s.action.args.get("path", "")), WORKSPACE)
    for e in s.history:
        if e.id in retired:
            continue
        if e.kind == "fragile" and same_file(normalize_path(e.path, WORKSPACE), path):
            return True
        if (e.kind == "attempt" and e.outcome == "failed" and e.action is not None
                and same_file(normalize_path(str(e.action.args.get("path", "")), WORKSPACE), path)):
            return True
    return False


def scores(rows: list[dict], key: str) -> dict[str, float]:
    tp = sum(r[key] and r["expect"] == "warn" for r in rows)
    fp = sum(r[key] and r["expect"] == "allow" for r in rows)
    fn = sum(not r[key] and r["expect"] == "warn" for r in rows)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(r[key] == (r["expect"] == "warn") for r in rows) / len(rows)
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "accuracy": round(accuracy, 4)}


class GateSuite(Suite):
    name = "gate"
    description = "pre-action gate on labelled scenarios: precision, recall, F1, accuracy"
    data_path = "gate/dev.jsonl"

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        config = self.config_name(opts)
        path = self.resolve_data(opts)
        scenarios = read_jsonl(path, Scenario)
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for n, s in enumerate(scenarios, 1):
                rows.append(self.run_one(s, Path(tmp) / f"s{n}", path, n))
                progress(n, len(scenarios))
        metrics: dict[str, Any] = scores(rows, "warned")
        reads = [r for r in rows if r["tool"] not in FILE_WRITERS | SHELL_TOOLS]
        metrics["false_warnings_on_reads"] = sum(r["warned"] for r in reads)
        cited = [r for r in rows if r["warned"] and r["expect"] == "warn" and r["expected_cites"]]
        metrics["citation_accuracy"] = round(
            sum(bool(set(r["cites"]) & set(r["expected_cites"])) for r in cited) / len(cited), 4
        ) if cited else None
        by_cat: dict[str, list[dict]] = {}
        for r in rows:
            by_cat.setdefault(r["category"], []).append(r)
        metrics["by_category"] = {c: {"accuracy": round(sum(
            x["warned"] == (x["expect"] == "warn") for x in rs) / len(rs), 4), "cases": len(rs)}
            for c, rs in sorted(by_cat.items())}
        metrics.update({f"baseline_{k}": v for k, v in scores(rows, "baseline").items()})
        return SuiteResult(suite=self.name, config=config, metrics=metrics, cases=len(rows),
                           rows=rows, data=str(path))

    @staticmethod
    def run_one(s: Scenario, root: Path, path: Path, line: int) -> dict:
        memory = ProjectMemory(root, workspace=WORKSPACE, record=False)
        try:
            memory.add_many([e.to_memory() for e in s.history], hygiene=False)
            warnings = memory.check(s.action)
        except ValueError as exc:
            raise DataError(f"{path} scenario {s.id}: {exc}") from exc
        finally:
            memory.close()
        known = {e.id for e in s.history}
        expected = [i for i in re.findall(r"\b([a-z]+\d+)\b", s.why) if i in known]
        return {"id": s.id, "category": s.category, "expect": s.expect, "tool": s.action.tool,
                "warned": bool(warnings), "baseline": per_file_baseline(s),
                "cites": sorted({c for w in warnings for c in w.cites}),
                "expected_cites": expected, "warnings": [w.message for w in warnings]}


SUITE = GateSuite()
