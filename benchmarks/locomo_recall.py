"""locomo-recall: long-term conversational recall on LoCoMo.

Data: `locomo/locomo10.json` as `harness data get locomo` fetches it (CC BY-NC 4.0), read
in a named split of its conversations (`--split`, default `dev`: conv-26, 30, 41-44, the
split of the figures in the README; `all`: the ten). A folder holding the team's
`locomo-dev.json` (those six, unchanged) serves too. `--data PATH` takes any file in the
same format, read whole unless `--split` is given.

For each conversation a fresh `ProjectMemory` is loaded with every turn (one note per
turn, its `dia_id` as provenance, its session as the note's thread, its speaker as an
entity, the session date as its time), then `recall(question, k)` is asked. A question's
recall@k is the share of its evidence ids among the top k. Reported overall and per
category at k = 1, 5, 10, with no LLM and no embedding model, next to an in-run
baseline: plain BM25 (bm25s) over lower-cased word tokens of "speaker: text".
Variants: `hybrid` (the default: the graph ranking -- BM25 plus what neighbouring turns
and shared entities pass along -- fused with recency by RRF), `lexical` (the same FTS5
BM25 alone) and `rrf-lexical-graph-recency` (the bare lexical ranking fused in too).
"""

from __future__ import annotations

import json
import re
import tempfile
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.suite import BenchOptions, DataError, Suite, SuiteResult
from harness.data import get_dataset
from harness.memory import Note, ProjectMemory, RecallConfig

KS = (1, 5, 10)
DEFAULT_SPLIT = "dev"
FILES = ("locomo10.json", "locomo-dev.json")
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
VARIANTS = {
    "hybrid": RecallConfig(),
    "lexical": RecallConfig(weights=(("lexical", 1.0),)),
    "rrf-lexical-graph-recency": RecallConfig(weights=(("lexical", 1.0), ("graph", 2.0),
                                                       ("recency", 0.2))),
}
_WORD = re.compile(r"\w+")


def normalize_evidence(raw: str, dropped: list[str] | None = None) -> list[str]:
    """`"D8:6; D9:17"` -> D8:6, D9:17; `"D:11:26"` -> D11:26; `"D30:05"` -> D30:5.
    A part that names no turn at all (`"D"`) is appended to `dropped` (or raises)."""
    out = []
    for part in re.split(r"[;,\s]+", raw.strip()):
        m = re.fullmatch(r"D:?(\d+):0*(\d+)", part)
        if m:
            out.append(f"D{int(m.group(1))}:{int(m.group(2))}")
        elif part and dropped is not None:
            dropped.append(raw)
        elif part:
            raise ValueError(f"evidence {raw!r} is not a dialogue id like 'D3:14'")
    return out


_DATE_READERS: tuple[Callable[[str], datetime], ...] = (
    datetime.fromisoformat,
    lambda t: datetime.strptime(t, "%I:%M %p on %d %B, %Y"),  # LoCoMo's "1:56 pm on 8 May, 2023"
    lambda t: datetime.strptime(t, "%I:%M %p on %d %b, %Y"),
)


def _date(text: str) -> float | None:
    """A session's date as a timestamp: ISO 8601 or LoCoMo's own form; None if neither."""
    for read in _DATE_READERS:
        try:
            return read(text.strip()).timestamp()
        except ValueError:
            continue
    return None


def load(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    """Conversations as {sample_id, turns: [Note], qa: [(question, evidence, category)]},
    those of the named split only (None: every one); a malformed record raises DataError
    naming the file, the conversation and the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read LoCoMo JSON: {exc}") from exc
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of conversations")
    if split is not None:
        data = select_split(data, split, path)
    out = []
    for n, conv in enumerate(data):
        where = f"{path} conversation {n} ({conv.get('sample_id', '?') if isinstance(conv, dict) else '?'})"
        try:
            out.append(_conversation(conv, n))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where}: {exc}") from exc
    if not any(c["qa"] for c in out):
        raise DataError(f"{path}: no question with evidence to score")
    return out


def select_split(data: list[Any], split: str, path: Path) -> list[Any]:
    """The conversations of the named split, in file order; DataError naming an unknown
    split or the conversations the file lacks."""
    splits = get_dataset("locomo").splits
    if split not in splits:
        raise DataError(f"locomo-recall: no split '{split}'; choose from: {', '.join(splits)}")
    wanted = set(splits[split])
    chosen = [c for c in data if isinstance(c, dict) and c.get("sample_id") in wanted]
    lacking = sorted(wanted - {c["sample_id"] for c in chosen})
    if lacking:
        raise DataError(f"{path}: split '{split}' names conversations the file lacks: "
                        f"{', '.join(lacking)} (the full file comes with `harness data get "
                        f"locomo`)")
    return chosen


def _conversation(conv: dict, n: int) -> dict[str, Any]:
    dropped: list[str] = []
    c = conv["conversation"]
    sample = str(conv.get("sample_id", n))
    sessions = sorted(int(k.split("_")[1]) for k in c if re.fullmatch(r"session_\d+", k))
    turns: list[Note] = []
    for s in sessions:
        where = f"conversation.session_{s}"
        if not isinstance(c[f"session_{s}"], list):
            raise TypeError(f"field '{where}': expected a list of turns")
        # a session without a date follows the one before it, so recency keeps their order
        start = _date(str(c.get(f"session_{s}_date_time", ""))) or \
            (turns[-1].ts + 86400 if turns else float(s * 86400))
        for i, t in enumerate(c[f"session_{s}"]):
            for field in ("speaker", "dia_id", "text"):
                if not isinstance(t, dict) or field not in t:
                    raise KeyError(f"field '{where}[{i}].{field}' is missing")
            ids = normalize_evidence(t["dia_id"]) if isinstance(t["dia_id"], str) else []
            if len(ids) != 1:
                raise ValueError(f"field '{where}[{i}].dia_id': expected one id like 'D3:14', "
                                 f"got {t['dia_id']!r}")
            text = f"{t['speaker']}: {t['text'] if t['text'] is not None else ''}"
            if t.get("blip_caption"):
                text += f" [shares a photo: {t['blip_caption']}]"
            turns.append(Note(text=text, thread=f"{sample}/session_{s}", entities=[t["speaker"]],
                              provenance=ids, ts=start + i))
    qa = []
    for j, q in enumerate(conv["qa"]):
        if not isinstance(q, dict) or "question" not in q or "category" not in q:
            raise KeyError(f"field 'qa[{j}].question' or 'qa[{j}].category' is missing")
        raw_evidence = q.get("evidence") or []
        if not isinstance(raw_evidence, list):
            raise TypeError(f"field 'qa[{j}].evidence': expected a list of ids like 'D3:14'")
        evidence = [e for raw in raw_evidence for e in normalize_evidence(str(raw), dropped)]
        if evidence:
            qa.append((str(q["question"]), evidence, _category(q["category"], f"qa[{j}]")))
    known = {t.provenance[0] for t in turns}
    unknown = sorted({e for _, ev, _ in qa for e in ev} - known)
    return {"sample_id": sample, "turns": turns, "qa": qa, "dropped": dropped,
            "unknown": unknown}


def _category(raw: Any, where: str) -> int:
    """A category code (`2`, `"2"`) or name (`"temporal"`)."""
    names = {v: k for k, v in CATEGORIES.items()}
    if isinstance(raw, str) and raw.strip().lower() in names:
        return names[raw.strip().lower()]
    if isinstance(raw, int | str) and not isinstance(raw, bool) and str(raw).strip().isdigit():
        return int(raw)
    raise ValueError(f"field '{where}.category': expected a category code or name, got {raw!r}")


def bm25_baseline(turns: list[Note]):
    """Plain BM25 over lower-cased word tokens of each turn: a ranking function."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([_WORD.findall(t.text.lower()) for t in turns], show_progress=False)

    def rank(question: str, k: int) -> list[str]:
        scores = retriever.get_scores(_WORD.findall(question.lower()))
        return [turns[i].provenance[0] for i in np.argsort(-scores, kind="stable")[:k]]

    return rank


def recall_at(found: list[str], evidence: list[str], k: int) -> float:
    ev = set(evidence)
    return len(ev & set(found[:k])) / len(ev)


def summarise(rows: list[dict], prefix: str = "") -> dict[str, Any]:
    def mean(xs):
        return round(float(np.mean(xs)), 4) if xs else None
    out: dict[str, Any] = {}
    for k in KS:
        out[f"{prefix}recall@{k}"] = mean([r[f"{prefix}recall@{k}"] for r in rows])
    return out


def data_file(folder: Path) -> Path:
    """The LoCoMo file in a data folder: the fetched `locomo10.json`, else `locomo-dev.json`."""
    for name in FILES:
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder}: holds neither {' nor '.join(FILES)}; fetch the data with "
                    f"`harness data get locomo`")


class LocomoRecallSuite(Suite):
    name = "locomo-recall"
    description = "LoCoMo retrieval recall@k of project memory vs plain BM25 (no LLM)"
    data_path = "locomo"
    dataset = "locomo"

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        config = self.config_name(opts)
        path = self.resolve_data(opts)
        if path.is_dir():
            path = data_file(path)
        # the fetched file is read in the README's split; a file of one's own, whole
        split = opts.extra.get("split") or (None if opts.data is not None else DEFAULT_SPLIT)
        convs = load(path, split)
        dropped = [f"{c['sample_id']}: {raw!r}" for c in convs for raw in c["dropped"]]
        if dropped:
            warnings.warn(f"{path}: evidence that names no turn was left out: "
                          f"{'; '.join(dropped)}", stacklevel=1)
        unknown = [f"{c['sample_id']}: {', '.join(c['unknown'])}" for c in convs if c["unknown"]]
        if unknown:  # still counted: a question's recall is over all its evidence ids
            warnings.warn(f"{path}: evidence names turns the conversation does not have: "
                          f"{'; '.join(unknown)}", stacklevel=1)
        total = sum(len(c["qa"]) for c in convs)
        rows: list[dict] = []
        with tempfile.TemporaryDirectory() as tmp:
            for n, conv in enumerate(convs):
                rows += self.run_conversation(conv, Path(tmp) / f"c{n}")
                progress(len(rows), total)
        metrics: dict[str, Any] = {}
        for name in VARIANTS:
            metrics.setdefault("by_variant", {})[name] = summarise(
                [{f"recall@{k}": r[name][k] for k in KS} for r in rows])
        metrics.update(metrics["by_variant"]["hybrid"])
        metrics.update(summarise(rows, "baseline_"))
        metrics["by_category"] = {}
        for code, cat in CATEGORIES.items():
            sub = [r for r in rows if r["category"] == code]
            if sub:
                entry = summarise([{f"recall@{k}": r["hybrid"][k] for k in KS} for r in sub])
                entry.update(summarise(sub, "baseline_"))
                entry["questions"] = len(sub)
                metrics["by_category"][cat] = entry
        metrics["split"] = split or "whole file"
        metrics["conversations"] = len(convs)
        metrics["evidence_dropped"] = dropped
        metrics["gain_recall@10"] = round(metrics["recall@10"] - metrics["baseline_recall@10"], 4)
        slim = [{k: v for k, v in r.items() if k not in VARIANTS} for r in rows]
        return SuiteResult(suite=self.name, config=config, metrics=metrics, cases=len(rows),
                           rows=slim, data=str(path))

    @staticmethod
    def run_conversation(conv: dict[str, Any], root: Path) -> list[dict]:
        memory = ProjectMemory(root, record=False)
        try:
            memory.add_many(conv["turns"], hygiene=False)
            baseline = bm25_baseline(conv["turns"])
            rows = []
            for question, evidence, category in conv["qa"]:
                row: dict[str, Any] = {"sample_id": conv["sample_id"], "question": question,
                                       "category": category}
                for name, cfg in VARIANTS.items():
                    memory.recall_config = cfg
                    found = [p for r in memory.recall(question, k=max(KS)) for p in r.provenance[:1]]
                    row[name] = {k: recall_at(found, evidence, k) for k in KS}
                base = baseline(question, max(KS))
                row.update({f"baseline_recall@{k}": recall_at(base, evidence, k) for k in KS})
                row.update({f"recall@{k}": row["hybrid"][k] for k in KS})
                rows.append(row)
            return rows
        finally:
            memory.close()


SUITE = LocomoRecallSuite()
