"""memory-scale: append throughput, indexing, reopening and recall latency at scale.

Synthetic events (notes in threads with speakers, facts, issues, attempts, decisions;
words drawn from a Zipf-distributed vocabulary, seeded) are streamed into a fresh memory
at 10^4 and 10^5 events (and 10^6 with `--full`). Per size: append throughput in
batches and one event at a time, index catch-up throughput, and then, in a fresh
process as a user's next session would be, the time to reopen the memory on its
persisted index, recall latency p50/p99 over 200 queries and that process's resident
memory. In-run baselines: for reopening, rebuilding the index from the log (what a
memory without a persisted index pays on every start); for recall, the same recall
without its bound on lexical work, with the share of its top 10 that the bounded recall
agrees on (`bounded_overlap_top10`).

`metrics` holds every size's figures under names like `recall_p99_ms@1e5` and the
10^5 figures unsuffixed (`append_events_per_s`, `recall_p99_ms`, ...); `by_size` has
the rows.
"""

from __future__ import annotations

import itertools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.bench.suite import BenchOptions, Suite, SuiteResult
from harness.memory import ProjectMemory
from harness.memory.events import (
    Attempt,
    Fact,
    Issue,
    MemoryEvent,
    Note,
    ProjectDecision,
    RecordedAction,
)

SIZES = (10_000, 100_000)
FULL_SIZES = (*SIZES, 1_000_000)
TOP_SIZE = 100_000
QUERIES = 200
BATCH = 1_000
SINGLES = 2_000


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux), 0 when unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def size_tag(size: int) -> str:
    """10000 -> '1e4'."""
    exp = len(str(size)) - 1
    return f"1e{exp}" if size == 10**exp else str(size)


class Synth:
    """Deterministic synthetic memory events and queries."""

    def __init__(self, seed: int, vocab: int = 20_000):
        self.rng = random.Random(seed)
        syllables = ["ka", "lo", "mi", "ner", "tu", "sa", "vel", "do", "rin", "pa", "ex", "qu"]
        words = set()
        while len(words) < vocab:
            words.add("".join(self.rng.choice(syllables) for _ in range(self.rng.randint(2, 4))))
        self.words = sorted(words)
        self.cum_weights = list(itertools.accumulate(1 / (r + 1) for r in range(len(self.words))))
        self.speakers = [f"Person{i}" for i in range(40)]

    def text(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cum_weights, k=n))

    def event(self, i: int) -> MemoryEvent:
        r = self.rng.random()
        if r < 0.8:
            return Note(text=self.text(self.rng.randint(8, 25)), thread=f"t{i // 50}",
                        entities=[self.rng.choice(self.speakers)], provenance=[f"src:{i}"])
        if r < 0.9:
            return Fact(subject=self.text(2), claim=self.text(8), provenance=[f"src:{i}"])
        if r < 0.95:
            return Attempt(approach=self.text(6), outcome=self.rng.choice(["failed", "succeeded"]),
                           action=RecordedAction(tool="edit_file", args={
                               "path": f"src/m{self.rng.randint(0, 500)}.py",
                               "old": self.text(4), "new": self.text(5)}),
                           error=self.text(5), provenance=[f"src:{i}"])
        if r < 0.98:
            return Issue(title=self.text(6), files=[f"src/m{self.rng.randint(0, 500)}.py"])
        return ProjectDecision(title=self.text(4), rule=self.text(10),
                        files=[f"src/p{self.rng.randint(0, 50)}/"])

    def events(self, start: int, stop: int) -> list[MemoryEvent]:
        return [self.event(i) for i in range(start, stop)]

    def query(self) -> str:
        return self.text(self.rng.randint(2, 4))


def fill(root: Path, size: int, synth: Synth) -> dict[str, float]:
    """Append `size` events (the first ones singly, the rest in batches; generation is
    not timed) and index them. Returns the throughputs."""
    memory = ProjectMemory(root, record=False)
    singles = synth.events(0, min(SINGLES, size // 2))
    t0 = time.perf_counter()
    for e in singles:
        memory.log.append([e])
    single_rate = len(singles) / (time.perf_counter() - t0)
    batch_s = 0.0
    for start in range(len(singles), size, BATCH):
        batch = synth.events(start, min(start + BATCH, size))
        t0 = time.perf_counter()
        memory.log.append(batch)
        batch_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    memory.sync()
    index_rate = size / (time.perf_counter() - t0)
    memory.close()
    return {"append_events_per_s": round((size - len(singles)) / batch_s) if batch_s else 0,
            "append_single_events_per_s": round(single_rate),
            "index_events_per_s": round(index_rate)}


def timed_recall(memory: ProjectMemory, queries: list[str]) -> tuple[list[float], list[list[str]]]:
    """Latency (ms) and the ids found, per query."""
    memory.recall(queries[0], k=10)  # the first query pays for opening the database pages
    latencies, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        hits = memory.recall(q, k=10)
        latencies.append((time.perf_counter() - t0) * 1000)
        found.append([h.id for h in hits])
    return latencies, found


def percentiles(latencies: list[float], prefix: str = "") -> dict[str, float]:
    ordered = sorted(latencies)
    return {f"{prefix}recall_p50_ms": round(statistics.median(ordered), 2),
            f"{prefix}recall_p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
            f"{prefix}recall_max_ms": round(ordered[-1], 2)}


def serve(root: Path, queries: list[str]) -> dict[str, float]:
    """Reopen the memory and time recall (run in a fresh process by `measure`). The
    in-run baseline is the same recall without the bound on lexical work
    (`max_postings=None`); `bounded_overlap_top10` is the share of its top 10 that the
    bounded recall also returns."""
    t0 = time.perf_counter()
    memory = ProjectMemory(root, record=False)
    reopen_s = time.perf_counter() - t0
    latencies, found = timed_recall(memory, queries)
    rss = rss_mb()
    memory.recall_config = replace(memory.recall_config, max_postings=None)
    base_latencies, base_found = timed_recall(memory, queries)
    memory.close()
    agreement = [len(set(a) & set(b)) / len(b) for a, b in zip(found, base_found, strict=True) if b]
    return {"reopen_s": round(reopen_s, 4), **percentiles(latencies),
            **percentiles(base_latencies, "baseline_"),
            "bounded_overlap_top10": round(statistics.mean(agreement), 4) if agreement else 1.0,
            "rss_mb": rss}


def measure(size: int, root: Path, seed: int) -> dict[str, Any]:
    synth = Synth(seed)
    row: dict[str, Any] = {"events": size, **fill(root, size, synth)}
    queries = [synth.query() for _ in range(QUERIES)]
    proc = subprocess.run([sys.executable, "-P", __file__, str(root)], input=json.dumps(queries),
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"memory-scale recall process failed: {proc.stderr.strip()[-2000:]}")
    row.update(json.loads(proc.stdout))
    memory = ProjectMemory(root, record=False)
    t0 = time.perf_counter()
    memory.index.rebuild()
    row["baseline_rebuild_s"] = round(time.perf_counter() - t0, 3)
    memory.close()
    row["log_mb"] = round((root / "events.jsonl").stat().st_size / 2**20, 1)
    return row


class MemoryScaleSuite(Suite):
    name = "memory-scale"
    description = "memory append throughput and recall latency at 1e4/1e5 (1e6 with --full)"

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        config = self.config_name(opts)
        sizes = FULL_SIZES if opts.full else SIZES
        by_size: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for n, size in enumerate(sizes, 1):
                by_size[size_tag(size)] = measure(size, Path(tmp) / f"m{size}", opts.seed)
                progress(n, len(sizes))
        top = by_size.get(size_tag(TOP_SIZE)) or by_size[size_tag(sizes[-1])]
        metrics: dict[str, Any] = {k: v for k, v in top.items() if k != "events"}
        for tag, row in by_size.items():
            metrics.update({f"{k}@{tag}": v for k, v in row.items() if k != "events"})
        metrics["by_size"] = by_size
        return SuiteResult(suite=self.name, config=config, metrics=metrics, cases=len(sizes),
                           rows=list(by_size.values()), seed=opts.seed)


SUITE = MemoryScaleSuite()

if __name__ == "__main__":  # the recall half of `measure`, in a fresh process
    print(json.dumps(serve(Path(sys.argv[1]), json.loads(sys.stdin.read()))))
